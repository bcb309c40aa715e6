/**
 * Request-path canonicalisation: one cache key per page whatever the encoding of the request,
 * and a clear 4xx for paths no page can have.
 */

/** Longest accepted path, in characters (after the URL parser's normalisation). */
export const MAX_PATH_LENGTH = 2048;

export type ParsedPath =
  | { ok: true /** canonical form, e.g. `/blog/caf%C3%A9` */; pathname: string /** decoded segments */; parts: string[] }
  | { ok: false; status: 400 | 414; message: string };

/**
 * Canonicalises a pathname from the WHATWG URL parser (which has already resolved `.`/`..`
 * segments, including `%2e%2e`): each segment is percent-decoded, checked, and re-encoded with
 * `encodeURIComponent`; empty segments are dropped.
 * @returns the canonical path and decoded segments, or the status and message of the refusal:
 *   414 for an overlong path, 400 for invalid percent-encoding or UTF-8, NUL, backslash, an
 *   encoded `/`, or a segment that decodes to `.` or `..`.
 */
export function parsePath(pathname: string): ParsedPath {
  if (pathname.length > MAX_PATH_LENGTH) {
    return { ok: false, status: 414, message: `path is longer than ${MAX_PATH_LENGTH} characters` };
  }
  const parts: string[] = [];
  let canonical = '';
  for (const raw of pathname.split('/')) {
    if (raw === '') continue;
    let segment: string;
    try {
      segment = raw.includes('%') ? decodeURIComponent(raw) : raw;
    } catch {
      return { ok: false, status: 400, message: 'path has invalid percent-encoding or UTF-8' };
    }
    if (segment === '.' || segment === '..') return { ok: false, status: 400, message: 'path has a "." or ".." segment' };
    if (/[\0\\/]/.test(segment)) return { ok: false, status: 400, message: 'path has a NUL, a backslash or an encoded "/"' };
    parts.push(segment);
    canonical += `/${encodeURIComponent(segment)}`;
  }
  return { ok: true, pathname: canonical === '' ? '/' : canonical, parts };
}

/** One segment as `encodeURIComponent` writes it, decoded first where it is valid percent-encoding. */
function canonicalSegment(segment: string): string {
  if (/^\[.*\]$/.test(segment)) return segment; // a route pattern's [id], [...slug], [[...slug]]
  try {
    return encodeURIComponent(decodeURIComponent(segment));
  } catch {
    return encodeURIComponent(segment);
  }
}

/**
 * Normalises a URL path or route pattern for tagging: one leading slash, no trailing slash
 * (except the root), no empty segments, and each segment percent-encoded the way the server
 * encodes request paths (so `revalidatePath('/tags/c++')` and a request for `/tags/c%2B%2B`
 * name the same page, the key {@link parsePath} gives it). Unlike `parsePath` it refuses
 * nothing: it names tags (`revalidatePath`), not requests. Dynamic pattern segments (`[id]`) are
 * kept as written.
 */
export function normalizePath(path: string): string {
  const segments = path
    .split('/')
    .filter((segment) => segment.length > 0)
    .map(canonicalSegment);
  return `/${segments.join('/')}`;
}

/**
 * A site path written as next.config's `trailingSlash` wants it, as Next.js's links write it
 * (`normalizePathTrailingSlash`): with `trailingSlash`, `/about` → `/about/` but `/file.txt/` →
 * `/file.txt`; without, `/about/` → `/about`. Other hrefs (another origin, a relative path, `#x`)
 * stay as they are. Links (render/link.ts) and the server's redirect (server/handler.ts) apply it.
 */
export function trailingSlashOf(href: string, trailingSlash: boolean): string {
  if (!href.startsWith('/') || href.startsWith('//')) return href;
  const end = href.search(/[?#]/);
  const pathname = end === -1 ? href : href.slice(0, end);
  const rest = end === -1 ? '' : href.slice(end);
  const bare = pathname.length > 1 ? pathname.replace(/\/+$/, '') || '/' : pathname;
  if (!trailingSlash || bare === '/' || /\.[^/]+$/.test(bare)) return `${bare}${rest}`;
  return `${bare}/${rest}`;
}

/**
 * Where the server redirects a request path for next.config's `trailingSlash`, or the path itself
 * when it does not: Next.js's internal redirects (`lib/load-custom-routes.js`), which differ from
 * how links are written ({@link trailingSlashOf}). With `trailingSlash`, a file-like path
 * (`/feed.xml/`: the last segment ends in `.<word characters>`) loses its slash, a path whose last
 * segment has no dot gains one, any other (`/v1.2-beta`) is served as written, and nothing under
 * `/.well-known/` is redirected (RFC 8615 resources, such as `apple-app-site-association`, whose
 * fetchers follow no redirect); without it, a trailing slash is removed.
 */
export function trailingSlashRedirectOf(pathname: string, trailingSlash: boolean): string {
  if (!pathname.startsWith('/') || pathname.startsWith('//') || pathname === '/') return pathname;
  const bare = pathname.replace(/\/+$/, '') || '/';
  if (!trailingSlash) return bare;
  if (pathname.startsWith('/.well-known/') || pathname === '/.well-known') return pathname;
  const last = bare.slice(bare.lastIndexOf('/') + 1);
  if (/^[^/]+\.\w+$/.test(last)) return bare;
  if (!last.includes('.')) return `${bare}/`;
  return pathname;
}

/**
 * `path` under next.config's `basePath` (`/docs`): `/about` → `/docs/about`, `/` → `/docs`, as
 * Next.js's `addBasePath` writes links and its build writes asset URLs. Anything not starting with
 * a single `/` (another origin, `//host`, a relative path, `#x`) stays as it is, and so does every
 * path when `basePath` is empty.
 * @see https://nextjs.org/docs/app/api-reference/config/next-config-js/basePath
 */
export function addBasePath(path: string, basePath: string): string {
  if (basePath === '' || !path.startsWith('/') || path.startsWith('//')) return path;
  if (path === '/') return basePath;
  if (path.startsWith('/?') || path.startsWith('/#')) return `${basePath}${path.slice(1)}`;
  return `${basePath}${path}`;
}

/**
 * The site path of a request path under `basePath` (`/docs/about` → `/about`, `/docs` and `/docs/`
 * → `/`), or undefined for a path outside it (`/about`, `/docsx`), which Next.js answers 404.
 * An empty `basePath` keeps every path.
 */
export function removeBasePath(pathname: string, basePath: string): string | undefined {
  if (basePath === '') return pathname;
  if (pathname === basePath) return '/';
  return pathname.startsWith(`${basePath}/`) ? pathname.slice(basePath.length) : undefined;
}

/** next.config's `basePath` as the build inlined it into the site's bundles (build.ts `siteDefines`; `''` outside them). */
export function inlinedBasePath(): string {
  const value: unknown = process.env.__NEXT_ROUTER_BASEPATH;
  return typeof value === 'string' ? value : '';
}
