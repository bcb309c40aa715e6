/**
 * Rule 6 of the engine (engine.ts): with a shared store (Redis, or the coordinated filesystem
 * store of `isr start --workers`), the instances behave as one cache — the cache shielding and
 * synchronized global purging of Vercel's "Incremental Static Regeneration (ISR)", "Differences
 * between ISR and `Cache-Control` headers" (https://vercel.com/docs/incremental-static-regeneration).
 *
 * - Events from the store: another instance's `invalidate` applies here at once; `set`, `delete`
 *   and `unlock` wake the waits below; `resync` (after a gap in the events) re-reads the recorded
 *   invalidations — requests wait for that re-read — then records those this instance knows of
 *   that the record lacks.
 * - `shielded`: one regeneration per key across the instances. It takes the store's lock. The
 *   holder first adopts an entry another instance just stored, if there is one, else renders.
 *   An instance that finds the lock held waits for the holder's result (woken by its `set` or
 *   `unlock`, re-checking every {@link SHIELD_POLL_MS} ms in case a message was lost) and adopts
 *   it; after `lockTimeoutMs` without a result it renders itself. When the lock cannot be taken
 *   (store unreachable), it renders at once: the engine's per-process single flight still holds.
 *
 * With a store that is not shared (`isSharedStore`), every method is a pass-through.
 */

import { describeError, excerpt, type Logger, warnRepeated } from '../log.ts';
import { type CacheEntry, type CacheStore, isSharedStore, type Lease, type StoreEvent, type TagManifest } from '../store/store.ts';
import type { Milliseconds } from '../units.ts';

/** While waiting for another instance's regeneration, re-check the shared store this often (ms). */
export const SHIELD_POLL_MS: Milliseconds = 200;

/** What a render produced, as the engine's flights carry it. */
export interface Produced {
  entry: CacheEntry;
  dynamic: boolean;
}

export interface ShieldingOptions {
  store: CacheStore;
  logger: Logger;
  /** Milliseconds a regeneration holds the lock, and the longest a waiter waits for its result. */
  lockTimeoutMs: Milliseconds;
  /** The engine's known invalidations (tag → ms), read when resynchronizing. */
  invalidations(): TagManifest;
  /** Merges invalidations recorded elsewhere into the engine's view; `source` names them in logs. */
  applyInvalidations(manifest: TagManifest, source: string): void;
  /**
   * Whether another instance's `entry` answers a regeneration that replaces the generation of
   * `notBefore` ms (or answers an invalidation at `notBefore`): newer, and neither invalidated nor
   * expired. A result that went stale while it rendered is still adopted: rendering it again on
   * every instance in turn would be the regeneration storm this prevents.
   */
  adoptable(entry: CacheEntry, notBefore: Milliseconds, extraTags: readonly string[] | undefined): boolean;
  /** Registers background work that the engine's `flush` waits for. */
  track(promise: Promise<unknown>): void;
}

export class Shielding {
  /** Set while a resync re-reads the recorded invalidations: requests wait for it. */
  reconciling: Promise<void> | undefined;
  readonly #options: ShieldingOptions;
  /** Resolvers of waits for another instance's regeneration of a key. */
  readonly #waiters = new Map<string, Set<() => void>>();
  #unsubscribe: (() => void) | undefined;

  constructor(options: ShieldingOptions) {
    this.#options = options;
  }

  /** Starts listening to the store's events (idempotent; a no-op unless the store is shared). */
  subscribe(): void {
    const { store } = this.#options;
    if (isSharedStore(store)) this.#unsubscribe ??= store.subscribe((event) => this.#onEvent(event));
  }

