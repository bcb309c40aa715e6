/**
 * The cache-handler interface: what every storage tier (memory, filesystem, Redis) implements.
 * The engine never knows which store it holds.
 *
 * A *shared* store ({@link SharedStore}: Redis; the filesystem store behind `isr start --workers`)
 * is one that several instances use at once. It says so with `shared: true` and adds `subscribe`
 * (what the other instances did: synchronized purges) and `lock` (one regeneration per key across
 * the instances: cache shielding, as Vercel's "Incremental Static Regeneration (ISR)" names it,
 * https://vercel.com/docs/incremental-static-regeneration), and its `set` is a compare-and-set on
 * `lastModified`. {@link isSharedStore} is the one test of it.
 *
 * `test/store/contract.ts` (`testCacheStore`) is the contract suite every store runs: what is
 * written here is what it asserts.
 *
 * Keys are opaque strings chosen by the engine (a page path such as `/blog/1`, `isr:not-found`, a data-cache key; see `site/keys.ts`). A store must
 * treat them as data: a key can never select a location outside the store (the filesystem store
 * hashes them into file names).
 */

import type { Milliseconds, Seconds } from '../units.ts';

/** What was generated: a page, a route handler's response, a fetch response or a function result. */
export type CacheValueKind = 'page' | 'route' | 'fetch' | 'function';

export interface CacheValue {
  kind: CacheValueKind;
  /** HTTP status of the generated response (200, 404, ...). */
  status: number;
  /** Response headers worth keeping (content-type, ...), lower-case names. */
  headers: Record<string, string>;
  /** The bytes: HTML for a page, the response body for a fetch, JSON for a function result. */
  body: Uint8Array;
  /**
   * A second representation generated with `body` and stored in the same entry, so the two can
   * never disagree: a Pages Router page's props as JSON (its data route). Absent otherwise.
   */
  data?: Uint8Array;
}

export interface CacheEntry {
  /** The key the entry was stored under (stores check it on read). */
  key: string;
  value: CacheValue;
  /** Explicit tags (`fetch(..., { next: { tags } })`) and implicit path tags (see engine/tags.ts). */
  tags: string[];
  /** Seconds after `lastModified` during which the entry is fresh; `false`: until invalidated. */
  revalidate: Seconds | false;
  /** Seconds after `lastModified` after which the entry may no longer be served stale. */
  expire: Seconds;
  /**
   * Milliseconds since the epoch (may be fractional) at which the data in this generation was
   * read: the start of the render that produced it. Invalidations at or after this time make the
   * entry stale, which is how a revalidation that races an in-flight regeneration is never lost.
   */
  lastModified: Milliseconds;
  /** Strong entity tag of `value.body`, quoted (RFC 9110 §8.8.3). */
  etag: string;
}

/**
 * Rejection of a store that cannot be reached at all (Redis down). The store reports the outage
 * itself, once, and its recovery; callers (TieredStore) count these failures without logging each.
 */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
}

/**
 * How far (ms) a time recorded elsewhere (another instance's invalidation or entry, a record
 * written before this host's clock was stepped back) may be ahead of the local clock and still be
 * taken as is: 1000 ms. NTP keeps synchronized hosts within tens of milliseconds of each other
 * ("NTP can usually maintain time to within tens of milliseconds over the public Internet",
 * https://en.wikipedia.org/wiki/Network_Time_Protocol), so this allowance covers their normal
 * skew plus message latency, while a clock that is wrong by seconds or more is caught. A time
 * further ahead is *from the future*: the engine clamps invalidation times to its own now,
 * regenerates entries carrying such a `lastModified`, and the Redis store refuses to store one
 * (compared with Redis's own `TIME`).
 */
export const CLOCK_SKEW_TOLERANCE_MS: Milliseconds = 1000;

/**
 * Rejection of `TieredStore.invalidateTags` when no durable tier recorded the invalidation (the
 * cache folder is read-only, full or unreachable; the shared tier refused it). The tiers that took
 * it, such as the memory tier, keep it, so it applies to this process at once, but a restart (or
 * another instance) would not know of it. `cause` is what the durable tier threw. The revalidation
 * endpoint answers it with 503 and `Retry-After`.
 */
export class InvalidationNotRecordedError extends Error {
  override readonly name = 'InvalidationNotRecordedError';

  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
  }
}

/** A tag's most recent invalidation time, milliseconds since the epoch. */
export type TagManifest = Map<string, Milliseconds>;

/**
 * Something that happened to a shared store, delivered to `subscribe` listeners on every instance
 * (the instance that caused it may receive its own events too; handling one twice is harmless).
 *
 * - `invalidate`: `tags` were invalidated at `at` (ms since the epoch), as by `invalidateTags`.
 * - `set`: a generation of `key` whose render started at `lastModified` (ms) was stored.
 * - `delete`: `key` was removed.
 * - `unlock`: the regeneration lock of `key` was released (the holder stored its result or failed).
 * - `resync`: the connection to the store was (re)established after a gap during which events may
 *   have been missed; the listener should re-read what it relies on (`getTagManifest`).
 */
