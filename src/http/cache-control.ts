/**
 * `Cache-Control` values for ISR responses (RFC 9111 §5.2, RFC 5861; the values Next.js sends).
 */

import type { Seconds } from '../units.ts';

/** One year in seconds: the `s-maxage` of a page with `revalidate = false`, and the default expire. */
export const ONE_YEAR_SECONDS = 31_536_000;

/**
 * What `public/` files are sent with (as `next start` sends them): any cache may keep one but must
 * revalidate it on each use (RFC 9111 §5.2.2.1: `max-age=0`), so a changed file shows at once and an
 * unchanged one costs a 304.
 */
export const PUBLIC_FILE = 'public, max-age=0';

/**
 * What the static metadata files of `app/` (`favicon.ico`, `icon.png`, `robots.txt`, ...) are sent
 * with, as `next start` sends them (its static metadata route): like {@link PUBLIC_FILE}, and a
 * stale copy may not be used even when the origin cannot be reached (RFC 9111 §5.2.2.2).
 */
export const METADATA_FILE = 'public, max-age=0, must-revalidate';

/**
 * What the build's browser files are sent with (content-hashed names, as Next.js sends
 * `/_next/static/`): any cache may keep one for a year without asking again (RFC 8246 `immutable`).
 */
export const IMMUTABLE_FILE = 'public, max-age=31536000, immutable';

/**
 * What isr's own non-page answers are sent with (the revalidation and status endpoints, the plain
 * 500 of the Node adapter): no cache may store them (RFC 9111 §5.2.2.5).
 */
export const NOT_STORED = 'no-store';

/** What Next.js sends for dynamic responses (rendered per request, never stored). */
export const NO_STORE = 'private, no-cache, no-store, max-age=0, must-revalidate';

/**
 * The `Cache-Control` header of a cached page.
 * @param revalidate seconds, or `false` (cached until revalidated on demand).
 * @param expire seconds after generation during which a stale page may still be served.
 * @returns `s-maxage=<revalidate>, stale-while-revalidate=<expire - revalidate>`, or
 *   `s-maxage=31536000` for `revalidate = false`.
 */
export function cacheControl(revalidate: Seconds | false, expire: Seconds): string {
  if (revalidate === false) return `s-maxage=${ONE_YEAR_SECONDS}`;
  const swr = Math.max(0, Math.floor(expire - revalidate));
  return swr > 0 ? `s-maxage=${revalidate}, stale-while-revalidate=${swr}` : `s-maxage=${revalidate}`;
}
