/**
 * `createRequestHandler`: the Web-standard `(Request) => Promise<Response>` of a built site, one
 * dispatch with one error funnel (errors.ts). Its documentation is on the function below.
 */

import type { Buffer } from 'node:buffer';
import path from 'node:path';
import { runRouteHandler } from '../app/render.ts';
import type { RouteModule } from '../app/segment-config.ts';
import type { IsrConfig } from '../config/config.ts';
import type { Generate, Generated, IsrEngine } from '../engine/engine.ts';
import { BodyError, readBody } from '../http/body.ts';
import { IMMUTABLE_FILE, METADATA_FILE, NO_STORE } from '../http/cache-control.ts';
import { addBasePath, parsePath, removeBasePath, trailingSlashRedirectOf } from '../http/paths.ts';
import { REDIRECT_STATUSES } from '../http/response-head.ts';
import { describeError, excerpt, type Logger, warnRepeated } from '../log.ts';
import { type ApiRouteModule, runApiRoute } from '../pages/api.ts';
import { DATA_ROUTE_PREFIX, dataRoutePrefix, pagePathOfDataRoute } from '../pages/data-route.ts';
import { isDynamicRoute } from '../render/routes.ts';
import type { MemoryAnswer, SimpleRequest, WebHandler } from '../serve/fast-path.ts';
import { handleRevalidateRequest, REVALIDATE_ENDPOINT } from '../serve/revalidate-endpoint.ts';
import { handleStatusRequest, type IsrStatus, STATUS_ENDPOINT } from '../serve/status-endpoint.ts';
import { NOT_FOUND_KEY } from '../site/keys.ts';
import { type ManifestRoute, METADATA_DIR } from '../site/manifest.ts';
import { metadataRouteOf, type Site } from '../site/site.ts';
import { answerError, ClientWentAway, RequestFailure } from './errors.ts';
import { handleImageRequest, IMAGE_ENDPOINT, type ImageEndpointContext } from './image.ts';
import { type MiddlewareOutcome, SiteMiddleware } from './middleware.ts';
import { NextRoutes } from './next-routes.ts';
import { PagesHttp, type RoutedRequest, type ServeTarget } from './pages-http.ts';
import { dynamicResponse, EntryResponses, textResponse } from './respond.ts';
import { PublicFiles } from './static-files.ts';

/**
 * The Web-standard request handler: `(Request) => Promise<Response>`. One dispatch routes each
 * request (the revalidation and status endpoints, the data route, public files, pages, route
 * handlers, API routes) and sends every error to one funnel (errors.ts); the caching decisions are
 * the engine's, the response heads respond.ts's, the Pages Router's fallback pages, data route and
 * `res.revalidate` pages-http.ts's.
 *
 * Response headers of cached pages (RFC 9111, RFC 5861; Next.js "Guides: ISR",
 * https://nextjs.org/docs/app/guides/incremental-static-regeneration; see respond.ts):
 *   Cache-Control: s-maxage=<revalidate>, stale-while-revalidate=<expire - revalidate>
 *   ETag, x-isr-cache: HIT | STALE | MISS
 * Dynamic pages: `Cache-Control: private, no-cache, no-store, max-age=0, must-revalidate`.
 */
export type RequestHandler = WebHandler;

/**
 * Paths whose canonical form (http/paths.ts) is the path itself: segments of characters that
 * `encodeURIComponent` leaves alone, no trailing slash. Anything else takes the full path.
 */
const CANONICAL_PATH = /^\/(?:[A-Za-z0-9\-_.!~*'()]+(?:\/[A-Za-z0-9\-_.!~*'()]+)*)?$/;

export interface HandlerOptions {
  site: Site;
  engine: IsrEngine;
  config: IsrConfig;
  logger: Logger;
  /** The site folder (for `public/`). */
  siteDir: string;
  /** The report of `GET /_isr/status`; without it that path is an ordinary (unmatched) path. */
  status?: () => IsrStatus;
  /**
   * The site's canonical origin (`https://www.example.com`), read at each generation: cached route
   * handlers are requested at it, never at the client's `Host` (their result is served to all).
   * Default `http://localhost`.
   */
  origin?: () => string;
}

/** A request matched to a route, with its URL (an App Router page reads its search params). */
interface Routed extends RoutedRequest {
  url: URL;
}

/** The head of an RSC payload rendered per request (`text/x-component`, as Next.js sends it). */
const RSC_HEADERS = Object.freeze({ 'content-type': 'text/x-component' });

/** The largest Server Action request body, in bytes: 1 MB, Next.js's default `serverActions.bodySizeLimit`. */
const ACTION_BODY_LIMIT = 1_000_000;

/** The header of a Server Action's answer after `redirect()` (app/rsc/router.ts reads it). */
const ACTION_REDIRECT_HEADER = 'x-isr-redirect';

/**
 * Whether `request` asks for a Server Action: a POST from JavaScript (`x-rsc-action`) or a form
 * post (`multipart/form-data`, what React's forms send, or `application/x-www-form-urlencoded`).
 * Any other method or body to a page is a 405, as before there were actions.
 */
