/**
 * The bound of a FileSystemStore's entries: an in-memory index of the entry files in (nearly)
 * least recently used order, which evicts the least recently used ones when their bytes pass the
 * bound and removes those unread for longer than the unread expiry. The order is kept as the CLOCK
 * algorithm keeps it (an access marks the file in place; an eviction pass moves a marked file to
 * the recent end instead of removing it), so an access costs O(1).
 *
 * - **Size.** Each file counts as its size rounded up to {@link BLOCK_BYTES} (what it takes on a
 *   file system of 4 KiB blocks, ext4's and tmpfs's default), so many small entries (404 pages)
 *   are not undercounted. Directories and the tag record are not counted.
 * - **Last access** is a read (`get`, or a hit in the memory tier above, `touch`) or a write. It is
 *   kept in memory, and on disk as the file's modification time (set on write; on access at most
 *   every {@link touchIntervalMs} per file), so it survives a restart and is seen by the other
 *   processes of `isr start --workers N` that share the folder.
 * - **Start-up.** The index is built by listing the folder and `stat`ing each file, in the
 *   background: nothing waits for it. Files found are ordered by modification time, before
 *   everything used meanwhile. Eviction and expiry start once it is built.
 * - **Eviction.** When the counted bytes pass `maxBytes`, the least recently used files are removed
 *   until they are at most {@link LOW_WATER} of it, {@link EVICT_BATCH} at a time. A write that
 *   finds them above {@link BACKPRESSURE} times the bound waits for that pass (`admit`), so a
 *   flood of new entries is slowed to the pace of eviction instead of outrunning it. Before removing a file its modification time is
 *   checked: one newer than this index knows (another worker wrote or read it) moves it to the
 *   recent end instead. Removing a file another process is reading is harmless (it keeps its open
 *   file); for that process it is a miss next time. Nothing is ever torn: files are only replaced
 *   by rename or unlinked.
 * - **Unread expiry.** A file whose last access is more than `unreadExpireMs` ago is removed (in
 *   each pass, at start-up and hourly) and never served: `read` reports it expired.
 */
import { readdir, stat, unlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage, type Logger } from '../log.ts';
import type { Bytes, Milliseconds } from '../units.ts';
import { isMissing } from './files.ts';

/** Files are counted in multiples of this many bytes. */
export const BLOCK_BYTES = 4096;
/** An eviction pass stops at this fraction of `maxBytes`, so that not every write evicts. */
export const LOW_WATER = 0.9;
/**
 * A write that finds the counted bytes above this multiple of `maxBytes` waits for the eviction
 * pass under way, so a flood of writes cannot outrun eviction by more than this.
 */
export const BACKPRESSURE = 1.1;
/** Files an eviction pass removes concurrently. */
const EVICT_BATCH = 32;
/** How often expired files are looked for, besides after writes (ms): hourly. */
export const EXPIRY_PASS_MS = 60 * 60 * 1000;

/** The bytes a file of `size` bytes is counted as. */
export function chargedBytes(size: number): number {
  return Math.max(1, Math.ceil(size / BLOCK_BYTES)) * BLOCK_BYTES;
}

export interface EntryIndexOptions {
  /** `<store>/entries`: the shard folders `<h0h1>/` holding `<hash>.entry` files. */
  entriesDir: string;
  /** The store's name, for logs. */
  name: string;
  logger?: Logger;
  /** The store's clock, ms since the epoch (the injected clock of tests). */
  now: () => number;
  /** Bound on the counted bytes; 0: none. */
  maxBytes: Bytes;
  /** Remove files unread for longer than this (ms); 0: never. */
  unreadExpireMs: Milliseconds;
}

interface Slot {
  /** Counted bytes. */
  size: number;
  /** Last access known here, ms. */
  lastAccess: number;
  /**
   * `lastAccess` when the slot took its place in the order; a later access moves it to the recent
   * end only when an eviction pass meets it (second chance), never on the access itself.
   */
  placedAt: Milliseconds;
  /** The modification time this process last gave the file or saw on it, ms. */
  diskMark: number;
}

