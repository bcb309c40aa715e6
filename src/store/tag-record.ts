/**
 * The tag record of a FileSystemStore: every tag invalidation it recorded, kept in two files.
 *
 * ```
 * <dir>/tags.json   the snapshot: {"<tag>": <ms since the epoch>, ...} (the format every earlier
 *                   version wrote, so a folder written by one is read as is)
 * <dir>/tags.log    what was recorded since the snapshot: one line per invalidateTags call,
 *                   {"at": <ms since the epoch>, "tags": ["<tag>", ...]}\n
 * ```
 *
 * The record is the per-tag maximum over the snapshot and every complete line of the log.
 *
 * - **Incremental.** Recording an invalidation appends one line with one `write` (O_APPEND): its
 *   cost is the size of the request, not of the record. A line cut short (`kill -9` during a large
 *   write, a full disk) can only be the last one: readers ignore a last line without its newline,
 *   and the writer never appends after one (it rewrites the record first).
 * - **Compaction.** When the log outgrows both {@link COMPACT_MIN_LOG_BYTES} and the snapshot, the
 *   writer rewrites the snapshot (temp file and rename) from what it holds in memory, then empties
 *   the log (temp file and rename too). A crash between the two leaves log lines that the new
 *   snapshot already holds: harmless, the maximum is the same. Readers read the log before the
 *   snapshot, so a compaction between their two reads loses nothing. Compaction also drops the tags
 *   that can no longer change anything: see {@link droppable}. Amortised, every recorded byte is
 *   rewritten a bounded number of times (the log must double the snapshot's size in between).
 * - **Nothing acknowledged is lost.** The writer merges an invalidation into its in-memory record
 *   before writing it, so one the disk refused (read-only, full) is still there: it rewrites the
 *   whole record as soon as the disk accepts writes (a retry with back-off), and when the record
 *   has vanished (the folder was deleted: an append finds no log, or {@link TagRecord.watch}'s
 *   periodic check finds a file missing) it rewrites it from memory, with every tag, not only the
 *   newest. `onRestored` is then called (the cluster primary announces `resync`, so the workers
 *   push back what they hold).
 * - **One writer.** The record is written by one process: the server, or the primary of
 *   `isr start --workers N`. Several writers would each rewrite the record from their own memory.
 */
import { constants } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage, type Logger } from '../log.ts';
import type { Bytes, Milliseconds } from '../units.ts';
import { errorCode, isMissing, writeFileAtomic } from './files.ts';
import { mergeTagTimes, type TagManifest } from './store.ts';

/** File name of the snapshot. */
export const TAGS_SNAPSHOT = 'tags.json';
/** File name of the log. */
export const TAGS_LOG = 'tags.log';
/** The log is compacted once it holds more than this many bytes and more than the snapshot: 1 MiB. */
export const COMPACT_MIN_LOG_BYTES = 1024 * 1024;
/**
 * An invalidation is dropped by compaction only if it is older than this (ms): two hours, more than
 * the longest render isr allows (`renderTimeout` is at most 3600 s). An entry stored after the
 * compaction looked at the folder started its render less than that before, so after the
 * invalidation; see {@link droppable}.
 */
export const DROP_GRACE_MS = 2 * 60 * 60 * 1000;
/** How often {@link TagRecord.watch} checks that the record is still on disk (ms). */
export const RECORD_CHECK_MS = 5_000;
/** First and longest delay between write-back attempts after a refused write (ms). */
export const RETRY_MIN_MS = 1_000;
export const RETRY_MAX_MS = 30_000;

/** Implicit tags (the page's path tags, `engine/tags.ts`) start with this. */
const IMPLICIT_TAG_PREFIX = '_N_T_';

/**
 * What the entries that could still be served look like, for compaction: the entries of the store
 * and of the folders it governs (the build's prerendered pages).
 */
export interface TagHorizon {
  /** Tag → the oldest `lastModified` (ms) of an entry carrying it. */
  carried: Map<string, number>;
  /**
   * The oldest `lastModified` (ms) of a data-cache entry (`fetch`, `function`), or Infinity. A
   * data entry is also checked against the implicit tags of the page that reads it (the engine's
   * `extraTags`), which it does not carry, so any implicit tag may affect it.
   */
  oldestData: number;
}

/**
 * Whether the invalidation of `tag` at `at` ms can be dropped from the record: it is older than
 * every entry it could affect, so none of them is invalidated by it (an entry is invalidated by a
 * tag time at or after its `lastModified`), and older than `judgedAt - DROP_GRACE_MS`, so no render
 * still running when the folder was looked at (which could store an entry older than the
 * invalidation) can exist. Entries stored later are newer still. The entries a tag could affect:
 * those carrying it; for an implicit tag, also every data-cache entry.
 *
 * A running engine keeps the invalidations it knows in memory (dropping concerns only the record
 * that a restarted process reads), and its memory tier holds only entries it checks against them.
 */
