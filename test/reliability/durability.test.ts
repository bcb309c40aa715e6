/**
 * The durability of the cache folder (docs/architecture.md, "Durability of the cache folder"), on
 * real servers (in this process, on real file systems, so the clock can be injected):
 *
 * - Honest acknowledgements: with the cache folder read-only, full (small tmpfs mounts: root only)
 *   or deleted, `POST /_isr/revalidate` answers 200 only once the folder recorded the invalidation,
 *   else 503 with Retry-After (it applies in memory at once); once the folder accepts writes again,
 *   every invalidation is written back, so a restart never serves a page invalidated before it as
 *   fresh, and a deleted folder's record is rewritten with every tag.
 * - A bounded disk tier: 10,000 requests for items that do not exist (one stored 404 each) keep the
 *   folder under `diskCacheSize`, and pages read meanwhile survive; entries unread for
 *   `unreadExpireTime` (31 days by default) are removed and never served; the tag record grows by
 *   each request's size, not its own, and compaction keeps it bounded over 600,000 tags.
 *
 * The site is the fixture site plus `app/kept/[id]`, a page that is never regenerated
 * (`revalidate = false`) and is not prerendered: its file in the cache folder is only ever read.
 */

import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { build } from '../../src/build/build.ts';
import { ManualClock } from '../../src/engine/clock.ts';
import { createMemoryLogger } from '../../src/log.ts';
import { type RunningServer, startServer } from '../../src/server/index.ts';
import { FileSystemStore } from '../../src/store/filesystem.ts';
import type { TieredStore } from '../../src/store/tiered.ts';
import { type FixtureApi, startFixtureApi } from '../helpers/fixture-api.ts';
import { get, startInstance } from '../helpers/instances.ts';
import { IS_ROOT, Scratch } from '../helpers/scratch.ts';
import { FIXTURE_ITEMS, pageText, request, TOKEN } from '../helpers/server.ts';
import { copyFixture } from '../helpers/site.ts';

let api: FixtureApi;
let site: { dir: string; cleanup: () => Promise<void> };
const scratch = new Scratch('isr-durability-');

before(async () => {
  api = await startFixtureApi(FIXTURE_ITEMS);
  process.env.FIXTURE_API_URL = api.url;
  site = await copyFixture('site');
  await mkdir(path.join(site.dir, 'app', 'kept', '[id]'), { recursive: true });
  await writeFile(
    path.join(site.dir, 'app', 'kept', '[id]', 'page.tsx'),
    `import { notFound } from 'next/navigation';
import { API } from '../../../api';

export const revalidate = false;
export const dynamicParams = true;

export default async function Kept({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const res = await fetch(\`\${API()}/item/kept-\${id}\`, { next: { tags: ['kept', \`kept-\${id}\`] } });
  if (res.status === 404) notFound();
  const item = (await res.json()) as { text: string };
  return <p id="text">{item.text}</p>;
}
`,
  );
  await build({ siteDir: site.dir, logger: createMemoryLogger() });
});

after(async () => {
  await scratch.cleanup();
  await api?.close();
  await site?.cleanup();
});

/** A server on the site with its own cache folder. */
function serve(
  cacheDir: string,
  config: Record<string, unknown> = {},
  clock?: ManualClock,
  logger = createMemoryLogger(),
): Promise<RunningServer> {
  return startServer({
    siteDir: site.dir,
    port: 0,
    hostname: '127.0.0.1',
    logger,
    clock,
    config: { cacheDir, revalidateToken: TOKEN, ...config },
  });
}

