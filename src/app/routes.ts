import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * Route discovery and matching for the App Router conventions: `page`, `layout`, `route`,
 * `not-found` files under `app/`; dynamic segments `[id]`, catch-all `[...slug]`, optional
 * catch-all `[[...slug]]`; route groups `(name)` (not part of the URL) and private folders
 * `_name` (ignored). The segment grammar, matching and ordering are shared with the Pages Router
 * (pages/routes.ts).
 */

export type Segment =
  | { type: 'static'; value: string }
  | { type: 'dynamic'; name: string }
  | { type: 'catchAll'; name: string }
  | { type: 'optionalCatchAll'; name: string };

/** Route params: a string per `[id]`, an array per catch-all (absent for an empty optional one). */
export type Params = Record<string, string | string[] | undefined>;

export interface RouteDefinition {
  /** The URL pattern, e.g. `/blog/[id]` (route groups removed). */
  pattern: string;
  segments: Segment[];
  /** Which conventions the file follows: `app/` (App Router) or `pages/` (Pages Router). */
  router: 'app' | 'pages';
  /**
   * `page`: a React page; `route`: an App Router route handler (`route.ts`); `api`: a Pages Router
   * API route (`pages/api/**`, Node-style `req`/`res`).
   */
  kind: 'page' | 'route' | 'api';
  /** The page or route file, relative to the site folder, `/`-separated. */
  file: string;
  /** Layout files wrapping the page, root first, relative to the site folder (App Router pages only). */
  layouts: string[];
}

export interface AppRoutes {
  /** The routes under `app/`, in discovery order (see {@link orderRoutes}). */
  routes: RouteDefinition[];
  /** The root `not-found` file, if any, relative to the site folder. */
  notFound: string | undefined;
}

/** File extensions of routes, layouts and pages, in lookup order. */
export const EXTENSIONS = ['.tsx', '.ts', '.jsx', '.js', '.mjs'];

/** Parses one folder name into a segment, or `null` for a route group. */
export function parseSegment(name: string): Segment | null {
  if (/^\(.+\)$/.test(name)) return null;
  let match = /^\[\[\.\.\.([A-Za-z_$][\w$]*)\]\]$/.exec(name);
  if (match) return { type: 'optionalCatchAll', name: match[1]! };
  match = /^\[\.\.\.([A-Za-z_$][\w$]*)\]$/.exec(name);
  if (match) return { type: 'catchAll', name: match[1]! };
  match = /^\[([A-Za-z_$][\w$]*)\]$/.exec(name);
  if (match) return { type: 'dynamic', name: match[1]! };
  if (/[[\]]/.test(name)) throw new Error(`invalid dynamic segment folder name "${name}"`);
  return { type: 'static', value: name };
}

function segmentText(segment: Segment): string {
  switch (segment.type) {
    case 'static':
      return segment.value;
    case 'dynamic':
      return `[${segment.name}]`;
    case 'catchAll':
      return `[...${segment.name}]`;
    case 'optionalCatchAll':
      return `[[...${segment.name}]]`;
  }
}

/** The URL pattern of a list of segments (`/` for none). */
export function patternOf(segments: readonly Segment[]): string {
  return `/${segments.map(segmentText).join('/')}`;
}

const RANK: Record<Segment['type'], number> = { static: 0, dynamic: 1, catchAll: 2, optionalCatchAll: 3 };

