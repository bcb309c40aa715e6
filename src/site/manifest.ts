/**
 * The build manifest (`.isr/build/manifest.json`): what `isr build` produced and `isr start`
 * serves. Paths inside it are relative to the build folder, `/`-separated.
 */

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { MetadataImage } from '../app/metadata-routes.ts';
import type { ResolvedSegmentConfig } from '../app/segment-config.ts';
import { SiteError } from '../config/errors.ts';
import type { ImagesConfig, RoutingRules } from '../config/next-config.ts';
import type { Segment, SegmentWrapper } from '../render/routes.ts';
import type { ManifestMiddleware } from './middleware.ts';

export const MANIFEST_VERSION = 6;

/** The prefix of a manifest module key naming a module of the App Router's server runtime: `rsc:app/page.tsx`. */
export const APP_MODULE_PREFIX = 'rsc:';

export interface ManifestRoute {
  pattern: string;
  segments: Segment[];
  /** `app/` (App Router) or `pages/` (Pages Router) conventions. */
  router: 'app' | 'pages';
  /** `page`, an App Router route handler (`route`), or a Pages Router API route (`api`). */
  kind: 'page' | 'route' | 'api';
  /** Source file, relative to the site folder (for messages). */
  file: string;
  /**
   * Compiled module of the page or route handler: a file of the build folder (Pages Router), or
   * `rsc:<source file>`, a module of the App Router's server runtime ({@link BuildManifest.appRuntime}).
   */
  module: string;
  /** Compiled layout modules, root first (pages only). */
  layouts: string[];
  /** App Router pages: the compiled modules wrapping the page, outermost first (`RouteDefinition.wrappers`). */
  wrappers?: { kind: SegmentWrapper['kind']; module: string }[];
  config: ResolvedSegmentConfig;
  /** Rendered per request, never stored (`force-dynamic`, `revalidate = 0`, or found dynamic at build). */
  dynamic: boolean;
  /** GET responses are cached (pages: unless dynamic; route handlers: when they opt in). */
  cacheable: boolean;
  /** Paths from `generateStaticParams` (or the pattern of a static route): the only valid ones when `dynamicParams` is false. */
  staticPaths: string[];
  /** Paths prerendered at build time (the static paths of a cacheable route). */
  prerendered: string[];
  /**
   * Pages Router pages with `getStaticPaths`: what a path it did not list gets — `false` a 404,
   * `'blocking'` a render on first request, `true` the fallback page while the page is generated
   * (crawlers get the blocking render). Absent for other routes.
   */
  fallback?: false | true | 'blocking';
  /** Pages Router pages with `getStaticProps`: the props are also served as JSON (pages/data-route.ts). */
  dataRoute?: boolean;
  /** An App Router metadata route (`sitemap.ts`, `robots.ts`, `manifest.ts`; app/metadata-routes.ts). */
  metadataRoute?: 'sitemap' | 'robots' | 'manifest' | 'image';
}

/** The browser files one module needs, relative to `<build>/client` (`static/pages/page-3-<hash>.js`). */
export interface PagesClientFiles {
  /** The module and the chunks it imports, to preload. */
  modules: string[];
  /** The stylesheets it imports. */
  styles: string[];
}

/** The Pages Router's browser build (build/compile-pages-client.ts). */
export interface PagesClientManifest {
  /** The runtime module every page loads (pages/client.ts with the build's routes). */
  runtime: string;
  /** `pages/_app`'s files, when the site has one. */
  app: PagesClientFiles | undefined;
  /** Each page's files, by route pattern (`/404` for `pages/404`). */
  pages: Record<string, PagesClientFiles>;
}

/** The folder of `app/`'s static metadata files under the build folder (build/metadata-files.ts). */
export const METADATA_DIR = 'metadata';

/** The URL path under which `<build>/client` is served: `/_isr/static/…`. */
export const CLIENT_URL_PREFIX = '/_isr/';

/**
 * The URL prefix of `<build>/client` as the browser writes it: {@link CLIENT_URL_PREFIX} under
 * next.config's `basePath` (`/docs/_isr/`), as Next.js puts `/_next/` under it.
 */
export function clientUrlPrefix(basePath: string): string {
  return `${basePath}${CLIENT_URL_PREFIX}`;
}

export interface BuildManifest {
  version: typeof MANIFEST_VERSION;
  /** Identifies this build; cache entries are scoped by it. */
  buildId: string;
  /** ISO 8601 time the build finished. */
  createdAt: string;
  routes: ManifestRoute[];
  /** Compiled root layout (wraps the 404 page). */
  rootLayout: string | undefined;
  /** Compiled `app/not-found` module. */
  notFound: string | undefined;
  /** Files under `public/`, relative to it, `/`-separated. */
  publicFiles: string[];
  /** Compiled `pages/_app` and `pages/404` modules, when the site has them. */
  pages: { app: string | undefined; notFound: string | undefined };
  /** The App Router's server runtime (React Server Components), when the site has `app/`: `rsc/index.js`. */
  appRuntime: string | undefined;
  /** The browser's files under `client/` (`static/index-<hash>.js`), served at `/_isr/<file>`. */
  clientAssets: string[];
  /** The Pages Router's browser modules, when the site has `pages/` pages. */
  pagesClient: PagesClientManifest | undefined;
  /** `images` of the site's next.config, defaults filled in: what `/_next/image` serves. */
  images: ImagesConfig;
  /** `redirects`, `rewrites` and `headers` of the site's next.config, as its functions returned them. */
  routing: RoutingRules;
  /**
   * Static metadata files (`favicon.ico`, `robots.txt` at the root of `app/`, the static images of
   * every folder), copied to `<build>/metadata/`, served at `/<path>`.
   */
  metadataFiles: string[];
  /** The image metadata of each folder of `app/` (`app`, `app/blog`, ...), for the heads of the pages below it. */
  metadataImages: Record<string, MetadataImage[]>;
  /** The site's `proxy.ts` or `middleware.ts`, compiled, with its matchers (site/middleware.ts). */
  middleware: ManifestMiddleware | undefined;
}

/** The build folder of a site: `<siteDir>/.isr/build`. */
export function buildDirOf(siteDir: string): string {
  return path.join(siteDir, '.isr', 'build');
}

/** Where the build's prerendered entries are stored (a filesystem cache store). */
export function prerenderDirOf(buildDir: string): string {
  return path.join(buildDir, 'prerender');
}

/**
 * Reads and checks a build manifest.
 * @throws SiteError telling the user to run `isr build` when it is missing, or naming the problem
 *   when it is from another version or malformed.
 */
export async function readManifest(buildDir: string): Promise<BuildManifest> {
  const file = path.join(buildDir, 'manifest.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new SiteError(`no build found at ${file}: run \`isr build\` first`);
  }
  let manifest: BuildManifest;
  try {
    manifest = JSON.parse(text) as BuildManifest;
  } catch (error) {
    throw new SiteError(`${file} is not valid JSON (${(error as Error).message}): run \`isr build\` again`);
  }
  if (manifest.version !== MANIFEST_VERSION || typeof manifest.buildId !== 'string' || !Array.isArray(manifest.routes)) {
    throw new SiteError(`${file} was written by another version of isr: run \`isr build\` again`);
  }
  return manifest;
}
