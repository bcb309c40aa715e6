/**
 * Units in type names, so a signature says which one it takes (node-lru-cache's `Milliseconds`).
 * They are plain numbers to the compiler: the name is for the reader. The rule of the codebase:
 * what a site author writes (`revalidate`, `expireTime`, `cacheLife`) and what HTTP carries
 * (`max-age`, `s-maxage`, `stale-while-revalidate`, `Retry-After`) is in seconds, as Next.js and
 * RFC 9111 have it; clocks, timers and timestamps (`Clock.now()`, `lastModified`, lock ttls) are in
 * milliseconds, as `Date.now()` and `setTimeout` have it.
 * @see https://www.rfc-editor.org/rfc/rfc9111#section-1.2.2 (delta-seconds)
 */

/** A duration in seconds. */
export type Seconds = number;

/** A duration in milliseconds, or a time as milliseconds since the Unix epoch. */
export type Milliseconds = number;

/** A size in bytes. */
export type Bytes = number;
