/** Shared fixtures for the cache tests. */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CacheEntry } from '../../src/store/store.ts';

/** A valid entry under `key`; `body` defaults to a small HTML page. */
export function makeEntry(key: string, overrides: Partial<Omit<CacheEntry, 'value'>> & { body?: Uint8Array | string } = {}): CacheEntry {
  const { body = `<html>${key}</html>`, ...rest } = overrides;
  return {
    key,
    value: {
      kind: 'page',
      status: 200,
      headers: { 'content-type': 'text/html; charset=utf-8' },
      body: typeof body === 'string' ? new TextEncoder().encode(body) : body,
    },
    tags: ['_N_T_/layout', `_N_T_${key}`],
    revalidate: 60,
    expire: 3600,
    lastModified: 1_700_000_000_000.5,
    etag: '"abc123"',
    ...rest,
  };
}

/** A fresh temp directory; remove it with `rm(dir, { recursive: true, force: true })`. */
export function makeTempDir(prefix = 'isr-cache-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** Every file (not directory) under `dir`, as absolute paths. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => !e.isDirectory()).map((e) => join(e.parentPath, e.name));
}
