/**
 * Renders Pages Router pages (Next.js Pages Router ISR guide,
 * https://nextjs.org/docs/pages/guides/incremental-static-regeneration; its Next.js 12.1 version,
 * https://github.com/vercel/next.js/blob/v12.1.6/docs/basic-features/data-fetching/incremental-static-regeneration.md)
 * to complete HTML documents with React 19's
 * `prerender`: `getStaticProps` first, then the page inside `_app`, inside the document shell isr
 * provides (`<div id="__next">`; `<title>` and `<meta>` rendered anywhere are hoisted into the head
 * by React). Pages are not hydrated: isr sends HTML only, and the one script it adds is the
 * fallback page's, which swaps in the generated page.
 */

import { type ComponentType, createElement, type ReactNode } from 'react';
import type { Generated } from '../engine/engine.ts';
import { HTML_HEADERS } from '../http/response-head.ts';
import { createRenderContext, renderStorage } from '../render/context.ts';
import { renderToHtml } from '../render/html.ts';
import type { Params } from '../render/routes.ts';
import type { CacheValue } from '../store/store.ts';
import { createRouter, type NextRouter, routerContext } from './router.ts';
import {
  checkStaticPropsResult,
  dataJson,
  type PagesAppModule,
  type PagesPageModule,
  type StaticPropsContext,
  type StaticPropsResult,
} from './static-props.ts';

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
}

/** The page's component. @throws TypeError naming the route when the default export is not one. */
function pageComponent(page: PagesPageModule, pattern: string): ComponentType<Record<string, unknown>> {
  if (typeof page.default !== 'function') {
    throw new TypeError(`${pattern}: a page in pages/ must export a React component as its default export`);
  }
  return page.default as ComponentType<Record<string, unknown>>;
}

/** `Component` with `props`, inside `_app` when the site has one. */
function withApp(
  app: PagesAppModule | undefined,
  Component: ComponentType<Record<string, unknown>>,
  props: Record<string, unknown>,
): ReactNode {
  return app?.default ? createElement(app.default, { Component, pageProps: props }) : createElement(Component, props);
}

/** The document shell around a page; `script` is inline JavaScript appended to the body. */
function documentTree(content: ReactNode, router: NextRouter, script?: string): ReactNode {
  return createElement(
    'html',
    null,
    createElement(
      'head',
      null,
      createElement('meta', { charSet: 'utf-8' }),
      createElement('meta', { name: 'viewport', content: 'width=device-width, initial-scale=1' }),
    ),
    createElement(
      'body',
      null,
      createElement('div', { id: '__next' }, createElement(routerContext().Provider, { value: router }, content)),
      script === undefined ? null : createElement('script', { dangerouslySetInnerHTML: { __html: script } }),
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
        const body = await renderToHtml(documentTree(withApp(input.app, Component, result.props), router));
        value = { kind: 'page', status: 200, headers: HTML_HEADERS, body };
        break;
      }
      case 'notFound':
        value = { kind: 'page', status: 404, headers: HTML_HEADERS, body: await input.renderNotFound() };
        break;
      case 'redirect':
        value = { kind: 'page', status: result.status, headers: { location: result.destination }, body: new Uint8Array(0) };
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
 * The script of a fallback page: it asks the data route for the page's props, which generates the
 * page if it is not ready (the data route waits for the generation), then replaces the document with
 * the generated page (fetched from the cache). A redirect result navigates to its destination; a
 * 404 reloads (the server then answers the cached 404 page). Failures are reported in the console
 * and the fallback stays.
 */
export function fallbackScript(dataPrefix: string): string {
  // Plain ES5-level JavaScript, inlined: no build step for the browser.
  return `(function () {
  var prefix = ${JSON.stringify(dataPrefix)};
  var path = location.pathname.length > 1 ? location.pathname.replace(/\\/$/, '') : '/index';
  fetch(prefix + path + '.json', { headers: { accept: 'application/json' }, credentials: 'same-origin' })
    .then(function (response) {
      if (response.status === 404) return location.reload();
      if (!response.ok) throw new Error('the data route answered ' + response.status);
      return response.json().then(function (data) {
        var target = data && data.pageProps && data.pageProps.__N_REDIRECT;
        if (target) return location.replace(target);
        return fetch(location.href, { headers: { accept: 'text/html' }, credentials: 'same-origin' })
          .then(function (page) { return page.text(); })
          .then(function (html) {
            var next = new DOMParser().parseFromString(html, 'text/html');
            document.replaceChild(document.adoptNode(next.documentElement), document.documentElement);
          });
      });
    })
    .catch(function (error) { console.error('isr: could not load ' + location.pathname, error); });
})();`;
}

/**
 * Renders the fallback page of a route whose `getStaticPaths` says `fallback: true`: the page
 * component with empty props and `useRouter().isFallback === true`, plus {@link fallbackScript}.
 * The same HTML serves every path of the route, so it is generated once per route (at build time).
 * @param dataPrefix the data-route prefix of this build, `/_isr/data/<buildId>`.
 * @throws what the page threw while rendering its fallback state.
 */
export function renderPagesFallback(input: {
  pattern: string;
  page: PagesPageModule;
  app: PagesAppModule | undefined;
  dataPrefix: string;
}): Promise<Generated> {
  const context = createRenderContext(input.pattern, input.pattern, { revalidate: false, dynamic: 'force-static' });
  return renderStorage().run(context, async (): Promise<Generated> => {
    const router = createRouter({ pattern: input.pattern, path: input.pattern, params: {}, isFallback: true });
    const tree = documentTree(withApp(input.app, pageComponent(input.page, input.pattern), {}), router, fallbackScript(input.dataPrefix));
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
export async function renderPagesNotFoundBody(notFound: PagesPageModule, app: PagesAppModule | undefined): Promise<Uint8Array> {
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
  return renderToHtml(documentTree(withApp(app, Component, props), router));
}
