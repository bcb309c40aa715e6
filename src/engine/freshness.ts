/**
 * Freshness, a pure function: where a cache entry stands at a given time against its revalidate
 * window, its expiry and the recorded tag invalidations. The engine decides HIT, STALE or MISS from
 * it; nothing here reads a clock or a store.
 */

import type { CacheEntry, TagManifest } from '../store/store.ts';
import type { Milliseconds, Seconds } from '../units.ts';
import { SOFT_TAG_PREFIX } from './tags.ts';

/**
 * Where an entry stands at a given time.
 *
 * - `fresh`: inside its revalidate window and not invalidated — serve it (HIT).
 * - `stale`: the window has passed but `expire` has not — serve it and regenerate in the
 *   background (stale-while-revalidate, RFC 5861 §3; Next.js "Guides: ISR": "the next request will
 *   still show the cached (stale) page", https://nextjs.org/docs/app/guides/incremental-static-regeneration).
 * - `invalidated`: a tag or path it carries was revalidated at or after its generation read its
 *   data — regenerate before answering (Next.js "Guides: ISR", "On-demand revalidation with
 *   revalidatePath" and "... with revalidateTag": after `revalidatePath`/`revalidateTag` the
 *   next request gets fresh content).
 * - `expired`: older than `expire` — regenerate before answering.
 *
 * A soft purge of a tag (Fastly's soft purge; Next.js 16's `revalidateTag(tag, 'max')`) marks the
 * entries carrying it `stale` rather than `invalidated`: served once more while one regeneration
 * runs. It is recorded as the tag under {@link SOFT_TAG_PREFIX}.
 */
export type Freshness = 'fresh' | 'stale' | 'invalidated' | 'expired';

/** No extra tags (one shared empty list: the HIT path allocates none). */
const NO_TAGS: readonly string[] = [];

/**
 * The latest invalidation time (ms since the epoch) of any of `tags` and `extraTags`, or
 * `-Infinity` when none was invalidated.
 */
export function latestInvalidation(tagTimes: TagManifest, tags: readonly string[], extraTags: readonly string[] = NO_TAGS): number {
  let latest = -Infinity;
  if (tagTimes.size === 0) return latest;
  for (const tag of tags) {
    const at = tagTimes.get(tag);
    if (at !== undefined && at > latest) latest = at;
  }
  for (const tag of extraTags) {
    const at = tagTimes.get(tag);
    if (at !== undefined && at > latest) latest = at;
  }
  return latest;
}

/** What {@link freshness} judges an entry against. */
export interface FreshnessContext {
  /** The time of the judgement, ms since the epoch. */
  now: Milliseconds;
  /** The recorded invalidation time (ms since the epoch) of each tag. */
  tagTimes: TagManifest;
  /**
   * Tags to check besides the entry's own, e.g. the implicit tags of the page whose render reads a
   * data-cache entry (so `revalidatePath` also refreshes the page's cached fetches). Default none.
   */
  extraTags?: readonly string[] | undefined;
  /**
   * Seconds after generation beyond which the entry is `expired`; default the entry's own (the
   * server's current `expireTime` is passed, so operators can change it).
   */
  expire?: Seconds | undefined;
  /** Whether `tagTimes` may hold soft purges (tags under {@link SOFT_TAG_PREFIX}); default false, which skips looking. */
  soft?: boolean | undefined;
}

/** The latest soft purge time (ms since the epoch) of any of `tags` and `extraTags`, or `-Infinity`. */
function latestSoftInvalidation(tagTimes: TagManifest, tags: readonly string[], extraTags: readonly string[]): number {
  let latest = -Infinity;
  for (const list of [tags, extraTags]) {
    for (const tag of list) {
      const at = tagTimes.get(SOFT_TAG_PREFIX + tag);
      if (at !== undefined && at > latest) latest = at;
    }
  }
  return latest;
}

/**
 * Classifies `entry` at `context.now`: the states above, in that order of precedence (an
 * invalidation outranks the revalidate window; `revalidate: false` is never stale).
 * @see https://nextjs.org/docs/app/guides/incremental-static-regeneration
 */
export function freshness(entry: CacheEntry, context: FreshnessContext): Freshness {
  const { now, tagTimes, extraTags = NO_TAGS, expire = entry.expire } = context;
  if (latestInvalidation(tagTimes, entry.tags, extraTags) >= entry.lastModified) return 'invalidated';
  const softPurged = context.soft === true && latestSoftInvalidation(tagTimes, entry.tags, extraTags) >= entry.lastModified;
  const age = now - entry.lastModified;
  if (!softPurged && (entry.revalidate === false || age < entry.revalidate * 1000)) return 'fresh';
  if (age < (entry.revalidate === false ? expire : Math.max(expire, entry.revalidate)) * 1000) return 'stale';
  return 'expired';
}
