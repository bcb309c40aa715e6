/**
 * The durable tier: one file per entry, plus the tag record, under one directory.
 *
 * ```
 * <dir>/entries/<h0h1>/<h>.entry   h = sha256(UTF-8 key), lower-case hex; h0h1 its first 2 chars
 * <dir>/tags.json                  the tag record's snapshot: {"<tag>": <ms since the epoch>, ...}
 * <dir>/tags.log                   invalidations recorded since: {"at": <ms>, "tags": [...]} per line
 * ```
 *
 * Keys are hashed, never used as paths, so no key can name a location outside `dir`. Every entry
 * file is replaced atomically (unique temp file in the same directory, optional fsync, `rename`
 * over the target), so a reader in this or another process sees the old file or the new one, never
 * a mix. Entry files use the format in `codec.ts`.
 *
 * - **The tag record** (`tag-record.ts`) is appended to, one line per invalidation, and compacted
 *   when the log outgrows the snapshot; compaction drops the invalidations older than every entry
 *   they could affect, found by reading the metadata of this folder's entries and of the `related`
 *   folders' (the build's prerendered pages). An invalidation the disk refused, or a record deleted
 *   with the folder, is written back from memory, whole.
 * - **The bound** (`entry-index.ts`): with `maxBytes` the entry files are kept under it by evicting
 *   the least recently used; with `unreadExpire` files unread for that long are removed and never
 *   served. An entry's last access is its file's modification time. A read-only store (the build's
 *   prerender folder) is never bounded, evicted or expired.
 *
 * Temp files are named `<target>.<pid>.<12 hex>.tmp`. A process killed mid-write (`kill -9`, power
 * loss) leaves its temp file behind; the target is untouched. `sweepTempFiles` removes the temp
 * files in `entries/<h0h1>/` and beside the tag record whose writer is gone: its pid is no live
 * process on this host (`process.kill(pid, 0)` fails with ESRCH), or it is this process's own pid
 * but the file is older than this process (a pid reused after a restart). A temp file of a live
 * process is never removed: under `isr start --workers` several processes write into the same
 * folder. The server runs a sweep in the background each time it opens the store for writing
 * (`createIsr`).
 */
