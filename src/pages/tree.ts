/**
 * The React tree of a Pages Router page, the same on the server (render.ts renders it inside the
 * document's `<div id="__next">`) and in the browser (client.ts hydrates that element with it), so
 * hydration finds exactly the markup the server sent. It has no Node import: the browser bundles it.
 */

import { type ComponentType, createElement, type ReactNode } from 'react';
import { type NextRouter, routerContext } from './router.ts';
import type { PagesAppModule } from './static-props.ts';

/** What `__NEXT_DATA__` carries to the browser (as Next.js's document does): enough to hydrate the page. */
export interface PagesDocumentData {
  /** `{ pageProps }`: the page's props, as `_app` receives them. */
  props: { pageProps: Record<string, unknown> };
  /** The route pattern, e.g. `/blog/[id]` (`/404` for the not-found page). */
  page: string;
  /** The route's params (empty on the fallback page). */
  query: Record<string, string | string[] | undefined>;
  buildId: string;
  /** True on the fallback page of a `fallback: true` route: the browser fetches the props, then renders the page. */
  isFallback: boolean;
}

/** The id of the `<script type="application/json">` holding {@link PagesDocumentData}. */
export const DOCUMENT_DATA_ID = '__NEXT_DATA__';
/** The id of the element the page is rendered into and hydrated. */
export const ROOT_ID = '__next';

/**
 * The page `Component` with `pageProps`, inside `_app` when the site has one (its props `{
 * Component, pageProps, router }`, Next.js's `AppProps`), inside the router's context (so
 * `useRouter()` reads `router`).
 */
export function pageTree(
  App: PagesAppModule['default'],
  Component: ComponentType<Record<string, unknown>>,
  pageProps: Record<string, unknown>,
  router: NextRouter,
): ReactNode {
  const page = App ? createElement(App, { Component, pageProps, router }) : createElement(Component, pageProps);
  return createElement(routerContext().Provider, { value: router }, page);
}
