/**
 * The durable tier: one file per entry, plus a tag manifest file, under one directory.
 *
 * ```
 * <dir>/entries/<h0h1>/<h>.entry   h = sha256(UTF-8 key), lower-case hex; h0h1 its first 2 chars
 * <dir>/tags.json                  {"<tag>": <ms since the epoch>, ...}
 * ```
 *
 * Keys are hashed, never used as paths, so no key can name a location outside `dir`. Every file
 * is replaced atomically (unique temp file in the same directory, optional fsync, `rename` over
 * the target), so a reader in this or another process sees the old file or the new one, never a
 * mix. Entry files use the format in `codec.ts`.
 *
 * Temp files are named `<target>.<pid>.<12 hex>.tmp`. A process killed mid-write (`kill -9`, power
 * loss) leaves its temp file behind; the target is untouched. `sweepTempFiles` removes the temp
 * files in `entries/<h0h1>/` and beside tags.json whose writer is gone: its pid is no live process
 * on this host (`process.kill(pid, 0)` fails with ESRCH), or it is this process's own pid but the
 * file is older than this process (a pid reused after a restart). A temp file of a live process is
 * never removed: under `isr start --workers` several processes write into the same folder. The
 * server runs a sweep in the background each time it opens the store for writing (`createIsr`).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { errorMessage, type Logger } from '../log.ts';
import { CorruptEntryError, decodeEntry, encodeEntry } from './codec.ts';
import { mergeTagTimes, type CacheEntry, type CacheStore, type TagManifest } from './store.ts';

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
  /** Where warnings go (corrupt entry, unreadable file, malformed tags.json). Default: dropped. */
  logger?: Logger;
}

/** `<target>.<pid>.<12 hex>.tmp`, as written by `writeFileAtomic`; group 1 is the pid. */
const TEMP_FILE = /\.(\d+)\.[0-9a-f]{12}\.tmp$/;

/** Error codes meaning "there is nothing at this path" (ENOTDIR: a path component is a file). */
const MISSING = new Set(['ENOENT', 'ENOTDIR']);

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * `CacheStore` on the local file system (layout in the module comment).
 *
 * - `get` never rejects: a missing file is `undefined`; a corrupt file (undecodable, or holding
 *   another key) or an unreadable one is a `warn` and `undefined`.
 * - `set`/`delete`/`invalidateTags` reject with the file-system error when the disk refuses
 *   (EACCES, ENOSPC, ENOTDIR, ...), with ReadOnlyStoreError in read-only mode, and `set` with
 *   TypeError when the entry cannot be encoded or `entry.key !== key`.
 * - `invalidateTags` calls in one process run one at a time; each re-reads tags.json and writes
 *   the per-tag maximum, so concurrent processes lose an update only if their read-merge-write
 *   cycles overlap.
 */