function compareRoutes(a: RouteDefinition, b: RouteDefinition): number {
  const length = Math.max(a.segments.length, b.segments.length);
  for (let i = 0; i < length; i++) {
    const x = a.segments[i];
    const y = b.segments[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (RANK[x.type] !== RANK[y.type]) return RANK[x.type] - RANK[y.type];
  }
  return a.pattern < b.pattern ? -1 : a.pattern > b.pattern ? 1 : 0;
}

/** Whether `dir` exists and is a folder. */
export function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

function findFile(dir: string, base: string): string | undefined {
  for (const extension of EXTENSIONS) {
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
 * @throws Error naming the folder for: `page` and `route` in one folder, an invalid segment name,
 *   a catch-all that is not last, or a page without a root layout.
 */
export function discoverAppRoutes(siteDir: string): AppRoutes | undefined {
  const appDir = path.join(siteDir, 'app');
  if (!isDirectory(appDir)) return undefined;
  const relative = (file: string) => path.relative(siteDir, file).split(path.sep).join('/');
  const routes: RouteDefinition[] = [];

  const walk = (dir: string, segments: Segment[], layouts: string[]) => {
    const layout = findFile(dir, 'layout');
    const currentLayouts = layout ? [...layouts, relative(layout)] : layouts;
    const page = findFile(dir, 'page');
    const handler = findFile(dir, 'route');
    if (page && handler) throw new Error(`${relative(dir)}: a folder cannot have both page and route files`);
    if (segments.slice(0, -1).some((s) => s.type === 'catchAll' || s.type === 'optionalCatchAll')) {
      throw new Error(`${relative(dir)}: a catch-all segment must be the last segment`);
    }
    if (page) {
      if (currentLayouts.length === 0) throw new Error(`${relative(page)}: no root layout (app/layout.tsx) wraps this page`);
      routes.push({ pattern: patternOf(segments), segments, router: 'app', kind: 'page', file: relative(page), layouts: currentLayouts });
    }
    if (handler) {
      routes.push({ pattern: patternOf(segments), segments, router: 'app', kind: 'route', file: relative(handler), layouts: [] });
    }
    for (const name of readdirSync(dir).sort()) {
      if (name.startsWith('_') || name.startsWith('.') || name === 'node_modules') continue;
      const child = path.join(dir, name);
      if (!statSync(child).isDirectory()) continue;
      let segment: Segment | null;
      try {
        segment = parseSegment(name);
      } catch (error) {
        throw new Error(`${relative(child)}: ${(error as Error).message}`);
      }
      walk(child, segment ? [...segments, segment] : segments, currentLayouts);
    }
  };
  walk(appDir, [], []);
  const notFound = findFile(appDir, 'not-found');
  return { routes, notFound: notFound ? relative(notFound) : undefined };
}

/**
 * Checks that no two routes (of either router) match the same URLs, and orders them most specific
 * first (static segments before dynamic before catch-all), the order `Site.match` tries them in.
 * @throws Error naming both files when two routes have the same URL shape (`[id]` beside
 *   `[slug]`, or `app/blog/page.tsx` beside `pages/blog.tsx`).
 */
export function orderRoutes(routes: readonly RouteDefinition[]): RouteDefinition[] {
  const shapes = new Map<string, RouteDefinition>();
  for (const route of routes) {
    const shape = route.segments.map((s) => (s.type === 'static' ? `s:${s.value}` : s.type)).join('/');
    const other = shapes.get(shape);
    if (other) {
      throw new Error(
        `${route.file} and ${other.file} match the same URLs (${route.pattern} vs ${other.pattern}): rename one`,
      );
    }
    shapes.set(shape, route);
  }
  return [...routes].sort(compareRoutes);
}

/**
 * Matches decoded path segments against one route.
 * @returns the params, or undefined when the route does not match.
 */
export function matchSegments(route: { segments: readonly Segment[] }, parts: readonly string[]): Params | undefined {
  const params: Params = {};
  const { segments } = route;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    switch (segment.type) {
      case 'static':
        if (parts[i] !== segment.value) return undefined;
        break;
      case 'dynamic':
        if (parts[i] === undefined) return undefined;
        params[segment.name] = parts[i];
        break;
      case 'catchAll':
        if (parts.length <= i) return undefined;
        params[segment.name] = parts.slice(i);
        return params;
      case 'optionalCatchAll':
        params[segment.name] = parts.length > i ? parts.slice(i) : undefined;
        return params;
    }
  }
  return parts.length === segments.length ? params : undefined;
}

/**
 * Builds the URL path of a route for `params` (from `generateStaticParams`), percent-encoding
 * each segment.
 * @throws TypeError naming the route and param when one is missing or has the wrong shape.
 */
export function pathForParams(route: { pattern: string; segments: readonly Segment[] }, params: Params): string {
  const parts: string[] = [];
  for (const segment of route.segments) {
    if (segment.type === 'static') {
      parts.push(encodeURIComponent(segment.value));
      continue;
    }
    const value = params[segment.name];
    if (segment.type === 'dynamic') {
      if (typeof value !== 'string' || value.length === 0) {
        throw new TypeError(`${route.pattern}: param "${segment.name}" must be a non-empty string, got ${JSON.stringify(value)}`);
      }
      parts.push(encodeURIComponent(value));
      continue;
    }
    if (value === undefined && segment.type === 'optionalCatchAll') continue;
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v.length === 0)) {
      throw new TypeError(`${route.pattern}: param "${segment.name}" must be an array of non-empty strings, got ${JSON.stringify(value)}`);
    }
    parts.push(...value.map(encodeURIComponent));
  }
  return `/${parts.join('/')}`;
}
