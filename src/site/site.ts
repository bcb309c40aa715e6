/**
 * `Site`: a built site loaded for serving. It reads the manifest, matches a request path to a
 * route (static routes by exact path, then dynamic routes in order), imports compiled modules once,
 * and hands out the generators of both routers (App Router pages, route handlers, Pages Router
 * pages, fallback and 404 pages), each with its response head checked.
 */

import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ComponentType } from 'react';
import type { ReactFormState } from 'react-dom/client';
import { pageFileMetadata } from '../app/metadata-routes.ts';
import { generateRouteResponse, type PageRenderInput, renderAppNotFound } from '../app/render.ts';
import type * as AppRuntime from '../app/rsc/entry.rsc.ts';
import type { LayoutModule, PageModule, RouteModule } from '../app/segment-config.ts';
import { SiteError } from '../config/errors.ts';
import type { Generate } from '../engine/engine.ts';
import { checkedResponseHead, HTML_HEADERS } from '../http/response-head.ts';
import { type PagesDocumentInput, renderPagesFallback, renderPagesNotFoundBody, renderPagesPage } from '../pages/render.ts';
import type { PagesAppModule, PagesPageModule, StaticPropsContext } from '../pages/static-props.ts';
import { renderToHtml } from '../render/html.ts';
import { isDynamicRoute, matchSegments, type Params } from '../render/routes.ts';
import { APP_MODULE_PREFIX, type BuildManifest, clientUrlPrefix, type ManifestRoute, readManifest } from './manifest.ts';

/**
 * `generate` with its result's response head checked (`checkedResponseHead`): a header that could
 * not be sent as is fails the generation like a render error, so no stored entry holds one.
 */
function checked(generate: Generate): Generate {
  return async (signal) => {
    const generated = await generate(signal);
    return { ...generated, value: checkedResponseHead(generated.value) };
  };
}

/** What {@link Site.cachedGenerator} generates: a cacheable route at one path. */
export interface CachedGeneratorOptions {
  route: ManifestRoute;
  params: Params;
  /** The canonical path (http/paths.ts), e.g. `/blog/1`. */
  pathname: string;
  /** Passed to a Pages Router page's `getStaticProps` as `revalidateReason` (`'build'`, `'on-demand'`…). */
  reason: StaticPropsContext['revalidateReason'];
  /**
   * The site's canonical origin (`siteUrl`), e.g. `https://www.example.com`: a route handler's GET
   * is requested at `<origin><pathname>`.
   */
  origin: string;
}

/**
 * A built site, ready to serve: its manifest, its routes and its compiled modules (imported on
 * first use and kept).
 */
/** The `metadataRoute` of a route handler's input, for a metadata route (`sitemap.ts`, ...). */
export function metadataRouteOf(route: ManifestRoute): {
  metadataRoute?: { kind: NonNullable<ManifestRoute['metadataRoute']>; file: string };
} {
  return route.metadataRoute === undefined ? {} : { metadataRoute: { kind: route.metadataRoute, file: route.file } };
}

export class Site {
  private readonly modules = new Map<string, Promise<unknown>>();
  private readonly staticRoutes = new Map<string, ManifestRoute>();
  private readonly dynamicRoutes: ManifestRoute[];
  private readonly staticPaths = new Map<ManifestRoute, Set<string>>();

  constructor(
    readonly buildDir: string,
    readonly manifest: BuildManifest,
  ) {
    for (const route of manifest.routes) {
      this.staticPaths.set(route, new Set(route.staticPaths));
      if (!isDynamicRoute(route)) this.staticRoutes.set(route.pattern, route);
    }
    this.dynamicRoutes = manifest.routes.filter((route) => !this.staticRoutes.has(route.pattern));
  }

  /**
   * Loads the build in `buildDir`.
   * @throws Error when there is no build or it is from another version (see readManifest).
   */
  static async load(buildDir: string): Promise<Site> {
    return new Site(buildDir, await readManifest(buildDir));
  }

  get buildId(): string {
    return this.manifest.buildId;
  }

  /**
   * Finds the route for a canonical path and its decoded segments.
   * @param pathname canonical path (`/blog/1`), used for the static-route lookup.
   * @param parts the decoded segments (`['blog', '1']`).
   */
  match(pathname: string, parts: readonly string[]): { route: ManifestRoute; params: Params } | undefined {
    const exact = this.staticRoutes.get(pathname);
    if (exact !== undefined) return { route: exact, params: {} };
    for (const route of this.dynamicRoutes) {
      const params = matchSegments(route, parts);
      if (params !== undefined) return { route, params };
    }
    return undefined;
  }

  /**
   * Whether `generateStaticParams` (App Router) or `getStaticPaths` (Pages Router) of `route`
   * listed `path`.
   */
  isStaticPath(route: ManifestRoute, path: string): boolean {
    return this.staticPaths.get(route)?.has(path) ?? false;
  }

