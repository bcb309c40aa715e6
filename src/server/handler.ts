import { isbot } from 'isbot';
import path from 'node:path';
import type { ManifestRoute } from '../site/manifest.ts';
import { runRouteHandler } from '../app/render.ts';
import type { Params } from '../render/routes.ts';
import type { Site } from '../site/site.ts';
import { fallbackKey, NOT_FOUND_KEY } from '../site/keys.ts';
import { runApiRoute, type ApiRouteModule } from '../pages/api.ts';
import { DATA_ROUTE_PREFIX, pagePathOfDataRoute } from '../pages/data-route.ts';
import type { RouteModule } from '../app/segment-config.ts';
import type { CacheEntry, CacheValue } from '../store/store.ts';
import type { IsrConfig } from '../config/config.ts';
import { cacheControl, NO_STORE } from '../http/cache-control.ts';
import { type Generate, type IsrEngine, type Served } from '../engine/engine.ts';
import { errorMessage, type Logger } from '../log.ts';
import { etagMatches } from '../http/etag.ts';
import { parsePath } from '../http/paths.ts';
import { handleRevalidateRequest, REVALIDATE_ENDPOINT } from './revalidate-endpoint.ts';
import { handleStatusRequest, STATUS_ENDPOINT, type IsrStatus } from './status-endpoint.ts';
import { PublicFiles } from './static-files.ts';
import { storedBodyResponse } from './stored-body.ts';

/**
 * The Web-standard request handler: `(Request) => Promise<Response>`. Routing, ISR headers,
 * conditional requests and the revalidation endpoint; the caching decisions are the engine's.
 *
 * Response headers of cached pages (RFC 9111, RFC 5861; Next.js "Guides: ISR",
 * https://nextjs.org/docs/app/guides/incremental-static-regeneration):
 *   Cache-Control: s-maxage=<revalidate>, stale-while-revalidate=<expire - revalidate>
 *   ETag, x-isr-cache: HIT | STALE | MISS
 * Dynamic pages: `Cache-Control: private, no-cache, no-store, max-age=0, must-revalidate`.
 */
export type RequestHandler = ((request: Request) => Promise<Response>) & {
  /**
   * The HIT fast path for adapters: answers a GET/HEAD for a fresh page held in memory from the
   * raw request target (`/blog/1?x=1`), without building a Web Request or Response. Undefined
   * whenever it cannot (not in memory, stale, unusual path, public file...): use the handler then.
   */
  fromMemory?: (method: string, target: string, ifNoneMatch: string | undefined) => MemoryAnswer | undefined;
};

/** A response the adapter writes as is: precomputed headers and the stored bytes. */
export interface MemoryAnswer {
  status: number;
  headers: Readonly<Record<string, string>>;
  /** Undefined for HEAD and 304. */
  body: Uint8Array | undefined;
}

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

const ERROR_PAGE = new TextEncoder().encode(
  '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>500: Internal Server Error</title></head>' +
    '<body><h1>500</h1><p>Internal Server Error.</p></body></html>',
);

function text(status: number, message: string, headers: Record<string, string> = {}): Response {
  return new Response(`${message}\n`, {
    status,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': NO_STORE, ...headers },
  });
}

/**
 * Response headers of stored entries, computed once per entry. `expireTime` (seconds) is the
 * server's current setting, which applies to entries generated under another.
 */
function entryHeaderCache(expireTime: number): (entry: CacheEntry) => Record<string, string> {
  const cache = new WeakMap<CacheEntry, Record<string, string>>();
  return (entry) => {
    let headers = cache.get(entry);
    if (headers === undefined) {
      headers = {
        ...entry.value.headers,
        // 404s stay out of downstream caches: a page created later must not be hidden behind one.
        'cache-control': entry.value.status === 404 ? NO_STORE : cacheControl(entry.revalidate, expireTime),
        etag: entry.etag,
        'content-length': String(entry.value.body.byteLength),
      };
      cache.set(entry, headers);
    }
    return headers;
  };
}

/** A response rendered for this request only: never stored, `Cache-Control: no-store`. */
function dynamicResponse(value: CacheValue, request: Request): Response {
  return new Response(request.method === 'HEAD' ? null : (value.body as Uint8Array<ArrayBuffer>), {
    status: value.status,
    headers: { ...value.headers, 'cache-control': NO_STORE },
  });
}

/**
 * Response headers of an entry's data representation (the Pages Router data route), computed once
 * per entry: JSON, the page's `Cache-Control`, and an ETag derived from the entry's.
 */
