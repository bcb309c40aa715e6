/**
 * The ISR core: pure logic over an injected clock and store. It knows nothing of HTTP, React or
 * files. Every rule of ISR lives here, readable top to bottom. Sources: Next.js "Guides: ISR"
 * (https://nextjs.org/docs/app/guides/incremental-static-regeneration), its Pages Router version
 * (https://nextjs.org/docs/pages/guides/incremental-static-regeneration), and Vercel's
 * "Incremental Static Regeneration (ISR)" (https://vercel.com/docs/incremental-static-regeneration).
 *
 * 1. A fresh entry is served as is (HIT).
 * 2. A stale entry (revalidate window passed) is served at once (STALE) and one background
 *    regeneration starts; concurrent requests share it (single flight).
 * 3. A missing entry is generated before answering (MISS); concurrent requests share the render.
 * 4. A generation that throws never replaces the stored entry: the last good one keeps being
 *    served and the error is logged; the next request after the window retries. A generation that
 *    has not settled within `renderTimeout` seconds fails the same way ({@link RenderTimeoutError}):
 *    its flight ends, so the next request can regenerate, and its late result is discarded.
 * 5. `revalidateTag`/`revalidatePath`: entries carrying the tag are `invalidated` from that instant;
 *    the next request regenerates before answering. An entry's `lastModified` is the time its
 *    render *started*, so a render that read its data before a revalidation is never fresh after it.
 * 6. With a shared store (Redis, or the coordinated filesystem store of `isr start --workers`),
 *    all instances behave as one cache (Vercel's ISR page, "Differences between ISR and
 *    `Cache-Control` headers": cache shielding, synchronized global purging;
 *    implemented in shielding.ts):
 *    - invalidations recorded by any instance arrive as store events and apply here at once; after
 *      a reconnect the recorded times are re-read (and this instance's own pushed back);
 *    - a regeneration first takes the store's lock for the key. The holder re-reads the shared
 *      entry (another instance may have just stored a fresh one, which it adopts) and otherwise
 *      renders and stores. Every other instance waits for the holder's result (its `set` or
 *      `unlock` event, or a poll) and adopts it; meanwhile STALE requests keep getting the stale
 *      page. After `lockTimeout` seconds without a result a waiter renders itself. When the store
 *      cannot be reached, regeneration falls back to this process's single flight.
 * 7. Times from the future (more than `CLOCK_SKEW_TOLERANCE_MS`, 1 s, ahead of the injected clock:
 *    a record written before the clock was stepped back, another host's fast clock) never stop
 *    time here. An invalidation time from the future is clamped to this engine's now when it
 *    arrives (start-up manifest, another instance's event, a resync), so engine time never runs
 *    more than the tolerance ahead of the clock; an entry whose `lastModified` is from the future
 *    is treated as stale (served while regenerating; regenerated first where staleness is not
 *    served) and is replaced by the regeneration even though its time looks newer. Each source
 *    is logged once per streak.
 */

import { OPTIONS } from '../config/options.ts';
import { entityTag } from '../http/etag.ts';
import { createConsoleLogger, describeError, type Logger } from '../log.ts';
import {
  assertCacheStore,
  type CacheEntry,
  type CacheStore,
  type CacheValue,
  CLOCK_SKEW_TOLERANCE_MS,
  isSharedStore,
  mergeTagManifests,
  mergeTagTimes,
  StoreUnavailableError,
  type TagManifest,
} from '../store/store.ts';
import type { Milliseconds, Seconds } from '../units.ts';
import { type Clock, FutureTimeReporter, systemClock } from './clock.ts';
import { type Freshness, freshness, latestInvalidation } from './freshness.ts';
import { Shielding } from './shielding.ts';
import { pathTag, type RevalidatePathType, SOFT_TAG_PREFIX, validateTag } from './tags.ts';

/** Options of {@link IsrEngine.invalidateTags}. */
export interface InvalidateOptions {
  /** Mark stale rather than invalidated (a soft purge); default false. */
  soft?: boolean;
}

/** How a response was produced, sent to clients as `x-isr-cache`. */
export type CacheState = 'HIT' | 'STALE' | 'MISS';

