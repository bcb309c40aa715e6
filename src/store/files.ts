/**
 * File helpers shared by the filesystem store's modules (`filesystem.ts`, `tag-record.ts`,
 * `entry-index.ts`): atomic replacement, error codes.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Milliseconds } from '../units.ts';

/** Error codes meaning "there is nothing at this path" (ENOTDIR: a path component is a file). */
export const MISSING: ReadonlySet<string> = new Set(['ENOENT', 'ENOTDIR']);

/** The `code` of a Node system error, or undefined. */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Whether `error` says the path does not exist (see {@link MISSING}). */
export function isMissing(error: unknown): boolean {
  return MISSING.has(errorCode(error) ?? '');
}

/**
 * Replaces the file at `target` with `data` atomically: writes `<target>.<pid>.<random>.tmp` in the
 * same directory (creating the directory, recursively, if it is missing), optionally fsyncs it,
 * then renames it over `target`. On failure the temp file is removed (best effort) and the error
 * rethrown, leaving any previous `target` untouched.
 *
 * @param options.fsync also fsync the file before the rename and its directory after. Default false.
 * @param options.mtimeMs set the file's modification (and access) time to this many ms since the
 *   epoch before the rename (the filesystem store keeps an entry's last access there). Default: the
 *   time of the write.
 * @throws the underlying file-system error (EACCES, ENOSPC, ENOTDIR, EROFS, ...).
 */
export async function writeFileAtomic(
  target: string,
  data: Uint8Array,
  options: { fsync?: boolean; mtimeMs?: Milliseconds } = {},
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
      if (options.mtimeMs !== undefined) {
        const seconds = options.mtimeMs / 1000;
        await handle.utimes(seconds, seconds);
      }
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
export async function makeDirectory(dir: string): Promise<void> {
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

/** fsyncs a directory so a rename in it is durable; ignored where directories cannot be synced. */
export async function syncDirectory(dir: string): Promise<void> {
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