/**
 * How often the last access is written to a file's modification time (ms): an hour, or a tenth of
 * the unread expiry when that is shorter (never under a second).
 */
export function touchIntervalMs(unreadExpireMs: Milliseconds): number {
  const hour = 60 * 60 * 1000;
  return unreadExpireMs > 0 ? Math.max(1000, Math.min(hour, unreadExpireMs / 10)) : hour;
}

export class EntryIndex {
  readonly #options: EntryIndexOptions;
  readonly #touchEvery: number;
  /**
   * By file path, in the order the slots were placed (Map insertion order): least recently used
   * first, except for slots accessed since they were placed (`lastAccess > placedAt`), which an
   * eviction pass moves to the recent end instead of removing (the CLOCK algorithm's second
   * chance). Moving a key on every access would cost O(n) in V8's Map once it holds tens of
   * thousands of keys (a `delete` then `set` of one key measured ad hoc on Node 20: ~44 µs at 20,000
   * keys, against ~1 µs at 1,000), on the HIT path: the bench's 100,000-entry HIT scenario.
   */
  #slots = new Map<string, Slot>();
  #bytes = 0;
  #built = false;
  #building: Promise<void> | undefined;
  #pass: Promise<void> | undefined;
  #passAgain = false;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  /** Pending `utimes` calls (close waits for them). */
  readonly #marks = new Set<Promise<void>>();
  /** Counts since construction. */
  readonly stats = { evicted: 0, expired: 0 };

  constructor(options: EntryIndexOptions) {
    this.#options = options;
    this.#touchEvery = touchIntervalMs(options.unreadExpireMs);
  }

  /** Counted bytes of the files this index knows. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Number of files this index knows. */
  get size(): number {
    return this.#slots.size;
  }

