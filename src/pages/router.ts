/**
 * `next/router` for Pages Router pages: `useRouter()` and `withRouter()`. isr renders pages on the
 * server only (there is no client-side router), so the router describes the page being rendered —
 * `isFallback` is true while the fallback page of `getStaticPaths({ fallback: true })` is rendered
 * (Next.js `getStaticPaths`, https://nextjs.org/docs/pages/api-reference/functions/get-static-paths;
 * `useRouter`, https://nextjs.org/docs/pages/api-reference/functions/use-router) — and the
 * navigation methods throw.
 *
 * The context object lives on `globalThis` under a registered symbol: the site's bundle carries its
 * own copy of this module, and the renderer and the page must share one context.
 */

import { type ComponentType, type Context, createContext, createElement, useContext } from 'react';
import type { Params } from '../render/routes.ts';

export interface NextRouter {
  /** The route pattern, e.g. `/blog/[id]`. */
  pathname: string;
  /** Same as `pathname`. */
  route: string;
  /** The path as requested, e.g. `/blog/1` (the pattern while rendering the fallback page). */
  asPath: string;
  /** The route's params; empty while rendering the fallback page. */
  query: Params;
  /** True while the fallback page is rendered (the page's props are not known yet). */
  isFallback: boolean;
  isReady: boolean;
  isPreview: false;
  isLocaleDomain: false;
  basePath: '';
  push(url: unknown): Promise<boolean>;
  replace(url: unknown): Promise<boolean>;
  reload(): void;
  back(): void;
  forward(): void;
  prefetch(url: unknown): Promise<void>;
  beforePopState(callback: unknown): void;
  events: { on(): void; off(): void; emit(): void };
}

const CONTEXT = Symbol.for('isr.pagesRouterContext');
type Registry = { [CONTEXT]?: Context<NextRouter | null> };

/** The router context shared by the renderer and every copy of this module. */
export function routerContext(): Context<NextRouter | null> {
  return ((globalThis as Registry)[CONTEXT] ??= createContext<NextRouter | null>(null));
}

function serverOnly(method: string): never {
  throw new Error(`router.${method}() is not available: isr renders pages on the server and has no client-side router; use a link`);
}

/** The router value for a page render (used by the renderer). */
export function createRouter(input: { pattern: string; path: string; params: Params; isFallback: boolean }): NextRouter {
  return {
    pathname: input.pattern,
    route: input.pattern,
    asPath: input.isFallback ? input.pattern : input.path,
    query: input.isFallback ? {} : input.params,
    isFallback: input.isFallback,
    isReady: !input.isFallback,
    isPreview: false,
    isLocaleDomain: false,
    basePath: '',
    push: () => serverOnly('push'),
    replace: () => serverOnly('replace'),
    reload: () => serverOnly('reload'),
    back: () => serverOnly('back'),
    forward: () => serverOnly('forward'),
    prefetch: () => Promise.resolve(),
    beforePopState: () => {},
    events: { on() {}, off() {}, emit() {} },
  };
}

/**
 * The router of the page being rendered.
 * @throws Error when called outside a Pages Router page render (an App Router page, or no render).
 */
export function useRouter(): NextRouter {
  const router = useContext(routerContext());
  if (router === null) throw new Error('useRouter() from next/router works in pages/ only (App Router pages get params as props)');
  return router;
}

/** Wraps a component so it receives the router as its `router` prop. */
export function withRouter<P extends object>(Component: ComponentType<P & { router: NextRouter }>): ComponentType<P> {
  function WithRouter(props: P) {
    return createElement(Component, { ...props, router: useRouter() });
  }
  WithRouter.displayName = `withRouter(${Component.displayName ?? Component.name ?? 'Component'})`;
  return WithRouter;
}