function dataHeaderCache(expireTime: number): (entry: CacheEntry) => Record<string, string> {
  const cache = new WeakMap<CacheEntry, Record<string, string>>();
  return (entry) => {
    let headers = cache.get(entry);
    if (headers === undefined) {
      headers = {
        'content-type': 'application/json; charset=utf-8',
        'cache-control': entry.value.status === 404 ? NO_STORE : cacheControl(entry.revalidate, expireTime),
        etag: `${entry.etag.slice(0, -1)}.json"`,
        'content-length': String(entry.value.data?.byteLength ?? 0),
      };
      cache.set(entry, headers);
    }
    return headers;
  };
}

/** Answers a data-route request from the page's entry: 200 with the JSON (404 for a `notFound` page). */
function respondWithData(served: Served, request: Request, dataHeaders: (entry: CacheEntry) => Record<string, string>): Response {
  const { entry, state } = served;
  const data = entry.value.data ?? new Uint8Array(0);
  const headers: Record<string, string> = { ...dataHeaders(entry), 'x-isr-cache': state };
  const status = entry.value.status === 404 ? 404 : 200;
  if (status === 200 && etagMatches(request.headers.get('if-none-match'), headers.etag!)) {
    const { 'content-length': _length, ...notModified } = headers;
    return new Response(null, { status: 304, headers: notModified });
  }
  return storedBodyResponse(request.method === 'HEAD' ? null : data, { status, headers });
}

function respondWithEntry(served: Served, request: Request, entryHeaders: (entry: CacheEntry) => Record<string, string>): Response {
  const { entry, state } = served;
  if (state === 'DYNAMIC') return dynamicResponse(entry.value, request);
  const headers: Record<string, string> = { ...entryHeaders(entry), 'x-isr-cache': state };
  if (entry.value.status === 200 && etagMatches(request.headers.get('if-none-match'), entry.etag)) {
    const { 'content-length': _length, ...notModified } = headers;
    return new Response(null, { status: 304, headers: notModified });
  }
  const bodyless = request.method === 'HEAD' || entry.value.status === 304 || entry.value.status === 204;
  return storedBodyResponse(bodyless ? null : entry.value.body, { status: entry.value.status, headers });
}

/**
 * Creates the request handler of a built site.
 */
