/** The fixture sites under test/fixtures, copied into temp folders so a test may build and change them. */

import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

/** Copies a fixture site into a fresh temp folder; returns its path and a cleanup. */
export async function copyFixture(name: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const parent = await mkdtemp(path.join(tmpdir(), `isr-${name}-`));
  const dir = path.join(parent, name);
  await cp(path.join(FIXTURES, name), dir, { recursive: true });
  return { dir, cleanup: () => rm(parent, { recursive: true, force: true }) };
}
