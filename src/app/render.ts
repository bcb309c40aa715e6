/**
 * The App Router's page and 404 renders (a page inside its layouts, `notFound()`, `redirect()`,
 * `searchParams`) and its route handlers, each inside a render context that collects tags,
 * revalidate and dynamic signals for the engine.
 *
 * How a React tree becomes a document is the caller's {@link DocumentRenderer}: the page renders
 * run inside the site's React Server Components bundle (rsc/entry.rsc.ts), which passes its RSC
 * then HTML render; a site with no `app/` renders its default 404 with plain `prerender`.
 */

import { type ComponentType, createElement, Fragment, type ReactNode, Suspense } from 'react';
import type { Generated } from '../engine/engine.ts';
import { HTML_HEADERS, storableHeaders } from '../http/response-head.ts';
import { createRenderContext, markDynamic, type RenderContext, renderStorage } from '../render/context.ts';
import { NextRequest } from '../render/next-server.ts';
import type { Params, SegmentWrapper } from '../render/routes.ts';
import { SegmentErrorBoundary, type SegmentErrorProps } from './error-boundary.ts';
import { type MetadataModule, metadataElements, resolveMetadata, withFileMetadata } from './metadata.ts';
import { type FileMetadata, imageRouteResponse, type MetadataRouteKind, metadataRouteResponse } from './metadata-routes.ts';
import { isNotFoundError, redirectTarget } from './navigation.ts';
import type { LayoutModule, PageModule, ResolvedSegmentConfig, RouteModule } from './segment-config.ts';
import { PAGE_PROPS } from './segment-props.ts';

/** A page's two representations, made by one render: its HTML and, under RSC, its RSC payload. */
export interface RenderedDocument {
  html: Uint8Array<ArrayBuffer>;
  /** The RSC payload (React's Flight format) the HTML was rendered from; what client navigation fetches. */
  payload?: Uint8Array<ArrayBuffer>;
}

/**
 * Renders a React tree to a complete HTML document (and its RSC payload, when it has one).
 * @throws the first error a component threw.
 */
export type DocumentRenderer = (tree: ReactNode) => Promise<RenderedDocument>;

export interface PageRenderInput {
  /** Concrete URL path, e.g. `/blog/1`. */
  path: string;
  /** Route pattern, e.g. `/blog/[id]`. */
  pattern: string;
  params: Params;
  page: PageModule;
  /** Root first. */
  layouts: readonly LayoutModule[];
  /**
   * What wraps the page, outermost first: the layouts, and the `error`, `loading` and
   * `global-error` components of its segments (`RouteDefinition.wrappers`).
   */
  wrappers: readonly { kind: SegmentWrapper['kind']; component: ComponentType }[];
  /** The `not-found` component rendered for `notFound()`, inside the root layout. */
  notFound: ComponentType | undefined;
  config: ResolvedSegmentConfig;
  /** The request's query; reading it makes the page dynamic. */
  searchParams?: URLSearchParams;
  /** What `app/`'s static metadata files (favicon, icons, Open Graph images) add to the head. */
  fileMetadata?: FileMetadata;
  /**
   * The Metadata API's items: per route segment from the root, its layout (undefined where it has
   * none), then the page (metadata.ts); by default the layouts and the page.
   */
  metadataItems?: readonly (MetadataModule | undefined)[];
}

