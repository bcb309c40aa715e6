/**
 * `isr/cache` — the on-demand revalidation and data-cache API of Next.js "Guides: ISR"
 * (https://nextjs.org/docs/app/guides/incremental-static-regeneration), importable as
 * `next/cache` from site code (the build maps one to the other).
 *
 * This module only reaches the running engine through the process registry (render/context.ts), so a
 * copy bundled into a site works the same as this one.
 */
import type { CacheLifeInput } from '../config/cache-life.ts';
import { type RevalidatePathType, validateTag } from '../engine/tags.ts';
import { currentRenderContext, currentServerAction, getRuntime, type IsrRuntime, markDynamic } from '../render/context.ts';
import { cacheLife, cacheTag, resolveProfile } from './cache-scope.ts';
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
 * Revalidates every cached page and data-cache entry carrying `tag` (Next.js 16 `revalidateTag`,
 * https://nextjs.org/docs/app/api-reference/functions/revalidateTag):
 * - `profile` `'max'` or another profile name (built-in or next.config's `cacheLife`), or an
 *   inline `{ expire }` above 0: marks them stale (a soft purge). The next request is answered at
 *   once with the cached content while one regeneration runs (stale-while-revalidate); the
 *   request after it gets the new content. (A profile's `expire` does not shorten how long the
 *   stale content may still be served: the entries keep their own.)
 * - `{ expire: 0 }` (or a profile whose `expire` is 0): expires them now. The next request waits
 *   for new content.
 * - no `profile`: expires them now, with Next.js's deprecation warning (once per process).
 * @throws TypeError for an empty, over-long (> 256 characters) or reserved (`_N_T_`) tag; Error
 *   for an unknown profile, inside a `'use cache'` function (Next.js's message), or outside an
 *   isr server or build.
 */
export function revalidateTag(tag: string, profile?: string | CacheLifeInput): void {
  if (profile === undefined) {
    warnDeprecatedSingleArgument();
    refuseInsideCache(`revalidateTag(${JSON.stringify(tag)})`);
    runtimeFor('revalidateTag').engine.revalidateTag(tag);
    return;
  }
  const life = resolveProfile(profile, `revalidateTag(${JSON.stringify(tag)})`);
  refuseInsideCache(`revalidateTag(${JSON.stringify(tag)})`);
  const { engine } = runtimeFor('revalidateTag');
  engine.invalidateTags([validateTag(tag)], { soft: life.expire !== 0 });
}

/**
 * Expires every cached page and data-cache entry carrying `tag` now, from a Server Action, so the
 * page the action answers with (and every later request) reads the new data: read-your-own-writes
 * (Next.js 16 `updateTag`, https://nextjs.org/docs/app/api-reference/functions/updateTag).
 * @throws Error (Next.js's message) outside a Server Action (a route handler, a render); TypeError
 *   for an invalid tag.
 */
export function updateTag(tag: string): void {
  if (currentServerAction() === undefined) {
    throw new Error(
      'updateTag can only be called from within a Server Action. To invalidate cache tags in Route Handlers or other contexts, use revalidateTag instead. See more info here: https://nextjs.org/docs/app/api-reference/functions/updateTag',
    );
  }
  runtimeFor('updateTag').engine.revalidateTag(tag);
}

/**
 * Refreshes the page a Server Action answers with, leaving the cache as it is (Next.js 16
 * `refresh`, https://nextjs.org/docs/app/api-reference/functions/refresh). isr answers every
 * Server Action called from JavaScript with the page rendered again after it, so the client
 * router shows the refreshed page; this records the call.
 * @throws Error (Next.js's message) outside a Server Action.
 */
export function refresh(): void {
  const action = currentServerAction();
  if (action === undefined) {
    throw new Error(
      'refresh can only be called from within a Server Action. See more info here: https://nextjs.org/docs/app/api-reference/functions/refresh',
    );
  }
  action.refreshed = true;
}

const DEPRECATION_WARNED = Symbol.for('isr.revalidateTagSingleArgumentWarned');

/** Next.js's warning for `revalidateTag(tag)`, once per process (the site's bundle has its own copy of this module). */
function warnDeprecatedSingleArgument(): void {
  const registry = globalThis as { [DEPRECATION_WARNED]?: boolean };
  if (registry[DEPRECATION_WARNED] === true) return;
  registry[DEPRECATION_WARNED] = true;
  const message =
    '"revalidateTag" without the second argument is now deprecated, add second argument of "max" or use "updateTag". See more info here: https://nextjs.org/docs/messages/revalidate-tag-single-arg';
  const runtime = getRuntime();
  if (runtime !== undefined) runtime.logger.warn(message);
  else console.warn(message);
}

/** Next.js refuses revalidation inside a cached function: its entry could not be consistent. */
function refuseInsideCache(expression: string): void {
  const context = currentRenderContext();
  if (context?.cache !== undefined) {
    throw new Error(
      `Route "${context.pattern}": \`${expression}\` can't be called inside a cached function. Call it from a Server Action or Route Handler instead.\nLearn more: https://nextjs.org/docs/messages/revalidate-in-use-cache`,
    );
  }
}

export type { CacheLifeInput as CacheLife };
/** Next.js 15's names of {@link cacheLife} and {@link cacheTag}, which Next.js 16 still exports. */
export { cacheLife, cacheLife as unstable_cacheLife, cacheTag, cacheTag as unstable_cacheTag };

/**
 * Caches an async function's JSON-serialisable result in the data cache. (Next.js
 * `unstable_cache(fn, keyParts, { revalidate /* seconds or false *\/, tags })`.)
 */
export const unstable_cache = unstableCache;

/** Opts the current page out of static rendering (it renders per request). (Next.js `unstable_noStore`.) */
export function unstable_noStore(): void {
  markDynamic(currentRenderContext(), 'unstable_noStore()');
}
