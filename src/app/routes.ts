/**
 * Route discovery for the App Router conventions: `page`, `layout`, `route`, `not-found`,
 * `error`, `loading` and `global-error` files under `app/`; dynamic segments `[id]`, catch-all `[...slug]`, optional catch-all `[[...slug]]`;
 * route groups `(name)` (not part of the URL) and private folders `_name` (ignored). The segment
 * grammar, matching and ordering are `render/routes.ts`, shared with the Pages Router.
 * @see https://nextjs.org/docs/app/getting-started/project-structure
 */

import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { SiteError } from '../config/errors.ts';
import { isDirectory } from '../render/route-files.ts';
import { EXTENSIONS, parseSegment, patternOf, type RouteDefinition, type Segment, type SegmentWrapper } from '../render/routes.ts';
import {
  type DiscoveredMetadataImage,
  GENERATED_IMAGE,
  METADATA_IMAGE_FILE,
  METADATA_ROUTES,
  type MetadataImageKind,
  type MetadataRouteKind,
  STATIC_METADATA_FILE,
} from './metadata-routes.ts';

export interface AppRoutes {
  /** The routes under `app/`, in discovery order (see {@link orderRoutes}). */
  routes: RouteDefinition[];
  /** The root `not-found` file, if any, relative to the site folder. */
  notFound: string | undefined;
  /** Static metadata files at the root of `app/` (`favicon.ico`, `robots.txt`, ...), by name. */
  metadataFiles: string[];
  /** The image metadata files of every folder (`icon.png`, `blog/opengraph-image.tsx`, ...). */
  metadataImages: DiscoveredMetadataImage[];
}

/**
 * Where a static image metadata file of a folder with `segments` is served (no leading slash):
 * the folder's path, a dynamic segment written `-` (Next.js's `fillStaticMetadataSegment`: the
 * image is the same for every value).
 */
function staticImagePath(segments: readonly Segment[], name: string): string {
  return [...segments.map((segment) => (segment.type === 'static' ? segment.value : '-')), name].join('/');
}

/** Folder conventions of the App Router isr does not implement: refused by name, never served as plain paths. */
const UNSUPPORTED_FOLDERS = [
  { pattern: /^@/, feature: 'parallel routes (@slot folders)' },
  { pattern: /^\(\.{1,3}\)/, feature: 'intercepting routes ((.), (..), (...) folders)' },
];

function findFile(dir: string, base: string, extensions: readonly string[]): string | undefined {
  for (const extension of extensions) {
    const candidate = path.join(dir, base + extension);
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not there
    }
  }
  return undefined;
}

/**
 * Walks `<siteDir>/app` and returns its routes, or undefined when the site has no `app/` folder.
 * @throws SiteError naming the folder for: `page` and `route` in one folder, an invalid segment name,
 *   a catch-all that is not last, or a page without a root layout.
 */
