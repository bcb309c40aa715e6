/**
 * The coordination hub of `isr start --workers N`: what the cluster primary does for the worker
 * processes that share one filesystem cache folder. Pure in-process logic over an injected clock;
 * `ipc.ts` puts it behind node:cluster IPC, `coordinated-store.ts` is the worker-side store.
 *
 * - Regeneration locks: one holder per key at a time, each lock expiring `ttlMs` after it was
 *   taken (so a worker that dies holding one blocks nobody for long).
 * - Event fan-out: every {@link StoreEvent} published reaches every subscriber (every worker).
 * - Invalidations: recorded through the optional `tagStore` — the primary's own FileSystemStore on
 *   the shared folder — so `tags.json` has exactly one writer process, then published.
 */
import { randomBytes } from 'node:crypto';
import { type Clock, systemClock } from '../engine/clock.ts';
import { errorMessage, type Logger } from '../log.ts';
import { type CacheStore, mergeTagTimes, type StoreEvent } from '../store/store.ts';
import type { Milliseconds } from '../units.ts';

export interface CoordinationHubOptions {
  /** Source of time for lock expiry. Default: wall time. */
  clock?: Clock;
  /**
   * Where `invalidate` records tag times (the single writer of the shared `tags.json`). Without
   * one, invalidations are only published.
   */
  tagStore?: CacheStore;
  /** Receives a warning when a subscriber throws. Default: dropped. */
  logger?: Logger;
}

interface Held {
  token: string;
  /** ms (hub clock) after which the lock may be taken by someone else. */
  expiresAt: Milliseconds;
}

export class CoordinationHub {
  readonly tagStore: CacheStore | undefined;
  readonly #clock: Clock;
  readonly #logger: Logger | undefined;
  readonly #locks = new Map<string, Held>();
  readonly #listeners = new Set<(event: StoreEvent) => void>();
  readonly #prefix = randomBytes(6).toString('hex');
  #counter = 0;

  constructor(options: CoordinationHubOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.tagStore = options.tagStore;
    this.#logger = options.logger;
  }

  /**
   * Takes the regeneration lock of `key` for `ttlMs` milliseconds.
   * @returns a token that identifies this holding (for {@link release}), or undefined when another
   *   holder has the lock and it has not expired.
   * @throws TypeError for a non-string key or a `ttlMs` that is not a positive finite number.
   */
  tryLock(key: string, ttlMs: Milliseconds): string | undefined {
    if (typeof key !== 'string') throw new TypeError(`lock key must be a string (got ${typeof key})`);
    if (typeof ttlMs !== 'number' || !(ttlMs > 0) || !Number.isFinite(ttlMs)) {
      throw new TypeError(`lock ttlMs must be a positive number of ms (got ${String(ttlMs)})`);
    }
    const now = this.#clock.now();
    const held = this.#locks.get(key);
    if (held !== undefined && held.expiresAt > now) return undefined;
    const token = `${this.#prefix}-${++this.#counter}`;
    this.#locks.set(key, { token, expiresAt: now + ttlMs });
    return token;
  }

  /**
   * Releases the lock of `key` if `token` still holds it — it was not taken over by another holder
   * after expiring — and publishes `{ type: 'unlock', key }`. A stale or unknown token changes
   * nothing and publishes nothing.
   * @returns whether the lock was released.
   */
  release(key: string, token: string): boolean {
    const held = this.#locks.get(key);
    if (held === undefined || held.token !== token) return false;
    this.#locks.delete(key);
    this.publish({ type: 'unlock', key });
    return true;
  }

  /** Whether a non-expired lock on `key` is held (tests, diagnostics). */
  isLocked(key: string): boolean {
    const held = this.#locks.get(key);
    return held !== undefined && held.expiresAt > this.#clock.now();
  }

  /** Number of lock records kept, expired ones included until swept (diagnostics). */
  get lockCount(): number {
    return this.#locks.size;
  }

  /** Forgets expired locks (the primary calls it now and then; correctness never depends on it). */
  sweep(): void {
    const now = this.#clock.now();
    for (const [key, held] of this.#locks) if (held.expiresAt <= now) this.#locks.delete(key);
  }

  /** Delivers `event` to every subscriber, synchronously, in subscription order. */
  publish(event: StoreEvent): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch (error) {
        this.#logger?.warn(`cluster hub: a subscriber threw on a ${event.type} event: ${errorMessage(error)}`);
      }
    }
  }

  /** Calls `listener` for every published event until the returned function is called. */
  subscribe(listener: (event: StoreEvent) => void): () => void {
    // A wrapper per call, so subscribing the same function twice yields two independent subscriptions.
    const wrapper = (event: StoreEvent) => listener(event);
    this.#listeners.add(wrapper);
    return () => {
      this.#listeners.delete(wrapper);
    };
  }

  /**
   * Records that `tags` were invalidated at `at` (ms since the epoch) in the tag store, then
   * publishes `{ type: 'invalidate', tags, at }`. Nothing is published when recording fails.
   * @throws TypeError (as a rejection) for a non-finite `at` or a non-string tag; what the tag
   *   store threw when it could not record the invalidation.
   */
  async invalidate(tags: readonly string[], at: Milliseconds): Promise<void> {
    mergeTagTimes(new Map(), tags, at); // validates before anything is written
    const list = [...tags];
    if (list.length === 0) return;
    await this.tagStore?.invalidateTags(list, at);
    this.publish({ type: 'invalidate', tags: list, at });
  }

  /** Waits for the tag store's pending writes and closes it; drops every subscriber and lock. */
  async close(): Promise<void> {
    this.#listeners.clear();
    this.#locks.clear();
    await this.tagStore?.close?.();
  }
}
