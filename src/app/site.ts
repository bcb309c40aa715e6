import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ComponentType } from 'react';
import type { Generate } from '../engine/engine.ts';
import { readManifest, type BuildManifest, type ManifestRoute } from './manifest.ts';
import { generateRouteResponse, renderNotFound, renderPage } from './render.ts';
import { matchSegments, type Params } from './routes.ts';
import type { LayoutModule, PageModule, RouteModule } from './segment-config.ts';

/** The cache key of the site's 404 page (page keys are paths, which start with `/`). */
export const NOT_FOUND_KEY = 'isr:not-found';

/**
 * A built site, ready to serve: its manifest, its routes and its compiled modules (imported on
 * first use and kept).
 */
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
      if (route.segments.every((s) => s.type === 'static')) this.staticRoutes.set(route.pattern, route);
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

  /** Whether `generateStaticParams` of `route` returned `path` (the paths valid when `dynamicParams` is false). */
  isStaticPath(route: ManifestRoute, path: string): boolean {
    return this.staticPaths.get(route)?.has(path) ?? false;
  }

  /** Imports a compiled module once. */
  load<T>(module: string): Promise<T> {
    let loaded = this.modules.get(module);
    if (loaded === undefined) {
      loaded = import(pathToFileURL(path.join(this.buildDir, module)).href);
      this.modules.set(module, loaded);
    }
    return loaded as Promise<T>;
  }

  async notFoundComponent(): Promise<ComponentType | undefined> {
    return this.manifest.notFound ? (await this.load<{ default: ComponentType }>(this.manifest.notFound)).default : undefined;
  }

  async rootLayout(): Promise<LayoutModule | undefined> {
    return this.manifest.rootLayout ? this.load<LayoutModule>(this.manifest.rootLayout) : undefined;
  }

  /** A generator rendering `route`'s page at `path`. */
  pageGenerator(route: ManifestRoute, params: Params, pathname: string, searchParams?: URLSearchParams): Generate {
    return async () => {
      const [page, layouts, notFound] = await Promise.all([
        this.load<PageModule>(route.module),
        Promise.all(route.layouts.map((layout) => this.load<LayoutModule>(layout))),
        this.notFoundComponent(),
      ]);
      return renderPage({
        path: pathname,
        pattern: route.pattern,
        params,
        page,
        layouts,
        notFound,
        config: route.config,
        searchParams,
      });
    };
  }

  /** A generator running a cacheable route handler's GET for `path`. */
  routeGenerator(route: ManifestRoute, params: Params, pathname: string, origin: string): Generate {
    return async () =>
      generateRouteResponse({
        path: pathname,
        pattern: route.pattern,
        params,
        module: await this.load<RouteModule>(route.module),
        config: route.config,
        request: new Request(new URL(pathname, origin)),
      });
  }

  /** A generator rendering the 404 page. */
  notFoundGenerator(): Generate {
    return async () => renderNotFound(await this.rootLayout(), await this.notFoundComponent());
  }
}
