/**
 * The Pages Router's HTTP pieces, beside the handler's dispatch (handler.ts):
 * - fallback pages: `getStaticPaths` with `fallback: true` at a path it did not list, with the
 *   blocking render for crawlers (`isbot`);
 * - the data route, `/_isr/data/<buildId>/<path>.json` (pages/data-route.ts): a page's props as JSON;
 * - `res.revalidate(path)` of API routes ({@link PagesHttp.regeneratePath}).
 *
 * Sources: "getStaticPaths", https://nextjs.org/docs/pages/api-reference/functions/get-static-paths
 * (`fallback`); "Incremental Static Regeneration (ISR)",
 * https://nextjs.org/docs/pages/building-your-application/data-fetching/incremental-static-regeneration
 * (on-demand revalidation; its version history: "v12.0.0 Bot-aware ISR fallback added").
 */
import { isbot } from 'isbot';
import type { Generate, IsrEngine, Served } from '../engine/engine.ts';
import { NO_STORE } from '../http/cache-control.ts';
import { parsePath } from '../http/paths.ts';
import type { Logger } from '../log.ts';
import type { RevalidateOptions } from '../pages/api.ts';
import { pagePathOfDataRoute } from '../pages/data-route.ts';
import type { Params } from '../render/routes.ts';
import { fallbackKey } from '../site/keys.ts';
import type { ManifestRoute } from '../site/manifest.ts';
import type { Site } from '../site/site.ts';
import { RequestFailure } from './errors.ts';
import { type EntryResponses, textResponse } from './respond.ts';

/** A request matched to a route: what the answers below are made from. */
export interface RoutedRequest {
  request: Request;
  route: ManifestRoute;
  params: Params;
  /** The canonical path (http/paths.ts), e.g. `/blog/1`: the page's cache key. */
  pathname: string;
  /** Names the page in logs: `/blog/1 (route /blog/[id])`. */
  label: string;
}

/** What the engine should serve, and how to answer with it (handler.ts `serve`). */
export interface ServeTarget {
  /** The cache key. */
  key: string;
  generate: Generate;
  /** Names the entry in logs. */
  label: string;
  /** The route, so a generation that turns dynamic marks it dynamic from then on. */
  route?: ManifestRoute;
  /** The answer from what was served; default: the page (`EntryResponses.page`). */
  respond?: (served: Served) => Response;
  /** A failure answers the plain-text 500 (a route handler's, as in Next.js), not the 500 page. */
  plainFailure?: boolean;
}

/** What {@link PagesHttp} works with: the handler's parts. */
export interface PagesHttpContext {
  site: Site;
  engine: IsrEngine;
  logger: Logger;
  responses: EntryResponses;
  /**
   * Serves `target` through the engine and answers with it (handler.ts).
   * @throws RequestFailure when there is nothing to serve (see errors.ts).
   */
  serve: (request: Request, target: ServeTarget) => Promise<Response>;
  /** Routes found dynamic at run time (rendered per request from then on); this adds to it. */
  learnedDynamic: Set<ManifestRoute>;
  /** The site's canonical origin (`https://www.example.com`), read at each regeneration. */
  origin: () => string;
}

const notFoundJson = (): Response =>
  new Response('{"notFound":true}', {
    status: 404,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': NO_STORE },
  });

/** The Pages Router's fallback pages, data route and `res.revalidate`. */
export class PagesHttp {
  constructor(private readonly context: PagesHttpContext) {}

  /**
   * `getStaticPaths({ fallback: true })` for a path it did not list ("fallback: true",
   * https://nextjs.org/docs/pages/api-reference/functions/get-static-paths#fallback-true): if the
   * page exists in the cache it is served as usual; otherwise its generation starts in the
   * background and the route's fallback page answers at once (never kept downstream:
   * `no-store`). Crawlers (by `isbot`) get the blocking render instead, so they never index the
   * fallback (bot-aware ISR fallback, Next.js 12: https://nextjs.org/blog/next-12#bot-aware-isr-fallback).
   * @throws RequestFailure when there is neither the page nor its fallback page to answer with.
   */
  async fallback(routed: RoutedRequest): Promise<Response> {
    const { site, engine, logger, responses, serve } = this.context;
    const { request, route, params, pathname, label } = routed;
    const generate = site.pagesRouterPageGenerator(route, params, pathname, 'stale');
    if (isbot(request.headers.get('user-agent'))) return serve(request, { key: pathname, generate, label, route });
    const served = await engine.serveOrStartInBackground(pathname, generate, { label }).catch(RequestFailure.loggedByEngine);
    if (served !== undefined) return responses.page(served, request);
    const fallback = await engine
      .serve(fallbackKey(route.pattern), site.fallbackGenerator(route), { label: `the fallback page of ${route.pattern}` })
      .catch(RequestFailure.loggedByEngine);
    logger.debug(`FALLBACK ${label} (generating in the background)`);
    return responses.fallback(fallback.entry, request);
  }