/** What a generator returns. */
export interface Generated {
  value: CacheValue;
  /** Tags the entry carries (explicit and implicit). */
  tags: readonly string[];
  /** Seconds the result stays fresh, or `false` (until revalidated). `0` means dynamic. */
  revalidate: Seconds | false;
  /**
   * Rendered for this request only (`no-store` fetches, dynamic pages): not stored, and any stored
   * entry under the key is removed (the thing it caches is no longer cacheable).
   */
  dynamic?: boolean;
  /** Returned to the caller but neither stored nor replacing what is stored (a non-2xx fetch response). */
  transient?: boolean;
  /**
   * Seconds after generation beyond which the entry may no longer be served stale (at least
   * `revalidate`): an origin's own `stale-while-revalidate` window (RFC 5861 §3) under `isr proxy`.
   * Default the engine's `expireTime`.
   */
  expire?: Seconds;
}

/**
 * Produces a new generation of an entry (renders a page, fetches a URL, calls a function).
 * `signal` is aborted (with a {@link RenderTimeoutError}) when the generation exceeds the engine's
 * `renderTimeout`; its result is discarded from then on, so a generator may stop early.
 */
export type Generate = (signal?: AbortSignal) => Promise<Generated>;

export interface Served {
  entry: CacheEntry;
  /** `DYNAMIC`: generated for this request and not stored. */
  state: CacheState | 'DYNAMIC';
}

export interface ServeOptions {
  /**
   * Serve a stale entry at once and regenerate in the background (pages: `true`, the default).
   * `false` regenerates before answering (the data cache: a regenerating page must read current data).
   */
  staleWhileRevalidate?: boolean;
  /**
   * When a regeneration fails, answer with the last good entry (stale-if-error, RFC 5861 §4; the
   * Next.js ISR guides' "Handling uncaught exceptions", for pages: default `true`). `false`
   * rethrows instead: the data cache, so a page whose
   * data could not be refreshed fails its regeneration rather than being stored with old data.
   * A function decides per fallback entry at the time of the failure (ms since the epoch): an
   * origin's `stale-if-error` window under `isr proxy`.
   */
  staleIfError?: boolean | ((fallback: CacheEntry, now: Milliseconds) => boolean);
  /** Tags checked besides the entry's own (a page's implicit tags, when reading its data). */
  extraTags?: readonly string[];
  /** Names the entry in logs, e.g. `page /blog/1 (route /blog/[id])`. Defaults to the key. */
  label?: string;
  /**
   * Log failed generations (default `true`; the data cache leaves that to the page). A function
   * decides per error: `isr proxy` reports an unreachable or failing origin itself, once a minute,
   * and leaves the engine to log the rest.
   */
  logFailures?: boolean | ((error: unknown) => boolean);
  /** Called when a generation of this key turns out dynamic (not cacheable), in the foreground or background. */
  onDynamic?: () => void;
}

/** Whether the engine logs `error`, a failed generation, under `options.logFailures`. */
function logsFailure(options: ServeOptions, error: unknown): boolean {
  const { logFailures } = options;
  return typeof logFailures === 'function' ? logFailures(error) : logFailures !== false;
}

export interface EngineOptions {
  store: CacheStore;
  clock?: Clock;
  logger?: Logger;
  /**
   * Seconds after generation beyond which a stale entry is no longer served while regenerating
   * (Next.js `expireTime`); default one year (the `expireTime` option's default, config/options.ts).
   */
  expireTime?: Seconds;
  /**
   * Seconds a regeneration holds the shared store's lock for a key (it expires after that), and
   * the longest another instance waits for that regeneration's result before rendering itself.
   * Default 10 (the `lockTimeout` option's default, config/options.ts). Only used with a store
   * that has `lock`.
   */
  lockTimeout?: Seconds;
  /**
   * Seconds a generation (one `generate()` call: a page render, or a data-cache fetch inside it)
   * may take before it fails with {@link RenderTimeoutError}; its late result is never stored.
   * Measured in wall time (a timer), not by the injected clock. Default {@link DEFAULT_RENDER_TIMEOUT}.
   */
  renderTimeout?: Seconds;
  /**
   * Judge each entry by its own `expire` (fixed when it was generated, {@link Generated.expire})
   * rather than by the engine's current `expireTime`. `isr proxy` sets it: every origin response
   * names its own `stale-while-revalidate` window. Default false (`isr start`: the lower of the
   * engine's current `expireTime` and the entry's own `expire`, so an operator's shorter
   * `expireTime` applies to entries generated under a longer one, and a `cacheLife` expire shorter
   * than `expireTime` holds; a longer `expireTime` applies from an entry's next generation).
   */
  expirePerEntry?: boolean;
}