  /**
   * Whether `path` (matched to `route`) is a path of the site: always for a static route or when
   * unlisted paths are rendered on demand; otherwise (`dynamicParams = false`, `fallback: false`)
   * only when it was listed.
   */
  hasPath(route: ManifestRoute, path: string): boolean {
    return route.config.dynamicParams || !isDynamicRoute(route) || this.isStaticPath(route, path);
  }

  /**
   * Imports a compiled module once: a file of the build folder, or (`rsc:<source file>`) a module
   * of the App Router's server runtime.
   */
  load<T>(module: string): Promise<T> {
    let loaded = this.modules.get(module);
    if (loaded === undefined) {
      loaded = module.startsWith(APP_MODULE_PREFIX)
        ? this.appRuntime().then((runtime) => runtime.loadAppModule(module.slice(APP_MODULE_PREFIX.length)))
        : import(pathToFileURL(path.join(this.buildDir, module)).href);
      this.modules.set(module, loaded);
    }
    return loaded as Promise<T>;
  }

  /**
   * The App Router's server runtime (app/rsc/entry.rsc.ts as built).
   * @throws Error when the build has none (no `app/`).
   */
  private appRuntime(): Promise<typeof AppRuntime> {
    const runtime = this.manifest.appRuntime;
    if (runtime === undefined) return Promise.reject(new Error('this build has no App Router runtime (no app/ folder)'));
    return this.load<typeof AppRuntime>(runtime);
  }

  async notFoundComponent(): Promise<ComponentType | undefined> {
    return this.manifest.notFound ? (await this.load<{ default: ComponentType }>(this.manifest.notFound)).default : undefined;
  }

  async rootLayout(): Promise<LayoutModule | undefined> {
    return this.manifest.rootLayout ? this.load<LayoutModule>(this.manifest.rootLayout) : undefined;
  }

  /** A generator rendering `route`'s page at `path`. */
  appRouterPageGenerator(
    route: ManifestRoute,
    params: Params,
    pathname: string,
    searchParams?: URLSearchParams,
    formState?: ReactFormState,
  ): Generate {
    return checked(async () => {
      const input = await this.pageInput(route, params, pathname, searchParams);
      return (await this.appRuntime()).renderPage(input, formState === undefined ? {} : { formState });
    });
  }

  /** What renders `route`'s page at `pathname`: its modules, loaded. */
  private async pageInput(
    route: ManifestRoute,
    params: Params,
    pathname: string,
    searchParams?: URLSearchParams,
  ): Promise<PageRenderInput> {
    const [page, layouts, wrappers, notFound] = await Promise.all([
      this.load<PageModule>(route.module),
      Promise.all(route.layouts.map((layout) => this.load<LayoutModule>(layout))),
      Promise.all(
        (route.wrappers ?? []).map(async ({ kind, module }) => ({
          kind,
          component: (await this.load<{ default: ComponentType }>(module)).default,
        })),
      ),
      this.notFoundComponent(),
    ]);
    // The Metadata API's items: per folder from app/ to the page's, its layout (or none), then the page.
    const source = (key: string) => (key.startsWith(APP_MODULE_PREFIX) ? key.slice(APP_MODULE_PREFIX.length) : key);
    const layoutFolders = route.layouts.map((key) => path.posix.dirname(source(key)));
    const folders = path.posix.dirname(route.file).split('/');
    const folderPaths = folders.map((_, index) => folders.slice(0, index + 1).join('/'));
    const metadataItems = [...folderPaths.map((folder) => layouts[layoutFolders.indexOf(folder)]), page];
    const images = this.manifest.metadataImages;
    const fileMetadata = await pageFileMetadata(
      folderPaths.map((folder) => images[folder]),
      params,
      (module) => this.load(module),
      this.manifest.routing.basePath ?? '',
    );
    return {
      path: pathname,
      pattern: route.pattern,
      params,
      page,
      layouts,
      wrappers,
      notFound,
      config: route.config,
      searchParams,
      fileMetadata,
      metadataItems,
    };
  }

  /**
   * Runs the Server Action that `request`, a POST to `route`'s page at `pathname`, asks for
   * (app/rsc/entry.rsc.ts `runAction`).
   * @throws an `UnknownActionError` (by name) for an action the build does not know; what the action threw.
   */
  async appRouterAction(route: ManifestRoute, params: Params, pathname: string, request: Request): Promise<AppRuntime.ActionOutcome> {
    const input = await this.pageInput(route, params, pathname, new URL(request.url).searchParams);
    return (await this.appRuntime()).runAction(request, input);
  }

