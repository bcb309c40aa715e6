import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * Route discovery and matching for the App Router conventions: `page`, `layout`, `route`,
 * `not-found` files under `app/`; dynamic segments `[id]`, catch-all `[...slug]`, optional
 * catch-all `[[...slug]]`; route groups `(name)` (not part of the URL) and private folders
 * `_name` (ignored).
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
  /** `page`: a React page; `route`: a route handler (`route.ts`). */
  kind: 'page' | 'route';
  /** The page or route file, relative to the site folder, `/`-separated. */
  file: string;
  /** Layout files wrapping the page, root first, relative to the site folder. */
  layouts: string[];
}

export interface AppRoutes {
  /** Routes ordered most specific first (static segments before dynamic before catch-all). */
  routes: RouteDefinition[];
  /** The root `not-found` file, if any, relative to the site folder. */
  notFound: string | undefined;
}

const EXTENSIONS = ['.tsx', '.ts', '.jsx', '.js', '.mjs'];

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
 * Walks `<siteDir>/app` and returns its routes.
 * @throws Error naming the folder for: a missing `app/` folder, `page` and `route` in one folder,
 *   an invalid segment name, two routes with the same URL shape (`[id]` beside `[slug]`), a
 *   catch-all that is not last, or a page without a root layout.
 */
export function discoverRoutes(siteDir: string): AppRoutes {
  const appDir = path.join(siteDir, 'app');
  try {
    if (!statSync(appDir).isDirectory()) throw new Error();
  } catch {
    throw new Error(`no app/ folder in ${siteDir}: a site needs app/layout.tsx and at least one page`);
  }
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
      routes.push({ pattern: patternOf(segments), segments, kind: 'page', file: relative(page), layouts: currentLayouts });
    }
    if (handler) {
      routes.push({ pattern: patternOf(segments), segments, kind: 'route', file: relative(handler), layouts: [] });
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
  routes.sort(compareRoutes);
  const notFound = findFile(appDir, 'not-found');
  return { routes, notFound: notFound ? relative(notFound) : undefined };
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