/** Default `renderTimeout`, in seconds: the `renderTimeout` option's (config/options.ts). */
export const DEFAULT_RENDER_TIMEOUT: Seconds = OPTIONS.renderTimeout.default;

/** The longest `renderTimeout` a timer can measure, in seconds (setTimeout's 2^31 − 1 ms). */
const MAX_RENDER_TIMEOUT = Math.floor(0x7fffffff / 1000);

interface Flight {
  /** When its generation started, ms since the epoch (the entry's `lastModified`). */
  startedAt: Milliseconds;
  promise: Promise<{ entry: CacheEntry; dynamic: boolean }>;
}

/** Thrown (with `cause`) when an entry could not be generated and no previous version exists. */
export class GenerationError extends Error {
  constructor(
    readonly label: string,
    cause: unknown,
  ) {
    super(`generation of ${label} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'GenerationError';
  }
}

/**
 * Why a generation failed when it had not settled within the engine's `renderTimeout`. The
 * engine's flight fails with it (a `GenerationError`'s `cause` for callers) and its result, should
 * it still arrive, is discarded.
 */
export class RenderTimeoutError extends Error {
  constructor(
    readonly label: string,
    /** The timeout, in seconds. */
    readonly timeout: Seconds,
  ) {
    super(`generation of ${label} timed out after ${timeout} s`);
    this.name = 'RenderTimeoutError';
  }
}

/** A request that waits for a generation (rule 3, and rule 5 after an invalidation). */
interface BlockingRequest {
  key: string;
  generate: Generate;
  /** Join only a flight that started at or after this time (ms since the epoch). */
  notBefore: Milliseconds;
  /** When the request arrived (ms since the epoch): an invalidation recorded before it forces another render. */
  arrivedAt: Milliseconds;
  /** The last good entry, answered as STALE when the generation fails (stale-if-error). */
  fallback?: CacheEntry | undefined;
  options: ServeOptions;
}

export class IsrEngine {
  readonly store: CacheStore;
  readonly logger: Logger;
  /** Default seconds an entry may be served stale after generation. */
  readonly expireTime: Seconds;
  /** Seconds a generation may take (see {@link EngineOptions.renderTimeout}). */
  readonly renderTimeout: Seconds;
  private readonly clock: Clock;
  /** The `expire` freshness judges by: the engine's `expireTime`, or undefined for each entry's own. */
  private readonly judgedExpire: Seconds | undefined;
  /** Whether a soft purge was ever recorded here (freshness looks for them only then). */
  private softPurges = false;
  private readonly tagTimes: TagManifest = new Map();
  private readonly inflight = new Map<string, Flight>();
  private readonly writes = new Map<string, Promise<unknown>>();
  private readonly pending = new Set<Promise<unknown>>();
  private generated = 0;
  private generationsFailed = 0;
  private lastTime = -Infinity;
  /** Rule 7: logs times from the future once per source and streak. */
  private readonly futureTimes: FutureTimeReporter;
  /** Rule 6: the instances sharing the store (a no-op without a shared store). */
  private readonly shielding: Shielding;

  constructor(options: EngineOptions) {
    assertCacheStore(options.store, 'IsrEngine');
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? createConsoleLogger();
    this.expireTime = options.expireTime ?? OPTIONS.expireTime.default;
    if (!(this.expireTime > 0)) throw new RangeError(`expireTime must be a positive number of seconds, got ${this.expireTime}`);
    const lockTimeout = options.lockTimeout ?? OPTIONS.lockTimeout.default;
    if (!(lockTimeout > 0) || !Number.isFinite(lockTimeout)) {
      throw new RangeError(`lockTimeout must be a positive number of seconds, got ${lockTimeout}`);
    }
    this.renderTimeout = options.renderTimeout ?? DEFAULT_RENDER_TIMEOUT;
    if (!(this.renderTimeout > 0) || !(this.renderTimeout <= MAX_RENDER_TIMEOUT)) {
      throw new RangeError(`renderTimeout must be a positive number of seconds up to ${MAX_RENDER_TIMEOUT}, got ${this.renderTimeout}`);
    }
    this.judgedExpire = options.expirePerEntry === true ? undefined : this.expireTime;
    this.futureTimes = new FutureTimeReporter(this.logger);
    this.shielding = new Shielding({
      store: this.store,
      logger: this.logger,
      lockTimeoutMs: lockTimeout * 1000,
      invalidations: () => this.tagTimes,
      applyInvalidations: (manifest, source) => this.applyInvalidations(manifest, source),
      adoptable: (entry, notBefore, extraTags) => {
        if (entry.lastModified <= notBefore) return false;
        // Never adopt an entry from the future (rule 7): regenerate and replace it.
        if (this.fromFuture(entry, `entries read from ${this.store.name}`)) return false;
        const state = this.freshnessOf(entry, this.now(), extraTags);
        return state === 'fresh' || state === 'stale';
      },
      track: (promise) => this.track(promise),
    });
  }

  /**
   * Subscribes to the store's events (shared stores) and loads the recorded tag invalidations.
   * Call once before serving; {@link close} undoes the subscription.
   */
  async init(): Promise<void> {
    this.shielding.subscribe();
    try {
      this.applyInvalidations(await this.store.getTagManifest(), `the tag record of ${this.store.name}`);
    } catch (error) {
      // A shared store that is down at start-up: serve, and read the record when it is back (resync).
      if (!isSharedStore(this.store)) throw error;
      this.logger.warn(
        `${this.store.name}: starting without the recorded invalidations (${describeError(error).split('\n')[0]}); ` +
          'they are applied when the store can be reached',
      );
    }
  }

  /** Stops listening to the store's events and wakes every wait (shutdown). Does not close the store. */
  close(): void {
    this.shielding.close();
  }

  /**
   * The current time in ms, strictly increasing across calls within this engine so that an
   * invalidation and a render started "in the same millisecond" are still ordered. It follows the
   * injected clock, and runs ahead of it by at most `CLOCK_SKEW_TOLERANCE_MS` (an invalidation
   * time that far ahead, applied here, is kept; one further ahead is clamped: rule 7).
   */
  now(): number {
    const t = this.clock.now();
    this.lastTime = t > this.lastTime ? t : this.lastTime + 0.001;
    return this.lastTime;
  }

  /**
   * Answers a request for `key`: HIT, STALE (and a background regeneration), or MISS (generated
   * before answering). Rules 1–5 above.
   * @throws GenerationError when the entry must be generated, generation fails, and there is no
   *   previous version to fall back on.
   */
  async serve(key: string, generate: Generate, options: ServeOptions = {}): Promise<Served> {
    return (await this.answer(key, generate, options, false))!;
  }

  /**
   * Like {@link serve}, except when there is no entry at all: then a generation starts in the
   * background (or joins the running one) and this resolves to undefined at once, so the caller
   * can answer with a placeholder. The Pages Router's `fallback: true` (Next.js `getStaticPaths`,
   * https://nextjs.org/docs/pages/api-reference/functions/get-static-paths): the first
   * visitor of an unknown path gets the fallback page while the real one is generated.
   * @throws GenerationError as {@link serve} does for an entry that exists but must be regenerated.
   */
  async serveOrStartInBackground(key: string, generate: Generate, options: ServeOptions = {}): Promise<Served | undefined> {
    return this.answer(key, generate, options, true);
  }

  private async answer(key: string, generate: Generate, options: ServeOptions, missingInBackground: boolean): Promise<Served | undefined> {
    if (this.shielding.reconciling !== undefined) await this.shielding.reconciling;
    const arrivedAt = this.now();
    const entry = await this.store.get(key);
    if (entry === undefined) {
      if (!missingInBackground) return this.blocking({ key, generate, notBefore: -Infinity, arrivedAt, options });
      this.regenerateInBackground(key, generate, -Infinity, options);
      return undefined;
    }

    // Rule 7: an entry from the future is stale (and replaced by the regeneration whatever its time).
    const future = this.fromFuture(entry, `entries read from ${this.store.name}`);
    const state = future ? 'stale' : this.freshnessOf(entry, arrivedAt, options.extraTags);
    const replaces = future ? -Infinity : entry.lastModified;
    switch (state) {
      case 'fresh':
        return { entry, state: 'HIT' };
      case 'stale':
        if (options.staleWhileRevalidate !== false) {
          this.regenerateInBackground(key, generate, replaces, options);
          return { entry, state: 'STALE' };
        }
        return this.blocking({ key, generate, notBefore: replaces, arrivedAt, fallback: entry, options });
      case 'expired':
        return this.blocking({ key, generate, notBefore: replaces, arrivedAt, fallback: entry, options });
      case 'invalidated': {
        const invalidatedAt = latestInvalidation(this.tagTimes, entry.tags, options.extraTags);
        return this.blocking({ key, generate, notBefore: invalidatedAt, arrivedAt, fallback: entry, options });
      }
    }
  }

  /**
   * The hot path of rule 1: the entry under `key` if the store holds it in memory and it is fresh,
   * read synchronously; undefined otherwise (the caller then goes through {@link serve}).
   * @param now the time to judge it at, ms since the epoch, from {@link now} (default: a fresh
   *   reading), so a caller that also needs the time reads the clock once.
   */
  peekFresh(key: string, now: Milliseconds = this.now()): CacheEntry | undefined {
    return this.peekIn(key, now, 'fresh');
  }

  /**
   * The hot path of rule 2 while its regeneration runs: the entry under `key` if the store holds
   * it in memory, it is stale within its stale-while-revalidate window (not expired, not
   * invalidated by a hard purge), and a generation of `key` is already running here; undefined
   * otherwise. {@link serve} answers such a request with the same entry as `STALE` and starts no
   * second generation, so a caller may answer it itself (Next.js's stale-while-revalidate,
   * https://nextjs.org/docs/app/guides/incremental-static-regeneration). The first stale request
   * still goes through serve, which starts the regeneration.
   * @param now the time to judge it at, ms since the epoch, from {@link now} (default: a fresh reading).
   */
  peekStale(key: string, now: Milliseconds = this.now()): CacheEntry | undefined {
    return this.inflight.has(key) ? this.peekIn(key, now, 'stale') : undefined;
  }

  /** The memory tier's entry under `key` if it stands in `state` at `now` (ms); the fast path's common read. */
  private peekIn(key: string, now: Milliseconds, state: 'fresh' | 'stale'): CacheEntry | undefined {
    if (this.shielding.reconciling !== undefined) return undefined;
    const entry = this.store.peek?.(key);
    if (entry === undefined) return undefined;
    // From the future (rule 7): `serve` logs and regenerates it. (`now` runs ahead of the clock by
    // far less than the tolerance.)
    if (entry.lastModified > now + CLOCK_SKEW_TOLERANCE_MS) return undefined;
    return this.freshnessOf(entry, now, undefined) === state ? entry : undefined;
  }

  /** Where `entry` stands at `now` (ms) against this engine's invalidations (engine/freshness.ts). */
  private freshnessOf(entry: CacheEntry, now: Milliseconds, extraTags: readonly string[] | undefined): Freshness {
    // An entry's own expire bounds the server's (a `cacheLife` expire shorter than `expireTime`).
    const expire = this.judgedExpire === undefined ? undefined : Math.min(this.judgedExpire, entry.expire);
    return freshness(entry, { now, tagTimes: this.tagTimes, extraTags, expire, soft: this.softPurges });
  }

  /**
   * Generates `key` now (joining a render that started after this call's predecessors' data was
   * read) and stores the result. Used by the build's prerender and on-demand regeneration.
   * @throws GenerationError if generation fails (the stored entry, if any, is left in place).
   */
  async regenerate(key: string, generate: Generate, options: ServeOptions = {}): Promise<Served> {
    const at = this.now();
    return this.blocking({ key, generate, notBefore: at, arrivedAt: at, options });
  }

  /**
   * Records that `tags` changed now. From the moment this returns, every entry carrying one of
   * them is regenerated before it is served again. Persisting the record to the store happens in
   * the background; `flush()` waits for it.
   * With `soft: true` (a soft purge: Fastly's, or Next.js 16's `revalidateTag(tag, 'max')`) such
   * entries are stale instead: served once more while one regeneration runs (engine/freshness.ts).
   * @returns the invalidation time (ms since the epoch).
   */
  invalidateTags(tags: readonly string[], options: InvalidateOptions = {}): number {
    const { at, persisted } = this.record(tags, options);
    this.track(
      persisted.catch((error) => {
        // An unreachable shared store has logged its outage; the invalidation is recorded on resync.
        if (error instanceof StoreUnavailableError) return;
        this.logger.error(`could not persist the invalidation of ${tags.length} tag(s) to ${this.store.name}`, error);
      }),
    );
    return at;
  }

  /**
   * Like {@link invalidateTags}, and resolves once the invalidation is recorded in the store.
   * @returns the invalidation time (ms since the epoch).
   * @throws what the store threw when it could not record it (the in-memory effect stays).
   */
  async invalidateTagsDurably(tags: readonly string[], options: InvalidateOptions = {}): Promise<number> {
    const { at, persisted } = this.record(tags, options);
    await persisted;
    return at;
  }

  private record(given: readonly string[], options: InvalidateOptions): { at: number; persisted: Promise<void> } {
    const tags = options.soft === true ? given.map((tag) => SOFT_TAG_PREFIX + tag) : given;
    if (options.soft === true && tags.length > 0) this.softPurges = true;
    const at = this.now();
    mergeTagTimes(this.tagTimes, tags, at);
    return { at, persisted: tags.length > 0 ? this.store.invalidateTags(tags, at) : Promise.resolve() };
  }

  /**
   * `revalidateTag(tag)`: invalidates every entry (page or data) carrying `tag`.
   * @throws TypeError for a tag that is empty, too long or uses the reserved `_N_T_` prefix.
   */
  revalidateTag(tag: string): number {
    return this.invalidateTags([validateTag(tag)]);
  }

  /**
   * `revalidatePath(path, type?)`: invalidates the page at `path`, the pages of a route
   * (`type: 'page'`) or everything below a segment (`type: 'layout'`). See engine/tags.ts.
   * @throws TypeError for a malformed path or type.
   */
  revalidatePath(path: string, type?: RevalidatePathType): number {
    return this.invalidateTags([pathTag(path, type)]);
  }

  /**
   * Merges invalidations recorded elsewhere (start-up, another process) into this engine's view.
   * A time more than `CLOCK_SKEW_TOLERANCE_MS` ahead of the clock is clamped to {@link now}
   * (rule 7: it still invalidates everything generated so far, and renders that start after
   * this call are newer), logged once per `source` and streak.
   * @param source names where the times come from, in the log line (e.g. `the tag record of redis:...`).
   */
  applyInvalidations(manifest: TagManifest, source = 'recorded invalidations'): void {
    const limit = this.clock.now() + CLOCK_SKEW_TOLERANCE_MS;
    let applied = manifest;
    let aheadMs = 0;
    for (const [tag, at] of manifest) {
      if (!(at > limit)) continue;
      if (applied === manifest) applied = new Map(manifest);
      aheadMs = Math.max(aheadMs, at - (limit - CLOCK_SKEW_TOLERANCE_MS));
      applied.set(tag, -Infinity); // set below, once `now` is known
    }
    if (applied !== manifest) {
      const now = this.now();
      for (const [tag, at] of applied) if (at === -Infinity) applied.set(tag, now);
      this.futureTimes.ahead(source, aheadMs, 'its invalidation times are applied as of now');
    } else if (this.futureTimes.active) {
      this.futureTimes.settled(source);
    }
    mergeTagManifests(this.tagTimes, applied);
    if (!this.softPurges) for (const tag of applied.keys()) if (tag.startsWith(SOFT_TAG_PREFIX)) this.softPurges = true;
    for (const at of applied.values()) if (at > this.lastTime) this.lastTime = at;
  }

  /**
   * Whether `entry.lastModified` is more than `CLOCK_SKEW_TOLERANCE_MS` ahead of the clock (rule
   * 7); logs it once per `source` and streak.
   */
  private fromFuture(entry: CacheEntry, source: string): boolean {
    const clockNow = this.clock.now();
    if (entry.lastModified > clockNow + CLOCK_SKEW_TOLERANCE_MS) {
      this.futureTimes.ahead(source, entry.lastModified - clockNow, 'such entries are regenerated and replaced');
      return true;
    }
    if (this.futureTimes.active) this.futureTimes.settled(source);
    return false;
  }

  /** Whether a generation of `key` is running. */
  isGenerating(key: string): boolean {
    return this.inflight.has(key);
  }

  /**
   * Counts since construction, for the status report: `generating` now running (one per key),
   * `generated` that succeeded (stored or not), `failed` (threw or timed out; the last good version
   * stayed in place). Dynamic renders and the renders of requests that joined one are not counted.
   */
  stats(): { generating: number; generated: number; failed: number } {
    return { generating: this.inflight.size, generated: this.generated, failed: this.generationsFailed };
  }

  /** Waits for background regenerations and pending writes to settle (shutdown, tests). */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private track(promise: Promise<unknown>): void {
    const tracked = promise.finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }

  /** Starts a regeneration of `key` (replacing a generation from `notBefore` ms) unless one is running. */
  private regenerateInBackground(key: string, generate: Generate, notBefore: number, options: ServeOptions): void {
    if (this.inflight.has(key)) return;
    const flight = this.startOrJoin(key, generate, notBefore, options);
    this.track(flight.promise.catch(() => {}));
  }

  /**
   * Generates before answering, sharing a flight that started after `notBefore` (ms). If the result
   * was invalidated by a revalidation recorded before this request arrived, generates again: a
   * request that follows a revalidation never gets content read before it.
   */
  private async blocking(request: BlockingRequest): Promise<Served> {
    const { key, generate, arrivedAt, fallback, options } = request;
    let { notBefore } = request;
    for (let attempt = 0; ; attempt++) {
      const current = this.inflight.get(key);
      const flight = this.startOrJoin(key, generate, notBefore, options);
      const joined = flight === current;
      let outcome: { entry: CacheEntry; dynamic: boolean };
      try {
        outcome = await flight.promise;
      } catch (error) {
        if (fallback !== undefined && this.mayServeOnError(fallback, options)) return { entry: fallback, state: 'STALE' };
        throw error instanceof GenerationError ? error : new GenerationError(options.label ?? key, error);
      }
      if (outcome.dynamic) {
        // A dynamic result belongs to the request that produced it: a joiner renders its own.
        if (!joined) return { entry: outcome.entry, state: 'DYNAMIC' };
        const startedAt = this.now();
        try {
          return {
            entry: this.toEntry(key, await this.generateWithin(generate, options.label ?? key, new AbortController()), startedAt),
            state: 'DYNAMIC',
          };
        } catch (error) {
          if (logsFailure(options, error)) this.logger.error(`generation of ${options.label ?? key} failed`, error);
          throw new GenerationError(options.label ?? key, error);
        }
      }
      const invalidatedAt = latestInvalidation(this.tagTimes, outcome.entry.tags, options.extraTags);
      if (invalidatedAt >= outcome.entry.lastModified && invalidatedAt <= arrivedAt && attempt < 2) {
        notBefore = invalidatedAt;
        continue;
      }
      return { entry: outcome.entry, state: 'MISS' };
    }
  }

  /** Whether `fallback` may answer when its regeneration failed (stale-if-error, {@link ServeOptions.staleIfError}). */
  private mayServeOnError(fallback: CacheEntry, options: ServeOptions): boolean {
    const rule = options.staleIfError;
    return typeof rule === 'function' ? rule(fallback, this.clock.now()) : rule !== false;
  }

  private startOrJoin(key: string, generate: Generate, notBefore: number, options: ServeOptions): Flight {
    const current = this.inflight.get(key);
    if (current !== undefined && current.startedAt > notBefore) return current;

    const startedAt = this.now();
    const label = options.label ?? key;
    const flight: Flight = {
      startedAt,
      promise: Promise.resolve()
        .then(() => this.shielding.shielded(key, notBefore, options, () => this.generateAndStore(key, generate, options)))
        .finally(() => {
          if (this.inflight.get(key) === flight) this.inflight.delete(key);
        }),
    };
    flight.promise.then(
      () => this.generated++,
      () => this.generationsFailed++,
    );
    if (options.logFailures !== false) {
      flight.promise.catch((error) => {
        if (!logsFailure(options, error)) return;
        if (error instanceof RenderTimeoutError) {
          this.logger.error(`${error.message}; the last good version (if any) stays in place`);
          return;
        }
        this.logger.error(
          `generation of ${label} failed; the last good version (if any) stays in place: ${describeError(error).split('\n')[0]}`,
          error,
        );
      });
    } else {
      flight.promise.catch(() => {});
    }
    this.inflight.set(key, flight);
    return flight;
  }

  /** Runs `generate`, stores (or, for a dynamic result, removes) the entry, logs the timing. */
  private async generateAndStore(key: string, generate: Generate, options: ServeOptions): Promise<{ entry: CacheEntry; dynamic: boolean }> {
    // The entry's lastModified: when its data starts being read (after any wait for the shielding lock).
    const startedAt = this.now();
    const began = performance.now();
    const timeout = new AbortController();
    const generated = await this.generateWithin(generate, options.label ?? key, timeout);
    // A generation that timed out has failed: whatever it produced is never stored.
    timeout.signal.throwIfAborted();
    const entry = this.toEntry(key, generated, startedAt);
    const dynamic = generated.dynamic === true || generated.revalidate === 0 || generated.transient === true;
    if (generated.transient === true) {
      // neither stored nor removing what is stored
    } else if (dynamic) {
      options.onDynamic?.();
      await this.serialized(key, () => this.store.delete(key));
    } else {
      await this.serialized(key, () => this.storeIfNewer(key, entry));
    }
    this.logger.debug(
      `generated ${options.label ?? key} in ${(performance.now() - began).toFixed(1)} ms${dynamic ? ' (dynamic, not stored)' : ''}`,
    );
    return { entry, dynamic };
  }

  /**
   * Runs `generate`; rejects with {@link RenderTimeoutError} (aborting `timeout`, which `generate`
   * receives as its signal) when it has not settled within `renderTimeout` seconds. The timed-out
   * generation keeps running until it settles by itself, but nothing waits for it any more.
   */
  private async generateWithin(generate: Generate, label: string, timeout: AbortController): Promise<Generated> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new RenderTimeoutError(label, this.renderTimeout);
        timeout.abort(error);
        reject(error);
      }, this.renderTimeout * 1000);
    });
    try {
      return await Promise.race([generate(timeout.signal), expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Stores `entry` unless a newer generation (later `lastModified`) is already stored; a stored
   * one from the future (rule 7) is not newer, it is replaced.
   */
  private async storeIfNewer(key: string, entry: CacheEntry): Promise<void> {
    const existing = await this.store.get(key);
    if (
      existing !== undefined &&
      existing.lastModified > entry.lastModified &&
      !(existing.lastModified > this.clock.now() + CLOCK_SKEW_TOLERANCE_MS)
    ) {
      return;
    }
    await this.store.set(key, entry);
  }

  /** Runs `task` after every earlier write to `key` in this process has finished. */
  private serialized(key: string, task: () => Promise<void>): Promise<void> {
    const previous = this.writes.get(key) ?? Promise.resolve();
    const next = previous.then(task, task);
    this.writes.set(key, next);
    return next.finally(() => {
      if (this.writes.get(key) === next) this.writes.delete(key);
    });
  }

  private toEntry(key: string, generated: Generated, startedAt: Milliseconds): CacheEntry {
    const revalidate = generated.revalidate;
    if (revalidate !== false && !(typeof revalidate === 'number' && revalidate >= 0 && Number.isFinite(revalidate))) {
      throw new TypeError(`revalidate must be a non-negative number of seconds or false, got ${String(revalidate)}`);
    }
    if (generated.expire !== undefined && !(generated.expire >= 0 && Number.isFinite(generated.expire))) {
      throw new TypeError(`expire must be a non-negative number of seconds, got ${String(generated.expire)}`);
    }
    return {
      key,
      value: generated.value,
      tags: [...new Set(generated.tags)],
      revalidate,
      expire: Math.max(generated.expire ?? this.expireTime, revalidate === false ? 0 : revalidate),
      lastModified: startedAt,
      etag: entityTag(generated.value.body, generated.value.data),
    };
  }
}