export function createRequestHandler(options: HandlerOptions): RequestHandler {
  const { site, engine, config, logger } = options;
  const origin = options.origin ?? (() => 'http://localhost');
  const publicFiles = new PublicFiles(path.join(options.siteDir, 'public'), site.manifest.publicFiles);
  /** Routes found dynamic at run time: rendered per request from then on. */
  const learnedDynamic = new Set<ManifestRoute>();
  const entryHeaders = entryHeaderCache(engine.expireTime);
  const dataHeaders = dataHeaderCache(engine.expireTime);

  const errorPage = (): Response =>
    new Response(ERROR_PAGE, { status: 500, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': NO_STORE } });

  async function serve(
    key: string,
    generate: Generate,
    request: Request,
    label: string,
    route?: ManifestRoute,
    respond: (served: Served) => Response = (served) => respondWithEntry(served, request, entryHeaders),
  ): Promise<Response> {
    const began = performance.now();
    let served: Served;
    try {
      served = await engine.serve(key, generate, {
        label,
        // A page prerendered as static that turns dynamic (even in a background regeneration)
        // is rendered per request from then on, never served from an older tier.
        onDynamic: route === undefined ? undefined : () => learnedDynamic.add(route),
      });
    } catch {
      // The engine logged the failure with its cause; nothing cached to fall back on.
      return errorPage();
    }
    if (logger.debugEnabled) logger.debug(`${served.state} ${label} ${(performance.now() - began).toFixed(2)} ms`);
    return respond(served);
  }

  /**
   * `getStaticPaths({ fallback: true })` for a path it did not list (Next.js `getStaticPaths`,
   * https://nextjs.org/docs/pages/api-reference/functions/get-static-paths): if the page exists
   * in the cache it is served as usual; otherwise its generation starts in the background and the
   * route's fallback page answers at once (never cached downstream: `no-store`). Crawlers get the
   * blocking render instead (bot-aware ISR fallback, Next.js 12,
   * https://nextjs.org/blog/next-12#bot-aware-isr-fallback), so they never index the
   * fallback.
   */
  async function serveWithFallback(route: ManifestRoute, params: Params, pathname: string, request: Request, label: string): Promise<Response> {
    const generate = site.pagesRouterPageGenerator(route, params, pathname, 'stale');
    if (isbot(request.headers.get('user-agent'))) return serve(pathname, generate, request, label, route);
    let served: Served | undefined;
    try {
      served = await engine.serveOrStartInBackground(pathname, generate, { label });
    } catch {
      return errorPage();
    }
    if (served !== undefined) return respondWithEntry(served, request, entryHeaders);
    let fallback: Served;
    try {
      fallback = await engine.serve(fallbackKey(route.pattern), site.fallbackGenerator(route), { label: `the fallback page of ${route.pattern}` });
    } catch {
      return errorPage();
    }
    logger.debug(`FALLBACK ${label} (generating in the background)`);
    return storedBodyResponse(request.method === 'HEAD' ? null : fallback.entry.value.body, {
      status: 200,
      headers: {
        ...fallback.entry.value.headers,
        'cache-control': NO_STORE,
        'x-isr-cache': 'FALLBACK',
        'content-length': String(fallback.entry.value.body.byteLength),
      },
    });
  }

  /**
   * `res.revalidate(path)` of API routes (Next.js Pages Router ISR guide, "On-demand validation with
   * `res.revalidate()`", https://nextjs.org/docs/pages/guides/incremental-static-regeneration):
   * regenerates the page at
   * `path` now and resolves once the new page is stored, so the next request gets it. With
   * `unstable_onlyGenerated`, a page that was never generated is left alone.
   * @throws TypeError for a malformed path; Error when `path` is not a cached page of this site
   *   (no route, an API route, a dynamic page, a path `fallback: false` does not list);
   *   GenerationError when the generation fails (the stored page stays in place).
   */
  async function regeneratePath(target: string, options: { unstable_onlyGenerated?: boolean }): Promise<void> {
    const parsed = parsePath(target.split('?')[0]!);
    if (!parsed.ok) throw new TypeError(`${target} is not a valid path: ${parsed.message}`);
    const { pathname, parts } = parsed;
    const match = site.match(pathname, parts);
    if (match === undefined || match.route.kind === 'api' || !match.route.cacheable || match.route.dynamic || learnedDynamic.has(match.route)) {
      throw new Error(`${pathname} is not a cached page of this site`);
    }
    const { route, params } = match;
    if (!site.hasPath(route, pathname)) {
      throw new Error(`${pathname} is not a page of this site (${route.router === 'pages' ? 'getStaticPaths' : 'generateStaticParams'} does not list it)`);
    }
    if (options.unstable_onlyGenerated === true && (await engine.store.get(pathname)) === undefined) return;
    const generate = site.cachedGenerator(route, params, pathname, 'on-demand', origin());
    await engine.regenerate(pathname, generate, { label: `${pathname} (route ${route.pattern}, on demand)`, onDynamic: () => learnedDynamic.add(route) });
  }

  /**
   * The data route (pages/data-route.ts): the props of a Pages Router page as JSON, from the same
   * entry as its HTML. A path the page's `getStaticPaths` did not list is generated before answering
   * (with any fallback mode but `false`, which answers 404), as the fallback page's script expects.
   */
  async function handleDataRoute(pathname: string, request: Request): Promise<Response> {
    const notFoundJson = () =>
      new Response('{"notFound":true}', { status: 404, headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': NO_STORE } });
    if (request.method !== 'GET' && request.method !== 'HEAD') return text(405, `Method ${request.method} is not allowed here`, { allow: 'GET, HEAD' });
    const pagePath = pagePathOfDataRoute(site.buildId, pathname);
    if (pagePath === undefined) return notFoundJson();
    const parsed = parsePath(pagePath);
    if (!parsed.ok) return notFoundJson();
    const match = site.match(parsed.pathname, parsed.parts);
    if (match === undefined || match.route.router !== 'pages' || match.route.dataRoute !== true) return notFoundJson();
    const { route, params } = match;
    if (!site.hasPath(route, parsed.pathname)) return notFoundJson();
    const label = `${parsed.pathname} (route ${route.pattern}, data)`;
    const respond = (served: Served) => respondWithData(served, request, dataHeaders);
    return serve(parsed.pathname, site.pagesRouterPageGenerator(route, params, parsed.pathname, 'stale'), request, label, route, respond);
  }

  async function renderDynamic(generate: Generate, request: Request, label: string): Promise<Response> {
    const began = performance.now();
    try {
      const generated = await generate();
      logger.debug(`DYNAMIC ${label} rendered in ${(performance.now() - began).toFixed(1)} ms`);
      return dynamicResponse(generated.value, request);
    } catch (error) {
      logger.error(`rendering ${label} failed`, error);
      return errorPage();
    }
  }

  function notFound(request: Request): Promise<Response> {
    return serve(NOT_FOUND_KEY, site.notFoundGenerator(), request, 'the 404 page');
  }

  async function handleRoute(route: ManifestRoute, params: Params, pathname: string, url: URL, request: Request): Promise<Response> {
    const label = `${pathname} (route ${route.pattern})`;
    const readOnly = request.method === 'GET' || request.method === 'HEAD';
    if (!site.hasPath(route, pathname)) {
      return readOnly ? notFound(request) : text(404, 'Not found');
    }
    if (route.kind === 'api') {
      let module: ApiRouteModule;
      try {
        module = await site.load<ApiRouteModule>(route.module);
      } catch (error) {
        logger.error(`API route ${label} failed to load`, error);
        return errorPage();
      }
      return runApiRoute({ request, pathname, pattern: route.pattern, params, module, revalidate: regeneratePath, logger });
    }
    if (route.kind === 'route') {
      if (route.cacheable && readOnly && !learnedDynamic.has(route)) {
        return serve(pathname, site.routeHandlerGenerator(route, params, pathname, origin()), request, label, route);
      }
      try {
        const module = await site.load<RouteModule>(route.module);
        return await runRouteHandler({ path: pathname, pattern: route.pattern, params, module, config: route.config, request });
      } catch (error) {
        if (request.signal.aborted) {
          // Bad input is no server error: the client cut its request short (e.g. mid-body), and
          // nobody is there to read an answer.
          logger.debug(`route handler ${label}: the client went away (${errorMessage(error)})`);
          return text(400, 'The request ended before it was complete', { connection: 'close' });
        }
        logger.error(`route handler ${label} failed`, error);
        return errorPage();
      }
    }
    if (!readOnly) return text(405, `Method ${request.method} is not allowed for pages`, { allow: 'GET, HEAD' });
    if (route.router === 'pages') {
      // Only dynamic routes have a fallback mode (getStaticPaths).
      if (route.fallback === true && !site.isStaticPath(route, pathname)) {
        return serveWithFallback(route, params, pathname, request, label);
      }
      return serve(pathname, site.pagesRouterPageGenerator(route, params, pathname, 'stale'), request, label, route);
    }
    const generate = site.appRouterPageGenerator(route, params, pathname, url.searchParams);
    if (route.dynamic || learnedDynamic.has(route)) return renderDynamic(generate, request, label);
    return serve(pathname, generate, request, label, route);
  }

  /** Headers of a HIT from the fast path, per entry (the entry headers plus `x-isr-cache: HIT`). */
  const hitHeaders = new WeakMap<CacheEntry, { full: Record<string, string>; notModified: Record<string, string> }>();

  function fromMemory(method: string, target: string, ifNoneMatch: string | undefined): MemoryAnswer | undefined {
    if (method !== 'GET' && method !== 'HEAD') return undefined;
    const began = logger.debugEnabled ? performance.now() : 0;
    const query = target.indexOf('?');
    const pathname = query === -1 ? target : target.slice(0, query);
    // A `.` or `..` segment passes the pattern, but no key holds one (parsePath refuses them), so the peek misses.
    if (!CANONICAL_PATH.test(pathname) || publicFiles.hasPath(pathname)) return undefined;
    const entry = engine.peekFresh(pathname);
    if (entry === undefined) return undefined;
    let headers = hitHeaders.get(entry);
    if (headers === undefined) {
      const full: Record<string, string> = { ...entryHeaders(entry), 'x-isr-cache': 'HIT' };
      const { 'content-length': _length, ...notModified } = full;
      headers = { full, notModified };
      hitHeaders.set(entry, headers);
    }
    if (logger.debugEnabled) logger.debug(`HIT ${pathname} (memory) ${(performance.now() - began).toFixed(3)} ms`);
    if (ifNoneMatch !== undefined && entry.value.status === 200 && etagMatches(ifNoneMatch, entry.etag)) {
      return { status: 304, headers: headers.notModified, body: undefined };
    }
    return { status: entry.value.status, headers: headers.full, body: method === 'HEAD' ? undefined : entry.value.body };
  }

  return Object.assign(handle, { fromMemory });

  async function handle(request: Request): Promise<Response> {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return text(400, 'Bad request URL');
    }
    const parsed = parsePath(url.pathname);
    if (!parsed.ok) return text(parsed.status, parsed.message);
    const { pathname, parts } = parsed;

    if (pathname === REVALIDATE_ENDPOINT) {
      return handleRevalidateRequest(request, engine, config.revalidateToken, logger);
    }
    if (pathname === STATUS_ENDPOINT && options.status !== undefined) {
      return handleStatusRequest(request, config.revalidateToken, options.status);
    }
    if (pathname.startsWith(DATA_ROUTE_PREFIX)) return handleDataRoute(pathname, request);
    if (url.pathname.length > 1 && url.pathname.endsWith('/')) {
      return new Response(null, { status: 308, headers: { location: `${pathname}${url.search}` } });
    }
    const readOnly = request.method === 'GET' || request.method === 'HEAD';
    if (readOnly && publicFiles.has(parts)) return publicFiles.respond(parts, request);

    const match = site.match(pathname, parts);
    if (match === undefined) {
      return readOnly ? notFound(request) : text(404, 'Not found');
    }
    return handleRoute(match.route, match.params, pathname, url, request);
  }
}