export class FileSystemStore implements CacheStore {
  /** `filesystem:<absolute dir>`. */
  readonly name: string;
  /** Absolute root directory. */
  readonly dir: string;
  readonly readOnly: boolean;
  readonly #fsync: boolean;
  readonly #logger: Logger | undefined;
  /** Tail of the in-process invalidateTags queue; never rejects. */
  #tagQueue: Promise<void> = Promise.resolve();
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
  }

  /** Absolute path of the file that holds (or would hold) `key`; always inside `<dir>/entries`. */
  entryPath(key: string): string {
    const hash = createHash('sha256').update(key, 'utf8').digest('hex');
    return join(this.dir, 'entries', hash.slice(0, 2), `${hash}.entry`);
  }

  /** Absolute path of the tag manifest file. */
  get tagsPath(): string {
    return join(this.dir, 'tags.json');
  }

  async get(key: string): Promise<CacheEntry | undefined> {
    const path = this.entryPath(key);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
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
      this.#logger?.warn(
        `${this.name}: ignoring entry ${JSON.stringify(key)} (${path}): file holds key ${JSON.stringify(entry.key)}`,
      );
      return undefined;
    }
    return entry;
  }

  async set(key: string, entry: CacheEntry): Promise<void> {
    this.#assertWritable('set');
    if (entry.key !== key) {
      throw new TypeError(`cache entry key ${JSON.stringify(entry.key)} does not match ${JSON.stringify(key)}`);
    }
    await writeFileAtomic(this.entryPath(key), encodeEntry(entry), { fsync: this.#fsync });
  }

  /** Removes the file for `key`; a missing file is not an error. */
  async delete(key: string): Promise<void> {
    this.#assertWritable('delete');
    try {
      await unlink(this.entryPath(key));
    } catch (error) {
      if (!MISSING.has(errorCode(error) ?? '')) throw error;
    }
  }

  /**
   * The manifest in tags.json (after this process's pending `invalidateTags` calls). A missing file
   * is an empty manifest; a malformed one is a `warn` and an empty manifest; malformed items are
   * skipped with a `warn`. Rejects only when the file exists but cannot be read (e.g. EACCES).
   */
  async getTagManifest(): Promise<TagManifest> {
    await this.#tagQueue;
    return this.#readTags();
  }

  /** Merges `tags` at `at` ms into tags.json (re-read first), keeping the later time per tag. */
  invalidateTags(tags: readonly string[], at: number): Promise<void> {
    try {
      this.#assertWritable('invalidateTags');
      mergeTagTimes(new Map(), tags, at); // validate the arguments before queueing
    } catch (error) {
      return Promise.reject(error);
    }
    const tagList = [...tags];
    const run = this.#tagQueue.then(async () => {
      const manifest = await this.#readTags();
      mergeTagTimes(manifest, tagList, at);
      const json = `${JSON.stringify(Object.fromEntries(manifest), null, 1)}\n`;
      await writeFileAtomic(this.tagsPath, Buffer.from(json, 'utf8'), { fsync: this.#fsync });
    });
    this.#tagQueue = run.catch(() => {});
    return run;
  }

  /** Waits for pending tag writes and a running `sweepTempFiles`. Holds no other resources. */
  async close(): Promise<void> {
    await this.#tagQueue;
    await this.#sweep;
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

  async #readTags(): Promise<TagManifest> {
    const manifest: TagManifest = new Map();
    let text: string;
    try {
      text = await readFile(this.tagsPath, 'utf8');
    } catch (error) {
      if (MISSING.has(errorCode(error) ?? '')) return manifest;
      throw error;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      this.#logger?.warn(`${this.name}: ignoring malformed ${this.tagsPath}: ${errorMessage(error)}`);
      return manifest;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      this.#logger?.warn(`${this.name}: ignoring malformed ${this.tagsPath}: not a JSON object`);
      return manifest;
    }
    for (const [tag, time] of Object.entries(parsed)) {
      if (typeof time === 'number' && Number.isFinite(time)) manifest.set(tag, time);
      else this.#logger?.warn(`${this.name}: ignoring tag ${JSON.stringify(tag)} in ${this.tagsPath}: bad time`);
    }
    return manifest;
  }

  #assertWritable(operation: string): void {
    if (this.readOnly) throw new ReadOnlyStoreError(this.name, operation);
  }
}

/**
 * Replaces the file at `target` with `data` atomically: writes `<target>.<pid>.<random>.tmp` in the
 * same directory (creating the directory, recursively, if it is missing), optionally fsyncs it,
 * then renames it over `target`. On failure the temp file is removed (best effort) and the error
 * rethrown, leaving any previous `target` untouched.
 *
 * @param options.fsync also fsync the file before the rename and its directory after. Default false.
 * @throws the underlying file-system error (EACCES, ENOSPC, ENOTDIR, EROFS, ...).
 */
export async function writeFileAtomic(
  target: string,
  data: Uint8Array,
  options: { fsync?: boolean } = {},
): Promise<void> {
  const dir = dirname(target);
  const temp = join(dir, `${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const fsync = options.fsync ?? false;

  let handle;
  try {
    handle = await open(temp, 'wx');
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
    await makeDirectory(dir);
    handle = await open(temp, 'wx');
  }
  try {
    try {
      await handle.writeFile(data);
      if (fsync) await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (error) {
    await unlink(temp).catch(() => {});
    throw error;
  }
  if (fsync) await syncDirectory(dir);
}

/**
 * `mkdir -p dir`, rejecting with the real cause: Node's recursive `mkdir` reports ENOENT when a
 * read-only file system refuses it, which would tell an operator the wrong thing; the last level
 * is created on its own so EROFS (or EACCES) surfaces.
 */
async function makeDirectory(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    return;
  } catch (error) {
    if (errorCode(error) !== 'ENOENT' || dirname(dir) === dir) throw error;
  }
  await makeDirectory(dirname(dir));
  await mkdir(dir).catch((error: unknown) => {
    if (errorCode(error) !== 'EEXIST') throw error;
  });
}

/**
 * Whether the temp file at `path`, written by process `pid`, was abandoned: `pid` is no live
 * process on this host, or it is this process but the file predates it (`startedAt`, ms since the
 * epoch). EPERM (a live process of another user) and any other doubt count as live.
 */
async function isStaleTemp(path: string, pid: number, startedAt: number): Promise<boolean> {
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

/** fsyncs a directory so a rename in it is durable; ignored where directories cannot be synced. */
async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Some platforms/file systems (Windows, some network mounts) refuse; the data itself is synced.
  } finally {
    await handle?.close();
  }
}