export type StoreEvent =
  | { type: 'invalidate'; tags: string[]; at: Milliseconds }
  | { type: 'set'; key: string; lastModified: Milliseconds }
  | { type: 'delete'; key: string }
  | { type: 'unlock'; key: string }
  | { type: 'resync' };

/** A held regeneration lock (see `SharedStore.lock`). */
export interface Lease {
  /**
   * Releases the lock if this holder still owns it (an expired lock taken over by another instance
   * is left alone) and announces `unlock`. Never rejects: a failure to release only means the lock
   * expires on its own.
   */
  release(): Promise<void>;
}

/**
 * A cache tier. Every store promises (and `test/store/contract.ts` asserts):
 *
 * - `get` of a key never stored, or deleted, is `undefined`; `get` after `set` returns the entry
 *   with the same fields, bytes for bytes (`body`, `data`, headers, tags, times), and never an
 *   entry stored under another key.
 * - Keys are data: any string is a key, distinct strings are distinct entries.
 * - `set` of an entry whose `key` differs from the key it is stored under rejects and stores
 *   nothing. A later `set` with an equal or later `lastModified` replaces the entry.
 * - The tag manifest keeps, per tag, the latest time ever given to `invalidateTags`; a bad time or
 *   tag rejects with TypeError before anything is recorded; no tags is nothing to record.
 * - `close` may be called more than once.
 *
 * What stores legitimately differ in is a property of the store: `durable` (contents outlive the
 * process), `readOnly` (every write rejects) and `shared` (a {@link SharedStore}).
 */
export interface CacheStore {
  /** Short name for logs: `memory`, `filesystem:/path`, ... */
  readonly name: string;
  /**
   * `false` for a store whose contents do not outlive this process (the memory tier): what only it
   * took is lost by a restart, so `TieredStore.invalidateTags` does not count it as recorded.
   * Absent or `true`: durable (a cache folder, Redis): another instance opened later on the same
   * backing reads what this one stored.
   */
  readonly durable?: boolean;
  /**
   * `true` for a store whose writes (`set`, `delete`, `invalidateTags`) all reject (FileSystemStore
   * on the build's prerendered pages): TieredStore never writes to it. Absent or `false`: writable.
   */
  readonly readOnly?: boolean;
  /**
   * `true` only on a {@link SharedStore} (test it with {@link isSharedStore}): several instances
   * use this store at once, it has `subscribe` and `lock`, and its `set` is a compare-and-set on
   * `lastModified`. Absent or `false`: this process alone writes through it.
   */
  readonly shared?: boolean;
  /** The entry stored under `key`, or undefined. A corrupt entry reads as undefined (and is logged). */
  get(key: string): Promise<CacheEntry | undefined>;
  /**
   * The entry under `key` if it can be read synchronously, without I/O (a memory tier); undefined
   * when it is absent *or* would need I/O — callers then fall back to `get`. Optional: the
   * serving hot path uses it to answer a HIT without awaiting anything.
   */
  peek?(key: string): CacheEntry | undefined;
  /**
   * Stores `entry` under `key`, atomically: readers see the old entry or the new one, never a mix.
   * A {@link SharedStore} never replaces a stored entry whose `lastModified` is later than
   * `entry.lastModified` (compare-and-set); other stores replace it (the engine, their one writer,
   * orders its own writes per key).
   * @throws TypeError (as a rejection) if `entry.key !== key`.
   */
  set(key: string, entry: CacheEntry): Promise<void>;
  /** Removes the entry under `key`; a missing one is not an error. */
  delete(key: string): Promise<void>;
  /** Every recorded tag invalidation (tag → time in ms), as a map the caller may change. Read once at start-up. */
  getTagManifest(): Promise<TagManifest>;
  /**
   * Records that `tags` were invalidated at `at` (ms since the epoch); keeps the later time per tag.
   * @throws TypeError (as a rejection) for a non-finite `at` or a non-string tag, recording nothing.
   */
  invalidateTags(tags: readonly string[], at: Milliseconds): Promise<void>;
  /** Releases handles (files, connections). May be called more than once. */
  close?(): Promise<void>;
  /**
   * A tier above this one answered a read of `key` with `entry` (a memory hit): counts as an
   * access of this store's copy for its eviction and unread expiry (FileSystemStore). Optional,
   * synchronous and cheap (it may defer I/O); never throws.
   */
  touch?(key: string, entry: CacheEntry): void;
  /**
   * Stores reached over a connection (Redis): whether it is up now. Absent for local stores, which
   * report trouble by failing their operations.
   */
  readonly reachable?: boolean;
  /**
   * Stores that keep per-process copies in front of a shared tier (TieredStore): reads `key` from
   * the shared tier, bypassing the local copies, and refreshes them if the shared one is newer.
   * Returns the newer of the two. The engine calls it before regenerating, so an instance adopts a
   * generation another instance stored instead of rendering again.
   */
  getShared?(key: string): Promise<CacheEntry | undefined>;
}