export function droppable(tag: string, at: Milliseconds, horizon: TagHorizon, judgedAt: Milliseconds): boolean {
  if (!(at < judgedAt - DROP_GRACE_MS)) return false;
  const carried = horizon.carried.get(tag) ?? Infinity;
  const bound = tag.startsWith(IMPLICIT_TAG_PREFIX) ? Math.min(carried, horizon.oldestData) : carried;
  return at < bound;
}

export interface TagRecordOptions {
  /** The store folder. */
  dir: string;
  /** The store's name, for logs. */
  name: string;
  fsync: boolean;
  logger?: Logger;
  /** The store's clock (ms since the epoch): compaction's grace period. */
  now: () => number;
  /** Looks at the entries for compaction; absent: compaction folds the log but drops nothing. */
  horizon?: () => Promise<TagHorizon>;
  /** Default {@link COMPACT_MIN_LOG_BYTES}. */
  compactMinLogBytes?: Bytes;
}

/** What `readDisk` found. */
interface DiskRecord {
  manifest: TagManifest;
  logBytes: Bytes;
  snapshotBytes: Bytes;
  logFound: boolean;
  snapshotFound: boolean;
  /** The log ends with an unterminated line (ignored). */
  torn: boolean;
}

/** Why the whole record must be rewritten before anything is appended. */
type RewriteReason = 'failed' | 'missing' | 'torn' | 'no-log';

/** The tag record of one store folder (module comment). */
export class TagRecord {
  readonly snapshotPath: string;
  readonly logPath: string;
  /** Called after the record was rewritten because the disk had lost it or refused it (module comment). */
  onRestored: (() => void) | undefined;
  readonly #options: TagRecordOptions;
  /** What this process recorded, merged with the disk's record once loaded. */
  readonly #manifest: TagManifest = new Map();
  #loaded = false;
  /** The record has been on disk (found when loading, or written). */
  #existed = false;
  #rewrite: RewriteReason | undefined;
  #logBytes = 0;
  #snapshotBytes = 0;
  /** Tail of the write queue; never rejects. */
  #queue: Promise<void> = Promise.resolve();
  #compacting: Promise<void> | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #retryDelay = RETRY_MIN_MS;
  #checkTimer: NodeJS.Timeout | undefined;
  #lastCheck = 0;
  #closed = false;
  /** Counts, for tests and logs. */
  readonly stats = { appends: 0, rewrites: 0, compactions: 0, dropped: 0 };

  constructor(options: TagRecordOptions) {
    this.#options = options;
    this.snapshotPath = join(options.dir, TAGS_SNAPSHOT);
    this.logPath = join(options.dir, TAGS_LOG);
  }

  /** Bytes of the record on disk as this writer last wrote it (snapshot + log). */
  get bytes(): number {
    return this.#snapshotBytes + this.#logBytes;
  }

  /**
   * The record on disk merged with what this process recorded (including what the disk refused),
   * after this process's pending writes. A missing file is empty; a malformed snapshot is a `warn`
   * and empty; malformed log lines are skipped with a `warn`.
   * @throws the file-system error when a file exists but cannot be read (EACCES).
   */
  async read(): Promise<TagManifest> {
    await this.#queue;
    const disk = await this.#readDisk();
    for (const [tag, at] of this.#manifest) mergeTagTimes(disk.manifest, [tag], at);
    return disk.manifest;
  }

  /**
   * Records `tags` as invalidated at `at` ms: merged into memory at once (kept even if the write
   * fails, and written back later), then appended to the log (or the whole record rewritten, when
   * the log is missing, torn or an earlier write failed). Calls run one at a time.
   * @throws the file-system error when the disk refuses (a write-back is then scheduled).
   */
  record(tags: readonly string[], at: number): Promise<void> {
    mergeTagTimes(this.#manifest, tags, at);
    const line = Buffer.from(`${JSON.stringify({ at, tags })}\n`, 'utf8');
    const run = this.#enqueue(async () => {
      await this.#load();
      if (this.#rewrite !== undefined) {
        await this.#rewriteAll();
        return;
      }
      try {
        await this.#append(line);
      } catch (error) {
        if (!isMissing(error)) throw error;
        this.#rewrite = this.#existed ? 'missing' : 'no-log';
        await this.#rewriteAll();
      }
    });
    return run.then(
      () => this.#maybeCompact(),
      (error: unknown) => {
        this.#failed();
        throw error;
      },
    );
  }

