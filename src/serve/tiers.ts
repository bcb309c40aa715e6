/**
 * The cache tiers both servers stand on: a memory LRU (`memoryCacheSize` bytes, none at 0) in
 * front of the durable tier, which is Redis shared by every instance when `redisUrl` is set, else
 * this machine's filesystem store (bounded by `diskCacheSize` and `unreadExpireTime`), or what
 * `sharedStore` makes of it (the store coordinated by the cluster primary under `--workers`).
 */
import path from 'node:path';
import type { IsrConfig } from '../config/config.ts';
import type { Clock } from '../engine/clock.ts';
import type { Logger } from '../log.ts';
import { FileSystemStore } from '../store/filesystem.ts';
import { MemoryStore } from '../store/memory.ts';
import { RedisStore } from '../store/redis.ts';
import type { CacheStore } from '../store/store.ts';

/** How long to wait for Redis to answer before serving without it, in milliseconds. */
const REDIS_START_WAIT_MS = 3000;

export interface TierOptions {
  config: IsrConfig;
  /** The entries' namespace: a site's build ID, or the proxy's fixed name (`<cacheDir>/<name>`, `<redisKeyPrefix><name>:`). */
  name: string;
  logger: Logger;
  clock: Clock;
  /** Folders whose entries the filesystem store's tag record also governs (a build's prerendered pages). */
  related?: string[];
  /** The durable tier in place of the filesystem store, given it to wrap or ignore. */
  sharedStore?: ((filesystem: FileSystemStore) => CacheStore) | undefined;
}

/**
 * The memory tier (if any) and the durable tier, fastest first. With Redis it waits up to
 * {@link REDIS_START_WAIT_MS} for Redis to answer (start with the recorded invalidations), never
 * on an outage. The filesystem store's temp files left by dead writers are swept in the background,
 * and this process writes its tag record unless `sharedStore` replaced it.
 */
export async function cacheTiers(options: TierOptions): Promise<{ tiers: { store: CacheStore }[]; memory: MemoryStore | undefined }> {
  const { config, name, logger, clock } = options;
  const tiers: { store: CacheStore }[] = [];
  const memory = config.memoryCacheSize > 0 ? new MemoryStore({ maxBytes: config.memoryCacheSize }) : undefined;
  if (memory !== undefined) tiers.push({ store: memory });
  if (config.redisUrl !== undefined) {
    const redis = new RedisStore({ url: config.redisUrl, keyPrefix: config.redisKeyPrefix, buildId: name, logger });
    await Promise.race([redis.ready.catch(() => {}), new Promise((resolve) => setTimeout(resolve, REDIS_START_WAIT_MS).unref())]);
    tiers.push({ store: redis });
    return { tiers, memory };
  }
  const filesystem = new FileSystemStore({
    dir: path.join(config.cacheDir, name),
    logger,
    // Bounded, least recently used evicted; unread entries expire (docs/architecture.md).
    maxBytes: config.diskCacheSize,
    unreadExpire: config.unreadExpireTime,
    now: () => clock.now(),
    ...(options.related === undefined ? {} : { related: options.related }),
  });
  // Temp files of writers killed mid-write are removed in the background (never fails startup).
  void filesystem.sweepTempFiles();
  const durable = options.sharedStore?.(filesystem) ?? filesystem;
  // This process writes the folder's tag record (a worker's primary does it under --workers):
  // it writes back a record deleted with the folder or refused by the disk.
  if (durable === filesystem) filesystem.watchTagRecord();
  tiers.push({ store: durable });
  return { tiers, memory };
}
