/**
 * Renders Pages Router pages (Next.js Pages Router ISR guide,
 * https://nextjs.org/docs/pages/guides/incremental-static-regeneration; its Next.js 12.1 version,
 * https://github.com/vercel/next.js/blob/v12.1.6/docs/basic-features/data-fetching/incremental-static-regeneration.md)
 * to complete HTML documents with React 19's
 * `prerender`: `getStaticProps` first, then the page inside `_app`, inside the document shell isr
 * provides (`<div id="__next">`; `<title>` and `<meta>` rendered anywhere are hoisted into the head
 * by React). As in Next.js, the document carries the page's props (`__NEXT_DATA__`), its
 * stylesheets and the browser modules that hydrate it (client.ts, built by
 * build/compile-pages-client.ts).
 */

import { type ComponentType, createElement, type ReactNode } from 'react';
import type { Generated } from '../engine/engine.ts';
import { addBasePath } from '../http/paths.ts';
import { HTML_HEADERS } from '../http/response-head.ts';
import { createRenderContext, renderStorage } from '../render/context.ts';
import { renderToHtml } from '../render/html.ts';
import type { Params } from '../render/routes.ts';
import type { CacheValue } from '../store/store.ts';
import { createRouter, type NextRouter } from './router.ts';
import {
  checkStaticPropsResult,
  dataJson,
  type PagesAppModule,
  type PagesPageModule,
  type StaticPropsContext,
  type StaticPropsResult,
} from './static-props.ts';
import { DOCUMENT_DATA_ID, type PagesDocumentData, pageTree, ROOT_ID } from './tree.ts';

/** The browser files of a page, as URLs (from the build's `pagesClient`, site/manifest.ts). */
export interface PagesClientAssets {
  /** The module that hydrates the page and navigates (client.ts with the build's routes). */
  runtime: string;
  /** Modules the runtime will import at once (`_app`'s, the page's and their chunks): preloaded. */
  preload: string[];
  /** The stylesheets `_app` and the page import. */
  styles: string[];
}

/** What every Pages Router document needs besides the page: its build and its browser files. */
export interface PagesDocumentInput {
  buildId: string;
  client: PagesClientAssets;
  /** next.config's `basePath` (`''` or absent for none): a `{ redirect }` to a site path goes under it, as under next start. */
  basePath?: string;
}

export interface PagesRenderInput {
  /** Concrete URL path, e.g. `/blog/1`. */
  path: string;
  /** Route pattern, e.g. `/blog/[id]`. */
  pattern: string;
  params: Params;
  /** Whether the route has dynamic segments (`getStaticProps` then receives `params`). */
  dynamicRoute: boolean;
  page: PagesPageModule;
  app: PagesAppModule | undefined;
  /** Why this generation runs (passed to `getStaticProps` as `revalidateReason`). */
  reason: StaticPropsContext['revalidateReason'];
  /** Renders the site's 404 page, for `{ notFound: true }`. */
  renderNotFound: () => Promise<Uint8Array>;
  document: PagesDocumentInput;
}

/** The page's component. @throws TypeError naming the route when the default export is not one. */
function pageComponent(page: PagesPageModule, pattern: string): ComponentType<Record<string, unknown>> {
  if (typeof page.default !== 'function') {
    throw new TypeError(`${pattern}: a page in pages/ must export a React component as its default export`);
  }
  return page.default as ComponentType<Record<string, unknown>>;
}

/** JSON safe inside a `<script>` element: `<`, U+2028 and U+2029 escaped. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/**
 * The document around a page: head with the page's stylesheets and preloaded modules, the page in
 * `<div id="__next">`, then `__NEXT_DATA__` and the runtime module.
 */
function documentTree(
  App: PagesAppModule['default'],
  Component: ComponentType<Record<string, unknown>>,
  data: PagesDocumentData,
  router: NextRouter,
  client: PagesClientAssets,
): ReactNode {
  return createElement(
    'html',
    null,
    createElement(
      'head',
      null,
      createElement('meta', { charSet: 'utf-8' }),
      createElement('meta', { name: 'viewport', content: 'width=device-width, initial-scale=1' }),
      ...client.styles.map((href) => createElement('link', { key: href, rel: 'stylesheet', href })),
      ...client.preload.map((href) => createElement('link', { key: href, rel: 'modulepreload', href })),
    ),
    createElement(
      'body',
      null,
      createElement('div', { id: ROOT_ID }, pageTree(App, Component, data.props.pageProps, router)),
      createElement('script', { id: DOCUMENT_DATA_ID, type: 'application/json', dangerouslySetInnerHTML: { __html: scriptJson(data) } }),
      createElement('script', { type: 'module', src: client.runtime }),
    ),
  );
}

const encoder = new TextEncoder();

