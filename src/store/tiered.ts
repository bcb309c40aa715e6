/**
 * A `CacheStore` over an ordered list of stores, fastest first, e.g.
 *
 * ```
 * memory → filesystem (runtime dir, writable) → filesystem (build output, read-only)
 * ```
 *
 * Reads go down the list and copy hits up; writes go to every writable tier and succeed as long
 * as one tier took them, so a server whose disk refuses writes keeps serving from memory. Tier
 * failures are logged once per failure streak (per tier) and counted for reporting.
 *
 * Tag invalidations are the exception: they must survive a restart, so `invalidateTags` succeeds
 * only when a *durable* tier (any store but the memory tier, see `CacheStore.durable`) recorded
 * them, and otherwise rejects with `InvalidationNotRecordedError` after applying them to the tiers
 * that took them. The durable tier writes them back on its own once it can (FileSystemStore).
 */
import { createConsoleLogger, errorMessage, type Logger } from '../log.ts';
import type { Milliseconds } from '../units.ts';
import {
  assertCacheStore,
  type CacheEntry,
  type CacheStore,
  InvalidationNotRecordedError,
  isSharedStore,
  type Lease,
  mergeTagManifests,
  mergeTagTimes,
  type SharedStore,
  type StoreEvent,
  StoreUnavailableError,
  type TagManifest,
} from './store.ts';

/** One level of a TieredStore. */
export interface Tier {
  store: CacheStore;
  /**
   * Never write to this tier (set, delete, invalidateTags, copying hits up). Default: the store's
   * own `readOnly` (`CacheStore.readOnly`: a read-only FileSystemStore), else false.
   */
  readOnly?: boolean;
}

export interface TieredStoreOptions {
  /** The tiers, fastest first. At least one. */
  tiers: readonly Tier[];
  /** Receives tier failure warnings and recovery notices. Default: the console logger. */
  logger?: Logger;
}

/** A failed tier operation, as kept in `TieredStore.lastDurableError`. */
export interface TierFailure {
  /** `name` of the store that failed. */
  store: string;
  /** `backfill` is the copy of a lower tier's hit into this tier during `get`. */
  operation: 'set' | 'delete' | 'invalidateTags' | 'backfill';
  /** The cache key, for `set`, `delete` and `backfill`. */
  key?: string;
  /** What the store threw. */
  error: unknown;
  /** When it failed, ms since the epoch. */
  at: Milliseconds;
}

/** One tier's health, as `TieredStore.status()` reports it. */
export interface TierStatus {
  /** The store's `name`. */
  store: string;
  readOnly: boolean;
  /** Failed writes since this tier's last successful write; 0 when its last write succeeded. */
  failingWrites: number;
  /** Failed reads since this tier's last successful read; 0 when its last read succeeded. */
  failingReads: number;
  /** The store's own `reachable` (Redis), when it has one. */
  reachable?: boolean;
}

/** Consecutive failures of one kind of operation on one tier. */
interface FailureStreak {
  /** Failures since the last success; 0 when the last one succeeded. */
  failures: number;
  /** The streak's first failure was logged (not when the store reports its own outage). */
  logged: boolean;
}

interface TierState {
  store: CacheStore;
  readOnly: boolean;
  /** The store's contents outlive this process (`CacheStore.durable` is not false). */
  durable: boolean;
  /** Writes (set, delete, invalidateTags, copy-ups) failing since the last successful one. */
  writes: FailureStreak;
  /** Reads (get, getTagManifest) failing since the last successful one. */
  reads: FailureStreak;
}

/** A `get` in progress; `dirty` once a `set`/`delete` of the same key started after it. */
interface ReadToken {
  dirty: boolean;
}

