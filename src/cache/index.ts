/**
 * Storage tiers for the ISR cache: the `CacheStore` interface, the entry codec, and the memory,
 * file-system and tiered stores.
 */
export type { CacheEntry, CacheStore, CacheValue, CacheValueKind, TagManifest } from './store.ts';
export { mergeTagManifests, mergeTagTimes } from './store.ts';
export { CorruptEntryError, decodeEntry, encodeEntry, ENTRY_HEADER_BYTES, ENTRY_MAGIC } from './codec.ts';
export {
  DEFAULT_MEMORY_MAX_BYTES,
  ENTRY_OVERHEAD_BYTES,
  estimateEntrySize,
  MemoryStore,
  type MemoryStoreOptions,
} from './memory.ts';
export { FileSystemStore, ReadOnlyStoreError, writeFileAtomic, type FileSystemStoreOptions } from './filesystem.ts';
export { TieredStore, type Tier, type TieredStoreOptions, type TierFailure } from './tiered.ts';