/**
 * Generates a Pages Router page: runs `getStaticProps` (if exported) and renders the result.
 * - `{ props }`: the page, status 200, and its data-route JSON (`{ pageProps, __N_SSG }`).
 * - `{ notFound: true }`: the site's 404 page, status 404 (cached like a page: for `revalidate`
 *   seconds, or until revalidated on demand).
 * - `{ redirect }`: an empty 307/308 (or the given `statusCode`) with `location`.
 * Each may carry `revalidate` (seconds); the entry's window is the lowest of it and of the cached
 * fetches' windows. A page without `getStaticProps` is rendered once with empty props (revalidate
 * false) and has no data route.
 * @throws whatever `getStaticProps` or the render threw, or a TypeError for a result of the wrong
 *   shape (the engine then keeps the last good page: Next.js Pages Router ISR guide, "Handling
 *   uncaught exceptions", https://nextjs.org/docs/pages/guides/incremental-static-regeneration).
 */
export function renderPagesPage(input: PagesRenderInput): Promise<Generated> {
  // Pages are static: dynamic signals (a no-store fetch) do not turn them into per-request pages.
  const context = createRenderContext(input.path, input.pattern, { revalidate: false, dynamic: 'force-static' });
  return renderStorage().run(context, async () => {
    const Component = pageComponent(input.page, input.pattern);
    const getStaticProps = input.page.getStaticProps;
    let result: StaticPropsResult = { type: 'props', props: {}, revalidate: false };
    if (typeof getStaticProps === 'function') {
      const staticContext: StaticPropsContext = { revalidateReason: input.reason, preview: false, draftMode: false };
      if (input.dynamicRoute) staticContext.params = input.params;
      result = checkStaticPropsResult(await getStaticProps(staticContext), input.pattern);
    }
    let value: CacheValue;
    switch (result.type) {
      case 'props': {
        const router = createRouter({ pattern: input.pattern, path: input.path, params: input.params, isFallback: false });
        const data: PagesDocumentData = {
          props: { pageProps: result.props },
          page: input.pattern,
          query: input.params,
          buildId: input.document.buildId,
          isFallback: false,
        };
        const body = await renderToHtml(documentTree(input.app?.default, Component, data, router, input.document.client));
        value = { kind: 'page', status: 200, headers: HTML_HEADERS, body };
        break;
      }
      case 'notFound':
        value = { kind: 'page', status: 404, headers: HTML_HEADERS, body: await input.renderNotFound() };
        break;
      case 'redirect':
        value = {
          kind: 'page',
          status: result.status,
          headers: {
            location: result.basePath === false ? result.destination : addBasePath(result.destination, input.document.basePath ?? ''),
          },
          body: new Uint8Array(0),
        };
        break;
    }
    if (typeof getStaticProps === 'function') value.data = encoder.encode(dataJson(result));
    const revalidate =
      result.revalidate === false
        ? context.revalidate
        : context.revalidate === false
          ? result.revalidate
          : Math.min(result.revalidate, context.revalidate);
    return { value, tags: [...context.implicitTags, ...context.tags], revalidate, dynamic: false };
  });
}

/**
 * Renders the fallback page of a route whose `getStaticPaths` says `fallback: true`: the page
 * component with empty props and `useRouter().isFallback === true`; in the browser, client.ts then
 * fetches the path's props from the data route (which waits for the page's generation) and renders
 * the page. The same HTML serves every path of the route, so it is generated once per route (at
 * build time).
 * @throws what the page threw while rendering its fallback state.
 */
export function renderPagesFallback(input: {
  pattern: string;
  page: PagesPageModule;
  app: PagesAppModule | undefined;
  document: PagesDocumentInput;
}): Promise<Generated> {
  const context = createRenderContext(input.pattern, input.pattern, { revalidate: false, dynamic: 'force-static' });
  return renderStorage().run(context, async (): Promise<Generated> => {
    const router = createRouter({ pattern: input.pattern, path: input.pattern, params: {}, isFallback: true });
    const data: PagesDocumentData = {
      props: { pageProps: {} },
      page: input.pattern,
      query: {},
      buildId: input.document.buildId,
      isFallback: true,
    };
    const tree = documentTree(input.app?.default, pageComponent(input.page, input.pattern), data, router, input.document.client);
    return {
      value: { kind: 'page', status: 200, headers: HTML_HEADERS, body: await renderToHtml(tree) },
      tags: [],
      revalidate: false,
      dynamic: false,
    };
  });
}

/**
 * Renders `pages/404` (inside `_app`, with the props of its own `getStaticProps` if it has one) as a
 * complete document, for sites whose 404 page comes from `pages/`.
 */
export async function renderPagesNotFoundBody(
  notFound: PagesPageModule,
  app: PagesAppModule | undefined,
  document: PagesDocumentInput,
): Promise<Uint8Array> {
  const Component = pageComponent(notFound, '/404');
  let props: Record<string, unknown> = {};
  if (typeof notFound.getStaticProps === 'function') {
    const result = checkStaticPropsResult(
      await notFound.getStaticProps({ revalidateReason: 'build', preview: false, draftMode: false }),
      '/404',
    );
    if (result.type === 'props') props = result.props;
  }
  const router = createRouter({ pattern: '/404', path: '/404', params: {}, isFallback: false });
  const data: PagesDocumentData = { props: { pageProps: props }, page: '/404', query: {}, buildId: document.buildId, isFallback: false };
  return renderToHtml(documentTree(app?.default, Component, data, router, document.client));
}