/** Calls `fn`, turning a synchronous throw into a rejection. */
function attempt<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * `CacheStore` over `options.tiers`, in order: `new TieredStore({ tiers: [{ store }, ...], logger })`.
 *
 * - `get(key)`: the first tier holding `key` answers. A hit below the top is copied into every
 *   writable tier above it, without delaying the answer (`flush()` waits for those copies; a
 *   MemoryStore has the copy before `get` resolves). So that a copy never overwrites a newer
 *   write in this process, it is skipped if a `set`/`delete` of that key started while the read
 *   was in flight or is still running, and a `set`/`delete` first waits for copies of its key
 *   already under way. A tier whose `get` rejects is logged and skipped.
 * - A hit in the first tier (memory) is reported to the tiers below that have `touch`, so their
 *   eviction and unread expiry count it as an access of their copy.
 * - `set`, `delete`, `invalidateTags`: applied to every writable tier concurrently. Failing tiers
 *   are logged (`warn`, once per failure streak, naming the store and the cause), counted in
 *   `durableWriteErrors` and recorded in `lastDurableError`; the call resolves if at least one
 *   writable tier succeeded, else rejects with the tier's error (one writable tier) or an
 *   AggregateError. With no writable tier at all, they reject with an Error. A
 *   StoreUnavailableError is counted but not logged: the store reports its own outage.
 * - `getTagManifest`: the per-tag maximum over all tiers (read-only ones included); tiers that
 *   fail are logged and skipped; rejects only if every tier failed. With a shared tier: over the
 *   shared tier and those below it only, rejecting when the shared tier fails.
 * - `invalidateTags` rejects with `InvalidationNotRecordedError` (`cause`: the tier's error) when
 *   no durable writable tier recorded it, even if the memory tier took it: a restart would not know
 *   of it. With a shared tier, it rejects when the shared tier failed, even if a local tier took it:
 *   the other instances would not learn of it (a StoreUnavailableError is rethrown as is). With no
 *   durable writable tier at all (a memory-only embedder), it resolves as other writes do.
 * - `delete` does not hide an entry that a read-only tier still holds: a later `get` returns it.
 * - Shared tier: the first tier that is a SharedStore (`isSharedStore`: Redis, or the coordinated
 *   filesystem store of `isr start --workers`); the tiers above it are this process's own copies.
 *   With one, the TieredStore is itself a SharedStore (`shared: true`). `subscribe` forwards its
 *   events after applying them to those copies: a `set` of a newer generation or a `delete` from
 *   another instance drops the local copy, so the next read goes to the shared tier. `lock` is the
 *   shared tier's; `set` is its compare-and-set there (the local copies take every `set` of this
 *   process), and `getShared` reads past the local copies and returns the newer generation.
 */
export class TieredStore implements CacheStore {
  readonly name: string;
  /** Whether a tier is a SharedStore (see the class comment); then `subscribe` and `lock` are set. */
  readonly shared: boolean;
  /** Number of failed writes to a tier (set, delete, invalidateTags, backfill) since construction. */
  durableWriteErrors = 0;
  /** The most recent failed write to a tier, or undefined if none has failed. */
  lastDurableError: TierFailure | undefined;

  readonly #tiers: readonly TierState[];
  readonly #writable: readonly TierState[];
  /** The tiers below the first that have `touch` (told of the first tier's hits). */
  readonly #touchable: readonly CacheStore[];
  /** Index of the shared tier (the first that `isSharedStore`), or -1. */
  readonly #shared: number;
  readonly #logger: Logger;
  readonly #reads = new Map<string, Set<ReadToken>>();
  /** Copy-ups in progress, by key (one settled-never-rejects promise per key). */
  readonly #backfills = new Map<string, Promise<void>>();
  /** Number of `set`/`delete` calls in progress, by key. */
  readonly #writing = new Map<string, number>();

  /** The shared tier's events, after they are applied to the local copies; only with a shared tier. */
  readonly subscribe?: (listener: (event: StoreEvent) => void) => () => void;
  /** The shared tier's regeneration lock; only with a shared tier. */
  readonly lock?: (key: string, ttlMs: Milliseconds) => Promise<Lease | undefined>;

