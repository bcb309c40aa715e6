/**
 * `next/router` for Pages Router pages: `useRouter()`, `withRouter()` and the `Router` singleton
 * (`useRouter`, https://nextjs.org/docs/pages/api-reference/functions/use-router). On the server the
 * router describes the page being rendered (`isFallback` is true while the fallback page of
 * `getStaticPaths({ fallback: true })` is rendered,
 * https://nextjs.org/docs/pages/api-reference/functions/get-static-paths) and cannot navigate; in
 * the browser, client.ts provides one that navigates client-side (`push`, `replace`, `prefetch`,
 * `events`, `beforePopState`).
 *
 * The context object lives on `globalThis` under a registered symbol: the site's bundle carries its
 * own copy of this module, and the renderer and the page must share one context.
 */

import { type ComponentType, type Context, createContext, createElement, useContext } from 'react';
import { inlinedBasePath } from '../http/paths.ts';
import { type LinkHref, unprefixedHref } from '../render/link.ts';
import type { Params } from '../render/routes.ts';

/** `router.events`: `routeChangeStart`, `routeChangeComplete`, `routeChangeError`, `beforeHistoryChange`, `hashChangeStart`, `hashChangeComplete`. */
export interface RouterEvents {
  on(type: string, handler: (...args: unknown[]) => void): void;
  off(type: string, handler: (...args: unknown[]) => void): void;
  emit(type: string, ...args: unknown[]): void;
}

/** `router.push` / `router.replace` options (Next.js `useRouter`). */
export interface TransitionOptions {
  /** Scroll to the top (or to the URL's hash) after the navigation (default true). */
  scroll?: boolean;
  /** Change the URL without fetching the page's props again. */
  shallow?: boolean;
  locale?: string | false;
}

export interface NextRouter {
  /** The route pattern, e.g. `/blog/[id]`. */
  pathname: string;
  /** Same as `pathname`. */
  route: string;
  /** The path as shown in the browser, e.g. `/blog/1` (the pattern while rendering the fallback page). */
  asPath: string;
  /** The route's params (and, in the browser, the URL's query); empty while rendering the fallback page. */
  query: Params;
  /** True while the fallback page is rendered (the page's props are not known yet). */
  isFallback: boolean;
  isReady: boolean;
  isPreview: false;
  isLocaleDomain: false;
  /** next.config's `basePath` (`''` for none). */
  basePath: string;
  push(url: LinkHref, as?: LinkHref, options?: TransitionOptions): Promise<boolean>;
  replace(url: LinkHref, as?: LinkHref, options?: TransitionOptions): Promise<boolean>;
  reload(): void;
  back(): void;
  forward(): void;
  prefetch(url: LinkHref, as?: LinkHref): Promise<void>;
  /** Runs before the router handles the back and forward buttons; returning false leaves it to the page. */
  beforePopState(callback: (state: { url: string; as: string; options: TransitionOptions }) => boolean): void;
  events: RouterEvents;
}

/** A small event emitter, as Next.js's `mitt`. */
function createEvents(): RouterEvents {
  const handlers = new Map<string, Set<(...args: unknown[]) => void>>();
  return {
    on(type, handler) {
      let set = handlers.get(type);
      if (set === undefined) handlers.set(type, (set = new Set()));
      set.add(handler);
    },
    off(type, handler) {
      handlers.get(type)?.delete(handler);
    },
    emit(type, ...args) {
      for (const handler of [...(handlers.get(type) ?? [])]) handler(...args);
    },
  };
}

const EVENTS = Symbol.for('isr.pagesRouterEvents');
type EventsRegistry = { [EVENTS]?: RouterEvents };

/**
 * The one `Router.events` of this page (`Router.events.on(...)` at a module's top level works on the
 * server too, where nothing is emitted, as in Next.js).
 */
export function routerEvents(): RouterEvents {
  return ((globalThis as EventsRegistry)[EVENTS] ??= createEvents());
}

/** The URL a `push(url, as)` goes to: `as` when given (the URL shown), else `url`. */
export function targetOf(url: LinkHref, as?: LinkHref): string {
  return unprefixedHref(as ?? url);
}

const CONTEXT = Symbol.for('isr.pagesRouterContext');
type Registry = { [CONTEXT]?: Context<NextRouter | null> };

/** The router context shared by the renderer and every copy of this module. */
export function routerContext(): Context<NextRouter | null> {
  return ((globalThis as Registry)[CONTEXT] ??= createContext<NextRouter | null>(null));
}

function serverOnly(method: string): never {
  throw new Error(
    `router.${method}() is not available while the page is rendered on the server; call it from an event handler or an effect`,
  );
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
    basePath: inlinedBasePath(),
    push: () => serverOnly('push'),
    replace: () => serverOnly('replace'),
    reload: () => serverOnly('reload'),
    back: () => serverOnly('back'),
    forward: () => serverOnly('forward'),
    prefetch: () => Promise.resolve(),
    beforePopState: () => {},
    events: routerEvents(),
  };
}

const ACTIVE = Symbol.for('isr.pagesRouter');
type ActiveRegistry = { [ACTIVE]?: NextRouter };

/** Makes `router` the one the `Router` singleton and `next/link` use (the browser runtime, client.ts, on every navigation). */
export function setActiveRouter(router: NextRouter): void {
  (globalThis as ActiveRegistry)[ACTIVE] = router;
}

/** The browser's current router, or undefined on the server (and before the page hydrated). */
export function activeRouter(): NextRouter | undefined {
  return (globalThis as ActiveRegistry)[ACTIVE];
}

function requireActive(): NextRouter {
  const router = activeRouter();
  if (router === undefined) {
    throw new Error('No router instance found: use the Router from next/router in the browser only (in an event handler or an effect)');
  }
  return router;
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

/**
 * The `Router` singleton (`import Router from 'next/router'`): the browser's current router.
 * @throws Error when used on the server, as in Next.js.
 */
const Router: NextRouter = {
  get pathname() {
    return requireActive().pathname;
  },
  get route() {
    return requireActive().route;
  },
  get asPath() {
    return requireActive().asPath;
  },
  get query() {
    return requireActive().query;
  },
  get isFallback() {
    return requireActive().isFallback;
  },
  get isReady() {
    return activeRouter()?.isReady ?? false;
  },
  isPreview: false,
  isLocaleDomain: false,
  get basePath() {
    return inlinedBasePath();
  },
  push: (url, as, options) => requireActive().push(url, as, options),
  replace: (url, as, options) => requireActive().replace(url, as, options),
  reload: () => requireActive().reload(),
  back: () => requireActive().back(),
  forward: () => requireActive().forward(),
  prefetch: (url, as) => activeRouter()?.prefetch(url, as) ?? Promise.resolve(),
  beforePopState: (callback) => requireActive().beforePopState(callback),
  get events() {
    return routerEvents();
  },
};
export default Router;

/** Wraps a component so it receives the router as its `router` prop. */
export function withRouter<P extends object>(Component: ComponentType<P & { router: NextRouter }>): ComponentType<P> {
  function WithRouter(props: P) {
    return createElement(Component, { ...props, router: useRouter() });
  }
  WithRouter.displayName = `withRouter(${Component.displayName ?? Component.name ?? 'Component'})`;
  return WithRouter;
}
