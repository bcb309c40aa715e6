/**
 * `kill -9` of a real `isr start` process while it writes cache entries, repeated
 * (`CRASH_CYCLES`, default 100; `CRASH_SEED` replays the kill times). After each kill every entry
 * file on disk must decode, sit at the path its key hashes to, and hold exactly one complete
 * version of its item (the old or the new, never a mix or a truncation); the tag record must read
 * whole: tags.json parses, and every complete line of tags.log parses (only a last line without its
 * newline, which readers ignore, may be cut short by a kill mid-append).
 * After each restart the written pages answer 200 with a complete page from the cache; after the
 * last one the background sweep leaves no temp file of a dead process.
 *
 * The entries are big (the pool's items are ~600 KB of text: a page entry of ~1.2 MB HTML, a fetch
 * entry of ~600 KB JSON), so a write takes several event-loop turns and a kill often lands in one.
 */

import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { build } from '../../src/build/build.ts';
import { createMemoryLogger } from '../../src/log.ts';
import { decodeEntry } from '../../src/store/codec.ts';
import { FileSystemStore } from '../../src/store/filesystem.ts';
import { type FixtureApi, startFixtureApi } from '../helpers/fixture-api.ts';
import { type Instance, startInstance } from '../helpers/instances.ts';
import { FIXTURE_ITEMS, pageText, TOKEN } from '../helpers/server.ts';
import { copyFixture } from '../helpers/site.ts';

const CYCLES = Number(process.env.CRASH_CYCLES ?? 100);
const SEED = Number(process.env.CRASH_SEED ?? randomInt(2 ** 31));
/** Items rewritten again and again (`/items/c<n>`), and their text size in bytes. */
const POOL = 12;
const POOL_TEXT_BYTES = 600_000;
/** New items (`/items/n<cycle>-<k>`) created per cycle, and their text size in bytes. */
const NEW_PER_CYCLE = 2;
const NEW_TEXT_BYTES = 50_000;
/** Concurrent request loops driving the writes. */
const LOOPS = 6;
/** The kill lands this many ms (uniformly random) after the write load starts. */
const KILL_AFTER_MS: [number, number] = [20, 300];

/** mulberry32: a small seeded PRNG, floats in [0, 1). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(SEED);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

/** The text of version `version` of item `id`: one marker repeated, about `bytes` long. */
function versionText(id: string, version: number, bytes: number): string {
  const unit = `[${id} v${version}] `;
  return unit.repeat(Math.ceil(bytes / unit.length));
}

/**
 * The version `text` holds, if it is exactly one complete version of item `id` that the API
 * held (`versions`); otherwise a description of what is wrong.
 */
function checkText(id: string, text: string | undefined, versions: ReadonlySet<number>, bytes: number): number | string {
  if (text === undefined) return 'no item text in it';
  const match = /^\[(\S+) v(\d+)\] /.exec(text);
  if (match === null || match[1] !== id) return `does not start with a marker of ${id}: ${JSON.stringify(text.slice(0, 40))}`;
  const version = Number(match[2]);
  if (!versions.has(version)) return `holds v${version}, which the API never held for ${id}`;
  if (text !== versionText(id, version, bytes)) return `v${version} is not complete and unmixed (${text.length} chars)`;
  return version;
}

let api: FixtureApi;
let site: { dir: string; cleanup: () => Promise<void> };
let cacheDir: string;
let instance: Instance | undefined;
/** Every version the API has held, per item id. */
const versions = new Map<string, Set<number>>();
/** Text size of each item id. */
const sizes = new Map<string, number>();

function setItem(id: string, version: number): void {
  const bytes = sizes.get(id)!;
  api.items.set(id, versionText(id, version, bytes));
  let held = versions.get(id);
  if (held === undefined) versions.set(id, (held = new Set()));
  held.add(version);
}

function env(): Record<string, string> {
  return {
    FIXTURE_API_URL: api.url,
    ISR_CACHE_DIR: cacheDir,
    ISR_REVALIDATE_TOKEN: TOKEN,
    // No memory tier: every read after a restart comes from the entry files.
    ISR_MEMORY_CACHE_SIZE: '0',
  };
}

/** All files under `dir` (none if it does not exist). */
async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

interface DiskCheck {
  entries: number;
  /** Kills that left a last tags.log line cut short (ignored by readers, rewritten by the next writer). */
  tornLogTails: number;
  temps: string[];
  problems: string[];
}