import { createHash } from 'node:crypto';
import { open, readdir, readFile, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { errorMessage, type Logger } from '../log.ts';
import type { Bytes, Milliseconds, Seconds } from '../units.ts';
import { CorruptEntryError, decodeEntry, ENTRY_HEADER_BYTES, ENTRY_MAGIC, encodeEntry } from './codec.ts';
import { EntryIndex } from './entry-index.ts';
import { errorCode, MISSING, writeFileAtomic } from './files.ts';
import { type CacheEntry, type CacheStore, type CacheValueKind, mergeTagTimes, type TagManifest } from './store.ts';
import { type TagHorizon, TagRecord } from './tag-record.ts';

/** Thrown (as a rejection) by the writing methods of a store opened with `readOnly: true`. */
export class ReadOnlyStoreError extends Error {
  override readonly name = 'ReadOnlyStoreError';
  /** The store's `name`. */
  readonly store: string;

  constructor(store: string, operation: string) {
    super(`${store} is read-only: cannot ${operation}`);
    this.store = store;
  }
}

export interface FileSystemStoreOptions {
  /** Root directory of the store (resolved against the working directory). Created on first write. */
  dir: string;
  /** fsync each file (and its directory after the rename) before reporting a write done. Default false. */
  fsync?: boolean;
  /** Refuse every write (`set`, `delete`, `invalidateTags` reject with ReadOnlyStoreError). Default false. */
  readOnly?: boolean;
  /** Where warnings go (corrupt entry, unreadable file, malformed tag record). Default: dropped. */
  logger?: Logger;
  /**
   * Bound on the entry files, in bytes (each file counted as its size rounded up to 4 KiB); the
   * least recently used are evicted past it. Default 0: unbounded. Ignored when `readOnly`.
   */
  maxBytes?: Bytes;
  /**
   * Seconds after its last access (read or write) at which an entry file is removed and no longer
   * served. Default 0: never. Ignored when `readOnly`.
   */
  unreadExpire?: Seconds;
  /** Clock of the last-access times and of compaction's grace period, ms since the epoch. Default `Date.now`. */
  now?: () => Milliseconds;
  /**
   * Other store folders whose entries this store's tag record also governs (the build's read-only
   * prerender folder behind this one): compaction keeps an invalidation any of their entries
   * predates.
   */
  related?: readonly string[];
}

/** `<target>.<pid>.<12 hex>.tmp`, as written by `writeFileAtomic`; group 1 is the pid. */
const TEMP_FILE = /\.(\d+)\.[0-9a-f]{12}\.tmp$/;

/**
 * `CacheStore` on the local file system (layout in the module comment).
 *
 * - `get` never rejects: a missing file is `undefined`; a corrupt file (undecodable, or holding
 *   another key) or an unreadable one is a `warn` and `undefined`.
 * - `set`/`delete`/`invalidateTags` reject with the file-system error when the disk refuses
 *   (EACCES, ENOSPC, ENOTDIR, ...), with ReadOnlyStoreError in read-only mode, and `set` with
 *   TypeError when the entry cannot be encoded or `entry.key !== key`.
 * - `invalidateTags` calls in one process run one at a time; each appends one line to the tag
 *   record (see `tag-record.ts`), which has one writer process. It rejects when the disk refuses,
 *   and keeps the invalidation in memory to write it back once the disk accepts writes.
 */
export class FileSystemStore implements CacheStore {
  /** `filesystem:<absolute dir>`. */
  readonly name: string;
  /** Absolute root directory. */
  readonly dir: string;
  /** Every write rejects with ReadOnlyStoreError (see `CacheStore.readOnly`). */
  readonly readOnly: boolean;
  readonly #fsync: boolean;
  readonly #logger: Logger | undefined;
  readonly #now: () => Milliseconds;
  /** Absolute `related` folders (see the options). */
  readonly related: readonly string[];
  readonly #tags: TagRecord;
  /** The bound and unread expiry of the entry files; undefined when neither is set (or read-only). */
  readonly #index: EntryIndex | undefined;
  /** The entry file of each entry object this store read or wrote (for `touch`, without hashing). */
  readonly #paths = new WeakMap<CacheEntry, string>();
  /** The running `sweepTempFiles`, if any; never rejects. */
  #sweep: Promise<number> | undefined;

  constructor(options: FileSystemStoreOptions) {
    if (typeof options.dir !== 'string' || options.dir === '') {
      throw new TypeError('FileSystemStore needs a non-empty dir');
    }
    this.dir = resolve(options.dir);
    this.name = `filesystem:${this.dir}`;
    this.readOnly = options.readOnly ?? false;
    this.#fsync = options.fsync ?? false;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
    this.related = (options.related ?? []).map((dir) => resolve(dir));
    const maxBytes = options.maxBytes ?? 0;
    const unreadExpire = options.unreadExpire ?? 0;
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0)
      throw new RangeError(`FileSystemStore maxBytes must be a non-negative integer (got ${String(maxBytes)})`);
    if (!(unreadExpire >= 0) || !Number.isFinite(unreadExpire))
      throw new RangeError(`FileSystemStore unreadExpire must be a non-negative number of seconds (got ${String(unreadExpire)})`);
    this.#tags = new TagRecord({
      dir: this.dir,
      name: this.name,
      fsync: this.#fsync,
      logger: this.#logger,
      now: this.#now,
      horizon: () => this.#horizon(),
    });
    if (!this.readOnly && (maxBytes > 0 || unreadExpire > 0)) {
      this.#index = new EntryIndex({
        entriesDir: join(this.dir, 'entries'),
        name: this.name,
        logger: this.#logger,
        now: this.#now,
        maxBytes,
        unreadExpireMs: unreadExpire * 1000,
      });
      this.#index.start();
    }
  }

  /** The tag record (`tag-record.ts`): its files, size and counters. */
  get tagRecord(): TagRecord {
    return this.#tags;
  }

  /** The bound's index (`entry-index.ts`), when `maxBytes` or `unreadExpire` is set. */
  get entryIndex(): EntryIndex | undefined {
    return this.#index;
  }

  /**
   * Makes this store the writer of its folder's tag record: loads it in the background, checks
   * every few seconds that it is still on disk and rewrites it from memory when it is not (the
   * folder was deleted). `onRestored` is called after such a rewrite, and after a write-back of
   * invalidations the disk had refused. Call it on the one store per folder that records
   * invalidations (the server's, or the cluster primary's), never on a worker's.
   */
  watchTagRecord(onRestored?: () => void): void {
    if (this.readOnly) return;
    this.#tags.onRestored = onRestored;
    this.#tags.watch();
  }

  /** Absolute path of the file that holds (or would hold) `key`; always inside `<dir>/entries`. */
  entryPath(key: string): string {
    const hash = createHash('sha256').update(key, 'utf8').digest('hex');
    return join(this.dir, 'entries', hash.slice(0, 2), `${hash}.entry`);
  }

  /** Absolute path of the tag record's snapshot (`tags.json`; the log `tags.log` sits beside it). */
  get tagsPath(): string {
    return this.#tags.snapshotPath;
  }

  /**
   * The entry under `key`, or undefined (missing, corrupt, unreadable, or unread for longer than
   * `unreadExpire`: then its file is removed). Counts as an access for the bound.
   */
  async get(key: string): Promise<CacheEntry | undefined> {
    const path = this.entryPath(key);
    let bytes: Buffer;
    try {
      if (this.#index === undefined) bytes = await readFile(path);
      else {
        const handle = await open(path, 'r');
        try {
          const info = await handle.stat();
          if (this.#index.read(path, info.size, info.mtimeMs) === 'expired') {
            this.#logger?.debug(`${this.name}: entry ${JSON.stringify(key)} unread for longer than the unread expiry: removed`);
            await unlink(path).catch(() => {});
            this.#index.removed(path);
            return undefined;
          }
          bytes = await handle.readFile();
        } finally {
          await handle.close();
        }
      }
    } catch (error) {
      if (MISSING.has(errorCode(error) ?? '')) return undefined;
      this.#logger?.warn(`${this.name}: cannot read entry ${JSON.stringify(key)} (${path}): ${errorMessage(error)}`);
      return undefined;
    }
    let entry: CacheEntry;
    try {
      entry = decodeEntry(bytes);
    } catch (error) {
      // Only CorruptEntryError is expected; anything else is treated the same way (never throw here).
      const reason = error instanceof CorruptEntryError ? error.message : `cannot decode: ${errorMessage(error)}`;
      this.#logger?.warn(`${this.name}: ignoring entry ${JSON.stringify(key)} (${path}): ${reason}`);
      return undefined;
    }
    if (entry.key !== key) {
      this.#logger?.warn(`${this.name}: ignoring entry ${JSON.stringify(key)} (${path}): file holds key ${JSON.stringify(entry.key)}`);
      return undefined;
    }
    this.#paths.set(entry, path);
    return entry;
  }

  async set(key: string, entry: CacheEntry): Promise<void> {
    this.#assertWritable('set');
    if (entry.key !== key) {
      throw new TypeError(`cache entry key ${JSON.stringify(entry.key)} does not match ${JSON.stringify(key)}`);
    }
    const path = this.entryPath(key);
    const bytes = encodeEntry(entry);
    if (this.#index === undefined) {
      await writeFileAtomic(path, bytes, { fsync: this.#fsync });
    } else {
      // The modification time is the last access, on this store's clock.
      const now = this.#now();
      await writeFileAtomic(path, bytes, { fsync: this.#fsync, mtimeMs: now });
      this.#index.written(path, bytes.length, now);
      // Far above the bound (a flood of new entries): wait for eviction to catch up.
      await this.#index.admit();
    }
    this.#paths.set(entry, path);
    this.#tags.nudge();
  }

  /** Removes the file for `key`; a missing file is not an error. */
  async delete(key: string): Promise<void> {
    this.#assertWritable('delete');
    const path = this.entryPath(key);
    try {
      await unlink(path);
    } catch (error) {
      if (!MISSING.has(errorCode(error) ?? '')) throw error;
    }
    this.#index?.removed(path);
  }

  /** A memory-tier hit of `entry`: an access of its file for the bound (see `CacheStore.touch`). */
  touch(key: string, entry: CacheEntry): void {
    if (this.#index === undefined) return;
    let path = this.#paths.get(entry);
    if (path === undefined) this.#paths.set(entry, (path = this.entryPath(key)));
    this.#index.touched(path);
  }

  /**
   * Another process sharing the folder (a worker of `isr start --workers`) stored `key`: its file
   * counts toward this store's bound from now on. Cheap; never throws.
   */
  noteStoredElsewhere(key: string): void {
    this.#index?.external(this.entryPath(key));
  }

  /**
   * The tag record (after this process's pending `invalidateTags` calls), with what this store
   * recorded but the disk refused. A missing file is empty; a malformed snapshot is a `warn` and
   * empty; malformed log lines are skipped with a `warn`; a last log line cut short is ignored.
   * Rejects only when a file exists but cannot be read (e.g. EACCES).
   */
  getTagManifest(): Promise<TagManifest> {
    return this.#tags.read();
  }

  /**
   * Appends the invalidation of `tags` at `at` ms to the tag record (`tag-record.ts`).
   * @throws ReadOnlyStoreError in read-only mode; TypeError for a bad `at` or tag; the disk's error
   *   when it refuses (the invalidation is then kept in memory and written back later).
   */
  invalidateTags(tags: readonly string[], at: Milliseconds): Promise<void> {
    try {
      this.#assertWritable('invalidateTags');
      mergeTagTimes(new Map(), tags, at); // validate the arguments before queueing
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#tags.record([...tags], at);
  }

  /** Waits for pending tag writes, eviction and a running `sweepTempFiles`, and stops the timers. */
  async close(): Promise<void> {
    await this.#tags.close();
    await this.#index?.close();
    await this.#sweep;
  }

  /**
   * For compaction: the tags of every entry in this folder and the `related` ones, with the oldest
   * `lastModified` per tag, and the oldest data-cache entry. Reads each file's metadata block only.
   * @throws when a folder exists but cannot be listed (compaction then drops nothing).
   */
  async #horizon(): Promise<TagHorizon> {
    const carried = new Map<string, number>();
    let oldestData = Infinity;
    for (const dir of [this.dir, ...this.related]) {
      const entries = join(dir, 'entries');
      let shards: string[];
      try {
        shards = await readdir(entries);
      } catch (error) {
        if (MISSING.has(errorCode(error) ?? '')) continue;
        throw error;
      }
      for (const shard of shards) {
        if (!/^[0-9a-f]{2}$/.test(shard)) continue;
        const names = await readdir(join(entries, shard));
        for (const name of names) {
          if (!name.endsWith('.entry')) continue;
          const head = await readEntryHead(join(entries, shard, name));
          if (head === undefined) continue; // gone, or corrupt: never served
          for (const tag of head.tags) {
            const known = carried.get(tag);
            if (known === undefined || head.lastModified < known) carried.set(tag, head.lastModified);
          }
          if ((head.kind === 'fetch' || head.kind === 'function') && head.lastModified < oldestData) oldestData = head.lastModified;
        }
      }
    }
    return { carried, oldestData };
  }

  /**
   * Removes the temp files left by writers that died mid-write (rule in the module comment) from
   * `entries/<h0h1>/` and the store's root. Reads each folder once; stats only the temp files of
   * this process's own pid. Concurrent calls share one sweep.
   *
   * @returns the number of files removed. Never rejects: an unreadable folder or a file that
   *   cannot be removed is a `warn`; a missing folder (nothing written yet) is no error.
   */
  sweepTempFiles(): Promise<number> {
    if (this.readOnly) return Promise.resolve(0);
    this.#sweep ??= this.#sweepTempFiles()
      .catch((error: unknown) => {
        this.#logger?.warn(`${this.name}: temp file sweep failed: ${errorMessage(error)}`);
        return 0;
      })
      .finally(() => {
        this.#sweep = undefined;
      });
    return this.#sweep;
  }

  async #sweepTempFiles(): Promise<number> {
    // The start of this process, in ms since the epoch: own-pid temp files older than it were left
    // by an earlier process that had the same pid.
    const startedAt = Date.now() - process.uptime() * 1000;
    let removed = 0;
    const sweepFolder = async (folder: string): Promise<void> => {
      let names: string[];
      try {
        names = await readdir(folder);
      } catch (error) {
        if (MISSING.has(errorCode(error) ?? '')) return;
        this.#logger?.warn(`${this.name}: cannot list ${folder} for stale temp files: ${errorMessage(error)}`);
        return;
      }
      for (const name of names) {
        const match = TEMP_FILE.exec(name);
        if (match === null) continue;
        const path = join(folder, name);
        if (!(await isStaleTemp(path, Number(match[1]), startedAt))) continue;
        try {
          await unlink(path);
          removed++;
        } catch (error) {
          if (!MISSING.has(errorCode(error) ?? '')) {
            this.#logger?.warn(`${this.name}: cannot remove stale temp file ${path}: ${errorMessage(error)}`);
          }
        }
      }
    };
    await sweepFolder(this.dir);
    const entries = join(this.dir, 'entries');
    let shards: string[];
    try {
      shards = await readdir(entries);
    } catch (error) {
      if (MISSING.has(errorCode(error) ?? '')) return removed;
      throw error;
    }
    for (const shard of shards) {
      if (/^[0-9a-f]{2}$/.test(shard)) await sweepFolder(join(entries, shard));
    }
    return removed;
  }

  #assertWritable(operation: string): void {
    if (this.readOnly) throw new ReadOnlyStoreError(this.name, operation);
  }
}

/**
 * Whether the temp file at `path`, written by process `pid`, was abandoned: `pid` is no live
 * process on this host, or it is this process but the file predates it (`startedAt`, ms since the
 * epoch). EPERM (a live process of another user) and any other doubt count as live.
 */
async function isStaleTemp(path: string, pid: number, startedAt: Milliseconds): Promise<boolean> {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) {
    const info = await stat(path).catch(() => undefined);
    return info !== undefined && info.mtimeMs < startedAt;
  }
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return errorCode(error) === 'ESRCH';
  }
}

/**
 * The `kind`, `tags` and `lastModified` in the metadata block of the entry file at `path`, read
 * without its body; undefined when the file is gone or its head is not a valid entry's.
 */
async function readEntryHead(path: string): Promise<{ kind: CacheValueKind; tags: string[]; lastModified: number } | undefined> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const header = Buffer.alloc(ENTRY_HEADER_BYTES);
    const { bytesRead } = await handle.read(header, 0, ENTRY_HEADER_BYTES, 0);
    if (bytesRead !== ENTRY_HEADER_BYTES || !header.subarray(0, 4).equals(ENTRY_MAGIC)) return undefined;
    const length = header.readUInt32BE(4);
    if (length > 64 * 1024 * 1024) return undefined;
    const metadata = Buffer.alloc(length);
    const read = await handle.read(metadata, 0, length, ENTRY_HEADER_BYTES);
    if (read.bytesRead !== length) return undefined;
    const parsed = JSON.parse(metadata.toString('utf8')) as { kind?: unknown; tags?: unknown; lastModified?: unknown };
    if (!Array.isArray(parsed.tags) || !parsed.tags.every((tag) => typeof tag === 'string')) return undefined;
    if (typeof parsed.lastModified !== 'number' || !Number.isFinite(parsed.lastModified)) return undefined;
    return { kind: parsed.kind as CacheValueKind, tags: parsed.tags as string[], lastModified: parsed.lastModified };
  } catch {
    return undefined;
  } finally {
    await handle.close();
  }
}