function isActionRequest(request: Request): boolean {
  if (request.method !== 'POST') return false;
  if (request.headers.has('x-rsc-action')) return true;
  const type = request.headers.get('content-type') ?? '';
  return type.startsWith('multipart/form-data') || type.startsWith('application/x-www-form-urlencoded');
}

/** The `host` of an `Origin` value, or undefined for `null` and anything malformed. */
function hostOf(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}

/**
 * Creates the request handler of a built site.
 */
export function createRequestHandler(options: HandlerOptions): RequestHandler {
  const { site, engine, config, logger } = options;
  const origin = options.origin ?? (() => 'http://localhost');
  const publicFiles = new PublicFiles(path.join(options.siteDir, 'public'), site.manifest.publicFiles);
  // The browser's files of the build (client components), at /_isr/static/<name>-<hash>.js.
  const clientFiles = new PublicFiles(path.join(site.buildDir, 'client'), site.manifest.clientAssets, IMMUTABLE_FILE);
  // app/'s static metadata files (favicon.ico, icon.png, robots.txt, ...), at their names.
  const metadataFiles = new PublicFiles(path.join(site.buildDir, METADATA_DIR), site.manifest.metadataFiles, METADATA_FILE);
  /** Routes found dynamic at run time: rendered per request from then on. */
  const learnedDynamic = new Set<ManifestRoute>();
  const responses = new EntryResponses(engine.expireTime);
  const pages = new PagesHttp({ site, engine, logger, responses, serve, learnedDynamic, origin });
  const nextRoutes = new NextRoutes(site.manifest.routing);
  const trailingSlash = site.manifest.routing.trailingSlash === true;
  // next.config's basePath ('' for none): the site, and every path of isr's own, is under it.
  const basePath = site.manifest.routing.basePath ?? '';
  /** The site path and its segments of a request path under `basePath`, or undefined outside it. */
  const inside = (fullPathname: string): { pathname: string; parts: string[] } | undefined => {
    const inner = removeBasePath(fullPathname, basePath);
    if (inner === undefined) return undefined;
    const parsed = parsePath(inner);
    return parsed.ok ? { pathname: parsed.pathname, parts: parsed.parts } : undefined;
  };
  const middleware =
    site.manifest.middleware === undefined
      ? undefined
      : new SiteMiddleware(
          site.manifest.middleware,
          (module) => site.load<Record<string, unknown>>(module),
          logger,
          site.manifest.routing.basePath ?? '',
        );
  const images: ImageEndpointContext = {
    images: site.manifest.images,
    engine,
    // The site's own images: files of public/ and the build's static imports (/_isr/static/media/…).
    async readLocal(fullPathname) {
      // The browser's URL of the file: under basePath (a static import's src, or a public file's path the site wrote with it).
      const pathname = removeBasePath(fullPathname, basePath);
      const parsed = pathname === undefined ? undefined : parsePath(pathname);
      if (parsed === undefined || !parsed.ok) return undefined;
      const { parts } = parsed;
      const files =
        parts[0] === '_isr' && clientFiles.has(parts.slice(1))
          ? { from: clientFiles, parts: parts.slice(1) }
          : publicFiles.has(parts)
            ? { from: publicFiles, parts }
            : undefined;
      if (files === undefined) return undefined;
      const { body, type } = await files.from.read(files.parts);
      return { body, type };
    },
  };

  return Object.assign((request: Request) => dispatch(request).catch((error: unknown) => answerError(error, logger)), { fromMemory });

  /**
   * Answers `request`. What fails throws (errors.ts): the caller's `.catch` is the one funnel.
   */
  async function dispatch(request: Request): Promise<Response> {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return textResponse(400, 'Bad request URL');
    }
    const parsed = parsePath(url.pathname);
    if (!parsed.ok) return textResponse(parsed.status, parsed.message);
    if (basePath !== '') return dispatchUnder(request, url, parsed.pathname);
    const { pathname, parts } = parsed;

    if (pathname === REVALIDATE_ENDPOINT) {
      return handleRevalidateRequest(request, engine, config.revalidateToken, logger);
    }
    if (pathname === STATUS_ENDPOINT && options.status !== undefined) {
      return handleStatusRequest(request, config.revalidateToken, options.status);
    }
    if (pathname === IMAGE_ENDPOINT) return handleImageRequest(request, url, images);
    if (pathname.startsWith(DATA_ROUTE_PREFIX)) {
      // A page path that next.config redirects or rewrites is no page's data: 404, so the browser
      // loads the page whole and gets the rule (client.ts and app/rsc/router.ts do).
      if (nextRoutes.any && ruledDataRoute(request, url, pathname)) return followedOrNotFound(request, url, pathname);
      return dataRoute(request, url, pathname);
    }
    // One spelling per page (next.config's trailingSlash), the other redirected to it, as next start does.
    const spelled = trailingSlashRedirectOf(url.pathname, trailingSlash);
    if (spelled !== url.pathname) return new Response(null, { status: 308, headers: { location: `${spelled}${url.search}` } });
    // isr's own files (/_isr/static/…) are no paths of the site's middleware (next.config's rules
    // still apply, as Next.js applies them to /_next/static/).
    const runsMiddleware = middleware !== undefined && parts[0] !== '_isr';
    if (!nextRoutes.any && !runsMiddleware) return resolve(request, url, pathname, parts);
    // next.config's headers and redirects, the middleware, then next.config's rewrites (next-routes.ts),
    // in Next.js's order (https://nextjs.org/docs/app/api-reference/file-conventions/proxy#execution-order).
    const added = nextRoutes.headersFor(request, url);
    const redirect = nextRoutes.redirect(request, url);
    if (redirect !== undefined) return withHeaders(redirect, added);
    if (!runsMiddleware || !middleware.matches(request, url)) {
      return withHeaders(await rewritten(request, url, pathname, parts), added);
    }
    const outcome = await middleware.run(request, url);
    // A header the middleware set wins over next.config's of the same name, as under next start.
    const configHeaders = added.filter(([name]) => outcome.kind !== 'continue' || !outcome.headers.has(name));
    if (outcome.kind === 'respond') return withHeaders(outcome.response, configHeaders);
    return withHeaders(withMiddlewareHeaders(await afterMiddleware(outcome, url, pathname, parts), outcome.headers), configHeaders);
  }

  /**
   * {@link dispatch} under next.config's `basePath`: `basePath` itself and the paths under it are
   * the site's, routed with the prefix removed (so cache keys, `revalidatePath('/about')` and the
   * operator endpoints' paths are the unprefixed ones); next.config's rules (which carry the prefix
   * unless they say `basePath: false`) see the whole path; anything else is the 404 page, as
   * Next.js answers. The trailing-slash spelling of `basePath` itself redirects as Next.js's
   * internal rules do (`/docs/` → `/docs`, or the other way with `trailingSlash`).
   */
  async function dispatchUnder(request: Request, url: URL, fullPathname: string): Promise<Response> {
    const redirectTo = (location: string) => new Response(null, { status: 308, headers: { location: `${location}${url.search}` } });
    if (url.pathname === (trailingSlash ? basePath : `${basePath}/`)) return redirectTo(trailingSlash ? `${basePath}/` : basePath);
    const site = inside(fullPathname);
    if (site !== undefined) {
      const { pathname } = site;
      if (pathname === REVALIDATE_ENDPOINT) return handleRevalidateRequest(request, engine, config.revalidateToken, logger);
      if (pathname === STATUS_ENDPOINT && options.status !== undefined) {
        return handleStatusRequest(request, config.revalidateToken, options.status);
      }
      if (pathname === IMAGE_ENDPOINT) return handleImageRequest(request, url, images);
      if (pathname.startsWith(DATA_ROUTE_PREFIX)) {
        const dataUrl = new URL(`${pathname}${url.search}`, url);
        if (nextRoutes.any && ruledDataRoute(request, url, pathname)) return followedOrNotFound(request, dataUrl, pathname);
        return dataRoute(request, dataUrl, pathname);
      }
      if (pathname !== '/') {
        const spelled = trailingSlashRedirectOf(url.pathname.slice(basePath.length), trailingSlash);
        if (spelled !== url.pathname.slice(basePath.length)) return redirectTo(`${basePath}${spelled}`);
      }
    }
    const runsMiddleware = middleware !== undefined && site !== undefined && site.parts[0] !== '_isr';
    if (!nextRoutes.any && !runsMiddleware) {
      return site === undefined ? notFoundOutside(request) : resolve(request, url, site.pathname, site.parts);
    }
    const added = nextRoutes.headersFor(request, url);
    const redirect = nextRoutes.redirect(request, url);
    if (redirect !== undefined) return withHeaders(redirect, added);
    if (!runsMiddleware || !middleware.matches(request, new URL(`${site.pathname}${url.search}`, url))) {
      return withHeaders(await rewritten(request, url, fullPathname, []), added);
    }
    const outcome = await middleware.run(request, url);
    const configHeaders = added.filter(([name]) => outcome.kind !== 'continue' || !outcome.headers.has(name));
    if (outcome.kind === 'respond') return withHeaders(outcome.response, configHeaders);
    return withHeaders(withMiddlewareHeaders(await afterMiddleware(outcome, url, fullPathname, []), outcome.headers), configHeaders);
  }

  /** What a path outside next.config's `basePath` gets: the site's 404 page (a plain 404 to other methods). */
  function notFoundOutside(request: Request): Promise<Response> {
    return isReadOnly(request) ? notFound(request) : Promise.resolve(textResponse(404, 'Not found'));
  }

  /**
   * Answers the request the middleware let go on: at the URL it rewrote to (a path of the site,
   * served from that path's own cache entry; another origin, proxied), else at `url`.
   */
  async function afterMiddleware(outcome: Extract<MiddlewareOutcome, { kind: 'continue' }>, url: URL, pathname: string, parts: string[]) {
    const { request, rewrite } = outcome;
    if (rewrite === undefined) return rewritten(request, url, pathname, parts);
    if (rewrite.origin !== url.origin) return proxyTo(rewrite, request, logger);
    const target = rewrittenTarget(rewrite);
    if (target === undefined) return textResponse(400, 'Bad rewritten path');
    return rewritten(request, target.url, target.pathname, target.parts);
  }

  /**
   * A data route (`/_isr/data/<buildId>/<path>.json` or `.rsc`): the middleware runs for its page's
   * path, as Next.js runs it for `/_next/data/` (with `x-nextjs-data: 1`). When it lets the request
   * go on, the data is served with its headers; when it rewrites, redirects or answers itself, 404,
   * so the browser loads the page whole and gets that answer there.
   */
  async function dataRoute(request: Request, url: URL, pathname: string): Promise<Response> {
    const extension = pathname.endsWith('.rsc') ? '.rsc' : '.json';
    const pagePath = middleware === undefined ? undefined : pagePathOfDataRoute(site.buildId, pathname, extension);
    if (middleware === undefined || pagePath === undefined || !middleware.matches(request, new URL(`${pagePath}${url.search}`, url))) {
      return followedOrNotFound(request, url, pathname, await dataOf(request, url, pathname));
    }
    // The page's URL as the browser has it: under basePath.
    const pageUrl = new URL(`${addBasePath(pagePath, basePath)}${url.search}`, url);
    const outcome = await middleware.run(request, pageUrl, { 'x-nextjs-data': '1' });
    // The middleware runs once: its own redirect is followed as is, and what it lets go on is the
    // page's answer without it (never a second run of the middleware).
    if (outcome.kind === 'respond') return followedOrNotFound(request, url, pathname, undefined, async () => outcome.response);
    if (outcome.rewrite !== undefined) return textResponse(404, 'Not found: load the page itself');
    const answer = withMiddlewareHeaders(await dataOf(outcome.request, url, pathname), outcome.headers);
    const parts = pagePath.split('/').filter(Boolean);
    return followedOrNotFound(request, url, pathname, answer, () =>
      rewritten(new Request(pageUrl, { method: 'GET', headers: outcome.request.headers }), pageUrl, pagePath, parts),
    );
  }

  function dataOf(request: Request, url: URL, pathname: string): Promise<Response> {
    return pathname.endsWith('.rsc') ? appPayload(pathname, url, request) : pages.dataRoute(pathname, request);
  }

  /**
   * What the browser's RSC fetch gets when a payload route has no payload (`answer`, a 404; or none
   * yet, for a path next.config rules): when the page itself answers a redirect to a path of the
   * site (next.config's `redirects`, the middleware, a route handler, `redirect()` in the page),
   * the same redirect to the target's payload route, which `fetch` follows, so the navigation
   * lands on the target without a page load (app/rsc/router.ts), as Next.js's RSC requests
   * follow redirects; otherwise the 404, and the browser loads the page whole. Pages Router data
   * routes keep their 404 (the page load then follows the redirect).
   */
  async function followedOrNotFound(
    request: Request,
    url: URL,
    pathname: string,
    answer?: Response,
    pageAnswer?: () => Promise<Response>,
  ): Promise<Response> {
    if (answer !== undefined && answer.status !== 404) return answer;
    const notFound = () => answer ?? textResponse(404, 'Not found: load the page itself');
    const pagePath = pagePathOfDataRoute(site.buildId, pathname, '.rsc');
    if (pagePath === undefined || !isReadOnly(request)) return notFound();
    const page = await (pageAnswer?.() ??
      dispatch(new Request(new URL(`${addBasePath(pagePath, basePath)}${url.search}`, url), { method: 'GET', headers: request.headers })));
    await page.body?.cancel();
    const location = page.headers.get('location');
    if (!REDIRECT_STATUSES.has(page.status) || location === null) return notFound();
    const target = new URL(location, new URL(addBasePath(pagePath, basePath), url));
    // A target outside basePath is no page of this site: the browser loads it whole.
    const targetPath = removeBasePath(target.pathname, basePath);
    if (target.origin !== url.origin || targetPath === undefined || targetPath.startsWith('/_isr/')) return notFound();
    await answer?.body?.cancel();
    // Payload URLs have no trailing slash; the router writes the target as next.config's trailingSlash wants.
    const payload = `${basePath}${dataRoutePrefix(site.buildId)}${targetPath === '/' ? '/index' : targetPath.replace(/\/$/, '')}.rsc${target.search}`;
    return new Response(null, { status: page.status, headers: { location: payload, 'cache-control': NO_STORE } });
  }

  /** Whether a data route's page path is one a next.config redirect or rewrite applies to. */
  function ruledDataRoute(request: Request, url: URL, pathname: string): boolean {
    const pagePath = pagePathOfDataRoute(site.buildId, pathname, pathname.endsWith('.rsc') ? '.rsc' : '.json');
    if (pagePath === undefined) return false;
    // next.config's rules carry basePath: they see the page's URL as the browser has it.
    const pageUrl = new URL(`${addBasePath(pagePath, basePath)}${url.search}`, url);
    if (nextRoutes.redirect(request, pageUrl) !== undefined || nextRoutes.rewrite('beforeFiles', request, pageUrl) !== undefined)
      return true;
    const parsed = parsePath(pagePath);
    const match = parsed.ok ? site.match(parsed.pathname, parsed.parts) : undefined;
    if ((match === undefined || isDynamicRoute(match.route)) && nextRoutes.rewrite('afterFiles', request, pageUrl) !== undefined)
      return true;
    return match === undefined && nextRoutes.rewrite('fallback', request, pageUrl) !== undefined;
  }

  /**
   * Answers `request` after next.config's `beforeFiles` rewrites, trying its `afterFiles` rewrites
   * when no file or page has the path itself, and its `fallback` rewrites when nothing does.
   */
  async function rewritten(request: Request, url: URL, pathname: string, parts: string[]): Promise<Response> {
    let target = { url, pathname, parts };
    // The site's own path of a target (the rules see whole paths; files and pages are under basePath).
    const local = (at: typeof target) => (basePath === '' ? at : inside(at.url.pathname));
    const before = nextRoutes.rewrite('beforeFiles', request, url);
    if (before !== undefined) {
      if (before.origin !== url.origin) return proxyTo(before, request, logger);
      const next = rewrittenTarget(before);
      if (next === undefined) return textResponse(400, 'Bad rewritten path');
      target = next;
    }
    const own = local(target);
    const ownMatch = own === undefined ? undefined : site.match(own.pathname, own.parts);
    const hasFile = own !== undefined && [publicFiles, metadataFiles].some((files) => files.has(own.parts));
    if (!hasFile && (ownMatch === undefined || isDynamicRoute(ownMatch.route))) {
      const after = nextRoutes.rewrite('afterFiles', request, target.url);
      if (after !== undefined) {
        if (after.origin !== url.origin) return proxyTo(after, request, logger);
        const next = rewrittenTarget(after);
        if (next !== undefined) target = next;
      }
    }
    const afterRewrite = local(target);
    if (!hasFile && (afterRewrite === undefined || site.match(afterRewrite.pathname, afterRewrite.parts) === undefined)) {
      const fallback = nextRoutes.rewrite('fallback', request, target.url);
      if (fallback !== undefined) {
        if (fallback.origin !== url.origin) return proxyTo(fallback, request, logger);
        const next = rewrittenTarget(fallback);
        if (next !== undefined) target = next;
      }
    }
    const final = local(target);
    if (final === undefined) return notFoundOutside(request);
    return resolve(request, target.url, final.pathname, final.parts);
  }

  /** Answers `request` for the site's file or page at `pathname`. */
  async function resolve(request: Request, url: URL, pathname: string, parts: string[]): Promise<Response> {
    const readOnly = isReadOnly(request);
    if (readOnly && parts[0] === '_isr' && clientFiles.has(parts.slice(1))) return clientFiles.respond(parts.slice(1), request);
    if (readOnly && metadataFiles.has(parts)) return metadataFiles.respond(parts, request);
    if (readOnly && publicFiles.has(parts)) return publicFiles.respond(parts, request);

    const match = site.match(pathname, parts);
    if (match === undefined || !site.hasPath(match.route, pathname)) {
      // With `dynamicParams = false` / `fallback: false`, an unlisted path is no page of the site.
      return readOnly ? notFound(request) : textResponse(404, 'Not found');
    }
    const { route, params } = match;
    const routed: Routed = { request, url, route, params, pathname, label: `${pathname} (route ${route.pattern})` };
    if (route.kind === 'api') return apiRoute(routed);
    if (route.kind === 'route') return routeHandler(routed);
    if (!readOnly && route.router === 'app' && isActionRequest(request)) return serverAction(routed);
    if (!readOnly) return textResponse(405, `Method ${request.method} is not allowed for pages`, { allow: 'GET, HEAD' });
    return page(routed);
  }

  /**
   * Serves `target.key` through the engine and answers with the result.
   * @throws RequestFailure when the engine has nothing to serve (it logged why).
   */
  async function serve(request: Request, target: ServeTarget): Promise<Response> {
    const { key, generate, label, route } = target;
    const began = performance.now();
    const served = await engine
      .serve(key, generate, {
        label,
        // A page prerendered as static that turns dynamic (even in a background regeneration)
        // is rendered per request from then on, never served from an older tier.
        onDynamic: route === undefined ? undefined : () => learnedDynamic.add(route),
      })
      .catch((error: unknown) => RequestFailure.loggedByEngine(error, target.plainFailure));
    if (logger.debugEnabled) logger.debug(`${served.state} ${label} ${(performance.now() - began).toFixed(2)} ms`);
    return target.respond === undefined ? responses.page(served, request) : target.respond(served);
  }

  /** The site's 404 page (cached under `NOT_FOUND_KEY`). */
  function notFound(request: Request): Promise<Response> {
    return serve(request, { key: NOT_FOUND_KEY, generate: site.notFoundGenerator(), label: 'the 404 page' });
  }

  /**
   * A Pages Router API route (`pages/api/**`), run per request with `res.revalidate`.
   * @throws RequestFailure when its module cannot be loaded.
   */
  async function apiRoute({ request, route, params, pathname, label }: Routed): Promise<Response> {
    const module = await site.load<ApiRouteModule>(route.module).catch((error: unknown) => {
      throw new RequestFailure(`API route ${label} failed to load`, error);
    });
    return runApiRoute({ request, pathname, pattern: route.pattern, params, module, revalidate: pages.regeneratePath, logger });
  }

  /**
   * An App Router route handler: a GET or HEAD of a cacheable one that was not found dynamic goes
   * through the cache; anything else runs per request.
   * @throws ClientWentAway when it failed after its client went away; RequestFailure otherwise.
   */
  async function routeHandler(routed: Routed): Promise<Response> {
    const { request, route, params, pathname, label } = routed;
    if (route.cacheable && isReadOnly(request) && !learnedDynamic.has(route)) {
      return serve(request, {
        key: pathname,
        generate: site.routeHandlerGenerator(route, params, pathname, origin()),
        label,
        route,
        plainFailure: true,
      });
    }
    try {
      const module = await site.load<RouteModule>(route.module);
      return await runRouteHandler({
        path: pathname,
        pattern: route.pattern,
        params,
        module,
        config: route.config,
        request,
        ...metadataRouteOf(route),
      });
    } catch (error) {
      // Bad input is no server error: the client cut its request short (e.g. mid-body), and
      // nobody is there to read an answer.
      if (request.signal.aborted) throw new ClientWentAway(`route handler ${label}`, error);
      throw new RequestFailure(`route handler ${label} failed`, error, true);
    }
  }

  /**
   * A page (GET or HEAD) of either router: through the cache, the Pages Router's fallback page
   * for an unlisted path of a `fallback: true` route, or rendered per request when dynamic.
   * @throws RequestFailure when it cannot be rendered and nothing is stored.
   */
  async function page(routed: Routed): Promise<Response> {
    const { request, route, params, pathname, label, url } = routed;
    if (route.router === 'pages') {
      // Only dynamic routes have a fallback mode (getStaticPaths).
      if (route.fallback === true && !site.isStaticPath(route, pathname)) return pages.fallback(routed);
      return serve(request, { key: pathname, generate: site.pagesRouterPageGenerator(route, params, pathname, 'stale'), label, route });
    }
    const generate = site.appRouterPageGenerator(route, params, pathname, url.searchParams);
    if (route.dynamic || learnedDynamic.has(route)) return renderDynamic(generate, request, label);
    return serve(request, { key: pathname, generate, label, route });
  }

  /**
   * An App Router page's RSC payload (`/_isr/data/<buildId>/<path>.rsc`), what client navigation
   * fetches: from the page's entry (generated with its HTML, so the two never disagree) with the
   * same HIT/STALE/MISS rules, tags and purges, or rendered for this request when the page is
   * dynamic. 404 for a path that is no App Router page of this build (another build's client gets
   * it too, and loads the page whole instead).
   */
  async function appPayload(pathname: string, url: URL, request: Request): Promise<Response> {
    if (!isReadOnly(request)) return textResponse(405, `Method ${request.method} is not allowed here`, { allow: 'GET, HEAD' });
    const pagePath = pagePathOfDataRoute(site.buildId, pathname, '.rsc');
    const parsed = pagePath === undefined ? undefined : parsePath(pagePath);
    const match = parsed?.ok ? site.match(parsed.pathname, parsed.parts) : undefined;
    // A Pages Router page has no RSC payload, but is a page: no content (not an error the browser
    // logs), and the App Router's client loads it whole, as Next.js's does after its RSC request.
    if (match?.route.router === 'pages' && match.route.kind === 'page') {
      return new Response(null, { status: 204, headers: { 'cache-control': NO_STORE } });
    }
    if (parsed === undefined || !parsed.ok || match === undefined || match.route.router !== 'app' || match.route.kind !== 'page') {
      return textResponse(404, 'Not found');
    }
    const { route, params } = match;
    if (!site.hasPath(route, parsed.pathname)) return textResponse(404, 'Not found');
    const label = `${parsed.pathname} (route ${route.pattern}, RSC payload)`;
    const generate = site.appRouterPageGenerator(route, params, parsed.pathname, url.searchParams);
    // A redirect has no payload: the client loads the page whole, and gets the redirect there.
    const noPayload = () => textResponse(404, 'No RSC payload: load the page itself');
    const perRequest = (value: Generated['value']) =>
      value.data === undefined ? noPayload() : dynamicResponse({ ...value, body: value.data, headers: RSC_HEADERS }, request);
    if (route.dynamic || learnedDynamic.has(route)) {
      const generated = await generate().catch((error: unknown) => {
        throw new RequestFailure(`rendering ${label} failed`, error);
      });
      return perRequest(generated.value);
    }
    return serve(request, {
      key: parsed.pathname,
      generate,
      label,
      route,
      respond: (served) => {
        if (served.state === 'DYNAMIC') return perRequest(served.entry.value);
        return served.entry.value.data === undefined ? noPayload() : responses.data(served, request, 'rsc');
      },
    });
  }

  /**
   * A Server Action: a POST to an App Router page's URL, from JavaScript (`x-rsc-action`) or a
   * form posted without it. Refused: a cross-site POST (its `Origin` names another host than the
   * request's, Next.js's check), a body over {@link ACTION_BODY_LIMIT}, an action the build does
   * not know (404). Answered: from JavaScript, the action's return value and the page rendered
   * after it (an RSC payload, never stored), or {@link ACTION_REDIRECT_HEADER} after `redirect()`;
   * without it, a 303 to where `redirect()` said, else the page as the action left it (through the
   * cache: what the action revalidated is rendered fresh) or, with a form state for
   * `useActionState`, rendered for this request.
   * @see https://nextjs.org/docs/app/guides/data-security#allowed-origins-advanced
   */
  async function serverAction(routed: Routed): Promise<Response> {
    const { request, route, params, pathname, label, url } = routed;
    const origin = request.headers.get('origin');
    if (origin !== null && hostOf(origin) !== url.host) {
      logger.warn(`a cross-site Server Action POST to ${pathname} was refused (Origin ${excerpt(origin)} is not ${url.host})`);
      return textResponse(403, 'Forbidden: a Server Action is only called from its own site');
    }
    let body: Buffer;
    try {
      body = await readBody(request, ACTION_BODY_LIMIT);
    } catch (error) {
      if (error instanceof BodyError) return textResponse(error.status, `Bad request: ${error.message}`);
      throw error;
    }
    const fromScript = request.headers.has('x-rsc-action');
    const replay = new Request(request.url, { method: 'POST', headers: request.headers, body: new Uint8Array(body) });
    let outcome: Awaited<ReturnType<Site['appRouterAction']>>;
    try {
      outcome = await site.appRouterAction(route, params, pathname, replay);
    } catch (error) {
      if ((error as Error)?.name === 'UnknownActionError') return textResponse(404, `Not found: ${(error as Error).message}`);
      throw new RequestFailure(`Server Action on ${label} failed`, error);
    }
    if (outcome.kind === 'redirect') {
      if (!fromScript) return new Response(null, { status: 303, headers: { location: outcome.location, 'cache-control': NO_STORE } });
      return new Response(null, { status: 204, headers: { [ACTION_REDIRECT_HEADER]: outcome.location, 'cache-control': NO_STORE } });
    }
    if (outcome.kind === 'payload') {
      return new Response(outcome.payload, { status: 200, headers: { ...RSC_HEADERS, 'cache-control': NO_STORE } });
    }
    if (outcome.formState !== undefined) {
      return renderDynamic(site.appRouterPageGenerator(route, params, pathname, url.searchParams, outcome.formState), request, label);
    }
    return page(routed);
  }

  /**
   * Renders for this request only (never stored).
   * @throws RequestFailure when the render fails.
   */
  async function renderDynamic(generate: Generate, request: Request, label: string): Promise<Response> {
    const began = performance.now();
    try {
      const generated = await generate();
      logger.debug(`DYNAMIC ${label} rendered in ${(performance.now() - began).toFixed(1)} ms`);
      return dynamicResponse(generated.value, request);
    } catch (error) {
      throw new RequestFailure(`rendering ${label} failed`, error);
    }
  }

  function fromMemory({ method, target, ifNoneMatch }: SimpleRequest): MemoryAnswer | undefined {
    // With next.config routing rules, every request goes through them (dispatch).
    if ((method !== 'GET' && method !== 'HEAD') || nextRoutes.any) return undefined;
    const began = logger.debugEnabled ? performance.now() : 0;
    const query = target.indexOf('?');
    let pathname = query === -1 ? target : target.slice(0, query);
    if (basePath !== '') {
      // Only the spelling of basePath itself dispatch does not redirect, and paths under it.
      if (pathname === (trailingSlash ? basePath : `${basePath}/`)) return undefined;
      const inner = removeBasePath(pathname, basePath);
      if (inner === undefined) return undefined;
      pathname = inner === '/' && trailingSlash ? '/' : inner;
    }
    if (trailingSlash && pathname !== '/') {
      // Only a spelling dispatch does not redirect (`/about/`, not `/about` nor `/feed.xml/`) is answered here.
      if (!pathname.endsWith('/') || trailingSlashRedirectOf(pathname, true) !== pathname) return undefined;
      pathname = pathname.slice(0, -1);
    }
    // A `.` or `..` segment passes the pattern, but no key holds one (parsePath refuses them), so the peek misses.
    if (!CANONICAL_PATH.test(pathname) || publicFiles.hasPath(pathname)) return undefined;
    // A path the middleware may answer for is never served before it ran.
    if (middleware?.covers(pathname)) return undefined;
    // A route found dynamic at a regeneration renders per request from then on (`page`): an entry
    // of another of its paths still in memory must not answer for it. (Rare: checked only then.)
    if (learnedDynamic.size > 0) {
      const route = site.match(pathname, pathname === '/' ? [] : pathname.slice(1).split('/'))?.route;
      if (route === undefined || learnedDynamic.has(route)) return undefined;
    }
    // Fresh: HIT. Stale with its regeneration running: STALE, as `serve` would answer it.
    const now = engine.now();
    const fresh = engine.peekFresh(pathname, now);
    const entry = fresh ?? engine.peekStale(pathname, now);
    if (entry === undefined) return undefined;
    const state = fresh === undefined ? 'STALE' : 'HIT';
    const answer = responses.fromMemory(entry, state, method, ifNoneMatch);
    if (logger.debugEnabled) logger.debug(`${state} ${pathname} (memory) ${(performance.now() - began).toFixed(3)} ms`);
    return answer;
  }
}

