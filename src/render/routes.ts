/**
 * The route model both routers share: a route's definition, the segment grammar of folder and file
 * names (`[id]`, `[...slug]`, `[[...slug]]`, `(group)`), ordering most specific first, matching a
 * request's segments, and the path of a route for given params. `app/routes.ts` and
 * `pages/routes.ts` discover routes with it; `site/site.ts` matches requests with it, and so does
 * the browser's `useParams` (it has no Node import for that reason).
 * @see https://nextjs.org/docs/app/api-reference/file-conventions/dynamic-routes
 */

import { SiteError } from '../config/errors.ts';

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
  /**
   * App Router pages: every file wrapping the page, outermost first: `global-error`, then per
   * folder from the root to the page's its `layout`, `error` and `loading` (the order Next.js
   * nests them in), relative to the site folder.
   */
  wrappers?: SegmentWrapper[];
  /** An App Router metadata route (`sitemap.ts`, `robots.ts`, `manifest.ts`): what its default export returns. */
  metadataRoute?: 'sitemap' | 'robots' | 'manifest' | 'image';
}

/** A file of a route segment that wraps what is below it (App Router). */
export interface SegmentWrapper {
  kind: 'layout' | 'error' | 'loading' | 'global-error';
  file: string;
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
  if (/[[\]]/.test(name)) throw new SiteError(`invalid dynamic segment folder name "${name}"`);
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

/**
 * Whether a route has a dynamic segment (`[id]`, `[...slug]`, `[[...slug]]`): a dynamic route in
 * Next.js's terms, whose paths come from `generateStaticParams`/`getStaticPaths` or requests. A
 * route without one serves exactly its pattern.
 * @see https://nextjs.org/docs/app/api-reference/file-conventions/dynamic-routes
 */
export function isDynamicRoute(route: { segments: readonly Segment[] }): boolean {
  return route.segments.some((segment) => segment.type !== 'static');
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
      throw new SiteError(`${route.file} and ${other.file} match the same URLs (${route.pattern} vs ${other.pattern}): rename one`);
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
 * @throws SiteError naming the route and param when one is missing or has the wrong shape.
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
        throw new SiteError(`${route.pattern}: param "${segment.name}" must be a non-empty string, got ${JSON.stringify(value)}`);
      }
      parts.push(encodeURIComponent(value));
      continue;
    }
    if (value === undefined && segment.type === 'optionalCatchAll') continue;
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v.length === 0)) {
      throw new SiteError(`${route.pattern}: param "${segment.name}" must be an array of non-empty strings, got ${JSON.stringify(value)}`);
    }
    // A required catch-all matches one segment or more: `[]` would name a path the route does not match.
    if (value.length === 0 && segment.type === 'catchAll') {
      throw new SiteError(`${route.pattern}: param "${segment.name}" of a catch-all must hold at least one segment, got []`);
    }
    parts.push(...value.map(encodeURIComponent));
  }
  return `/${parts.join('/')}`;
}