  /**
   * Loads the record in the background and checks every {@link RECORD_CHECK_MS} ms (and on
   * {@link nudge}) that its files are still on disk, rewriting it from memory when one is missing.
   * Only the record's writer calls this.
   */
  watch(): void {
    if (this.#checkTimer !== undefined || this.#closed) return;
    this.#enqueue(() => this.#load()).catch((error: unknown) => {
      this.#options.logger?.warn(`${this.#options.name}: cannot read the tag record: ${errorMessage(error)}`);
    });
    this.#checkTimer = setInterval(() => this.#check(), RECORD_CHECK_MS);
    this.#checkTimer.unref();
  }

  /** A hint that the folder may have changed (an entry was written): checks the record, at most once a second. */
  nudge(): void {
    if (this.#checkTimer === undefined || Date.now() - this.#lastCheck < 1000) return;
    this.#check();
  }

  /** Resolves when no write or compaction is pending (tests, measurements). */
  async settled(): Promise<void> {
    while (this.#compacting !== undefined) await this.#compacting;
    await this.#queue;
  }

  /** Waits for pending writes and a running compaction, then stops the timers; tries a last write-back. */
  async close(): Promise<void> {
    await this.#compacting;
    this.#closed = true;
    clearInterval(this.#checkTimer);
    clearTimeout(this.#retryTimer);
    if (this.#rewrite !== undefined && this.#loaded) {
      await this.#enqueue(() => this.#rewriteAll()).catch(() => {});
    }
    await this.#queue;
  }

  // -------------------------------------------------------------------------------------------

  #enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(task);
    this.#queue = run.catch(() => {});
    return run;
  }

  /** Merges the disk's record into memory, once (writer side). */
  async #load(): Promise<void> {
    if (this.#loaded) return;
    const disk = await this.#readDisk();
    for (const [tag, at] of disk.manifest) mergeTagTimes(this.#manifest, [tag], at);
    this.#loaded = true;
    this.#existed = disk.logFound || disk.snapshotFound;
    this.#logBytes = disk.logBytes;
    this.#snapshotBytes = disk.snapshotBytes;
    // Never append after a cut-short line; a folder of an earlier version has no log yet.
    if (disk.torn) this.#rewrite = 'torn';
    else if (disk.snapshotFound && !disk.logFound) this.#rewrite = 'no-log';
  }

  /** Reads the log, then the snapshot (see the module comment for why in this order). */
  async #readDisk(): Promise<DiskRecord> {
    const { name, logger } = this.#options;
    const result: DiskRecord = { manifest: new Map(), logBytes: 0, snapshotBytes: 0, logFound: false, snapshotFound: false, torn: false };
    let log: string | undefined;
    try {
      log = await readFile(this.logPath, 'utf8');
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
    let snapshot: string | undefined;
    try {
      snapshot = await readFile(this.snapshotPath, 'utf8');
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
    if (log !== undefined) {
      result.logFound = true;
      result.logBytes = Buffer.byteLength(log);
      const end = log.lastIndexOf('\n');
      result.torn = end < log.length - 1;
      const lines = log.slice(0, end + 1).split('\n');
      lines.pop();
      lines.forEach((line, index) => {
        const item = parseLine(line);
        if (item === undefined) {
          if (line !== '') logger?.warn(`${name}: ignoring malformed line ${index + 1} of ${this.logPath}`);
          return;
        }
        mergeTagTimes(result.manifest, item.tags, item.at);
      });
    }
    if (snapshot !== undefined) {
      result.snapshotFound = true;
      result.snapshotBytes = Buffer.byteLength(snapshot);
      let parsed: unknown;
      try {
        parsed = JSON.parse(snapshot);
      } catch (error) {
        logger?.warn(`${name}: ignoring malformed ${this.snapshotPath}: ${errorMessage(error)}`);
        return result;
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        logger?.warn(`${name}: ignoring malformed ${this.snapshotPath}: not a JSON object`);
        return result;
      }
      for (const [tag, time] of Object.entries(parsed)) {
        if (typeof time === 'number' && Number.isFinite(time)) mergeTagTimes(result.manifest, [tag], time);
        else logger?.warn(`${name}: ignoring tag ${JSON.stringify(tag)} in ${this.snapshotPath}: bad time`);
      }
    }
    return result;
  }

  /** Appends `line` with one write to the existing log; ENOENT when the log is missing. */
  async #append(line: Buffer): Promise<void> {
    // No O_CREAT: a missing log means the record is missing (deleted folder) or not yet written.
    const handle = await open(this.logPath, constants.O_WRONLY | constants.O_APPEND);
    try {
      const { bytesWritten } = await handle.write(line, 0, line.length);
      if (bytesWritten !== line.length) {
        this.#rewrite = 'torn';
        throw Object.assign(new Error(`short write to ${this.logPath} (${bytesWritten} of ${line.length} bytes)`), { code: 'ENOSPC' });
      }
      if (this.#options.fsync) await handle.sync();
    } finally {
      await handle.close();
    }
    this.#logBytes += line.length;
    this.#existed = true;
    this.stats.appends++;
  }

  /** Writes the whole record from memory: the snapshot, then an empty log. */
  async #rewriteAll(): Promise<void> {
    const { fsync, logger, name } = this.#options;
    const json = Buffer.from(`${JSON.stringify(Object.fromEntries(this.#manifest))}\n`, 'utf8');
    await writeFileAtomic(this.snapshotPath, json, { fsync });
    await writeFileAtomic(this.logPath, new Uint8Array(0), { fsync });
    const reason = this.#rewrite;
    this.#rewrite = undefined;
    this.#snapshotBytes = json.length;
    this.#logBytes = 0;
    this.#existed = true;
    this.stats.rewrites++;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#retryDelay = RETRY_MIN_MS;
    if (reason === 'failed' || reason === 'missing') {
      logger?.info(
        `${name}: wrote the tag record back (${this.#manifest.size} tag invalidations) after ${reason === 'missing' ? 'it went missing from disk' : 'writes were refused'}`,
      );
      try {
        this.onRestored?.();
      } catch {
        // a listener must not break the writer
      }
    }
  }

  /** After a refused write: rewrite everything once writes are accepted again (retried with back-off). */
  #failed(): void {
    if (this.#rewrite !== 'torn' && this.#rewrite !== 'missing') this.#rewrite = 'failed';
    if (this.#retryTimer !== undefined || this.#closed) return;
    const delay = this.#retryDelay;
    this.#retryDelay = Math.min(this.#retryDelay * 2, RETRY_MAX_MS);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#enqueue(async () => {
        await this.#load();
        if (this.#rewrite !== undefined) await this.#rewriteAll();
      }).catch(() => this.#failed());
    }, delay);
    this.#retryTimer.unref();
  }

  /** The periodic check of {@link watch}: rewrites the record when a file of it is gone. */
  #check(): void {
    this.#lastCheck = Date.now();
    if (this.#closed || !this.#loaded || !this.#existed || this.#rewrite !== undefined) return;
    this.#enqueue(async () => {
      if (!this.#existed || this.#rewrite !== undefined) return;
      const missing = await Promise.all(
        [this.logPath, this.snapshotPath].map((path) =>
          stat(path).then(
            () => false,
            (error: unknown) => isMissing(error),
          ),
        ),
      );
      if (!missing.includes(true)) return;
      this.#rewrite = 'missing';
      await this.#rewriteAll();
    }).catch((error: unknown) => {
      if (errorCode(error) !== undefined) this.#failed();
    });
  }

  #maybeCompact(): void {
    if (this.#compacting !== undefined || this.#closed) return;
    const min = this.#options.compactMinLogBytes ?? COMPACT_MIN_LOG_BYTES;
    if (this.#logBytes <= Math.max(min, this.#snapshotBytes)) return;
    this.#compacting = this.#compact()
      .catch((error: unknown) => this.#options.logger?.warn(`${this.#options.name}: tag record compaction failed: ${errorMessage(error)}`))
      .finally(() => {
        this.#compacting = undefined;
      });
  }

  /** Drops what {@link droppable} allows and rewrites the record (module comment). */
  async #compact(): Promise<void> {
    const { horizon: look, logger, name, now } = this.#options;
    const judgedAt = now();
    let horizon: TagHorizon | undefined;
    try {
      horizon = await look?.();
    } catch (error) {
      logger?.warn(`${name}: cannot look at the entries for tag compaction (nothing dropped): ${errorMessage(error)}`);
    }
    const drop = new Map<string, number>();
    if (horizon !== undefined) {
      for (const [tag, at] of this.#manifest) if (droppable(tag, at, horizon, judgedAt)) drop.set(tag, at);
    }
    const before = this.bytes;
    await this.#enqueue(async () => {
      if (this.#rewrite !== undefined) return; // a refused or missing record is written back first, whole
      for (const [tag, at] of drop) if (this.#manifest.get(tag) === at) this.#manifest.delete(tag);
      await this.#rewriteAll();
    });
    this.stats.compactions++;
    this.stats.dropped += drop.size;
    logger?.debug(
      `${name}: compacted the tag record from ${before} to ${this.bytes} bytes (${this.#manifest.size} tags kept, ${drop.size} dropped)`,
    );
  }
}

/** One log line, or undefined when it is not `{"at": <finite number>, "tags": [<string>, ...]}`. */
function parseLine(line: string): { at: number; tags: string[] } | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { at, tags } = value as { at?: unknown; tags?: unknown };
  if (typeof at !== 'number' || !Number.isFinite(at) || !Array.isArray(tags) || !tags.every((tag) => typeof tag === 'string'))
    return undefined;
  return { at, tags: tags as string[] };
}
