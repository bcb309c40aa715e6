/**
 * `isr build`: compiles a site, prerenders every known path and writes the build manifest.
 *
 * Output, in `<site>/.isr/build/` (replaced whole at the end, so a failed build leaves the
 * previous one in place):
 *   manifest.json   routes, their config, prerendered paths, build ID
 *   server/         the Pages Router's compiled modules
 *   rsc/, ssr/      the App Router's server runtime and HTML renderer (compile-app.ts)
 *   middleware/     the site's proxy.ts or middleware.ts, compiled (middleware.ts)
 *   client/         the browser's files (served at /_isr/static/)
 *   prerender/      the prerendered pages and data-cache entries (a filesystem cache store)
 */

import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { installFetch } from '../app/data-cache.ts';
import { isCacheableRouteHandler } from '../app/render.ts';
import { type AppRoutes, discoverAppRoutes } from '../app/routes.ts';
import {
  configForcesDynamic,
  EMPTY_STATIC_PARAMS_WITH_CACHE_COMPONENTS,
  type PageModule,
  type RouteModule,
  refuseReplacedSegmentConfig,
  resolveSegmentConfig,
  type SegmentConfig,
} from '../app/segment-config.ts';
import { loadConfig } from '../config/config.ts';
import { SiteError } from '../config/errors.ts';
import { loadNextConfig, type NextConfigUse } from '../config/next-config.ts';
import { IsrEngine } from '../engine/engine.ts';
import { createConsoleLogger, type Logger } from '../log.ts';
import { discoverPagesRoutes } from '../pages/routes.ts';
import { checkStaticPathsResult, type PagesPageModule } from '../pages/static-props.ts';
import { setRuntime } from '../render/context.ts';
import { isDynamicRoute, matchSegments, orderRoutes, type Params, pathForParams, type RouteDefinition } from '../render/routes.ts';
import { fallbackKey, NOT_FOUND_KEY } from '../site/keys.ts';
import { type BuildManifest, buildDirOf, clientUrlPrefix, MANIFEST_VERSION, type ManifestRoute, prerenderDirOf } from '../site/manifest.ts';
import { Site } from '../site/site.ts';
import { FileSystemStore } from '../store/filesystem.ts';
import type { Milliseconds } from '../units.ts';
import { compileSite } from './compile.ts';
import { CLIENT_ASSETS_DIR, compileApp } from './compile-app.ts';
import { compilePagesClient } from './compile-pages-client.ts';
import { listFiles } from './files.ts';
import { Fonts } from './fonts.ts';
import { buildMetadataFiles } from './metadata-files.ts';
import { buildMiddleware } from './middleware.ts';
import { StaticImages } from './static-images.ts';

export interface BuildOptions {
  siteDir: string;
  logger?: Logger;
  /** Pages rendered in parallel; default from config (8). */
  concurrency?: number;
}

export interface BuildResult {
  buildId: string;
  buildDir: string;
  manifest: BuildManifest;
  /** Number of pages and route responses prerendered. */
  prerendered: number;
  /** Wall time in milliseconds. */
  durationMs: Milliseconds;
}

