/** Temp folders and tmpfs mounts for the fault tests (read-only, full and deleted cache folders), removed at the end. */

import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { makeTempDir } from '../store/helpers.ts';

const run = promisify(execFile);

/** Whether the tests run as root (needed to mount a tmpfs). */
export const IS_ROOT = process.getuid?.() === 0;

/**
 * Temp folders and tmpfs mounts of one test file, all removed by {@link Scratch.cleanup}: the
 * read-only, full and deleted cache folders of the fault tests.
 */
export class Scratch {
  readonly #folders: string[] = [];
  readonly #mounts: string[] = [];

  constructor(readonly prefix: string) {}

  /** A new empty folder. */
  async folder(): Promise<string> {
    const dir = await makeTempDir(this.prefix);
    this.#folders.push(dir);
    return dir;
  }

  /** Mounts a tmpfs of `options` (e.g. `size=256k`, `remount,ro`) on `dir`. Root only. */
  async mountTmpfs(dir: string, options: string): Promise<void> {
    await run('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]);
    this.#mounts.push(dir);
  }

  /** `mount -o <options> <dir>` (e.g. `remount,ro`). Root only. */
  async remount(dir: string, options: string): Promise<void> {
    await run('mount', ['-o', options, dir]);
  }

  /** Unmounts every mount and removes every folder; never throws. */
  async cleanup(): Promise<void> {
    for (const dir of this.#mounts) await run('umount', [dir]).catch(() => {});
    for (const dir of this.#folders) await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}

/** Whether a process `pid` is alive (EPERM: alive, another user's). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