  /**
   * A generator running a cacheable route handler's GET for `path`, requested as
   * `<origin><pathname>` with no headers: the site's canonical origin (`siteUrl`), never the
   * client's `Host`, since the result is served to everyone.
   */
  routeHandlerGenerator(route: ManifestRoute, params: Params, pathname: string, origin: string): Generate {
    return checked(async () =>
      generateRouteResponse({
        path: pathname,
        pattern: route.pattern,
        params,
        module: await this.load<RouteModule>(route.module),
        config: route.config,
        request: new Request(new URL(pathname, origin)),
        ...metadataRouteOf(route),
      }),
    );
  }

  /**
   * The generator of a cacheable route at `pathname` outside a request (prerender, on-demand
   * regeneration): its page, of either router, or its route handler's GET (requested as
   * `<origin><pathname>`).
   */
  cachedGenerator(options: CachedGeneratorOptions): Generate {
    const { route, params, pathname, reason, origin } = options;
    if (route.router === 'pages') return this.pagesRouterPageGenerator(route, params, pathname, reason);
    return route.kind === 'page'
      ? this.appRouterPageGenerator(route, params, pathname)
      : this.routeHandlerGenerator(route, params, pathname, origin);
  }

  /**
   * A generator rendering the 404 page: `app/not-found` inside the root layout, else `pages/404`
   * inside `_app`, else a default page (inside the root layout when there is one).
   */
  notFoundGenerator(): Generate {
    return checked(async () => {
      const pagesNotFound = this.manifest.pages.notFound;
      if (this.manifest.appRuntime !== undefined && (this.manifest.notFound !== undefined || pagesNotFound === undefined)) {
        const fileMetadata = await pageFileMetadata(
          [this.manifest.metadataImages.app],
          {},
          (module) => this.load(module),
          this.manifest.routing.basePath ?? '',
        );
        return (await this.appRuntime()).renderNotFound(await this.rootLayout(), await this.notFoundComponent(), fileMetadata);
      }
      if (pagesNotFound === undefined) return renderAppNotFound(undefined, undefined, async (tree) => ({ html: await renderToHtml(tree) }));
      const body = await renderPagesNotFoundBody(
        await this.load<PagesPageModule>(pagesNotFound),
        await this.pagesApp(),
        this.pagesDocument('/404'),
      );
      return { value: { kind: 'page' as const, status: 404, headers: HTML_HEADERS, body }, tags: [], revalidate: false };
    });
  }

  /**
   * What the document of the Pages Router page `pattern` links: the runtime, the modules of `_app`
   * and of the page (preloaded) and their stylesheets.
   * @throws Error when the build has no browser files for pages/ (a manifest written without them).
   */
  private pagesDocument(pattern: string): PagesDocumentInput {
    const client = this.manifest.pagesClient;
    if (client === undefined) throw new SiteError('this build has no browser files for pages/: run isr build again');
    const own = [client.app, client.pages[pattern]];
    const url = (file: string) => `${clientUrlPrefix(this.manifest.routing.basePath ?? '')}${file}`;
    return {
      buildId: this.buildId,
      basePath: this.manifest.routing.basePath ?? '',
      client: {
        runtime: url(client.runtime),
        preload: [...new Set(own.flatMap((files) => files?.modules ?? []))].map(url),
        styles: [...new Set(own.flatMap((files) => files?.styles ?? []))].map(url),
      },
    };
  }

  private async pagesApp(): Promise<PagesAppModule | undefined> {
    return this.manifest.pages.app ? this.load<PagesAppModule>(this.manifest.pages.app) : undefined;
  }

  /**
   * A generator of a Pages Router page at `pathname` (`getStaticProps`, then the render), with its
   * data-route JSON in the same entry.
   * @param reason passed to `getStaticProps` as `revalidateReason`.
   */
  pagesRouterPageGenerator(
    route: ManifestRoute,
    params: Params,
    pathname: string,
    reason: StaticPropsContext['revalidateReason'],
  ): Generate {
    return checked(async () => {
      const [page, app] = await Promise.all([this.load<PagesPageModule>(route.module), this.pagesApp()]);
      return renderPagesPage({
        path: pathname,
        pattern: route.pattern,
        params,
        dynamicRoute: isDynamicRoute(route),
        page,
        app,
        reason,
        renderNotFound: async () => (await this.notFoundGenerator()()).value.body,
        document: this.pagesDocument(route.pattern),
      });
    });
  }

  /** A generator of the fallback page of a `fallback: true` route (stored under {@link fallbackKey}). */
  fallbackGenerator(route: ManifestRoute): Generate {
    return checked(async () => {
      const [page, app] = await Promise.all([this.load<PagesPageModule>(route.module), this.pagesApp()]);
      return renderPagesFallback({ pattern: route.pattern, page, app, document: this.pagesDocument(route.pattern) });
    });
  }
}
