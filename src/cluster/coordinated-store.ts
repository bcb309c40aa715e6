/**
 * The durable store of a worker under `isr start --workers N`: the worker's FileSystemStore on the
 * shared folder, coordinated through the cluster primary's {@link CoordinationHub}.
 *
 * - Reads (`get`, `getTagManifest`) go to the shared folder directly.
 * - `set` writes the entry file (atomic rename) unless the folder already holds a generation with
 *   a later `lastModified`, then announces `set`; `delete` removes the file and announces `delete`.
 * - `invalidateTags` is done by the primary (the single writer of `tags.json`), which announces it.
 * - `subscribe` and `lock` make this a shared store (`SharedStore`, `shared: true`): the engine
 *   hears what other workers did and takes the cluster-wide regeneration lock.
 * - The folder's bound: each worker's FileSystemStore evicts from its own index of the folder, which
 *   also counts the entries the other workers store (their `set` events, `noteStoredElsewhere`);
 *   memory-tier hits reach it through `touch`.
 *
 * Residual race of `set` (best effort compare-and-set): the check and the rename are two steps, so
 * two workers storing the same key at the same moment can end with the older generation on disk if
 * both read the file before either renamed. It needs two regenerations of one key at once, which
 * the lock prevents unless it expired (a render longer than its ttl); the next regeneration
 * repairs it. Entries themselves are never torn: each is one rename.
 */
import type { CacheEntry, CacheStore, Lease, SharedStore, StoreEvent, TagManifest } from '../store/store.ts';
import { mergeTagTimes } from '../store/store.ts';
import type { Milliseconds } from '../units.ts';
import type { CoordinationHub } from './hub.ts';

/** How a worker reaches the hub: directly (same process) or over IPC (`ipc.ts`). */
export interface HubLink {
  /** Resolves a lock token, or undefined when another holder has the lock; rejects when the hub cannot be reached. */
  lock(key: string, ttlMs: Milliseconds): Promise<string | undefined>;
  /** Releases the lock if `token` still holds it (see CoordinationHub.release); rejects when the hub cannot be reached. */
  release(key: string, token: string): Promise<void>;
  /** Records and announces a tag invalidation; resolves once it is recorded. */
  invalidate(tags: readonly string[], at: Milliseconds): Promise<void>;
  /** Announces `event` to every instance (fire and forget). */
  publish(event: StoreEvent): void;
  /** Events from every instance (this one included) until the returned function is called. */
  subscribe(listener: (event: StoreEvent) => void): () => void;
}

/** A HubLink to a hub in the same process (unit tests, embedders running several engines in one process). */
export class DirectHubLink implements HubLink {
  constructor(readonly hub: CoordinationHub) {}

  async lock(key: string, ttlMs: Milliseconds): Promise<string | undefined> {
    return this.hub.tryLock(key, ttlMs);
  }

  async release(key: string, token: string): Promise<void> {
    this.hub.release(key, token);
  }

  invalidate(tags: readonly string[], at: Milliseconds): Promise<void> {
    return this.hub.invalidate(tags, at);
  }

  publish(event: StoreEvent): void {
    this.hub.publish(event);
  }

  subscribe(listener: (event: StoreEvent) => void): () => void {
    return this.hub.subscribe(listener);
  }
}

export interface CoordinatedStoreOptions {
  /** The worker's own store on the shared folder (a FileSystemStore). */
  inner: CacheStore & { noteStoredElsewhere?(key: string): void };
  link: HubLink;
}

export class CoordinatedStore implements SharedStore {
  /** `coordinated(<inner name>)`. */
  readonly name: string;
  /** Every worker on the folder uses it (see `SharedStore`). */
  readonly shared = true;
  readonly inner: CacheStore & { noteStoredElsewhere?(key: string): void };
  readonly link: HubLink;
  readonly #subscriptions = new Set<() => void>();
  /** Ends the subscription that counts other workers' entries toward the inner store's bound. */
  readonly #counting: (() => void) | undefined;

  constructor(options: CoordinatedStoreOptions) {
    if (typeof options?.inner?.get !== 'function') throw new TypeError('CoordinatedStore needs an inner store');
    if (typeof options.link?.lock !== 'function') throw new TypeError('CoordinatedStore needs a hub link');
    this.inner = options.inner;
    this.link = options.link;
    this.name = `coordinated(${this.inner.name})`;
    const inner = this.inner;
    if (typeof inner.noteStoredElsewhere === 'function') {
      this.#counting = this.link.subscribe((event) => {
        if (event.type === 'set') inner.noteStoredElsewhere!(event.key);
      });
    }
  }

  /** A memory-tier hit: passed to the inner store (its bound's last access). */
  touch(key: string, entry: CacheEntry): void {
    this.inner.touch?.(key, entry);
  }

  get(key: string): Promise<CacheEntry | undefined> {
    return this.inner.get(key);
  }

  /**
   * Stores `entry` unless the folder holds a generation of `key` with a later `lastModified`
   * (then nothing is written or announced), and announces `{ type: 'set', key, lastModified }`.
   * Best effort: see the module comment for the remaining race.
   */
  async set(key: string, entry: CacheEntry): Promise<void> {
    const existing = await this.inner.get(key);
    if (existing !== undefined && existing.lastModified > entry.lastModified) return;
    await this.inner.set(key, entry);
    this.link.publish({ type: 'set', key, lastModified: entry.lastModified });
  }

  async delete(key: string): Promise<void> {
    await this.inner.delete(key);
    this.link.publish({ type: 'delete', key });
  }

  getTagManifest(): Promise<TagManifest> {
    return this.inner.getTagManifest();
  }

  /** Has the hub record the invalidation (one writer of tags.json) and announce it. */
  async invalidateTags(tags: readonly string[], at: Milliseconds): Promise<void> {
    mergeTagTimes(new Map(), tags, at); // validates here, with the caller's stack
    if (tags.length === 0) return;
    await this.link.invalidate(tags, at);
  }

  subscribe(listener: (event: StoreEvent) => void): () => void {
    const unsubscribe = this.link.subscribe(listener);
    const remove = () => {
      if (this.#subscriptions.delete(remove)) unsubscribe();
    };
    this.#subscriptions.add(remove);
    return remove;
  }

  async lock(key: string, ttlMs: Milliseconds): Promise<Lease | undefined> {
    const token = await this.link.lock(key, ttlMs);
    if (token === undefined) return undefined;
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        await this.link.release(key, token).catch(() => {}); // the lock then expires on its own
      },
    };
  }

  /** Ends this store's subscriptions and closes the inner store (the link is shared and stays open). */
  async close(): Promise<void> {
    this.#counting?.();
    for (const remove of [...this.#subscriptions]) remove();
    await this.inner.close?.();
  }
}