/**
 * A store that several instances use at once (Redis; the cache folder of `isr start --workers`,
 * coordinated by the cluster primary; a TieredStore over either). On top of `CacheStore`:
 *
 * - `set` is a compare-and-set on `lastModified`: it never replaces a stored entry whose
 *   `lastModified` is later (as read by any instance on the same backing; a TieredStore's own
 *   local copies are its process's, and `getShared` reads past them), so a regeneration whose
 *   lock expired cannot overwrite a newer generation stored meanwhile by another instance. A
 *   refused `set` announces nothing.
 * - `subscribe` delivers what the other instances did ({@link StoreEvent}).
 * - `lock` is one regeneration per key across the instances, until released or expired.
 *
 * Implementations declare `shared: true`; {@link isSharedStore} is the test every caller uses.
 */
export interface SharedStore extends CacheStore {
  readonly shared: true;
  /**
   * Calls `listener` for each {@link StoreEvent} another instance on the same backing causes (and
   * possibly for this instance's own), from now until the returned function is called or the store
   * is closed. Listeners must not throw.
   */
  subscribe(listener: (event: StoreEvent) => void): () => void;
  /**
   * Takes the regeneration lock of `key` for `ttlMs` milliseconds unless a holder has it (this
   * instance included: the lock is not re-entrant). Resolves a Lease, or undefined when the lock is
   * held. Rejects when `ttlMs` is not a positive number, and when the store cannot be reached (the
   * caller then regenerates without the shielding lock).
   */
  lock(key: string, ttlMs: Milliseconds): Promise<Lease | undefined>;
}

/**
 * Whether `store` is a {@link SharedStore} (it declares `shared: true`). The one test the engine,
 * cache shielding and TieredStore use to decide whether the instances coordinate (rule 6 of
 * `engine/engine.ts`); a store that is not shared gets per-process single flight only.
 */
export function isSharedStore(store: CacheStore): store is SharedStore {
  return store.shared === true;
}

const REQUIRED_METHODS = ['get', 'set', 'delete', 'getTagManifest', 'invalidateTags'] as const;

/**
 * Checks the shape of a store handed to isr (undici's `assertCacheStore` is the model), so a store
 * an embedder wrote fails at once, naming what it lacks, rather than misbehaving later. A store
 * with `lock` or `subscribe` must declare `shared: true` (else the instances would silently not
 * coordinate), and one that declares it must have both.
 * @param where names the caller in the message, e.g. `IsrEngine` or `TieredStore tier 1`.
 * @throws TypeError naming the store and the missing or inconsistent member.
 */
export function assertCacheStore(store: unknown, where: string): asserts store is CacheStore {
  if (typeof store !== 'object' || store === null) throw new TypeError(`${where}: the store must be an object, got ${String(store)}`);
  const candidate = store as Partial<Record<string, unknown>>;
  const name = typeof candidate.name === 'string' ? candidate.name : '(unnamed store)';
  for (const method of REQUIRED_METHODS) {
    if (typeof candidate[method] !== 'function')
      throw new TypeError(`${where}: store ${name} has no ${method}() (a CacheStore needs ${REQUIRED_METHODS.join(', ')})`);
  }
  const coordinates = typeof candidate.lock === 'function' || typeof candidate.subscribe === 'function';
  if (coordinates && candidate.shared !== true) {
    throw new TypeError(
      `${where}: store ${name} has lock() or subscribe() but does not declare shared: true; declare it (a SharedStore) for the instances to coordinate, or remove them`,
    );
  }
  if (candidate.shared === true && (typeof candidate.lock !== 'function' || typeof candidate.subscribe !== 'function')) {
    throw new TypeError(`${where}: store ${name} declares shared: true but lacks lock() or subscribe()`);
  }
}

/**
 * Sets `manifest[tag] = max(manifest[tag], at)` for each tag, in place.
 * @throws TypeError if `at` is not a finite number or a tag is not a string (before changing anything).
 */
export function mergeTagTimes(manifest: TagManifest, tags: readonly string[], at: Milliseconds): void {
  if (typeof at !== 'number' || !Number.isFinite(at)) {
    throw new TypeError(`tag invalidation time must be a finite number of ms (got ${String(at)})`);
  }
  for (const tag of tags) {
    if (typeof tag !== 'string') throw new TypeError(`tags must be strings (got ${typeof tag})`);
  }
  for (const tag of tags) {
    const previous = manifest.get(tag);
    if (previous === undefined || at > previous) manifest.set(tag, at);
  }
}

/** Merges `source` into `target`, keeping the later invalidation time of each tag. */
export function mergeTagManifests(target: TagManifest, source: TagManifest): void {
  for (const [tag, at] of source) {
    const previous = target.get(tag);
    if (previous === undefined || at > previous) target.set(tag, at);
  }
}
