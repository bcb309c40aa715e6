/**
 * Cache profiles of Next.js 16's `cacheLife` (the "cacheLife" function reference, "Preset cache
 * profiles", https://nextjs.org/docs/app/api-reference/functions/cacheLife; values read from
 * `next/dist/server/config-shared.js`, `defaultConfig.cacheLife`), the site's own profiles from
 * next.config's `cacheLife`, and the check Next.js applies to each (`validateAndNormalizeCacheLifeProfile`,
 * `next/dist/server/use-cache/cache-life-profile.js`).
 *
 * All three values are seconds:
 * - `stale`: how long the browser's router may reuse the content without asking (not in `Cache-Control`);
 * - `revalidate`: after it, the next request is served the cached content and a regeneration starts;
 * - `expire`: after it, the next request waits for new content.
 *
 * `Infinity` ("never") is kept as {@link INFINITE_CACHE}, as Next.js keeps it, so it survives JSON.
 */

import type { Seconds } from '../units.ts';

/** Next.js's "never" (`INFINITE_CACHE`, `next/dist/lib/constants.js`): 0xfffffffe seconds. */
export const INFINITE_CACHE: Seconds = 0xfffffffe;

/** A cache profile: seconds each, {@link INFINITE_CACHE} for never. */
export interface CacheLifeProfile {
  stale: Seconds;
  revalidate: Seconds;
  expire: Seconds;
}

/** What a site writes (next.config's `cacheLife.<name>`, or inline `cacheLife({ ... })`): any value may be omitted. */
export type CacheLifeInput = Partial<Record<keyof CacheLifeProfile, number>>;

/** The profiles by name: `default` has every value; another profile may omit some (see {@link resolveCacheLifeProfiles}). */
export type CacheLifeProfiles = Readonly<Record<string, CacheLifeInput>> & { readonly default: CacheLifeProfile };

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * Next.js 16's built-in profiles. `default`'s `stale` is `experimental.staleTimes.static`'s
 * default (300 s), which Next fills in when the config is loaded.
 */
export const BUILT_IN_PROFILES: CacheLifeProfiles = {
  default: { stale: 5 * MINUTE, revalidate: 15 * MINUTE, expire: INFINITE_CACHE },
  seconds: { stale: 30, revalidate: 1, expire: MINUTE },
  minutes: { stale: 5 * MINUTE, revalidate: MINUTE, expire: HOUR },
  hours: { stale: 5 * MINUTE, revalidate: HOUR, expire: DAY },
  days: { stale: 5 * MINUTE, revalidate: DAY, expire: 7 * DAY },
  weeks: { stale: 5 * MINUTE, revalidate: 7 * DAY, expire: 30 * DAY },
  max: { stale: 5 * MINUTE, revalidate: 30 * DAY, expire: 365 * DAY },
};

const KEYS = ['stale', 'revalidate', 'expire'] as const;

/**
 * Checks a profile as Next.js does and turns `Infinity` into {@link INFINITE_CACHE}; omitted
 * values stay omitted.
 * @param where names the profile in messages: `cacheLife.<name>` of next.config, or `cacheLife()`.
 * @throws TypeError with Next.js's message for `false`, a non-number, a non-finite number other
 *   than `Infinity`, or a `revalidate` above `expire`.
 */
export function checkCacheLifeProfile(input: unknown, where: string): CacheLifeInput {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new TypeError(`${where}: a cache profile must be an object like { stale, revalidate, expire } (seconds)`);
  }
  const profile: CacheLifeInput = {};
  for (const key of KEYS) {
    const value = (input as Record<string, unknown>)[key];
    if (value === undefined) continue;
    if (value === false) {
      throw new TypeError(`${where}: pass Infinity instead of false for "${key}" (never)`);
    }
    if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
      throw new TypeError(`${where}: the ${key} option must be a number of seconds, got ${JSON.stringify(value)}`);
    }
    if (value === Number.POSITIVE_INFINITY) profile[key] = INFINITE_CACHE;
    else if (!Number.isFinite(value)) throw new TypeError(`${where}: ${key} must be a finite number of seconds or Infinity`);
    else profile[key] = value;
  }
  if (profile.revalidate !== undefined && profile.expire !== undefined && profile.revalidate > profile.expire) {
    throw new TypeError(
      `${where}: if providing both the revalidate and expire options, the expire option must be greater than the revalidate option`,
    );
  }
  return profile;
}

/**
 * The profiles of a site: the built-in ones, then next.config's `cacheLife` (which may redefine a
 * built-in, `default` included), as Next.js resolves them (`next/dist/server/config.js`): a
 * redefined `default` fills its omitted values from the built-in one; another profile keeps its
 * omitted values omitted, so `cacheLife(name)` leaves them to the `default` profile and to the
 * caches nested inside (the cacheLife reference: "Any omitted properties in a custom profile
 * inherit from the default profile").
 * @param custom next.config's `cacheLife`, or undefined.
 * @param file the config file, for messages.
 * @throws TypeError naming the profile for a bad one (see {@link checkCacheLifeProfile}).
 */
export function resolveCacheLifeProfiles(custom: unknown, file = 'next.config.js'): CacheLifeProfiles {
  if (custom === undefined) return BUILT_IN_PROFILES as CacheLifeProfiles;
  if (typeof custom !== 'object' || custom === null || Array.isArray(custom)) {
    throw new TypeError(`${file}: cacheLife must map profile names to { stale, revalidate, expire }`);
  }
  const profiles: Record<string, CacheLifeInput> = { ...BUILT_IN_PROFILES };
  for (const [name, value] of Object.entries(custom)) profiles[name] = checkCacheLifeProfile(value, `${file}: cacheLife.${name}`);
  profiles.default = { ...BUILT_IN_PROFILES.default, ...profiles.default };
  return profiles as CacheLifeProfiles;
}