  /** Stops listening and wakes every wait (shutdown). */
  close(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    for (const key of [...this.#waiters.keys()]) this.#wake(key);
  }

  /**
   * Runs `produce` (a render of `key`) at most once across the instances sharing the store, as
   * described in the module comment; with a store that is not shared, runs it at once.
   * @param notBefore ms: the generation being replaced, or the invalidation being answered; only a
   *   newer generation from another instance is adopted.
   * @param label names the key in log lines.
   */
  async shielded(
    key: string,
    notBefore: Milliseconds,
    options: { label?: string; extraTags?: readonly string[] },
    produce: () => Promise<Produced>,
  ): Promise<Produced> {
    const { store, logger, lockTimeoutMs } = this.#options;
    if (!isSharedStore(store)) return produce();
    const label = options.label ?? key;
    const deadline = performance.now() + lockTimeoutMs;
    for (;;) {
      // Listen before asking for the lock: the holder's `set`/`unlock` may arrive while we ask.
      const event = this.#listen(key);
      let lease: Lease | undefined;
      try {
        lease = await store.lock(key, lockTimeoutMs);
      } catch (error) {
        event.cancel();
        logger.debug(`no shielding lock for ${label} (${describeError(error).split('\n')[0]}); regenerating here`);
        return produce();
      }
      if (lease !== undefined) {
        event.cancel();
        try {
          const adopted = await this.#adopt(key, notBefore, options.extraTags, label);
          return adopted !== undefined ? { entry: adopted, dynamic: false } : await produce();
        } finally {
          // The answer does not wait for the release (it never rejects; `flush` waits for it).
          this.#options.track(lease.release());
        }
      }
      const remaining = deadline - performance.now();
      if (remaining <= 0) {
        event.cancel();
        warnRepeated(
          logger,
          'shielding: lock wait timed out',
          `${excerpt(label)}: another instance's regeneration gave no result in ${lockTimeoutMs / 1000} s; regenerating here`,
        );
        return produce();
      }
      await event.wait(Math.min(remaining, SHIELD_POLL_MS));
      const adopted = await this.#adopt(key, notBefore, options.extraTags, label);
      if (adopted !== undefined) return { entry: adopted, dynamic: false };
    }
  }

  /** The shared store's entry for `key` if it is `adoptable`; undefined otherwise or when it cannot be read. */
  async #adopt(
    key: string,
    notBefore: Milliseconds,
    extraTags: readonly string[] | undefined,
    label: string,
  ): Promise<CacheEntry | undefined> {
    const { store, logger } = this.#options;
    let entry: CacheEntry | undefined;
    try {
      entry = await (store.getShared?.(key) ?? store.get(key));
    } catch {
      return undefined;
    }
    if (entry === undefined || !this.#options.adoptable(entry, notBefore, extraTags)) return undefined;
    logger.debug(`adopted ${label} from ${store.name} (regenerated by another instance)`);
    return entry;
  }

  #onEvent(event: StoreEvent): void {
    switch (event.type) {
      case 'invalidate':
        this.#options.applyInvalidations(
          new Map(event.tags.map((tag) => [tag, event.at])),
          `invalidations from other instances via ${this.#options.store.name}`,
        );
        return;
      case 'set':
      case 'delete':
      case 'unlock':
        this.#wake(event.key);
        return;
      case 'resync':
        this.#options.track(this.#resync());
        return;
    }
  }

  /**
   * After a gap in the store's events: re-reads the recorded invalidations (requests wait for
   * that), then records those this instance knows of that the record lacks or has older (made
   * while the store was unreachable, or lost by it: a Redis restarted without persistence).
   */
  async #resync(): Promise<void> {
    const { store, logger } = this.#options;
    const reread = store.getTagManifest().then((manifest) => {
      this.#options.applyInvalidations(manifest, `the tag record of ${store.name}`);
      return manifest;
    });
    const gate = reread.then(
      () => {},
      () => {},
    );
    this.reconciling = gate;
    void gate.then(() => {
      if (this.reconciling === gate) this.reconciling = undefined;
    });
    try {
      const recorded = await reread;
      const missing = new Map<number, string[]>();
      for (const [tag, at] of this.#options.invalidations()) {
        const theirs = recorded.get(tag);
        if (theirs === undefined || theirs < at) missing.set(at, [...(missing.get(at) ?? []), tag]);
      }
      for (const [at, tags] of missing) await store.invalidateTags(tags, at);
      const count = [...missing.values()].reduce((sum, tags) => sum + tags.length, 0);
      if (count > 0) logger.info(`${store.name}: recorded ${count} invalidation(s) the shared record lacked`);
    } catch (error) {
      logger.warn(`${store.name}: could not resynchronize tag invalidations: ${describeError(error).split('\n')[0]}`);
    }
  }

  #wake(key: string): void {
    const waiting = this.#waiters.get(key);
    if (waiting === undefined) return;
    this.#waiters.delete(key);
    for (const resolve of waiting) resolve();
  }

  /**
   * Starts listening for the next store event about `key`. `wait(ms)` resolves when one has
   * arrived since (at once if it already has) or after `ms` milliseconds; `cancel()` stops listening.
   */
  #listen(key: string): { wait(ms: number): Promise<void>; cancel(): void } {
    let waiting = this.#waiters.get(key);
    if (waiting === undefined) this.#waiters.set(key, (waiting = new Set()));
    const listeners = waiting;
    let fired = false;
    let resolveWait: (() => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      fired = true;
      clearTimeout(timer);
      listeners.delete(done);
      if (listeners.size === 0 && this.#waiters.get(key) === listeners) this.#waiters.delete(key);
      resolveWait?.();
    };
    listeners.add(done);
    return {
      wait: (ms) =>
        fired
          ? Promise.resolve()
          : new Promise<void>((resolve) => {
              resolveWait = resolve;
              timer = setTimeout(done, ms);
            }),
      cancel: done,
    };
  }
}