function newBuildId(): string {
  return `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/** Runs `task` over `items`, `concurrency` at a time; after a failure starts no new task, waits for the running ones, then throws the first error. */
async function runPool<T>(items: readonly T[], concurrency: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      try {
        await task(items[next++]!);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  if (failure !== undefined) throw failure.error;
}

/**
 * What the bundlers replace in the site's code (server and browser alike): `process.env.<name>`
 * for each `env` of next.config (Next.js inlines them,
 * https://nextjs.org/docs/app/api-reference/config/next-config-js/env), the options `next/image`
 * needs (render/image.ts), `trailingSlash` (render/link.ts) and `basePath`.
 */
function siteDefines(nextConfig: NextConfigUse): Record<string, string> {
  const { deviceSizes, imageSizes, qualities, unoptimized, dangerouslyAllowSVG } = nextConfig.images;
  const define: Record<string, string> = {
    'process.env.__ISR_IMAGES': JSON.stringify(JSON.stringify({ deviceSizes, imageSizes, qualities, unoptimized, dangerouslyAllowSVG })),
    // next.config's trailingSlash, for next/link's hrefs (render/link.ts), under Next.js's own name.
    'process.env.__NEXT_TRAILING_SLASH': JSON.stringify(nextConfig.routing.trailingSlash),
    // next.config's basePath ('' for none), for the URLs the site writes (http/paths.ts `inlinedBasePath`), under Next.js's own name.
    'process.env.__NEXT_ROUTER_BASEPATH': JSON.stringify(nextConfig.routing.basePath),
  };
  for (const [name, value] of Object.entries(nextConfig.env)) define[`process.env.${name}`] = JSON.stringify(value);
  return define;
}

/** The manifest's metadata files and images (build/metadata-files.ts), generated images by their compiled routes. */
async function metadataOf(
  siteDir: string,
  appRoutes: AppRoutes | undefined,
  routes: readonly RouteDefinition[],
  compiled: ReadonlyMap<string, string>,
  workDir: string,
): Promise<Pick<BuildManifest, 'metadataFiles' | 'metadataImages'>> {
  const imageRoutes = new Map(
    routes
      .filter((route) => route.metadataRoute === 'image')
      .map((route) => [route.file, { pattern: route.pattern, segments: route.segments, module: compiled.get(route.file)! }]),
  );
  const built = await buildMetadataFiles(siteDir, appRoutes?.metadataFiles ?? [], appRoutes?.metadataImages ?? [], imageRoutes, workDir);
  return { metadataFiles: built.files, metadataImages: built.images };
}

/**
 * Builds the site in `options.siteDir`.
 * @throws CompileError when the site does not compile; Error naming the route and path when
 *   `generateStaticParams` or a prerender fails (the previous build stays in place).
 */
export async function build(options: BuildOptions): Promise<BuildResult> {
  const began = performance.now();
  const siteDir = path.resolve(options.siteDir);
  const logger = options.logger ?? createConsoleLogger();
  const config = await loadConfig(siteDir);
  const nextConfig = await loadNextConfig(siteDir);
  for (const warning of nextConfig.warnings) logger.warn(warning);
  const shared = {
    define: siteDefines(nextConfig),
    images: new StaticImages(clientUrlPrefix(nextConfig.routing.basePath)),
    fonts: new Fonts(siteDir, clientUrlPrefix(nextConfig.routing.basePath)),
  };
  const concurrency = options.concurrency ?? config.buildConcurrency;
  const appRoutes = discoverAppRoutes(siteDir, nextConfig.pageExtensions);
  const pagesRoutes = discoverPagesRoutes(siteDir, nextConfig.pageExtensions);
  if (appRoutes === undefined && pagesRoutes === undefined) {
    throw new SiteError(`no app/ or pages/ folder in ${siteDir}: a site needs app/layout.tsx and a page, or a page in pages/`);
  }
  const routes = orderRoutes([...(appRoutes?.routes ?? []), ...(pagesRoutes?.routes ?? [])]);
  const notFound = appRoutes?.notFound;
  const buildId = newBuildId();
  const finalDir = buildDirOf(siteDir);
  const workDir = `${finalDir}.tmp-${buildId}`;
  await rm(workDir, { recursive: true, force: true });
  await mkdir(workDir, { recursive: true });

  try {
    // app/ through React Server Components (compile-app.ts), pages/ with esbuild (compile.ts).
    const appSources = new Set<string>();
    const pagesSources = new Set<string>();
    for (const route of routes) {
      const sources = route.router === 'app' ? appSources : pagesSources;
      sources.add(route.file);
      for (const layout of route.layouts) sources.add(layout);
      for (const wrapper of route.wrappers ?? []) sources.add(wrapper.file);
    }
    if (notFound) appSources.add(notFound);
    if (pagesRoutes?.app) pagesSources.add(pagesRoutes.app);
    if (pagesRoutes?.notFound) pagesSources.add(pagesRoutes.notFound);
    const app =
      appSources.size > 0
        ? await compileApp(siteDir, [...appSources], workDir, {
            buildId,
            ...shared,
            clientUrlPrefix: clientUrlPrefix(nextConfig.routing.basePath),
            cache: { cacheComponents: nextConfig.cacheComponents, useCache: nextConfig.useCache, cacheLife: nextConfig.cacheLife },
            pageRoutes: routes.filter((route) => route.router === 'app' && route.kind === 'page'),
          })
        : undefined;
    const compiled = new Map([
      ...(pagesSources.size > 0 ? await compileSite(siteDir, [...pagesSources], path.join(workDir, 'server'), shared) : []),
      ...(app?.modules ?? []),
    ]);
    const rootLayoutSource = routes.find((route) => route.router === 'app' && route.kind === 'page')?.layouts[0];

    const manifest: BuildManifest = {
      version: MANIFEST_VERSION,
      buildId,
      createdAt: new Date().toISOString(),
      routes: [],
      rootLayout: rootLayoutSource ? compiled.get(rootLayoutSource) : undefined,
      notFound: notFound ? compiled.get(notFound) : undefined,
      publicFiles: await listFiles(path.join(siteDir, 'public')),
      pages: {
        app: pagesRoutes?.app ? compiled.get(pagesRoutes.app) : undefined,
        notFound: pagesRoutes?.notFound ? compiled.get(pagesRoutes.notFound) : undefined,
      },
      appRuntime: app?.runtime,
      clientAssets: [],
      pagesClient: undefined,
      images: nextConfig.images,
      routing: nextConfig.routing,
      ...(await metadataOf(siteDir, appRoutes, routes, compiled, workDir)),
      middleware: undefined,
    };
    const site = new Site(workDir, manifest);
    manifest.middleware = await buildMiddleware(siteDir, workDir, shared, logger, (module) => site.load(module));

    const edgeWarned = new Set<string>();
    for (const route of routes) {
      const module = compiled.get(route.file)!;
      if (route.router === 'pages') {
        manifest.routes.push(await pagesRouteEntry(route, module, await site.load<PagesPageModule>(module)));
        continue;
      }
      const layouts = route.layouts.map((layout) => compiled.get(layout)!);
      const modules = [...(await Promise.all(layouts.map((l) => site.load<SegmentConfig>(l)))), await site.load<SegmentConfig>(module)];
      if (nextConfig.cacheComponents) refuseReplacedSegmentConfig(modules, [...route.layouts, route.file]);
      const config = resolveSegmentConfig(modules, [...route.layouts, route.file]);
      // The Edge runtime: isr runs every route on Node.js, and says so rather than differ silently.
      modules.forEach((segment, index) => {
        const { runtime } = segment as { runtime?: unknown };
        const file = [...route.layouts, route.file][index]!;
        if ((runtime === 'edge' || runtime === 'experimental-edge') && !edgeWarned.has(file)) {
          edgeWarned.add(file);
          logger.warn(`${file}: runtime = '${runtime}' is served by isr on Node.js, not an Edge runtime`);
        }
      });
      const own = modules.at(-1) as PageModule | RouteModule;
      const dynamic = configForcesDynamic(config);
      const cacheable =
        route.kind === 'page' ? !dynamic : isCacheableRouteHandler(own as RouteModule, config, route.metadataRoute !== undefined);
      const wrappers = route.wrappers?.map(({ kind, file }) => ({ kind, module: compiled.get(file)! }));
      manifest.routes.push({ ...route, module, layouts, wrappers, config, dynamic, cacheable, staticPaths: [], prerendered: [] });
    }

    const pagesPages = manifest.routes.filter((route) => route.router === 'pages' && route.kind === 'page');
    if (pagesPages.length > 0 || pagesRoutes?.notFound !== undefined) {
      manifest.pagesClient = await compilePagesClient(
        siteDir,
        {
          buildId,
          app: pagesRoutes?.app,
          notFound: pagesRoutes?.notFound,
          routes: pagesPages.map((route) => ({ ...route, dataRoute: route.dataRoute === true })),
        },
        path.join(workDir, 'client'),
        shared,
      );
    }
    await shared.images.writeTo(path.join(workDir, 'client'));
    await shared.fonts.writeTo(path.join(workDir, 'client'));
    manifest.clientAssets = (await listFiles(path.join(workDir, 'client', CLIENT_ASSETS_DIR)))
      .map((file) => `${CLIENT_ASSETS_DIR}/${file}`)
      .sort();

    installFetch();
    const store = new FileSystemStore({ dir: prerenderDirOf(workDir), logger });
    const engine = new IsrEngine({ store, logger, expireTime: config.expireTime, renderTimeout: config.renderTimeout });
    setRuntime({ engine, logger });
    try {
      let count = 0;
      for (const route of manifest.routes) {
        const paths = await staticPaths(site, route);
        if (nextConfig.cacheComponents && route.router === 'app' && paths.length === 0 && isDynamicRoute(route)) {
          const own = await site.load<PageModule>(route.module);
          if (typeof own.generateStaticParams === 'function')
            throw new SiteError(`${route.file}: ${EMPTY_STATIC_PARAMS_WITH_CACHE_COMPONENTS}`);
        }
        route.staticPaths = paths.map((item) => item.pathname).sort();
        if (!route.cacheable) continue;
        if (route.fallback === true) {
          await engine.regenerate(fallbackKey(route.pattern), site.fallbackGenerator(route), {
            label: `the fallback page of ${route.pattern}`,
          });
        }
        await runPool(paths, concurrency, async ({ pathname, params }) => {
          const generate = site.cachedGenerator({ route, params, pathname, reason: 'build', origin: config.siteUrl ?? 'http://localhost' });
          let served;
          try {
            // Not logged by the engine: the build fails with this error, reported once by the caller.
            served = await engine.regenerate(pathname, generate, { label: `${pathname} (route ${route.pattern})`, logFailures: false });
          } catch (error) {
            throw new SiteError(
              `prerendering ${pathname} (${route.file}) failed: ${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message}`,
              { cause: error },
            );
          }
          if (served.state === 'DYNAMIC') {
            route.dynamic = true;
            route.cacheable = false;
            logger.info(`${route.pattern} is dynamic (rendered per request)`);
            return;
          }
          route.prerendered.push(pathname);
          count++;
        });
        if (route.dynamic) route.prerendered = [];
        route.prerendered.sort();
      }
      await engine.regenerate(NOT_FOUND_KEY, site.notFoundGenerator(), { label: 'the 404 page' });
      await engine.flush();

      await writeFile(path.join(workDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
      const oldDir = `${finalDir}.old-${buildId}`;
      if (existsSync(finalDir)) await rename(finalDir, oldDir);
      await rename(workDir, finalDir);
      await rm(oldDir, { recursive: true, force: true });
      return { buildId, buildDir: finalDir, manifest, prerendered: count, durationMs: performance.now() - began };
    } finally {
      setRuntime(undefined);
      await store.close?.();
    }
  } catch (error) {
    await rm(workDir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * The manifest entry of a Pages Router route (its paths are filled in later). Pages are cacheable
 * and never dynamic; API routes run per request.
 * @throws SiteError naming the file for what isr does not support (`getServerSideProps`,
 *   `getInitialProps`) and for the combinations Next.js refuses (`getStaticPaths` without
 *   `getStaticProps`, a dynamic route with `getStaticProps` but no `getStaticPaths`).
 */
async function pagesRouteEntry(route: RouteDefinition, module: string, own: PagesPageModule): Promise<ManifestRoute> {
  const { wrappers: _appOnly, ...definition } = route;
  const base = { ...definition, module, layouts: [], staticPaths: [], prerendered: [] };
  if (route.kind === 'api') {
    return { ...base, config: { revalidate: false, dynamic: 'force-dynamic', dynamicParams: true }, dynamic: true, cacheable: false };
  }
  if (own.getServerSideProps !== undefined || own.getInitialProps !== undefined) {
    throw new SiteError(
      `${route.file}: ${own.getServerSideProps !== undefined ? 'getServerSideProps' : 'getInitialProps'} is not supported by isr ` +
        "(pages are static); use getStaticProps with revalidate, or an App Router page with dynamic = 'force-dynamic'",
    );
  }
  const hasProps = typeof own.getStaticProps === 'function';
  const hasPaths = typeof own.getStaticPaths === 'function';
  const dynamicRoute = isDynamicRoute(route);
  if (hasPaths && !hasProps) throw new SiteError(`${route.file}: getStaticPaths needs getStaticProps in the same page`);
  if (hasPaths && !dynamicRoute) throw new SiteError(`${route.file}: getStaticPaths is only for dynamic routes ([id], [...slug])`);
  if (hasProps && dynamicRoute && !hasPaths) {
    throw new SiteError(
      `${route.file}: a dynamic page with getStaticProps needs getStaticPaths (return { paths: [], fallback: 'blocking' } to render every path on demand)`,
    );
  }
  return {
    ...base,
    config: { revalidate: false, dynamic: 'auto', dynamicParams: true },
    dynamic: false,
    cacheable: true,
    dataRoute: hasProps,
  };
}

/** Params of a path listed by `getStaticPaths` as a string, as a request for it would carry them. */
function paramsOfPath(route: ManifestRoute, listed: string): Params {
  const parts = listed.split('?')[0]!.split('/').filter(Boolean);
  let decoded: string[];
  try {
    decoded = parts.map(decodeURIComponent);
  } catch {
    throw new SiteError(`${route.file}: getStaticPaths listed "${listed}", which is not a valid URL path`);
  }
  const params = matchSegments(route, decoded);
  if (params === undefined) throw new SiteError(`${route.file}: getStaticPaths listed "${listed}", which does not match ${route.pattern}`);
  return params;
}

/** The params listed by a route's `getStaticPaths` (Pages Router) or `generateStaticParams` (App Router). */
async function listedParams(site: Site, route: ManifestRoute): Promise<Params[]> {
  if (route.router === 'pages') {
    const page = await site.load<PagesPageModule>(route.module);
    if (typeof page.getStaticPaths !== 'function') {
      route.fallback = 'blocking';
      return [];
    }
    let result: unknown;
    try {
      result = await page.getStaticPaths();
    } catch (error) {
      throw new SiteError(`${route.file}: getStaticPaths() failed: ${(error as Error).message}`, { cause: error });
    }
    const { paths, fallback } = checkStaticPathsResult(result, route.file);
    route.fallback = fallback;
    route.config = { ...route.config, dynamicParams: fallback !== false };
    return paths.map((item) => (typeof item === 'string' ? paramsOfPath(route, item) : item));
  }
  const module = await site.load<SegmentConfig>(route.module);
  if (typeof module.generateStaticParams !== 'function') return [];
  let list: unknown;
  try {
    list = await module.generateStaticParams({ params: {} });
  } catch (error) {
    throw new SiteError(`${route.file}: generateStaticParams() failed: ${(error as Error).message}`, { cause: error });
  }
  if (!Array.isArray(list)) throw new SiteError(`${route.file}: generateStaticParams() must return an array of params objects`);
  return list as Params[];
}

/**
 * The paths to prerender for a route: its pattern when static, else those its `getStaticPaths` or
 * `generateStaticParams()` lists (Pages Router routes also get their `fallback` mode set here).
 */
async function staticPaths(site: Site, route: ManifestRoute): Promise<{ pathname: string; params: Params }[]> {
  if (!isDynamicRoute(route)) return [{ pathname: route.pattern, params: {} }];
  const list = await listedParams(site, route);
  const seen = new Set<string>();
  const out: { pathname: string; params: Params }[] = [];
  for (const params of list) {
    const pathname = pathForParams(route, params);
    if (seen.has(pathname)) continue;
    seen.add(pathname);
    // The params a request for this path will carry (decoded), so build and runtime agree.
    out.push({ pathname, params: matchSegments(route, pathname.split('/').filter(Boolean).map(decodeURIComponent))! });
  }
  return out;
}