function revalidate(server: { url: string }, body: unknown): ReturnType<typeof request> {
  return request(server, '/_isr/revalidate', {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** The server's cache folder for its build: `<cacheDir>/<buildId>`. */
function storeDir(server: RunningServer): string {
  return path.join(server.isr.config.cacheDir, server.isr.site.buildId);
}

/** The server's writable FileSystemStore (the tier below memory). */
function diskTier(server: RunningServer): FileSystemStore {
  const store = (server.isr.store as TieredStore).stores.find((tier) => tier instanceof FileSystemStore && !tier.readOnly);
  assert.ok(store instanceof FileSystemStore);
  return store;
}

/** The tag record on disk, as a restarted server would read it. */
function recordOnDisk(dir: string): Promise<Map<string, number>> {
  return new FileSystemStore({ dir, readOnly: true }).getTagManifest();
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 40_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`${what}: not within ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** Files under `dir` with their allocated bytes (blocks × 512). */
async function filesUnder(dir: string): Promise<{ file: string; bytes: number }[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  const files = entries.filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name));
  return Promise.all(files.map(async (file) => ({ file, bytes: ((await stat(file).catch(() => undefined))?.blocks ?? 0) * 512 })));
}

describe('honest acknowledgements', () => {
  test('read-only folder: revalidate answers 503 with Retry-After and applies in memory; made writable, the invalidation is written back and survives a restart', {
    skip: IS_ROOT ? false : 'needs root to remount a tmpfs read-only',
  }, async () => {
    const cacheDir = await scratch.folder();
    await scratch.mountTmpfs(cacheDir, 'size=4m');
    let server = await serve(cacheDir);
    try {
      api.items.set('ro', 'read-only v1');
      assert.equal(pageText((await request(server, '/items/ro')).text), 'read-only v1');
      await server.isr.engine.flush();
      await scratch.remount(cacheDir, 'remount,ro');

      api.items.set('ro', 'read-only v2');
      const refused = await revalidate(server, { tags: ['item-ro'] });
      assert.equal(refused.status, 503, refused.text);
      assert.equal(refused.headers.get('retry-after'), '5');
      assert.match(JSON.parse(refused.text).error, /could not record it durably/);
      assert.equal(pageText((await request(server, '/items/ro')).text), 'read-only v2', 'applies in memory at once');

      await scratch.remount(cacheDir, 'remount,rw');
      await waitFor('the refused invalidation is written back', async () => (await recordOnDisk(storeDir(server))).has('item-ro'));
      await server.close();
      // The disk still holds v1 (v2 was rendered while it was read-only, and is served from memory).
      server = await serve(cacheDir);
      const after = await request(server, '/items/ro');
      assert.equal(pageText(after.text), 'read-only v2', 'not the old page as a fresh HIT');
      assert.equal(after.headers.get('x-isr-cache'), 'MISS');
    } finally {
      await server.close();
    }
  });

  test('full folder (ENOSPC): 503 with Retry-After; once space is freed the invalidation is written back and survives a restart', {
    skip: IS_ROOT ? false : 'needs root to mount a small tmpfs',
  }, async () => {
    const cacheDir = await scratch.folder();
    await scratch.mountTmpfs(cacheDir, 'size=256k');
    const filler = path.join(cacheDir, 'filler');
    let server = await serve(cacheDir);
    try {
      api.items.set('full', 'full v1');
      assert.equal(pageText((await request(server, '/items/full')).text), 'full v1');
      await server.isr.engine.flush();
      await writeFile(filler, Buffer.alloc(1024 * 1024)).then(
        () => assert.fail('a 1 MiB file fit in a 256 KiB tmpfs'),
        (error: NodeJS.ErrnoException) => assert.equal(error.code, 'ENOSPC'),
      );

      api.items.set('full', 'full v2');
      const refused = await revalidate(server, { tags: ['item-full'] });
      assert.equal(refused.status, 503, refused.text);
      assert.equal(refused.headers.get('retry-after'), '5');
      assert.equal(pageText((await request(server, '/items/full')).text), 'full v2');

      await unlink(filler);
      await waitFor('the refused invalidation is written back', async () => (await recordOnDisk(storeDir(server))).has('item-full'));
      await server.close();
      server = await serve(cacheDir);
      const after = await request(server, '/items/full');
      assert.equal(pageText(after.text), 'full v2', 'not the old page as a fresh HIT');
      assert.equal(after.headers.get('x-isr-cache'), 'MISS');
    } finally {
      await server.close();
    }
  });

  test('deleted folder: the record is rewritten from memory with every tag, not only the newest, and a prerendered page invalidated before stays invalidated after a restart', async () => {
    const cacheDir = await scratch.folder();
    let server = await serve(cacheDir);
    try {
      // /items/1 is prerendered ("one"); its invalidation must outlive the folder.
      api.items.set('1', 'one, edited');
      for (const tags of [['item-1'], ['del-a', 'del-b'], ['del-c']]) assert.equal((await revalidate(server, { tags })).status, 200);
      assert.equal(pageText((await request(server, '/items/1')).text), 'one, edited');
      await server.isr.engine.flush();
      const dir = storeDir(server);
      const before = await recordOnDisk(dir);
      assert.deepEqual([...before.keys()].sort(), ['del-a', 'del-b', 'del-c', 'item-1']);

      await rm(dir, { recursive: true, force: true });
      // Nothing else happens: the periodic check (or the next write) notices and rewrites it.
      await waitFor('the deleted record is rewritten', async () => (await recordOnDisk(dir)).size > 0, 15_000);
      assert.deepEqual(await recordOnDisk(dir), before, 'every tag, with its time');
      // A later invalidation adds to it; none is lost.
      assert.equal((await revalidate(server, { tags: ['del-d'] })).status, 200);
      assert.deepEqual([...(await recordOnDisk(dir)).keys()].sort(), ['del-a', 'del-b', 'del-c', 'del-d', 'item-1']);
      await server.close();

      server = await serve(cacheDir);
      const page = await request(server, '/items/1');
      assert.equal(pageText(page.text), 'one, edited', 'the prerendered "one" is not served as fresh');
      assert.equal(page.headers.get('x-isr-cache'), 'MISS');
    } finally {
      api.items.set('1', 'one');
      await server.close();
    }
  });
});

describe('honest acknowledgements under isr start --workers 2', () => {
  test('the primary writes the record: a refusal is a 503 from any worker, the write-back happens once the folder is writable again, and a deleted record is rewritten whole', {
    skip: IS_ROOT ? false : 'needs root to remount a tmpfs read-only',
  }, async () => {
    const cacheDir = await scratch.folder();
    await scratch.mountTmpfs(cacheDir, 'size=8m');
    const env = { FIXTURE_API_URL: api.url, ISR_CACHE_DIR: cacheDir, ISR_REVALIDATE_TOKEN: TOKEN };
    let instance = await startInstance(site.dir, env, ['--workers', '2']);
    const post = async (tags: string[]) => {
      const response = await fetch(`${instance.url}/_isr/revalidate`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', connection: 'close' },
        body: JSON.stringify({ tags }),
      });
      return { status: response.status, retryAfter: response.headers.get('retry-after'), text: await response.text() };
    };
    try {
      api.items.set('wk', 'workers v1');
      for (let i = 0; i < 4; i++) assert.equal(pageText((await get(`${instance.url}/items/wk`)).text), 'workers v1');
      assert.equal((await post(['wk-before'])).status, 200);
      const [buildId] = (await readdir(cacheDir)).filter((name) => name !== 'lost+found');
      const dir = path.join(cacheDir, buildId!);
      await waitFor('the first invalidation is on disk', async () => (await recordOnDisk(dir)).has('wk-before'));

      await scratch.remount(cacheDir, 'remount,ro');
      api.items.set('wk', 'workers v2');
      // Round-robin: consecutive connections reach both workers; each answers 503.
      for (let i = 0; i < 2; i++) {
        const refused = await post(['item-wk']);
        assert.equal(refused.status, 503, refused.text);
        assert.equal(refused.retryAfter, '5');
      }
      await scratch.remount(cacheDir, 'remount,rw');
      await waitFor('the primary writes the refused invalidation back', async () => (await recordOnDisk(dir)).has('item-wk'));

      // The disk still holds v1: after a restart, no worker serves it.
      await instance.stop();
      instance = await startInstance(site.dir, env, ['--workers', '2']);
      for (let i = 0; i < 4; i++)
        assert.equal(pageText((await get(`${instance.url}/items/wk`)).text), 'workers v2', 'no worker serves the old page');

      // The folder deleted under the cluster: the primary rewrites the record with every tag.
      const before = await recordOnDisk(dir);
      await rm(dir, { recursive: true, force: true });
      await waitFor('the deleted record is rewritten', async () => (await recordOnDisk(dir)).size > 0, 15_000);
      assert.deepEqual(await recordOnDisk(dir), before);
    } finally {
      await instance.stop();
    }
  });
});

describe('a bounded disk tier', () => {
  test('10,000 requests for items that do not exist keep the folder under diskCacheSize; pages read meanwhile survive eviction and a restart', async (t) => {
    const BOUND = 2 * 1024 * 1024;
    const REQUESTS = Number(process.env.DURABILITY_REQUESTS ?? 10_000);
    const cacheDir = await scratch.folder();
    let server = await serve(cacheDir, { diskCacheSize: BOUND });
    const kept = Array.from({ length: 8 }, (_, i) => `k${i}`);
    try {
      for (const id of kept) {
        api.items.set(`kept-${id}`, `kept ${id}`);
        assert.equal((await request(server, `/kept/${id}`)).status, 200);
      }
      let next = 0;
      const statuses = new Map<number, number>();
      const started = performance.now();
      const loop = async () => {
        for (let n = next++; n < REQUESTS; n = next++) {
          const response = await fetch(`${server.url}/items/missing-${n}`);
          await response.arrayBuffer();
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          // The kept pages are read every 100 requests (the folder holds ~460 404s: a fifth of it), from
          // the memory tier, which tells the disk tier.
          if (n % 100 === 0) for (const id of kept) assert.equal((await request(server, `/kept/${id}`)).headers.get('x-isr-cache'), 'HIT');
        }
      };
      // The folder's allocated bytes, sampled while the flood runs (eviction runs behind the writes).
      let peak = 0;
      let flooding = true;
      const sampler = (async () => {
        while (flooding) {
          const sample = (await filesUnder(storeDir(server))).reduce((sum, file) => sum + file.bytes, 0);
          peak = Math.max(peak, sample);
          await sleep(200);
        }
      })();
      await Promise.all(Array.from({ length: 8 }, loop));
      flooding = false;
      await sampler;
      const seconds = (performance.now() - started) / 1000;
      assert.deepEqual([...statuses], [[404, REQUESTS]]);
      const index = diskTier(server).entryIndex!;
      await server.close(); // waits for the eviction passes
      const files = await filesUnder(storeDir(server));
      const bytes = files.reduce((sum, file) => sum + file.bytes, 0);
      t.diagnostic(
        `${REQUESTS} requests in ${seconds.toFixed(1)} s; ${index.stats.evicted} entries evicted; ` +
          `folder: ${files.length} files, ${bytes} bytes allocated (bound ${BOUND}), at most ${peak} while the flood ran`,
      );
      assert.ok(peak <= BOUND * 1.25, `the folder reached ${peak} bytes while the flood ran (bound ${BOUND} + 25%)`);
      assert.ok(index.stats.evicted > 0, 'the bound was exercised');
      assert.ok(bytes <= BOUND, `${bytes} bytes allocated in the folder, bound ${BOUND}`);
      assert.deepEqual(
        files.filter((file) => file.file.endsWith('.tmp')),
        [],
      );

      const survivors = new FileSystemStore({ dir: storeDir(server), readOnly: true });
      for (const id of kept) assert.ok(await survivors.get(`/kept/${id}`), `/kept/${id} is still in the folder`);
      // The pages read during the flood are still on disk: a restart serves them without rendering.
      const calls = kept.map((id) => api.callsFor(`kept-${id}`));
      server = await serve(cacheDir, { diskCacheSize: BOUND });
      for (const id of kept) {
        const page = await request(server, `/kept/${id}`);
        assert.equal(page.headers.get('x-isr-cache'), 'HIT', `/kept/${id} survived the flood`);
        assert.equal(pageText(page.text), `kept ${id}`);
      }
      assert.deepEqual(
        kept.map((id) => api.callsFor(`kept-${id}`)),
        calls,
        'served from disk, not rendered',
      );
    } finally {
      await server.close();
    }
  });

  test('an entry unread for unreadExpireTime (31 days by default) is removed and generated again; one read meanwhile is kept, across a restart', async () => {
    const DAY = 24 * 60 * 60 * 1000;
    const clock = new ManualClock(Date.now());
    const cacheDir = await scratch.folder();
    // No memory tier: every read goes to the folder.
    let server = await serve(cacheDir, { memoryCacheSize: 0 }, clock);
    const file = (id: string) => diskTier(server).entryPath(`/kept/${id}`);
    const exists = (target: string) =>
      stat(target).then(
        () => true,
        () => false,
      );
    try {
      for (const id of ['a', 'b', 'c']) {
        api.items.set(`kept-${id}`, `kept ${id} v1`);
        assert.equal((await request(server, `/kept/${id}`)).headers.get('x-isr-cache'), 'MISS');
      }
      clock.advance(20 * DAY);
      assert.equal((await request(server, '/kept/b')).headers.get('x-isr-cache'), 'HIT');
      clock.advance(12 * DAY); // a and c: 32 days unread; b: 12 days

      for (const id of ['a', 'b', 'c']) api.items.set(`kept-${id}`, `kept ${id} v2`);
      const a = await request(server, '/kept/a');
      assert.equal(a.headers.get('x-isr-cache'), 'MISS', 'unread for 32 days: not served');
      assert.equal(pageText(a.text), 'kept a v2');
      const b = await request(server, '/kept/b');
      assert.equal(b.headers.get('x-isr-cache'), 'HIT', 'read 12 days ago: kept');
      assert.equal(pageText(b.text), 'kept b v1');

      // c is never requested: the restarted server's background scan removes its file.
      const c = file('c');
      assert.ok(await exists(c));
      await server.close();
      server = await serve(cacheDir, { memoryCacheSize: 0 }, clock);
      await waitFor('the unread entry is removed at start-up', async () => !(await exists(c)), 10_000);
      // b's read was written to its file: after the restart it is still 12 days, not 32.
      assert.equal((await request(server, '/kept/b')).headers.get('x-isr-cache'), 'HIT');
    } finally {
      await server.close();
    }
  });

  test('the tag record: each revalidation writes about its own size, compaction keeps the record bounded over 600,000 tags, and a restart reads the same record', async (t) => {
    const HOUR = 60 * 60 * 1000;
    const ROUNDS = 6;
    const BATCHES = 25;
    const TAGS_PER_BATCH = 4_000;
    const clock = new ManualClock(Date.now());
    const cacheDir = await scratch.folder();
    let server = await serve(cacheDir, {}, clock);
    /** Bytes this process has passed to write(2) so far (files and sockets). */
    const written = async () => Number(/^wchar: (\d+)$/m.exec(await readFile('/proc/self/io', 'utf8'))![1]);
    try {
      // Kept for good: /items/2 is prerendered (generated before this invalidation).
      assert.equal((await revalidate(server, { tags: ['item-2'] })).status, 200);
      // Dropped in time: /items/fresh is generated after its invalidation, and nothing else carries it.
      api.items.set('fresh', 'fresh');
      assert.equal((await revalidate(server, { tags: ['item-fresh'] })).status, 200);
      assert.equal((await request(server, '/items/fresh')).status, 200);

      const record = diskTier(server).tagRecord;
      let bodyBytes = 0;
      let writtenBytes = 0;
      let worst = 0;
      let largest = 0;
      for (let round = 0; round < ROUNDS; round++) {
        for (let batch = 0; batch < BATCHES; batch++) {
          const tags = Array.from({ length: TAGS_PER_BATCH }, (_, i) => `r${round}-b${batch}-t${i}`);
          const body = JSON.stringify({ tags });
          await record.settled();
          const compactions = record.stats.compactions;
          const before = await written();
          const response = await revalidate(server, { tags });
          assert.equal(response.status, 200, response.text);
          await record.settled();
          const delta = (await written()) - before;
          bodyBytes += body.length;
          writtenBytes += delta;
          // Without a compaction in between, this process writes the request (the client), the
          // answer (which lists the tags) and one appended line: three times the request's size.
          if (record.stats.compactions === compactions) {
            worst = Math.max(worst, delta / body.length);
            assert.ok(
              delta <= 3 * body.length + 64 * 1024,
              `revalidation ${round}/${batch}: ${delta} bytes written for a ${body.length}-byte request`,
            );
          }
          largest = Math.max(largest, record.bytes);
        }
        clock.advance(3 * HOUR); // past the compaction's grace period
      }
      await server.close();
      const onDisk = await recordOnDisk(storeDir(server));
      const allTags = ROUNDS * BATCHES * TAGS_PER_BATCH;
      t.diagnostic(
        `${allTags} tags in ${ROUNDS * BATCHES} revalidations of ${TAGS_PER_BATCH}; ${bodyBytes} request bytes, ${writtenBytes} bytes written ` +
          `(worst ${worst.toFixed(2)}x a request without compaction); ${record.stats.compactions} compactions dropped ${record.stats.dropped} tags; ` +
          `record ${record.bytes} bytes at the end (largest ${largest}), ${onDisk.size} tags`,
      );
      assert.ok(writtenBytes <= 5 * bodyBytes, `${writtenBytes} bytes written for ${bodyBytes} bytes of requests`);
      assert.ok(record.stats.dropped > 0, 'compaction dropped tags');
      // At most about two rounds' worth on disk at any time (a round's snapshot plus a log as large).
      const roundJson = JSON.stringify(
        Object.fromEntries(Array.from({ length: BATCHES * TAGS_PER_BATCH }, (_, i) => [`r0-b00-t${i}`, clock.now()])),
      );
      assert.ok(largest <= 3 * roundJson.length, `the record reached ${largest} bytes; one round of tags is ${roundJson.length}`);
      assert.ok(onDisk.has('item-2'), 'an invalidation a prerendered page predates is kept');
      assert.ok(!onDisk.has('item-fresh'), 'an invalidation every entry carrying it postdates is dropped');
      assert.ok(![...onDisk.keys()].some((tag) => tag.startsWith('r0-')), 'tags from six rounds ago are gone');

      server = await serve(cacheDir, {}, clock);
      assert.deepEqual(await server.isr.store.getTagManifest(), onDisk, 'a restart reads the same record');
      const two = await request(server, '/items/2');
      assert.notEqual(two.headers.get('x-isr-cache'), 'HIT', 'the prerendered /items/2 is still invalidated');
    } finally {
      await server.close();
    }
  });
});