/** Checks every entry file and tags.json in the cache folder (see the module comment). */
async function checkDisk(): Promise<DiskCheck> {
  const result: DiskCheck = { entries: 0, tornLogTails: 0, temps: [], problems: [] };
  for (const file of await walk(cacheDir)) {
    const name = path.basename(file);
    if (name.endsWith('.tmp')) {
      result.temps.push(file);
      continue;
    }
    if (name === 'tags.json') {
      try {
        JSON.parse(await readFile(file, 'utf8'));
      } catch (error) {
        result.problems.push(`${file}: ${(error as Error).message}`);
      }
      continue;
    }
    if (name === 'tags.log') {
      const log = await readFile(file, 'utf8');
      const end = log.lastIndexOf('\n');
      if (end < log.length - 1) result.tornLogTails++;
      log
        .slice(0, end + 1)
        .split('\n')
        .slice(0, -1)
        .forEach((line, index) => {
          try {
            const parsed = JSON.parse(line) as { at?: unknown; tags?: unknown };
            if (typeof parsed.at !== 'number' || !Array.isArray(parsed.tags)) throw new Error('not {"at", "tags"}');
          } catch (error) {
            result.problems.push(`${file} line ${index + 1}: ${(error as Error).message}`);
          }
        });
      // What a restarted server reads: no rejection, no warning.
      const logger = createMemoryLogger();
      await new FileSystemStore({ dir: path.dirname(file), readOnly: true, logger }).getTagManifest().catch((error: unknown) => {
        result.problems.push(`${file}: the record does not read: ${(error as Error).message}`);
      });
      for (const line of logger.lines) result.problems.push(`${file}: ${line}`);
      continue;
    }
    if (!name.endsWith('.entry')) continue;
    result.entries++;
    const problem = await checkEntryFile(file);
    if (problem !== undefined) result.problems.push(`${path.relative(cacheDir, file)}: ${problem}`);
  }
  return result;
}

async function checkEntryFile(file: string): Promise<string | undefined> {
  let entry;
  try {
    entry = decodeEntry(await readFile(file));
  } catch (error) {
    return (error as Error).message;
  }
  // <cacheDir>/<buildId>/entries/<h0h1>/<h>.entry
  const storeDir = path.dirname(path.dirname(path.dirname(file)));
  if (new FileSystemStore({ dir: storeDir, readOnly: true }).entryPath(entry.key) !== file) {
    return `holds key ${JSON.stringify(entry.key)}, which hashes elsewhere`;
  }
  const body = Buffer.from(entry.value.body).toString('utf8');
  let id: string | undefined;
  let text: string | undefined;
  if (entry.value.kind === 'page') {
    id = /^\/items\/(.+)$/.exec(entry.key)?.[1];
    if (id === undefined) return undefined; // another page of the fixture site
    if (!body.trimEnd().endsWith('</html>')) return 'page does not end with </html>';
    text = pageText(body);
  } else if (entry.value.kind === 'fetch') {
    try {
      ({ id, text } = JSON.parse(body) as { id: string; text: string });
    } catch (error) {
      return `fetch body is not JSON: ${(error as Error).message}`;
    }
  } else {
    return undefined;
  }
  const held = versions.get(id!);
  if (held === undefined) return `an entry for ${id}, which the API never held`;
  const checked = checkText(id!, text, held, sizes.get(id!)!);
  return typeof checked === 'number' ? undefined : `${entry.value.kind} ${checked}`;
}

/** The writer's pid in a temp file's name (`<target>.<pid>.<12 hex>.tmp`). */
function tempPid(file: string): number | undefined {
  const match = /\.(\d+)\.[0-9a-f]{12}\.tmp$/.exec(file);
  return match === null ? undefined : Number(match[1]);
}

async function revalidateTag(url: string, tag: string, signal: AbortSignal): Promise<void> {
  const response = await fetch(`${url}/_isr/revalidate`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ tags: [tag] }),
    signal,
  });
  await response.arrayBuffer();
}

async function getPage(url: string, signal?: AbortSignal): Promise<{ status: number; cache: string | null; text: string }> {
  const response = await fetch(url, { signal });
  return { status: response.status, cache: response.headers.get('x-isr-cache'), text: await response.text() };
}

before(async () => {
  for (let i = 0; i < POOL; i++) sizes.set(`c${i}`, POOL_TEXT_BYTES);
  api = await startFixtureApi(FIXTURE_ITEMS);
  for (const id of sizes.keys()) setItem(id, 1);
  site = await copyFixture('site');
  cacheDir = path.join(site.dir, '.isr', 'crash-cache');
  process.env.FIXTURE_API_URL = api.url;
  await build({ siteDir: site.dir, logger: createMemoryLogger() });
});

after(async () => {
  await instance?.stop();
  await api?.close();
  await site?.cleanup();
});