/** A promise of the query that marks the render dynamic when awaited (Next.js `searchParams`). */
function searchParamsPromise(context: RenderContext, query: URLSearchParams | undefined): Promise<Record<string, string | string[]>> {
  const values: Record<string, string | string[]> = {};
  for (const key of new Set(query?.keys() ?? [])) {
    const all = query!.getAll(key);
    values[key] = all.length === 1 ? all[0]! : all;
  }
  const promise = Promise.resolve(values);
  return new Proxy(promise, {
    get(target, property) {
      if (property === 'then') markDynamic(context, 'searchParams');
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/**
 * The page inside what wraps it, as Next.js nests a segment's files: its layout, then an error
 * boundary showing its `error` component, then a Suspense boundary showing its `loading`
 * component; `global-error` is the boundary around the root layout. The error boundaries catch
 * what throws in the browser; on the server, a render error fails the generation (the last good
 * page stays), as without them.
 * @see https://nextjs.org/docs/app/getting-started/project-structure#component-hierarchy
 */
function wrapPage(input: PageRenderInput, params: Promise<Params>, page: ReactNode): ReactNode {
  let tree = page;
  for (let i = input.wrappers.length - 1; i >= 0; i--) {
    const { kind, component } = input.wrappers[i]!;
    if (kind === 'layout') tree = createElement(component as LayoutModule['default'], { params, children: tree });
    else if (kind === 'loading') tree = createElement(Suspense, { fallback: createElement(component) }, tree);
    else tree = createElement(SegmentErrorBoundary, { errorComponent: component as ComponentType<SegmentErrorProps>, children: tree });
  }
  return tree;
}

function wrapInLayouts(layouts: readonly LayoutModule[], params: Promise<Params>, child: ReactNode): ReactNode {
  let tree = child;
  for (let i = layouts.length - 1; i >= 0; i--) {
    tree = createElement(layouts[i]!.default, { params, children: tree });
  }
  return tree;
}

/**
 * Renders a page inside its layouts, with `render`.
 * @returns the generation for the engine: HTML, status (200; 404 after `notFound()`; 307/308
 *   after `redirect()`), tags (implicit + fetch/unstable_cache tags), the effective revalidate
 *   (seconds or false) and whether the page turned out dynamic.
 * @throws whatever the page or its data fetching threw.
 */
export function renderAppPage(input: PageRenderInput, render: DocumentRenderer): Promise<Generated> {
  const context = createRenderContext(input.path, input.pattern, input.config);
  return renderStorage().run(context, async () => {
    const params = Promise.resolve(input.params);
    let status = 200;
    let headers: Record<string, string> = HTML_HEADERS;
    let document: RenderedDocument;
    try {
      // force-static pages see an empty query (Next.js): one request's query must not be cached for all.
      const query = input.config.dynamic === 'force-static' ? undefined : input.searchParams;
      const searchParams = searchParamsPromise(context, query);
      // The Metadata API's <title>, <meta> and <link> elements, hoisted into <head> by React.
      const resolved = await resolveMetadata(input.metadataItems ?? [...input.layouts, input.page], { params, searchParams });
      const head = metadataElements(withFileMetadata(resolved, input.fileMetadata));
      const page = createElement(Fragment, null, ...head, createElement(input.page.default, { params, searchParams, [PAGE_PROPS]: true }));
      document = await render(wrapPage(input, params, page));
    } catch (error) {
      const redirect = redirectTarget(error);
      if (isNotFoundError(error)) {
        status = 404;
        document = await render(await notFoundTree(input.layouts.slice(0, 1), input.notFound, input.fileMetadata));
      } else if (redirect !== undefined) {
        status = redirect.status;
        headers = { location: redirect.location };
        document = { html: new Uint8Array(0) };
      } else {
        throw error;
      }
    }
    return {
      value: { kind: 'page' as const, status, headers, body: document.html, ...(document.payload ? { data: document.payload } : {}) },
      tags: [...context.implicitTags, ...context.tags],
      revalidate: context.revalidate,
      // The lowest `expire` of the `'use cache'` entries it read (the server's `expireTime` otherwise).
      ...(context.expire !== undefined ? { expire: context.expire } : {}),
      dynamic: context.dynamicReason !== undefined,
    };
  });
}

/** The inline styles of Next.js's built-in 404 page (its `HTTPAccessErrorFallback`). */
const FALLBACK_STYLES = {
  error: {
    fontFamily: 'system-ui,"Segoe UI",Roboto,Helvetica,Arial,sans-serif,"Apple Color Emoji","Segoe UI Emoji"',
    height: '100vh',
    textAlign: 'center',
    display: 'flex',
    flexDirection: 'column',
    alignItems: 'center',
    justifyContent: 'center',
  },
  h1: {
    display: 'inline-block',
    margin: '0 20px 0 0',
    padding: '0 23px 0 0',
    fontSize: 24,
    fontWeight: 500,
    verticalAlign: 'top',
    lineHeight: '49px',
  },
  h2: { fontSize: 14, fontWeight: 400, lineHeight: '49px', margin: 0 },
} as const;

/** Its stylesheet: light and dark colours, and the rule beside the status. */
const FALLBACK_CSS =
  'body{color:#000;background:#fff;margin:0}.next-error-h1{border-right:1px solid rgba(0,0,0,.3)}' +
  '@media (prefers-color-scheme:dark){body{color:#fff;background:#000}.next-error-h1{border-right:1px solid rgba(255,255,255,.3)}}';

/**
 * The 404 page of a site without its own (`app/not-found`, `pages/404`): Next.js's built-in one,
 * with its `<title>404: This page could not be found.</title>`, markup and styles.
 */
function DefaultNotFound(): ReactNode {
  const message = 'This page could not be found.';
  return createElement(
    Fragment,
    null,
    createElement('title', null, `404: ${message}`),
    createElement(
      'div',
      { style: FALLBACK_STYLES.error },
      createElement(
        'div',
        null,
        createElement('style', null, FALLBACK_CSS),
        createElement('h1', { className: 'next-error-h1', style: FALLBACK_STYLES.h1 }, '404'),
        createElement('div', { style: { display: 'inline-block' } }, createElement('h2', { style: FALLBACK_STYLES.h2 }, message)),
      ),
    ),
  );
}

/**
 * The 404 page inside the root layout, after the root layout's metadata (Next.js renders a
 * not-found page with the metadata of the layouts above it, in the head first: the layout's
 * `<title>`, when it has one, is the document's title, the built-in page's own comes after).
 */
async function notFoundTree(
  rootLayout: readonly LayoutModule[],
  notFound: ComponentType | undefined,
  fileMetadata?: FileMetadata,
): Promise<ReactNode> {
  const resolved = await resolveMetadata(rootLayout, { params: Promise.resolve({}), searchParams: Promise.resolve({}) });
  const head = rootLayout.length === 0 ? [] : metadataElements(withFileMetadata(resolved, fileMetadata));
  const body = createElement(Fragment, null, ...head, createElement(notFound ?? DefaultNotFound));
  if (rootLayout.length === 0) {
    return createElement('html', null, createElement('body', null, body));
  }
  return wrapInLayouts(rootLayout, Promise.resolve({}), body);
}

/**
 * Renders the site's 404 page (`app/not-found.tsx` inside the root layout) for URLs no route
 * matches, with `render`. It is cached like a page with `revalidate = false` under its own key.
 */
export function renderAppNotFound(
  rootLayout: LayoutModule | undefined,
  notFound: ComponentType | undefined,
  render: DocumentRenderer,
  fileMetadata?: FileMetadata,
): Promise<Generated> {
  const context = createRenderContext('/_not-found', '/_not-found', { revalidate: false, dynamic: 'auto' });
  return renderStorage().run(context, async () => {
    const document = await render(await notFoundTree(rootLayout ? [rootLayout] : [], notFound, fileMetadata));
    return {
      value: {
        kind: 'page' as const,
        status: 404,
        headers: HTML_HEADERS,
        body: document.html,
        ...(document.payload ? { data: document.payload } : {}),
      },
      tags: [...context.implicitTags, ...context.tags],
      revalidate: context.revalidate,
      dynamic: context.dynamicReason !== undefined,
    };
  });
}

export interface RouteHandlerInput {
  path: string;
  pattern: string;
  params: Params;
  module: RouteModule;
  config: ResolvedSegmentConfig;
  request: Request;
  /** A metadata route (`sitemap.ts`, `opengraph-image.tsx`, ...): its default export answers GET (metadata-routes.ts). */
  metadataRoute?: { kind: MetadataRouteKind | 'image'; file: string };
}

/** HTTP methods a route handler may export. */
export const ROUTE_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/** The methods a route module answers (HEAD follows GET). */
export function allowedMethods(module: RouteModule): string[] {
  const methods = ROUTE_METHODS.filter((method) => typeof module[method] === 'function');
  if (methods.includes('GET') && !methods.includes('HEAD')) methods.push('HEAD');
  return methods;
}

/** Methods whose presence keeps a route handler from being prerendered (Next.js' `hasNonStaticMethods`). */
const NON_STATIC_METHODS = ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/**
 * Whether GET responses of this route handler are cached. Next.js 15 and later render route
 * handlers per request unless they opt in to static generation (its `isStaticGenEnabled`): with
 * `dynamic = 'force-static'` or `'error'`, a `revalidate` (seconds > 0, or `false` set
 * explicitly), or a `generateStaticParams` export; and a module that also exports POST, PUT,
 * PATCH, DELETE or OPTIONS is never prerendered.
 * @see https://nextjs.org/docs/app/api-reference/file-conventions/route#caching
 */
export function isCacheableRouteHandler(module: RouteModule, config: ResolvedSegmentConfig, metadataRoute = false): boolean {
  // A metadata route is static by default, as in Next.js.
  if (metadataRoute) return config.dynamic !== 'force-dynamic';
  if (typeof module.GET !== 'function' || config.dynamic === 'force-dynamic') return false;
  if (NON_STATIC_METHODS.some((method) => typeof module[method] === 'function')) return false;
  return (
    config.dynamic === 'force-static' ||
    config.dynamic === 'error' ||
    (module.revalidate !== undefined && config.revalidate !== 0) ||
    typeof module.generateStaticParams === 'function'
  );
}

/**
 * Runs a route handler for `input.request` (per request, not cached). HEAD runs GET.
 * @returns the handler's Response, or 405 when the method is not exported.
 */
export async function runRouteHandler(input: RouteHandlerInput): Promise<Response> {
  if (input.metadataRoute !== undefined) {
    if (input.request.method !== 'GET' && input.request.method !== 'HEAD') {
      return new Response(`Method ${input.request.method} is not allowed here`, { status: 405, headers: { allow: 'GET, HEAD' } });
    }
    const { kind, file } = input.metadataRoute;
    if (kind === 'image') return imageRouteResponse(input.module as { default?: unknown }, file, input.params);
    return metadataRouteResponse(kind, input.module as { default?: unknown }, file);
  }
  const method = input.request.method === 'HEAD' && typeof input.module.HEAD !== 'function' ? 'GET' : input.request.method;
  const handler = input.module[method];
  if (typeof handler !== 'function') {
    return new Response(`Method ${input.request.method} is not allowed here`, {
      status: 405,
      headers: { allow: allowedMethods(input.module).join(', '), 'content-type': 'text/plain; charset=utf-8' },
    });
  }
  // A NextRequest, as Next.js hands route handlers (`request.nextUrl`, `request.cookies`).
  const response = await (handler as (r: Request, c: { params: Promise<Params> }) => unknown)(new NextRequest(input.request), {
    params: Promise.resolve(input.params),
  });
  if (!(response instanceof Response)) {
    throw new TypeError(`${input.pattern}: the ${method} handler must return a Response, got ${typeof response}`);
  }
  return response;
}

/**
 * Runs a cacheable GET route handler inside a render context and captures its response for the
 * engine (status, storable headers — see http/response-head.ts —, body bytes). A 5xx answer fails
 * the generation, so the last good response stays.
 */
export function generateRouteResponse(input: RouteHandlerInput): Promise<Generated> {
  const context: RenderContext = { ...createRenderContext(input.path, input.pattern, input.config), memoizeFetches: false };
  return renderStorage().run(context, async () => {
    const response = await runRouteHandler(input);
    if (response.status >= 500) {
      throw new Error(`${input.pattern}: the GET handler answered ${response.status}; the cached response stays`);
    }
    return {
      value: {
        kind: 'route' as const,
        status: response.status,
        headers: storableHeaders(response.headers),
        body: new Uint8Array(await response.arrayBuffer()),
      },
      tags: [...context.implicitTags, ...context.tags],
      revalidate: context.revalidate,
      dynamic: context.dynamicReason !== undefined,
    };
  });
}
