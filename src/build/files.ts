/** Listing a folder's files for the build manifest (the site's `public/`, the browser's files). */

import { readdir } from 'node:fs/promises';
import path from 'node:path';

/**
 * Every file under `dir`, relative to it and `/`-separated, but files whose name starts with a dot
 * (`.env`, `.DS_Store`); the files of a dot-folder are listed (`.well-known/security.txt`), as
 * Next.js serves `public/` (the `send` package's default).
 * @returns `[]` when `dir` does not exist.
 * @throws what reading a folder throws otherwise (a folder that cannot be read is no empty one).
 */
export async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  const out: string[] = [];
  for (const entry of entries) {
    if (entry.name.startsWith('.') && !entry.isDirectory()) continue;
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await listFiles(path.join(dir, entry.name), relative)));
    else if (entry.isFile()) out.push(relative);
  }
  return out;
}