  /** @throws TypeError if `tiers` is empty or an item has no store. */
  constructor(options: TieredStoreOptions) {
    const tiers = options?.tiers;
    if (!Array.isArray(tiers) || tiers.length === 0) throw new TypeError('TieredStore needs at least one tier');
    this.#tiers = tiers.map((tier, index) => {
      if (tier?.store === undefined) throw new TypeError(`TieredStore tier ${index} has no store`);
      assertCacheStore(tier.store, `TieredStore tier ${index}`);
      return {
        store: tier.store,
        readOnly: tier.readOnly ?? tier.store.readOnly === true,
        durable: tier.store.durable !== false,
        writes: { failures: 0, logged: false },
        reads: { failures: 0, logged: false },
      };
    });
    this.#writable = this.#tiers.filter((tier) => !tier.readOnly);
    this.#touchable = this.#tiers.slice(1).flatMap((tier) => (typeof tier.store.touch === 'function' ? [tier.store] : []));
    this.#logger = options.logger ?? createConsoleLogger();
    this.name = `tiered(${this.#tiers.map((t) => `${t.store.name}${t.readOnly ? ' (read-only)' : ''}`).join(' > ')})`;
    const shared = (this.#shared = this.#tiers.findIndex((tier) => isSharedStore(tier.store)));
    this.shared = shared >= 0;
    if (shared >= 0) {
      const store = this.#tiers[shared]!.store as SharedStore;
      this.subscribe = (listener) => this.#subscribe(store, shared, listener);
      this.lock = (key, ttlMs) => store.lock(key, ttlMs);
    }
  }

  /**
   * Each tier's health, fastest first: a tier whose writes or reads are failing now (a read-only or
   * full cache folder, Redis down) shows a non-zero count, back to 0 after its next success.
   */
  status(): TierStatus[] {
    return this.#tiers.map((tier) => {
      const reachable = tier.store.reachable;
      return {
        store: tier.store.name,
        readOnly: tier.readOnly,
        failingWrites: tier.writes.failures,
        failingReads: tier.reads.failures,
        ...(typeof reachable === 'boolean' ? { reachable } : {}),
      };
    });
  }

  /** The tiers' stores, fastest first (diagnostics, tests). */
  get stores(): readonly CacheStore[] {
    return this.#tiers.map((tier) => tier.store);
  }

  /** The first tier's synchronous `peek` (the memory tier), or undefined when it has none. */
  peek(key: string): CacheEntry | undefined {
    const entry = this.#tiers[0]!.store.peek?.(key);
    if (entry === undefined || entry.key !== key) return undefined;
    this.#touch(key, entry);
    return entry;
  }

  /** Tells the tiers below the first of a hit in the first (see `CacheStore.touch`). */
  #touch(key: string, entry: CacheEntry): void {
    for (const store of this.#touchable) {
      try {
        store.touch!(key, entry);
      } catch {
        // `touch` must not throw; a store that does only loses an access mark.
      }
    }
  }

  async get(key: string): Promise<CacheEntry | undefined> {
    const token: ReadToken = { dirty: false };
    let tokens = this.#reads.get(key);
    if (tokens === undefined) this.#reads.set(key, (tokens = new Set()));
    tokens.add(token);
    try {
      for (let index = 0; index < this.#tiers.length; index++) {
        const entry = await this.#read(this.#tiers[index]!, key);
        if (entry === undefined) continue;
        if (index === 0) this.#touch(key, entry);
        if (index > 0 && !token.dirty && !this.#writing.has(key)) this.#backfill(key, entry, index);
        return entry;
      }
      return undefined;
    } finally {
      tokens.delete(token);
      if (tokens.size === 0) this.#reads.delete(key);
    }
  }

  async set(key: string, entry: CacheEntry): Promise<void> {
    await this.#writeKey(key, 'set', (store) => store.set(key, entry));
  }

  async delete(key: string): Promise<void> {
    await this.#writeKey(key, 'delete', (store) => store.delete(key));
  }

  async getTagManifest(): Promise<TagManifest> {
    // With a shared tier, its record (and what lies below it) is the manifest: the local tiers only
    // hold this process's own writes, and must not hide what the shared record lacks. It rejects
    // when the shared tier cannot be read.
    const shared = this.#shared;
    const tiers = shared >= 0 ? this.#tiers.slice(shared) : this.#tiers;
    const results = await Promise.allSettled(tiers.map((tier) => attempt(() => tier.store.getTagManifest())));
    if (shared >= 0 && results[0]!.status === 'rejected') throw results[0]!.reason;
    const merged: TagManifest = new Map();
    const errors: unknown[] = [];
    results.forEach((result, index) => {
      const tier = tiers[index]!;
      if (result.status === 'rejected') {
        this.#readFailed(tier, 'getTagManifest', result.reason);
        errors.push(result.reason);
        return;
      }
      this.#readSucceeded(tier);
      mergeTagManifests(merged, result.value);
    });
    if (errors.length === tiers.length) throw combine(errors, `${this.name}: getTagManifest failed on every tier`);
    return merged;
  }

  /**
   * Records `tags` as invalidated at `at` (ms) in every writable tier (see the class comment).
   * @throws TypeError (as a rejection) for a non-finite `at` or non-string tag, before any tier is touched.
   * @throws InvalidationNotRecordedError when no durable tier recorded it (or the shared tier
   *   failed); StoreUnavailableError when the shared tier cannot be reached.
   */
  async invalidateTags(tags: readonly string[], at: Milliseconds): Promise<void> {
    mergeTagTimes(new Map(), tags, at); // validates
    const durable = this.#writable.filter((tier) => tier.durable);
    let failures: Map<TierState, unknown>;
    try {
      failures = await this.#writeAll('invalidateTags', undefined, (store) => store.invalidateTags(tags, at));
    } catch (error) {
      if (durable.length === 0 || error instanceof StoreUnavailableError) throw error;
      throw this.#notRecorded(tags, error);
    }
    // Other instances learn of an invalidation only through the shared tier: it must have it.
    const shared = this.#tiers[this.#shared];
    const sharedFailure = shared === undefined ? undefined : failures.get(shared);
    if (sharedFailure !== undefined) {
      if (sharedFailure instanceof StoreUnavailableError) throw sharedFailure;
      throw this.#notRecorded(tags, sharedFailure);
    }
    // A restart forgets what only the memory tier took: a durable tier must have it.
    if (durable.length > 0 && durable.every((tier) => failures.has(tier))) {
      throw this.#notRecorded(
        tags,
        combine(
          durable.map((tier) => failures.get(tier)),
          `${this.name}: invalidateTags failed on every durable tier`,
        ),
      );
    }
  }

  #notRecorded(tags: readonly string[], cause: unknown): InvalidationNotRecordedError {
    return new InvalidationNotRecordedError(
      `${this.name}: the invalidation of ${tags.length} tag(s) applies in memory but no durable tier recorded it: ${errorMessage(cause)}`,
      { cause },
    );
  }

  /** Subscribes to the shared tier's events, applying them to the local copies first (class comment). */
  #subscribe(store: SharedStore, index: number, listener: (event: StoreEvent) => void): () => void {
    const local = this.#tiers.slice(0, index).filter((tier) => !tier.readOnly);
    return store.subscribe((event) => {
      if (event.type === 'set' || event.type === 'delete') {
        const key = event.key;
        for (const tier of local) {
          const held = tier.store.peek?.(key);
          if (held === undefined || (event.type === 'set' && held.lastModified >= event.lastModified)) continue;
          // A read of `key` in flight must not copy its older result back up.
          const tokens = this.#reads.get(key);
          if (tokens !== undefined) for (const token of tokens) token.dirty = true;
          attempt(() => tier.store.delete(key)).catch((error: unknown) => this.#writeFailed(tier, 'delete', key, error));
        }
      }
      listener(event);
    });
  }

  /**
   * `key` as the shared tier (and the tiers below it) hold it, compared with this process's copy:
   * the newer one is returned, and the local copies are replaced when the shared one is newer.
   * Without a shared tier, the same as `get`. Never rejects for a failing tier (it is skipped).
   */
  async getShared(key: string): Promise<CacheEntry | undefined> {
    const index = this.#shared;
    if (index <= 0) return this.get(key);
    let local: CacheEntry | undefined;
    for (const tier of this.#tiers.slice(0, index)) {
      local = tier.store.peek?.(key);
      if (local !== undefined) break;
    }
    for (let at = index; at < this.#tiers.length; at++) {
      const entry = await this.#read(this.#tiers[at]!, key);
      if (entry === undefined) continue;
      if (local !== undefined && local.lastModified >= entry.lastModified) return local;
      if (!this.#writing.has(key)) this.#backfill(key, entry, at);
      return entry;
    }
    return local ?? undefined;
  }

  /** Resolves when every copy-up started by `get` so far has settled (never rejects). */
  async flush(): Promise<void> {
    while (this.#backfills.size > 0) await Promise.all([...this.#backfills.values()]);
  }

  /** Waits for copy-ups, then closes every tier; rejects (after trying all) if any close failed. */
  async close(): Promise<void> {
    await this.flush();
    const results = await Promise.allSettled(this.#tiers.map((tier) => attempt(async () => tier.store.close?.())));
    const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    if (errors.length > 0) throw combine(errors, `${this.name}: close failed on ${errors.length} tier(s)`);
  }

  // -------------------------------------------------------------------------------------------

  /** Runs `write` on every writable tier; resolves if one succeeded (see the class comment). */
  async #writeAll(
    operation: 'set' | 'delete' | 'invalidateTags',
    key: string | undefined,
    write: (store: CacheStore) => Promise<void>,
  ): Promise<Map<TierState, unknown>> {
    if (this.#writable.length === 0) throw new Error(`${this.name}: no writable tier to ${operation}`);
    const results = await Promise.allSettled(this.#writable.map((tier) => attempt(() => write(tier.store))));
    const failures = new Map<TierState, unknown>();
    results.forEach((result, index) => {
      const tier = this.#writable[index]!;
      if (result.status === 'fulfilled') this.#writeSucceeded(tier);
      else {
        this.#writeFailed(tier, operation, key, result.reason);
        failures.set(tier, result.reason);
      }
    });
    if (failures.size === this.#writable.length) {
      throw combine([...failures.values()], `${this.name}: ${operation} failed on every writable tier`);
    }
    return failures;
  }

  /**
   * A `set`/`delete` of `key`: marks reads of `key` in flight as outdated (they will not copy their
   * older result up), blocks new copy-ups of `key` while it runs, and waits for copy-ups of `key`
   * already started, so none of them can land after this write.
   */
  async #writeKey(key: string, operation: 'set' | 'delete', write: (store: CacheStore) => Promise<void>): Promise<void> {
    const tokens = this.#reads.get(key);
    if (tokens !== undefined) for (const token of tokens) token.dirty = true;
    this.#writing.set(key, (this.#writing.get(key) ?? 0) + 1);
    try {
      const copying = this.#backfills.get(key);
      if (copying !== undefined) await copying;
      await this.#writeAll(operation, key, write);
    } finally {
      const count = this.#writing.get(key)! - 1;
      if (count === 0) this.#writing.delete(key);
      else this.#writing.set(key, count);
    }
  }

  /** Copies `entry` (found in tier `foundAt`) into the writable tiers above it, in the background. */
  #backfill(key: string, entry: CacheEntry, foundAt: Milliseconds): void {
    const copies: Promise<void>[] = [];
    for (const tier of this.#tiers.slice(0, foundAt)) {
      if (tier.readOnly) continue;
      // A synchronous store (MemoryStore) has the entry as soon as `set` is called.
      copies.push(
        attempt(() => tier.store.set(key, entry)).then(
          () => this.#writeSucceeded(tier),
          (error: unknown) => this.#writeFailed(tier, 'backfill', key, error),
        ),
      );
    }
    if (copies.length === 0) return;
    const previous = this.#backfills.get(key);
    const all: Promise<void> = Promise.all([previous, ...copies]).then(() => {
      if (this.#backfills.get(key) === all) this.#backfills.delete(key);
    });
    this.#backfills.set(key, all);
  }

  /** `tier`'s entry for `key`; undefined when it has none, fails (logged) or answers for another key (logged). */
  async #read(tier: TierState, key: string): Promise<CacheEntry | undefined> {
    let entry: CacheEntry | undefined;
    try {
      entry = await tier.store.get(key);
      this.#readSucceeded(tier);
    } catch (error) {
      this.#readFailed(tier, 'get', error);
      return undefined;
    }
    if (entry !== undefined && entry.key !== key) {
      this.#logger.warn(`${tier.store.name}: get ${JSON.stringify(key)} returned key ${JSON.stringify(entry.key)}; ignored`);
      return undefined;
    }
    return entry;
  }

  #writeFailed(tier: TierState, operation: TierFailure['operation'], key: string | undefined, error: unknown): void {
    this.durableWriteErrors++;
    this.lastDurableError = { store: tier.store.name, operation, ...(key === undefined ? {} : { key }), error, at: Date.now() };
    const what = key === undefined ? operation : `${operation} ${JSON.stringify(key)}`;
    this.#failed(tier, tier.writes, { what, error, rest: 'continuing with the other tiers; further write failures of this store' });
  }

  #writeSucceeded(tier: TierState): void {
    this.#succeeded(tier, tier.writes, 'writes');
  }

  #readFailed(tier: TierState, operation: string, error: unknown): void {
    this.#failed(tier, tier.reads, { what: operation, error, rest: 'skipping this store; further read failures' });
  }

  #readSucceeded(tier: TierState): void {
    this.#succeeded(tier, tier.reads, 'reads');
  }

  /** Counts a failure; logs the first of a streak (`warn`), unless the store reports its own outage. */
  #failed(tier: TierState, streak: FailureStreak, failure: { what: string; error: unknown; rest: string }): void {
    const { what, error, rest } = failure;
    streak.failures++;
    if (streak.logged || error instanceof StoreUnavailableError) return;
    streak.logged = true;
    this.#logger.warn(`${tier.store.name}: ${what} failed: ${errorMessage(error)} (${rest} are not logged until one succeeds)`);
  }

  /** Ends a failure streak, logging the recovery (`info`) when its start was logged. */
  #succeeded(tier: TierState, streak: FailureStreak, kind: 'writes' | 'reads'): void {
    if (streak.failures === 0) return;
    if (streak.logged) this.#logger.info(`${tier.store.name}: ${kind} succeed again after ${streak.failures} failure(s)`);
    streak.failures = 0;
    streak.logged = false;
  }
}

/** One error as is, several as an AggregateError with `message`. */
function combine(errors: unknown[], message: string): unknown {
  return errors.length === 1 ? errors[0] : new AggregateError(errors, message);
}
