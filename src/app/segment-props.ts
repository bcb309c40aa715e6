/**
 * The mark on the props a page component is rendered with (app/render.ts), so a `'use cache'`
 * page (app/rsc/use-cache.ts) can tell them from other arguments: its `params` are part of the
 * cache key and its `searchParams` never are. It is Next.js's own mark (`$$isPage: true`, read by
 * `isPageSegmentFunction` in `next/dist/server/use-cache/use-cache-wrapper.js`): React copies only
 * string-keyed props, so the mark is a string key, as there.
 */
export const PAGE_PROPS = '$$isPage';