export function discoverAppRoutes(siteDir: string, extensions: readonly string[] = EXTENSIONS): AppRoutes | undefined {
  const appDir = path.join(siteDir, 'app');
  if (!isDirectory(appDir)) return undefined;
  const relative = (file: string) => path.relative(siteDir, file).split(path.sep).join('/');
  const routes: RouteDefinition[] = [];

  const metadataImages: DiscoveredMetadataImage[] = [];
  const globalError = findFile(appDir, 'global-error', extensions);
  const walk = (dir: string, segments: Segment[], layouts: string[], wrappers: SegmentWrapper[]) => {
    const layout = findFile(dir, 'layout', extensions);
    const currentLayouts = layout ? [...layouts, relative(layout)] : layouts;
    const currentWrappers = [...wrappers];
    for (const kind of ['layout', 'error', 'loading'] as const) {
      const file = kind === 'layout' ? layout : findFile(dir, kind, extensions);
      if (file) currentWrappers.push({ kind, file: relative(file) });
    }
    const page = findFile(dir, 'page', extensions);
    const handler = findFile(dir, 'route', extensions);
    if (page && handler) throw new SiteError(`${relative(dir)}: a folder cannot have both page and route files`);
    if (segments.slice(0, -1).some((s) => s.type === 'catchAll' || s.type === 'optionalCatchAll')) {
      throw new SiteError(`${relative(dir)}: a catch-all segment must be the last segment`);
    }
    if (page) {
      if (currentLayouts.length === 0) throw new SiteError(`${relative(page)}: no root layout (app/layout.tsx) wraps this page`);
      routes.push({
        pattern: patternOf(segments),
        segments,
        router: 'app',
        kind: 'page',
        file: relative(page),
        layouts: currentLayouts,
        wrappers: currentWrappers,
      });
    }
    if (handler) {
      routes.push({ pattern: patternOf(segments), segments, router: 'app', kind: 'route', file: relative(handler), layouts: [] });
    }
    for (const name of readdirSync(dir).sort()) {
      const image = METADATA_IMAGE_FILE.exec(name);
      if (image === null || !statSync(path.join(dir, name)).isFile()) continue;
      const generated = GENERATED_IMAGE.test(name);
      const base = name.slice(0, name.lastIndexOf('.'));
      const file = relative(path.join(dir, name));
      const kind = image[1] as MetadataImageKind;
      if (generated) {
        const imageSegments: Segment[] = [...segments, { type: 'static', value: base }];
        routes.push({
          pattern: patternOf(imageSegments),
          segments: imageSegments,
          router: 'app',
          kind: 'route',
          file,
          layouts: [],
          metadataRoute: 'image',
        });
      }
      metadataImages.push({
        kind,
        file,
        folder: relative(dir),
        urlPath: generated ? patternOf([...segments, { type: 'static', value: base }]) : staticImagePath(segments, name),
        generated,
      });
    }
    const template = findFile(dir, 'template', extensions);
    if (template) throw new SiteError(`${relative(template)}: template files are not supported by isr; use a layout (layout.tsx) instead`);
    for (const name of readdirSync(dir).sort()) {
      if (name.startsWith('_') || name.startsWith('.') || name === 'node_modules') continue;
      const child = path.join(dir, name);
      if (!statSync(child).isDirectory()) continue;
      const unsupported = UNSUPPORTED_FOLDERS.find(({ pattern }) => pattern.test(name));
      if (unsupported)
        throw new SiteError(
          `${relative(child)}: ${unsupported.feature} are not supported by isr (the folder would be served as a plain path)`,
        );
      let segment: Segment | null;
      try {
        segment = parseSegment(name);
      } catch (error) {
        throw new SiteError(`${relative(child)}: ${(error as Error).message}`);
      }
      walk(child, segment ? [...segments, segment] : segments, currentLayouts, currentWrappers);
    }
  };
  walk(appDir, [], [], globalError ? [{ kind: 'global-error', file: relative(globalError) }] : []);
  const notFound = findFile(appDir, 'not-found', extensions);
  const metadataFiles: string[] = [];
  for (const name of readdirSync(appDir).sort()) {
    if (STATIC_METADATA_FILE.test(name) && statSync(path.join(appDir, name)).isFile()) metadataFiles.push(name);
  }
  for (const kind of Object.keys(METADATA_ROUTES) as MetadataRouteKind[]) {
    const file = findFile(appDir, kind, extensions);
    if (file === undefined) continue;
    const { path: pattern } = METADATA_ROUTES[kind];
    const name = pattern.slice(1);
    if (metadataFiles.includes(name) || (kind === 'manifest' && metadataFiles.some((f) => f.startsWith('manifest.')))) {
      throw new SiteError(`${relative(file)}: app/ also has a static ${name}; keep one of them`);
    }
    routes.push({
      pattern,
      segments: [{ type: 'static', value: name }],
      router: 'app',
      kind: 'route',
      file: relative(file),
      layouts: [],
      metadataRoute: kind,
    });
  }
  if (metadataFiles.includes('favicon.ico')) {
    metadataImages.unshift({ kind: 'favicon', file: 'app/favicon.ico', folder: 'app', urlPath: 'favicon.ico', generated: false });
  }
  return { routes, notFound: notFound ? relative(notFound) : undefined, metadataFiles, metadataImages };
}
