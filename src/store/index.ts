/**
 * Storage tiers for the ISR cache: the `CacheStore` interface, the entry codec, and the memory,
 * file-system, Redis and tiered stores.
 */
export type { CacheEntry, CacheStore, CacheValue, CacheValueKind, Lease, SharedStore, StoreEvent, TagManifest } from './store.ts';
export { InvalidationNotRecordedError, isSharedStore, mergeTagManifests, mergeTagTimes, StoreUnavailableError } from './store.ts';
export { CorruptEntryError, decodeEntry, encodeEntry, ENTRY_HEADER_BYTES, ENTRY_MAGIC } from './codec.ts';
export {
  ENTRY_OVERHEAD_BYTES,
  estimateEntrySize,
  MemoryStore,
  type MemoryStoreOptions,
} from './memory.ts';
export { FileSystemStore, ReadOnlyStoreError, writeFileAtomic, type FileSystemStoreOptions } from './filesystem.ts';
export {
  DEFAULT_REDIS_COMMAND_TIMEOUT_MS,
  DEFAULT_REDIS_CONNECT_TIMEOUT_MS,
  redactRedisUrl,
  REDIS_RECONNECT_MAX_MS,
  REDIS_RECONNECT_MIN_MS,
  RedisStore,
  type RedisStoreOptions,
} from './redis.ts';
export { TieredStore, type Tier, type TieredStoreOptions, type TierFailure } from './tiered.ts';