/** Whether `request` only reads (GET or HEAD, RFC 9110 §9.2.1 safe methods that pages answer). */
function isReadOnly(request: Request): boolean {
  return request.method === 'GET' || request.method === 'HEAD';
}

/** How long a rewrite to another origin may take, in milliseconds (as Next.js's proxy). */
const REWRITE_TIMEOUT_MS = 30_000;

/** `response` with `headers` set on it (next.config's `headers`): a later rule's value wins. */
function withHeaders(response: Response, headers: readonly [string, string][]): Response {
  if (headers.length === 0) return response;
  const merged = new Headers(response.headers);
  for (const [name, value] of headers) merged.set(name, value);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers: merged });
}

/**
 * `response` with the middleware's response `headers` added (a new Response: a cache entry is
 * never changed): each field the response does not have itself (the page's own `Cache-Control`,
 * `ETag` and `Content-Type` stay, as under next start, where the render writes after the
 * middleware), and every `Set-Cookie`.
 */
function withMiddlewareHeaders(response: Response, headers: Headers): Response {
  if ([...headers.keys()].length === 0) return response;
  const merged = new Headers(response.headers);
  for (const [name, value] of headers) if (name !== 'set-cookie' && !response.headers.has(name)) merged.set(name, value);
  for (const cookie of headers.getSetCookie()) merged.append('set-cookie', cookie);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers: merged });
}