  /** Starts building the index in the background, and the hourly expiry pass. */
  start(): void {
    if (this.#building !== undefined || this.#closed) return;
    this.#building = this.#build().catch((error: unknown) => {
      this.#options.logger?.warn(`${this.#options.name}: cannot list the entries to bound the folder: ${errorMessage(error)}`);
    });
    if (this.#options.unreadExpireMs > 0) {
      this.#timer = setInterval(() => this.#schedule(), EXPIRY_PASS_MS);
      this.#timer.unref();
    }
  }

  /** Resolves when the index is built and no pass is running (tests, shutdown). */
  async settled(): Promise<void> {
    await this.#building;
    while (this.#pass !== undefined) await this.#pass;
    while (this.#marks.size > 0) await Promise.all([...this.#marks]);
  }

  /** Stops the timer, lets a pass under way (or due) finish, then stops. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.settled();
    this.#closed = true;
  }

  /** The store wrote `path` (`size` bytes) with modification time `now`. */
  written(path: string, size: number, now: number): void {
    this.#put(path, { size: chargedBytes(size), lastAccess: now, placedAt: now, diskMark: now });
    if (this.#options.maxBytes > 0 && this.#bytes > this.#options.maxBytes) this.#schedule();
  }

  /**
   * Resolves when a write may go on: at once, unless the counted bytes are above
   * {@link BACKPRESSURE} times the bound and an eviction pass is under way (then after it). Never rejects.
   */
  async admit(): Promise<void> {
    const { maxBytes } = this.#options;
    while (maxBytes > 0 && this.#bytes > maxBytes * BACKPRESSURE && this.#pass !== undefined && !this.#closed) await this.#pass;
  }

  /** The store removed `path`. */
  removed(path: string): void {
    const slot = this.#slots.get(path);
    if (slot === undefined) return;
    this.#slots.delete(path);
    this.#bytes -= slot.size;
  }

  /**
   * The store read `path` (`size` bytes, modified at `mtimeMs`). Returns `'expired'` when its last
   * access is longer ago than the unread expiry (the caller treats it as a miss and removes it);
   * otherwise records the access.
   */
  read(path: string, size: number, mtimeMs: Milliseconds): 'expired' | 'ok' {
    const now = this.#options.now();
    const slot = this.#slots.get(path);
    const lastAccess = Math.max(slot?.lastAccess ?? -Infinity, mtimeMs);
    const expire = this.#options.unreadExpireMs;
    if (expire > 0 && now - lastAccess > expire) return 'expired';
    if (slot !== undefined) {
      // Accessed in place: the order catches up in the next eviction pass.
      slot.lastAccess = now;
      this.#mark(path, slot, now);
      return 'ok';
    }
    const next: Slot = { size: chargedBytes(size), lastAccess: now, placedAt: now, diskMark: mtimeMs };
    this.#put(path, next);
    this.#mark(path, next, now);
    return 'ok';
  }

  /**
   * A tier above served the entry of `path`: records the access. Cheap (a Map lookup and move; the
   * modification time is written at most every {@link touchIntervalMs}).
   */
  touched(path: string): void {
    const slot = this.#slots.get(path);
    if (slot === undefined) return;
    const now = this.#options.now();
    slot.lastAccess = now;
    this.#mark(path, slot, now);
  }

  /** Another process wrote `path`: counts it (one `stat`, in the background). */
  external(path: string): void {
    if (this.#closed) return;
    const task = stat(path).then(
      (info) => {
        if (this.#closed) return;
        this.#put(path, { size: chargedBytes(info.size), lastAccess: info.mtimeMs, placedAt: info.mtimeMs, diskMark: info.mtimeMs });
        if (this.#options.maxBytes > 0 && this.#bytes > this.#options.maxBytes) this.#schedule();
      },
      () => {},
    );
    this.#track(task);
  }

  // -------------------------------------------------------------------------------------------

  /** Places `slot` at the recent end (replacing any slot of `path`). */
  #put(path: string, slot: Slot): void {
    slot.placedAt = slot.lastAccess;
    const previous = this.#slots.get(path);
    if (previous !== undefined) {
      this.#slots.delete(path);
      this.#bytes -= previous.size;
    }
    this.#slots.set(path, slot);
    this.#bytes += slot.size;
  }

  /** Writes the last access to the file's modification time when the one there is old enough. */
  #mark(path: string, slot: Slot, now: number): void {
    if (now - slot.diskMark < this.#touchEvery) return;
    slot.diskMark = now;
    const seconds = now / 1000;
    this.#track(utimes(path, seconds, seconds).catch(() => {}));
  }

  #track(task: Promise<void>): void {
    this.#marks.add(task);
    void task.finally(() => this.#marks.delete(task));
  }

  async #build(): Promise<void> {
    const { entriesDir } = this.#options;
    let shards: string[];
    try {
      shards = await readdir(entriesDir);
    } catch (error) {
      if (!isMissing(error)) throw error;
      shards = [];
    }
    const found: [string, Slot][] = [];
    for (const shard of shards) {
      if (!/^[0-9a-f]{2}$/.test(shard)) continue;
      const folder = join(entriesDir, shard);
      const names = await readdir(folder).catch(() => [] as string[]);
      const files = names.filter((name) => name.endsWith('.entry')).map((name) => join(folder, name));
      for (let at = 0; at < files.length; at += 64) {
        const infos = await Promise.all(files.slice(at, at + 64).map((file) => stat(file).catch(() => undefined)));
        infos.forEach((info, index) => {
          if (info?.isFile())
            found.push([
              files[at + index]!,
              { size: chargedBytes(info.size), lastAccess: info.mtimeMs, placedAt: info.mtimeMs, diskMark: info.mtimeMs },
            ]);
        });
      }
      if (this.#closed) return;
    }
    found.sort((a, b) => a[1].lastAccess - b[1].lastAccess);
    // What was written or read while listing is more recent than anything listed.
    const slots = new Map<string, Slot>();
    for (const [path, slot] of found) if (!this.#slots.has(path)) slots.set(path, slot);
    for (const [path, slot] of this.#slots) slots.set(path, slot);
    this.#slots = slots;
    this.#bytes = 0;
    for (const slot of slots.values()) this.#bytes += slot.size;
    this.#built = true;
    this.#schedule();
  }

  /** Runs a pass (expiry, then eviction) after the index is built; one at a time. */
  #schedule(): void {
    if (!this.#built || this.#closed) return;
    if (this.#pass !== undefined) {
      this.#passAgain = true;
      return;
    }
    this.#pass = this.#runPass()
      .catch((error: unknown) => this.#options.logger?.warn(`${this.#options.name}: eviction pass failed: ${errorMessage(error)}`))
      .finally(() => {
        this.#pass = undefined;
        if (this.#passAgain) {
          this.#passAgain = false;
          this.#schedule();
        }
      });
  }

  async #runPass(): Promise<void> {
    const { maxBytes, unreadExpireMs, now: clock } = this.#options;
    let expired = 0;
    let evicted = 0;
    if (unreadExpireMs > 0) {
      const now = clock();
      for (const [path, slot] of [...this.#slots]) {
        if (now - slot.lastAccess <= unreadExpireMs) continue;
        if (await this.#removeIfUnchanged(path, slot)) expired++;
      }
    }
    if (maxBytes > 0 && this.#bytes > maxBytes) {
      const target = maxBytes * LOW_WATER;
      let budget = this.#slots.size * 2; // each file is looked at most twice (once more after moving up)
      while (this.#bytes > target && budget > 0 && !this.#closed) {
        // The oldest files whose removal brings the count to the target, at most EVICT_BATCH.
        const batch: [string, Slot][] = [];
        let freed = 0;
        for (const item of this.#slots) {
          if (batch.length >= EVICT_BATCH || this.#bytes - freed <= target) break;
          const [path, slot] = item;
          if (slot.lastAccess > slot.placedAt) {
            // Used since it was placed: a second chance at the recent end (met again later).
            this.#slots.delete(path);
            slot.placedAt = slot.lastAccess;
            this.#slots.set(path, slot);
            budget--;
            continue;
          }
          batch.push(item);
          freed += slot.size;
        }
        if (batch.length === 0) break;
        budget -= batch.length;
        const removed = await Promise.all(batch.map(([path, slot]) => this.#removeIfUnchanged(path, slot)));
        evicted += removed.filter(Boolean).length;
      }
    }
    this.stats.expired += expired;
    this.stats.evicted += evicted;
    if (expired + evicted > 0) {
      this.#options.logger?.debug(
        `${this.#options.name}: removed ${evicted} least recently used and ${expired} unread-expired entries (${this.#bytes} bytes counted, bound ${maxBytes || 'none'})`,
      );
    }
  }

  /**
   * Removes `path` unless its modification time says another process used it since this index
   * last looked (then it moves to the recent end). A file already gone just leaves the index.
   * @returns whether a file was removed.
   */
  async #removeIfUnchanged(path: string, slot: Slot): Promise<boolean> {
    const info = await stat(path).catch(() => undefined);
    if (this.#slots.get(path) !== slot) return false; // rewritten or read meanwhile
    if (info === undefined) {
      this.removed(path);
      return false;
    }
    if (info.mtimeMs > slot.diskMark + 1) {
      const lastAccess = Math.max(slot.lastAccess, info.mtimeMs);
      this.#put(path, { size: chargedBytes(info.size), lastAccess, placedAt: lastAccess, diskMark: info.mtimeMs });
      return false;
    }
    try {
      await unlink(path);
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
    if (this.#slots.get(path) === slot) this.removed(path);
    return true;
  }
}
