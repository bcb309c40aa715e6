/**
 * Route discovery for the Pages Router conventions (Next.js `pages/`): every file is a route —
 * `pages/index.tsx` is `/`, `pages/blog/index.tsx` is `/blog`, `pages/blog/[id].tsx` is
 * `/blog/[id]`, `[...slug]` and `[[...slug]]` are catch-alls — and files under `pages/api/` are API
 * routes. Special files: `_app` (wraps every page), `404` (the not-found page). Other names starting
 * with `_` or `.` are ignored, as are declaration files (`.d.ts`).
 */

import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { SiteError } from '../config/errors.ts';
import { isDirectory } from '../render/route-files.ts';
import { EXTENSIONS, parseSegment, patternOf, type RouteDefinition, type Segment } from '../render/routes.ts';

export interface PagesRoutes {
  /** The routes under `pages/`, in discovery order (ordered together with `app/` by `orderRoutes`). */
  routes: RouteDefinition[];
  /** `pages/_app`, relative to the site folder, if any. */
  app: string | undefined;
  /** `pages/404`, relative to the site folder, if any. */
  notFound: string | undefined;
}

/** Folder or file name (without extension) → segment; `(name)` is a plain name in `pages/`. */
function segmentOf(name: string): Segment {
  return parseSegment(name) ?? { type: 'static', value: name };
}

/**
 * Walks `<siteDir>/pages` and returns its routes, or undefined when the site has no `pages/` folder.
 * @throws SiteError naming the file for: an invalid segment name, a catch-all that is not last, two files
 *   for one URL (`blog.tsx` beside `blog/index.tsx`), or `pages/_document` (not supported: isr
 *   renders the document shell itself; use `_app` and `next/head`).
 */
export function discoverPagesRoutes(siteDir: string, extensions: readonly string[] = EXTENSIONS): PagesRoutes | undefined {
  const pagesDir = path.join(siteDir, 'pages');
  if (!isDirectory(pagesDir)) return undefined;
  const relative = (file: string) => path.relative(siteDir, file).split(path.sep).join('/');
  const routes: RouteDefinition[] = [];
  const byPattern = new Map<string, string>();
  let app: string | undefined;
  let notFound: string | undefined;

  const walk = (dir: string, segments: Segment[], api: boolean) => {
    for (const name of readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      if (name.startsWith('.') || name === 'node_modules') continue;
      if (statSync(full).isDirectory()) {
        if (name.startsWith('_')) continue;
        let segment: Segment;
        try {
          segment = segmentOf(name);
        } catch (error) {
          throw new SiteError(`${relative(full)}: ${(error as Error).message}`);
        }
        walk(full, [...segments, segment], api || (segments.length === 0 && name === 'api'));
        continue;
      }
      const extension = extensions.find((candidate) => name.endsWith(candidate));
      if (extension === undefined || name.endsWith('.d.ts')) continue;
      const base = name.slice(0, -extension.length);
      if (segments.length === 0 && base === '_app') {
        app = relative(full);
        continue;
      }
      if (segments.length === 0 && base === '_document') {
        throw new SiteError(
          `${relative(full)}: pages/_document is not supported (isr renders the document itself); use pages/_app and next/head`,
        );
      }
      if (segments.length === 0 && base === '404') {
        notFound = relative(full);
        continue;
      }
      if (base.startsWith('_')) continue;
      let routeSegments: Segment[];
      try {
        routeSegments = base === 'index' ? segments : [...segments, segmentOf(base)];
      } catch (error) {
        throw new SiteError(`${relative(full)}: ${(error as Error).message}`);
      }
      if (routeSegments.slice(0, -1).some((s) => s.type === 'catchAll' || s.type === 'optionalCatchAll')) {
        throw new SiteError(`${relative(full)}: a catch-all segment must be the last segment`);
      }
      const isApi = api || (segments.length === 0 && base === 'api');
      const pattern = patternOf(routeSegments);
      const other = byPattern.get(pattern);
      if (other !== undefined) throw new SiteError(`${relative(full)} and ${other} are both the page ${pattern}: remove one`);
      byPattern.set(pattern, relative(full));
      routes.push({ pattern, segments: routeSegments, router: 'pages', kind: isApi ? 'api' : 'page', file: relative(full), layouts: [] });
    }
  };
  walk(pagesDir, [], false);
  return { routes, app, notFound };
}
