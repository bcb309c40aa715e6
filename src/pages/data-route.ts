/**
 * The data route of Pages Router pages: each page generated with `getStaticProps` also answers its
 * props as JSON at
 *
 *     /_isr/data/<buildId>/<path>.json        (`/` is `/_isr/data/<buildId>/index.json`)
 *
 * the equivalent of Next.js's `/_next/data/<buildId>/<path>.json`. The build ID in the URL makes a
 * page from one build never read the data of another: a stale build ID answers 404. The JSON is
 * stored in the same cache entry as the page's HTML (`CacheValue.data`), so the two are generated
 * together and never disagree.
 */

/** The path prefix of every data route. */
export const DATA_ROUTE_PREFIX = '/_isr/data/';

/** The prefix of build `buildId`'s data routes: `/_isr/data/<buildId>` (no trailing slash). */
export function dataRoutePrefix(buildId: string): string {
  return `${DATA_ROUTE_PREFIX}${buildId}`;
}

/**
 * The page path a data-route path asks for, or undefined when `pathname` (canonical, from
 * http/paths.ts) is not a data route of build `buildId` with that `extension`: `.json` (a Pages
 * Router page's props) or `.rsc` (an App Router page's RSC payload, the same scheme). A page
 * path under `/_isr/` is none.
 */
export function pagePathOfDataRoute(buildId: string, pathname: string, extension: '.json' | '.rsc' = '.json'): string | undefined {
  const prefix = `${DATA_ROUTE_PREFIX}${buildId}/`;
  if (!pathname.startsWith(prefix) || !pathname.endsWith(extension)) return undefined;
  const rest = pathname.slice(prefix.length - 1, -extension.length);
  // isr's own paths are no page's (no page can live under /_isr/): a data route nested in a data
  // route would otherwise be dispatched level by level, one middleware run and render per level.
  if (rest === '/' || rest === '' || rest === '/_isr' || rest.startsWith('/_isr/')) return undefined;
  return rest === '/index' ? '/' : rest;
}
