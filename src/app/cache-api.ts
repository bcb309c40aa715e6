/**
 * `isr/cache` — the on-demand revalidation and data-cache API of Next.js "Guides: ISR"
 * (https://nextjs.org/docs/app/guides/incremental-static-regeneration), importable as
 * `next/cache` from site code (the build maps one to the other).
 *
 * This module only reaches the running engine through the process registry (render/context.ts), so a
 * copy bundled into a site works the same as this one.
 */
import type { RevalidatePathType } from '../engine/tags.ts';
import { currentRenderContext, getRuntime, type IsrRuntime, markDynamic } from '../render/context.ts';
import { unstableCache } from './data-cache.ts';

export type { UnstableCacheOptions } from './data-cache.ts';

function runtimeFor(fn: string): IsrRuntime {
  const runtime = getRuntime();
  if (runtime === undefined) {
    throw new Error(`${fn}() was called outside an isr server or build: there is no cache to revalidate`);
  }
  return runtime;
}

/**
 * Invalidates the cached page at `path` (no `type`), the pages of the route `path` (`'page'`, for
 * patterns like `/blog/[id]`), or every page at or below `path` (`'layout'`). From the moment it
 * returns, the next request for an affected page gets freshly rendered content. Also invalidates
 * the data-cache entries those pages read. (Next.js `revalidatePath`.)
 * @throws TypeError for a path not starting with `/`, an unknown type, or a dynamic path without
 *   a type; Error outside an isr server or build.
 */
export function revalidatePath(path: string, type?: RevalidatePathType): void {
  runtimeFor('revalidatePath').engine.revalidatePath(path, type);
}

/**
 * Invalidates every cached page and data-cache entry carrying `tag`; the next request for an
 * affected page gets freshly rendered content. (Next.js `revalidateTag`.)
 * @throws TypeError for an empty, over-long (> 256 characters) or reserved (`_N_T_`) tag; Error
 *   outside an isr server or build.
 */
export function revalidateTag(tag: string): void {
  runtimeFor('revalidateTag').engine.revalidateTag(tag);
}

/**
 * Caches an async function's JSON-serialisable result in the data cache. (Next.js
 * `unstable_cache(fn, keyParts, { revalidate /* seconds or false *\/, tags })`.)
 */
export const unstable_cache = unstableCache;

/** Opts the current page out of static rendering (it renders per request). (Next.js `unstable_noStore`.) */
export function unstable_noStore(): void {
  markDynamic(currentRenderContext(), 'unstable_noStore()');
}
