/**
 * Faults around the server: a cache folder that is read-only or full, Redis killed
 * with SIGKILL under load, and what error pages reveal. Each test runs a real server on a real
 * file system: the read-only and full folders are small tmpfs mounts when the tests run as root
 * (CI does), else a folder without write permission (read-only), and the full-disk test is skipped.
 *
 * The render that throws, the content API that answers 500 and the render that hangs (a content
 * API that never answers) are covered in test/server/isr-http.test.ts ("rule 4") and
 * test/server/render-timeout.test.ts; docs/reliability.md maps every case to its test.
 */

import assert from 'node:assert/strict';
import { chmod, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { build } from '../../src/build/build.ts';
import { createMemoryLogger } from '../../src/log.ts';
import type { IsrStatus } from '../../src/serve/status-endpoint.ts';
import { type RunningServer, startServer } from '../../src/server/index.ts';
import { decodeEntry } from '../../src/store/codec.ts';
import { type RedisServer, startRedis } from '../helpers/redis.ts';
import { IS_ROOT, Scratch } from '../helpers/scratch.ts';
import { type FixtureServer, pageText, request, startFixtureServer, TOKEN } from '../helpers/server.ts';
import { copyFixture } from '../helpers/site.ts';
import { listFiles } from '../store/helpers.ts';

let f: FixtureServer;
const scratch = new Scratch('isr-faults-');

before(async () => {
  f = await startFixtureServer();
});
after(async () => {
  await f.close();
  await scratch.cleanup();
});

/** A second server on the fixture site's build with its own cache folder (and memory tier). */
function serve(cacheDir: string, logger = createMemoryLogger(), config: Record<string, unknown> = {}): Promise<RunningServer> {
  return startServer({
    siteDir: f.dir,
    port: 0,
    hostname: '127.0.0.1',
    logger,
    config: { cacheDir, revalidateToken: TOKEN, ...config },
  });
}

async function status(server: { url: string }): Promise<IsrStatus> {
  const response = await request(server, '/_isr/status', { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(response.status, 200, response.text);
  return JSON.parse(response.text) as IsrStatus;
}

async function revalidate(server: { url: string }, body: unknown): Promise<{ status: number; headers: Headers; text: string }> {
  return request(server, '/_isr/revalidate', {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

describe('a cache folder that cannot be written', () => {
  test('read-only: pages are rendered once and served from memory, the failure is logged once and reported as degraded', async () => {
    // The build's cache folder exists and then turns read-only, as when a disk is remounted
    // read-only after errors (ext4's errors=remount-ro), or a container's file system is.
    const dir = await scratch.folder();
    if (IS_ROOT) await scratch.mountTmpfs(dir, 'size=1m');
    const buildFolder = path.join(dir, f.server.isr.site.buildId);
    await mkdir(buildFolder);
    if (IS_ROOT) await scratch.remount(dir, 'remount,ro');
    else await chmod(buildFolder, 0o555);
    const logger = createMemoryLogger();
    const server = await serve(dir, logger);
    try {
      f.api.items.set('ro-1', 'read-only one');
      const calls = f.api.callsFor('ro-1');
      const first = await request(server, '/items/ro-1');
      assert.equal(first.status, 200);
      assert.equal(pageText(first.text), 'read-only one');
      for (let i = 0; i < 5; i++) {
        const again = await request(server, '/items/ro-1');
        assert.equal(again.status, 200);
        assert.equal(again.headers.get('x-isr-cache'), 'HIT');
      }
      assert.equal(f.api.callsFor('ro-1') - calls, 1, 'rendered once, then served from memory');
      f.api.items.set('ro-2', 'read-only two');
      assert.equal((await request(server, '/items/ro-2')).status, 200);

      const warnings = logger.lines.filter((line) => line.startsWith('warn') && line.includes(dir));
      assert.equal(warnings.length, 1, `one warning per failure streak:\n${logger.lines.join('\n')}`);
      assert.match(warnings[0]!, IS_ROOT ? /EROFS/ : /EACCES/);

      // On-demand revalidation still applies (in memory), but cannot outlive a restart here, so it is
      // not acknowledged: 503 with Retry-After (test/reliability/durability.test.ts has the rest).
      f.api.items.set('ro-1', 'read-only one, edited');
      const refused = await revalidate(server, { tags: ['item-ro-1'] });
      assert.equal(refused.status, 503, refused.text);
      assert.equal(refused.headers.get('retry-after'), '5');
      assert.equal(pageText((await request(server, '/items/ro-1')).text), 'read-only one, edited');
      const report = await status(server);
      assert.equal(report.status, 'degraded');
      const durable = report.cache.tiers.find((tier) => tier.store.includes(dir));
      assert.ok(durable !== undefined && durable.failingWrites >= 2, JSON.stringify(report.cache.tiers));
      assert.ok(
        report.problems.some((problem) => problem.includes(dir)),
        report.problems.join('\n'),
      );
      assert.ok(report.cache.memory !== null && report.cache.memory.entries >= 2);
    } finally {
      await server.close();
    }
  });

  test('full (ENOSPC): pages are served from memory, no partial file is left, and writes resume once space is freed', {
    skip: IS_ROOT ? false : 'needs root to mount a small tmpfs',
  }, async () => {
    const dir = await scratch.folder();
    await scratch.mountTmpfs(dir, 'size=256k');
    const logger = createMemoryLogger();
    const server = await serve(dir, logger);
    const filler = path.join(dir, 'filler');
    try {
      // Fill the file system to the last byte.
      await writeFile(filler, Buffer.alloc(1024 * 1024)).then(
        () => assert.fail('a 1 MiB file fit in a 256 KiB tmpfs'),
        (error: NodeJS.ErrnoException) => assert.equal(error.code, 'ENOSPC'),
      );
      const big = 'x'.repeat(64 * 1024);
      f.api.items.set('full-1', `full one ${big}`);
      const first = await request(server, '/items/full-1');
      assert.equal(first.status, 200);
      assert.equal(pageText(first.text), `full one ${big}`);
      assert.equal((await request(server, '/items/full-1')).headers.get('x-isr-cache'), 'HIT');
      assert.ok(
        logger.lines.some((line) => line.startsWith('warn') && /ENOSPC/.test(line)),
        logger.lines.join('\n'),
      );
      assert.equal((await status(server)).status, 'degraded');
      const leftovers = (await listFiles(dir)).filter((file) => file !== filler);
      assert.deepEqual(
        leftovers.filter((file) => !file.endsWith('.entry')),
        [],
        'no temp file is left behind',
      );

      await unlink(filler);
      f.api.items.set('full-2', 'full two');
      assert.equal((await request(server, '/items/full-2')).status, 200);
      await server.isr.engine.flush();
      assert.equal((await status(server)).status, 'ok');
      assert.ok(
        logger.lines.some((line) => line.startsWith('info') && line.includes('writes succeed again')),
        logger.lines.join('\n'),
      );
    } finally {
      await server.close();
    }
    // After a restart, what reached the disk is served from it; every file there is a whole entry.
    for (const file of (await listFiles(dir)).filter((name) => name.endsWith('.entry'))) decodeEntry(await readFile(file));
    const restarted = await serve(dir);
    try {
      const calls = f.api.callsFor('full-2');
      const two = await request(restarted, '/items/full-2');
      assert.equal(pageText(two.text), 'full two');
      assert.equal(two.headers.get('x-isr-cache'), 'HIT');
      assert.equal(f.api.callsFor('full-2'), calls, 'served from disk, not rendered again');
    } finally {
      await restarted.close();
    }
  });
});

describe('Redis killed (SIGKILL) under load', () => {
  let redis: RedisServer;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis?.close();
  });

  test('pages keep answering 200 through the outage; revalidation answers 503 with Retry-After meanwhile, and 200 once Redis is back', async (t) => {
    const logger = createMemoryLogger({ debug: false });
    const prefix = `isr-faults-${process.pid}-${Date.now()}:`;
    const server = await serve(await scratch.folder(), logger, { redisUrl: redis.url, redisKeyPrefix: prefix });
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    const revalidations: { status: number; retryAfter: string | null }[] = [];
    for (let i = 0; i < 40; i++) f.api.items.set(`r${i}`, `redis ${i}`);
    let stop = false;
    const loop = async (worker: number) => {
      for (let n = 0; !stop; n++) {
        const target = n % 3 === 0 ? '/items/1' : `/items/r${(worker * 7 + n) % 40}`;
        try {
          const response = await fetch(server.url + target);
          await response.arrayBuffer();
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        } catch (error) {
          failures.push(`${target}: ${(error as Error).message}`);
        }
      }
    };
    const storm = async () => {
      while (!stop) {
        const response = await revalidate(server, { tags: ['items'] });
        revalidations.push({ status: response.status, retryAfter: response.headers.get('retry-after') });
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    try {
      const load = Promise.all([...Array.from({ length: 8 }, (_, worker) => loop(worker)), storm()]);
      await sleep(700);
      await redis.kill();
      await sleep(300);
      const during = await status(server);
      await sleep(700);
      await redis.start();
      // Back: the client reconnects on its own (bounded wait).
      const deadline = Date.now() + 10_000;
      let reachable = false;
      while (!reachable && Date.now() < deadline) {
        reachable = (await status(server)).cache.tiers.some((tier) => tier.reachable === true);
        if (!reachable) await sleep(100);
      }
      await sleep(500);
      stop = true;
      await load;

      assert.deepEqual(failures, [], 'no request failed');
      assert.deepEqual([...statuses.keys()], [200], `every page answered 200: ${JSON.stringify([...statuses])}`);
      const total = [...statuses.values()].reduce((a, b) => a + b, 0);
      assert.ok(total > 50, `the load ran (${total} requests)`);

      assert.equal(during.status, 'degraded');
      assert.ok(
        during.cache.tiers.some((tier) => tier.reachable === false),
        JSON.stringify(during.cache.tiers),
      );
      assert.ok(reachable, 'Redis is reachable again within 10 s of its restart');
      const refused = revalidations.filter((r) => r.status !== 200);
      assert.ok(refused.length > 0, 'some revalidations fell in the outage');
      for (const r of refused) assert.deepEqual(r, { status: 503, retryAfter: '5' });
      assert.equal(revalidations.at(-1)?.status, 200, 'revalidation works again after the outage');
      t.diagnostic(
        `${total} page requests, all 200; ${revalidations.length} revalidations, ${refused.length} answered 503 during the outage`,
      );

      // The outage is logged once, and the recovery too; nothing else went wrong.
      assert.equal(logger.lines.filter((line) => line.startsWith('error')).length, 0, logger.lines.join('\n'));
      f.api.items.set('r1', 'redis one, after');
      assert.equal((await revalidate(server, { tags: ['item-r1'] })).status, 200);
      assert.equal(pageText((await request(server, '/items/r1')).text), 'redis one, after');
    } finally {
      stop = true;
      await server.close();
    }
  });
});

describe('error pages reveal nothing', () => {
  test('a page, a route handler and an API route that throw answer a plain 500: no message, stack, file path or secret', async () => {
    const { dir, cleanup } = await copyFixture('site');
    const secret = `secret-${TOKEN}`;
    const thrown = `new Error('boom ${secret} ' + process.cwd())`;
    await mkdir(path.join(dir, 'app', 'explodes'), { recursive: true });
    await writeFile(
      path.join(dir, 'app', 'explodes', 'page.tsx'),
      `export const dynamic = 'force-dynamic';\nexport default function Explodes() {\n  throw ${thrown};\n}\n`,
    );
    await mkdir(path.join(dir, 'app', 'explodes-route'), { recursive: true });
    await writeFile(
      path.join(dir, 'app', 'explodes-route', 'route.ts'),
      `export const dynamic = 'force-dynamic';\nexport function GET() {\n  throw ${thrown};\n}\n`,
    );
    await mkdir(path.join(dir, 'pages', 'api'), { recursive: true });
    await writeFile(path.join(dir, 'pages', 'api', 'explodes.ts'), `export default function handler() {\n  throw ${thrown};\n}\n`);
    const logger = createMemoryLogger();
    await build({ siteDir: dir, logger });
    const server = await startServer({ siteDir: dir, port: 0, hostname: '127.0.0.1', logger, config: { revalidateToken: TOKEN } });
    try {
      for (const target of ['/explodes', '/explodes-route', '/api/explodes']) {
        const response = await request(server, target);
        assert.equal(response.status, 500, target);
        assert.equal(response.headers.get('cache-control'), 'private, no-cache, no-store, max-age=0, must-revalidate', target);
        for (const leak of [
          /boom/,
          new RegExp(TOKEN),
          /\bat \S+ \(/,
          /\.tsx?\b|\.m?js\b/,
          new RegExp(process.cwd().replace(/[/\\^$.*+?()[\]{}|]/g, '\\$&')),
          /\w*Error:/,
        ]) {
          assert.doesNotMatch(response.text, leak, `${target} leaks ${leak}: ${response.text}`);
        }
      }
      // The operator still learns what happened, from the log.
      assert.ok(
        logger.lines.some((line) => line.startsWith('error') && line.includes('boom')),
        logger.lines.join('\n'),
      );
    } finally {
      await server.close();
      await cleanup();
    }
  });
});

describe('GET /_isr/status', () => {
  test('needs the token; reports the memory tier under its bound, the tiers and the generations', async () => {
    assert.equal((await request(f, '/_isr/status')).status, 401);
    assert.equal((await request(f, '/_isr/status', { headers: { authorization: 'Bearer wrong-token-123' } })).status, 401);
    assert.equal((await request(f, '/_isr/status', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } })).status, 405);
    f.api.items.set('st', 'status');
    await request(f, '/items/st');
    const report = await status(f);
    assert.equal(report.status, 'ok', JSON.stringify(report));
    assert.deepEqual(report.problems, []);
    assert.equal(report.pid, process.pid);
    assert.ok(report.cache.memory !== null);
    assert.ok(report.cache.memory.bytes > 0 && report.cache.memory.bytes <= report.cache.memory.maxBytes);
    assert.equal(report.cache.tiers.length, 3);
    assert.ok(report.generations.generated >= 1);
    assert.ok(report.process.rss > 0);
  });
});
