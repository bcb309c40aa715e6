/**
 * The in-process tier: an LRU bounded in bytes (estimated), plus the tag manifest in a Map.
 * Nothing survives a restart.
 *
 * Entries are stored and returned by reference, never copied: callers must treat a `CacheEntry`
 * (and its body) as immutable once it has been handed to `set`.
 */
import { LRUCache } from 'lru-cache';
import { OPTIONS } from '../config/options.ts';
import type { Logger } from '../log.ts';
import type { Bytes, Milliseconds } from '../units.ts';
import { type CacheEntry, type CacheStore, mergeTagTimes, type TagManifest } from './store.ts';

/**
 * Fixed estimate, in bytes, of what one entry costs beyond its body and strings: the entry, value,
 * headers and tags objects, the LRU's bookkeeping slots, number fields.
 */
export const ENTRY_OVERHEAD_BYTES: Bytes = 256;

/**
 * The size, in bytes, that MemoryStore charges for `entry` stored under `key`:
 * body bytes + `ENTRY_OVERHEAD_BYTES` + key length + etag length + every header name and value
 * length + every tag length. String lengths are counted in UTF-16 code units (one per byte for
 * ASCII), which is an estimate, not an exact heap measurement. Always >= `ENTRY_OVERHEAD_BYTES`.
 */
export function estimateEntrySize(key: string, entry: CacheEntry): Bytes {
  let size = ENTRY_OVERHEAD_BYTES + entry.value.body.byteLength + (entry.value.data?.byteLength ?? 0) + key.length + entry.etag.length;
  for (const name in entry.value.headers) size += name.length + (entry.value.headers[name]?.length ?? 0);
  for (const tag of entry.tags) size += tag.length;
  return size;
}

export interface MemoryStoreOptions {
  /** Upper bound on the summed `estimateEntrySize` of the kept entries, in bytes. Default 50 MiB. */
  maxBytes?: Bytes;
  /** Receives `debug` lines (an entry too large to keep). Default: no logging. */
  logger?: Logger;
}

/**
 * `CacheStore` held in process memory: a least-recently-used map bounded in bytes.
 *
 * - `set` of an entry whose estimated size exceeds `maxBytes` does not keep it (and drops any
 *   older entry under that key, so a stale value is never left behind); it does not throw.
 * - Inserting past the bound evicts least-recently-used entries (recency is bumped by `get`,
 *   `peek` and `set`) until the total fits again.
 * - The tag manifest is unbounded (one number per invalidated tag).
 */
export class MemoryStore implements CacheStore {
  readonly name = 'memory';
  /** Nothing here outlives the process (see `CacheStore.durable`). */
  readonly durable = false;
  /** The bound given at construction, in bytes. */
  readonly maxBytes: Bytes;
  readonly #entries: LRUCache<string, CacheEntry>;
  readonly #tags: TagManifest = new Map();
  readonly #logger: Logger | undefined;

  /** @throws RangeError if `maxBytes` is not a positive safe integer. */
  constructor(options: MemoryStoreOptions = {}) {
    const maxBytes = options.maxBytes ?? OPTIONS.memoryCacheSize.default;
    if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) {
      throw new RangeError(`MemoryStore maxBytes must be a positive integer (got ${String(maxBytes)})`);
    }
    this.maxBytes = maxBytes;
    this.#logger = options.logger;
    this.#entries = new LRUCache<string, CacheEntry>({
      maxSize: maxBytes,
      sizeCalculation: (entry, key) => estimateEntrySize(key, entry),
    });
  }

  /** Summed estimated size of the kept entries, in bytes; never above `maxBytes`. */
  get bytes(): Bytes {
    return this.#entries.calculatedSize;
  }

  /** Number of kept entries. */
  get size(): number {
    return this.#entries.size;
  }

  /** Synchronous `get`: the entry under `key` or undefined; marks it most recently used. */
  peek(key: string): CacheEntry | undefined {
    return this.#entries.get(key);
  }

  /** The entry under `key` or undefined; marks it most recently used. Never rejects. */
  async get(key: string): Promise<CacheEntry | undefined> {
    return this.#entries.get(key);
  }

  /**
   * Keeps `entry` under `key` (synchronously, before the returned promise settles), or drops it if
   * it is larger than `maxBytes`.
   * @throws TypeError (as a rejection) if `entry.key !== key`.
   */
  async set(key: string, entry: CacheEntry): Promise<void> {
    if (entry.key !== key) {
      throw new TypeError(`cache entry key ${JSON.stringify(entry.key)} does not match ${JSON.stringify(key)}`);
    }
    const size = estimateEntrySize(key, entry);
    if (size > this.maxBytes) {
      this.#entries.delete(key);
      this.#logger?.debug(`memory: not keeping ${JSON.stringify(key)} (${size} bytes > bound ${this.maxBytes})`);
      return;
    }
    this.#entries.set(key, entry, { size });
  }

  async delete(key: string): Promise<void> {
    this.#entries.delete(key);
  }

  /** A copy of the manifest (tag → invalidation time in ms). */
  async getTagManifest(): Promise<TagManifest> {
    return new Map(this.#tags);
  }

  /** Records `tags` as invalidated at `at` ms, keeping the later time per tag. */
  async invalidateTags(tags: readonly string[], at: Milliseconds): Promise<void> {
    mergeTagTimes(this.#tags, tags, at);
  }

  /** Drops every entry and tag. */
  async close(): Promise<void> {
    this.#entries.clear();
    this.#tags.clear();
  }
}