  /**
   * The data route (pages/data-route.ts): the props of a Pages Router page as JSON, from the same
   * entry as its HTML (Next.js's `/_next/data/<buildId>/<path>.json`). A path the page's
   * `getStaticPaths` did not list is generated before answering (with any fallback mode but
   * `false`, which answers 404), as the fallback page's script expects. 405 for methods other than
   * GET and HEAD; 404 `{"notFound":true}` for a path that names no such page (or another build).
   * @param pathname the canonical request path, under `/_isr/data/`.
   * @throws RequestFailure when the page cannot be generated and nothing is stored.
   */
  async dataRoute(pathname: string, request: Request): Promise<Response> {
    const { site, responses, serve } = this.context;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return textResponse(405, `Method ${request.method} is not allowed here`, { allow: 'GET, HEAD' });
    }
    const pagePath = pagePathOfDataRoute(site.buildId, pathname);
    if (pagePath === undefined) return notFoundJson();
    const parsed = parsePath(pagePath);
    if (!parsed.ok) return notFoundJson();
    const match = site.match(parsed.pathname, parsed.parts);
    if (match === undefined || match.route.router !== 'pages' || match.route.dataRoute !== true) return notFoundJson();
    const { route, params } = match;
    if (!site.hasPath(route, parsed.pathname)) return notFoundJson();
    return serve(request, {
      key: parsed.pathname,
      generate: site.pagesRouterPageGenerator(route, params, parsed.pathname, 'stale'),
      label: `${parsed.pathname} (route ${route.pattern}, data)`,
      route,
      respond: (served) => responses.data(served, request),
    });
  }

  /**
   * `res.revalidate(path)` of API routes ("On-Demand Revalidation" in "Incremental Static
   * Regeneration (ISR)", https://nextjs.org/docs/pages/building-your-application/data-fetching/incremental-static-regeneration):
   * regenerates the page at `target` now and resolves once the new page is stored, so the next
   * request gets it. With `unstable_onlyGenerated`, a page that was never generated is left alone.
   * Bound, so it can be handed to an API route as is.
   * @param target a path, e.g. `/blog/1` (a query is ignored).
   * @throws TypeError for a malformed path; Error when `target` is not a cached page of this site
   *   (no route, an API route, a dynamic page, a path `fallback: false` does not list);
   *   GenerationError when the generation fails (the stored page stays in place).
   */
  readonly regeneratePath = async (target: string, options: RevalidateOptions): Promise<void> => {
    const { site, engine, learnedDynamic, origin } = this.context;
    const parsed = parsePath(target.split('?', 1)[0] ?? target);
    if (!parsed.ok) throw new TypeError(`${target} is not a valid path: ${parsed.message}`);
    const { pathname, parts } = parsed;
    const match = site.match(pathname, parts);
    if (
      match === undefined ||
      match.route.kind === 'api' ||
      !match.route.cacheable ||
      match.route.dynamic ||
      learnedDynamic.has(match.route)
    ) {
      throw new Error(`${pathname} is not a cached page of this site`);
    }
    const { route, params } = match;
    if (!site.hasPath(route, pathname)) {
      throw new Error(
        `${pathname} is not a page of this site (${route.router === 'pages' ? 'getStaticPaths' : 'generateStaticParams'} does not list it)`,
      );
    }
    if (options.unstable_onlyGenerated === true && (await engine.store.get(pathname)) === undefined) return;
    const generate = site.cachedGenerator({ route, params, pathname, reason: 'on-demand', origin: origin() });
    await engine.regenerate(pathname, generate, {
      label: `${pathname} (route ${route.pattern}, on demand)`,
      onDynamic: () => learnedDynamic.add(route),
    });
  };
}