/** The canonical target of a rewrite to a path of the site, or undefined when the path is not a valid one. */
function rewrittenTarget(url: URL): { url: URL; pathname: string; parts: string[] } | undefined {
  const parsed = parsePath(url.pathname);
  return parsed.ok ? { url, pathname: parsed.pathname, parts: parsed.parts } : undefined;
}

/**
 * A rewrite to another origin (next.config `rewrites` with an absolute destination): the request
 * is forwarded there, body streamed, and its answer passed back, never cached. When the
 * destination does not answer: 502 (RFC 9110 §15.6.3) with no detail for the client (the error,
 * which may name internal hosts, goes to the log, as `next start` logs "Failed to proxy").
 */
async function proxyTo(target: URL, request: Request, logger: Logger): Promise<Response> {
  const headers = new Headers(request.headers);
  // Hop-by-hop fields (RFC 9110 §7.6.1), and those the Connection field names, stay here.
  for (const name of (request.headers.get('connection') ?? '').split(',')) if (name.trim() !== '') headers.delete(name.trim());
  for (const name of ['host', 'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'expect'])
    headers.delete(name);
  const from = new URL(request.url);
  headers.set('x-forwarded-host', from.host);
  headers.set('x-forwarded-proto', from.protocol.slice(0, -1));
  try {
    const init: RequestInit & { duplex?: 'half' } = {
      method: request.method,
      headers,
      redirect: 'manual',
      signal: AbortSignal.any([request.signal, AbortSignal.timeout(REWRITE_TIMEOUT_MS)]),
    };
    if (request.method !== 'GET' && request.method !== 'HEAD') Object.assign(init, { body: request.body, duplex: 'half' });
    const answer = await fetch(target, init);
    const out = new Headers(answer.headers);
    for (const name of ['content-encoding', 'content-length', 'transfer-encoding', 'connection', 'keep-alive']) out.delete(name);
    return new Response(answer.body, { status: answer.status, headers: out });
  } catch (error) {
    warnRepeated(
      logger,
      `rewrite-origin ${target.origin}`,
      `the rewrite's destination ${target.origin} did not answer (${describeError(error)})`,
    );
    return textResponse(502, 'Bad Gateway');
  }
}