describe('kill -9 during writes', () => {
  test(`${CYCLES} kills mid-write leave no torn entry; restarts serve every written page`, { timeout: 600_000 }, async (t) => {
    t.diagnostic(`seed ${SEED} (CRASH_SEED=${SEED} replays the kill times), ${CYCLES} cycles`);
    const started = performance.now();
    let inFlightAtKills = 0;
    let killsDuringWrites = 0;
    let killsWithTemps = 0;
    let verified = 0;
    let tornLogTails = 0;
    let requests = 0;
    const torn: string[] = [];
    const killedPids = new Set<number>();
    /** Distinct files found torn (a torn file stays torn until rewritten, so later cycles see it again). */
    const tornFiles = new Set<string>();
    const version = new Map<string, number>([...sizes.keys()].map((id) => [id, 1]));
    instance = await startInstance(site.dir, env());

    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const url = instance.url;
      const controller = new AbortController();
      const newIds = Array.from({ length: NEW_PER_CYCLE }, (_, k) => `n${cycle}-${k}`);
      for (const id of newIds) {
        sizes.set(id, NEW_TEXT_BYTES);
        setItem(id, 1);
        version.set(id, 1);
      }
      let inFlight = 0;
      let stop = false;
      const track = async <T>(promise: Promise<T>): Promise<T | undefined> => {
        inFlight++;
        requests++;
        try {
          return await promise;
        } catch {
          return undefined; // the server was killed under the request
        } finally {
          inFlight--;
        }
      };
      // Each loop: create a new page, or bump an item's version, invalidate its tag and request it
      // (the request regenerates the page and its fetch entry, which rewrites both files).
      const loops = Array.from({ length: LOOPS }, async (_, n) => {
        const fresh = newIds[n];
        if (fresh !== undefined) await track(getPage(`${url}/items/${fresh}`, controller.signal));
        while (!stop) {
          const id = pick([...sizes.keys()].filter((id) => id.startsWith('c')));
          const next = version.get(id)! + 1;
          version.set(id, next);
          setItem(id, next);
          await track(revalidateTag(url, `item-${id}`, controller.signal));
          await track(getPage(`${url}/items/${id}`, controller.signal));
        }
      });
      const killAfter = KILL_AFTER_MS[0] + random() * (KILL_AFTER_MS[1] - KILL_AFTER_MS[0]);
      await sleep(killAfter);
      const exited = new Promise((resolve) => instance!.child.once('exit', resolve));
      instance.child.kill('SIGKILL');
      const atKill = inFlight;
      await exited;
      stop = true;
      controller.abort();
      await Promise.all(loops);
      inFlightAtKills += atKill;
      if (atKill > 0) killsDuringWrites++;

      const disk = await checkDisk();
      verified += disk.entries;
      tornLogTails += disk.tornLogTails;
      const killedPid = instance.child.pid!;
      killedPids.add(killedPid);
      if (disk.temps.some((file) => tempPid(file) === killedPid)) killsWithTemps++;
      for (const problem of disk.problems) tornFiles.add(problem.slice(0, problem.indexOf(': ')));
      if (disk.problems.length > 0) torn.push(`cycle ${cycle} (kill at ${killAfter.toFixed(0)} ms): ${disk.problems.join('; ')}`);

      instance = await startInstance(site.dir, env());
      // The restarted server serves pages whose entries exist from the cache, completely.
      for (const id of [pick([...sizes.keys()]), ...newIds]) {
        const response = await getPage(`${instance.url}/items/${id}`);
        const checked = checkText(id, pageText(response.text), versions.get(id)!, sizes.get(id)!);
        assert.equal(response.status, 200, `cycle ${cycle}: /items/${id} after restart`);
        assert.equal(typeof checked, 'number', `cycle ${cycle}: /items/${id} after restart: ${checked}`);
      }
    }

    // After the last restart: every written page is served complete, from its entry where one
    // exists, and the sweep removes every temp file of a dead process.
    const store = (await readdir(cacheDir)).map((buildId) => new FileSystemStore({ dir: path.join(cacheDir, buildId), readOnly: true }));
    for (const id of sizes.keys()) {
      // An entry that no recorded invalidation outdates must be served from the cache (one that a
      // revalidation outdated before the kill is rightly regenerated: a MISS).
      const usable = await Promise.all(
        store.map(async (s) => {
          const entry = await s.get(`/items/${id}`);
          if (entry === undefined) return false;
          const invalidations = await s.getTagManifest();
          return entry.tags.every((tag) => (invalidations.get(tag) ?? -Infinity) < entry.lastModified);
        }),
      );
      const hasEntry = usable.some(Boolean);
      const response = await getPage(`${instance.url}/items/${id}`);
      assert.equal(response.status, 200, `/items/${id} after the last restart`);
      const checked = checkText(id, pageText(response.text), versions.get(id)!, sizes.get(id)!);
      assert.equal(typeof checked, 'number', `/items/${id} after the last restart: ${checked}`);
      if (hasEntry) assert.notEqual(response.cache, 'MISS', `/items/${id} has an entry no invalidation outdates: served from the cache`);
    }
    const deadTemps = async () => (await walk(cacheDir)).filter((file) => killedPids.has(tempPid(file)!));
    const deadline = performance.now() + 5000;
    while ((await deadTemps()).length > 0 && performance.now() < deadline) await sleep(50);
    assert.deepEqual(await deadTemps(), [], 'the sweep after the restart removed every temp file of a killed process');

    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    t.diagnostic(
      `${CYCLES} cycles in ${seconds} s, ${requests} requests; ${killsDuringWrites} kills with requests in flight ` +
        `(${inFlightAtKills} requests in total), ${killsWithTemps} kills left temp files (mid-write); ` +
        `${verified} entry files verified, ${torn.length} cycles found torn files (${tornFiles.size} distinct); ` +
        `${tornLogTails} checks found a tags.log tail cut short (ignored by readers)`,
    );
    assert.deepEqual(torn, [], 'no entry torn or corrupt after a kill -9');
  });
});
