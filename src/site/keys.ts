/**
 * The cache keys of a site's entries, for both routers. A page or route-handler response is stored
 * under its canonical URL path (`/blog/1`, see `http/paths.ts`), which starts with `/`; the
 * Pages Router's data route (`/_next/data`-style JSON) shares its page's entry. The keys below
 * start with `isr:`, so no path can take them. Data-cache entries (`fetch`, `unstable_cache`) have
 * their own keys, made in `app/data-cache.ts`.
 */

/** The cache key of the site's 404 page (page keys are paths, which start with `/`). */
export const NOT_FOUND_KEY = 'isr:not-found';

/** The cache key of the fallback page of a Pages Router route with `fallback: true`. */
export function fallbackKey(pattern: string): string {
  return `isr:fallback:${pattern}`;
}
