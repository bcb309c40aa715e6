/**
 * Hardening against clocks from the future, a paused or restarted Redis, and repeated warnings.
 * Every test runs real servers (HTTP on a free port) on the fixture site; the Redis tests start
 * their own `redis-server`. docs/reliability.md ("Hardening") maps each case to its test.
 */

import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { createClient } from 'redis';
import { build } from '../../src/build/build.ts';
import { ManualClock } from '../../src/engine/clock.ts';
import { createMemoryLogger } from '../../src/log.ts';
import type { IsrStatus } from '../../src/serve/status-endpoint.ts';
import { type RunningServer, startServer } from '../../src/server/index.ts';
import { encodeEntry } from '../../src/store/codec.ts';
import { type RedisServer, startRedis } from '../helpers/redis.ts';
import { type FixtureServer, pageText, request, startFixtureServer, TOKEN } from '../helpers/server.ts';
import { copyFixture } from '../helpers/site.ts';

const HOUR = 3600_000;

let f: FixtureServer;
before(async () => {
  f = await startFixtureServer();
});
after(async () => {
  await f.close();
});

async function revalidate(server: { url: string }, body: unknown): Promise<{ status: number; headers: Headers; text: string }> {
  return request(server, '/_isr/revalidate', {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function status(server: { url: string }): Promise<IsrStatus> {
  const response = await request(server, '/_isr/status', { headers: { authorization: `Bearer ${TOKEN}` } });
  return JSON.parse(response.text) as IsrStatus;
}

/** Polls `check` every 50 ms until it returns true; fails after `timeoutMs`. */
async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await delay(50);
  }
}

/** A server on the fixture site's build with its own clock (undefined: the system clock), logger and config. */
function serve(
  clock: ManualClock | undefined,
  logger: ReturnType<typeof createMemoryLogger>,
  config: Record<string, unknown>,
): Promise<RunningServer> {
  return startServer({ siteDir: f.dir, port: 0, hostname: '127.0.0.1', logger, clock, config: { revalidateToken: TOKEN, ...config } });
}

const aheadLines = (logger: { lines: string[] }) =>
  logger.lines.filter((line) => line.startsWith('warn') && line.includes("ahead of this host's clock"));

describe('clocks from the future', () => {
  test('a tag record holding a time one hour ahead (the clock was stepped back): time-based revalidation still happens on time, logged once', async () => {
    f.api.items.set('1', 'one v1');
    assert.equal((await request(f, '/items/1')).status, 200);
    // Recorded before the clock went back one hour: the record's time is an hour ahead of the clock now.
    await f.server.isr.store.invalidateTags(['items'], f.clock.now() + HOUR);
    await f.restart();
    f.api.items.set('1', 'one v2');
    const first = await request(f, '/items/1');
    assert.equal(first.status, 200);
    assert.equal(pageText(first.text), 'one v2', 'the invalidation applies (as of the restart): never lost');
    assert.equal((await request(f, '/items/1')).headers.get('x-isr-cache'), 'HIT');

    // items/[id] revalidates every 10 s: 11 s later the page is stale and regenerated.
    f.api.items.set('1', 'one v3');
    f.clock.advanceSeconds(11);
    const stale = await request(f, '/items/1');
    assert.equal(stale.headers.get('x-isr-cache'), 'STALE', 'time-based revalidation happens on time');
    await f.server.isr.engine.flush();
    const fresh = await request(f, '/items/1');
    assert.equal(pageText(fresh.text), 'one v3');
    assert.equal(fresh.headers.get('x-isr-cache'), 'HIT');
    // And again for a page that never carried the future tag's time: /items/2.
    f.api.items.set('2', 'two v2');
    assert.equal((await request(f, '/items/2')).status, 200);
    f.clock.advanceSeconds(11);
    assert.equal((await request(f, '/items/2')).headers.get('x-isr-cache'), 'STALE');

    const entry = await f.server.isr.store.get('/items/1');
    assert.ok(entry !== undefined, 'the page is stored under its path');
    assert.ok(entry.lastModified <= f.clock.now(), `stored lastModified ${entry.lastModified} is not ahead of the clock ${f.clock.now()}`);
    const lines = aheadLines(f.logger);
    assert.equal(lines.length, 1, f.logger.lines.join('\n'));
    assert.match(lines[0]!, /the tag record of .* is 3\d{6} ms ahead/);
  });

  describe('two instances on one Redis, one with a clock one hour fast', () => {
    let redis: RedisServer;
    before(async () => {
      redis = await startRedis();
    });
    after(async () => {
      await redis?.close();
    });

    test('the other keeps revalidating on time, and no entry in Redis carries a future lastModified', async (t) => {
      const prefix = `isr-clock-${process.pid}-${Date.now()}:`;
      const config = { redisUrl: redis.url, redisKeyPrefix: prefix, memoryCacheSize: 8 * 1024 * 1024 };
      // A's clock is 2 min behind Redis's so that advancing it by 11 s at a time keeps it behind; B's is an hour ahead.
      const clockA = new ManualClock(Date.now() - 120_000);
      const clockB = new ManualClock(Date.now() + HOUR);
      const logA = createMemoryLogger({ debug: false });
      const logB = createMemoryLogger({ debug: false });
      const a = await serve(clockA, logA, config);
      const b = await serve(clockB, logB, config);
      const raw = createClient({ url: redis.url });
      raw.on('error', () => {});
      await raw.connect();
      try {
        f.api.items.set('c1', 'clock one v1');
        // B renders first: its entry is an hour ahead of Redis's clock, so Redis refuses it (logged once).
        assert.equal(pageText((await request(b, '/items/c1')).text), 'clock one v1');
        await b.isr.engine.flush();
        assert.ok(
          logB.lines.some((line) => line.startsWith('warn') && /ahead of Redis's clock/.test(line)),
          logB.lines.join('\n'),
        );
        // B's revalidation reaches A (recorded and announced at Redis's time, not B's).
        f.api.items.set('c1', 'clock one v2');
        assert.equal((await revalidate(b, { tags: ['item-c1'] })).status, 200);
        await delay(200);
        const first = await request(a, '/items/c1');
        assert.equal(pageText(first.text), 'clock one v2');
        await a.isr.engine.flush();
        assert.equal((await request(a, '/items/c1')).headers.get('x-isr-cache'), 'HIT');

        // A regenerates on time, twice in a row.
        for (const version of ['v3', 'v4']) {
          f.api.items.set('c1', `clock one ${version}`);
          clockA.advanceSeconds(11);
          assert.equal((await request(a, '/items/c1')).headers.get('x-isr-cache'), 'STALE', `A regenerates on time (${version})`);
          await a.isr.engine.flush();
          const fresh = await request(a, '/items/c1');
          assert.equal(pageText(fresh.text), `clock one ${version}`);
          assert.equal(fresh.headers.get('x-isr-cache'), 'HIT');
        }

        // An entry carrying a future time in Redis (written before this rule) is regenerated by A and replaced.
        const planted = (await b.isr.store.get('/items/c1'))!;
        await raw.sendCommand([
          'HSET',
          `${prefix}${a.isr.site.buildId}:e:/items/c1`,
          'lm',
          String(planted.lastModified),
          'v',
          encodeEntry(planted),
        ]);
        f.api.items.set('c1', 'clock one v5');
        clockA.advanceSeconds(11);
        await request(a, '/items/c1');
        await a.isr.engine.flush();
        assert.equal(pageText((await request(a, '/items/c1')).text), 'clock one v5');

        // Nothing in Redis is ahead of Redis's clock.
        const [seconds] = (await raw.sendCommand(['TIME'])) as [string, string];
        const redisNow = Number(seconds) * 1000 + 1000;
        const keys = (await raw.sendCommand(['KEYS', `${prefix}*e:*`])) as string[];
        assert.ok(keys.length > 0);
        for (const key of keys) {
          const lm = Number(await raw.sendCommand(['HGET', key, 'lm']));
          assert.ok(lm <= redisNow + 1000, `${key} has lastModified ${lm}, ${lm - redisNow} ms ahead of Redis`);
        }
        const tags = (await raw.sendCommand(['HGETALL', `${prefix}${a.isr.site.buildId}:tags`])) as string[];
        for (let i = 1; i < tags.length; i += 2) assert.ok(Number(tags[i]) <= redisNow + 1000, `tag ${tags[i - 1]} at ${tags[i]}`);
        t.diagnostic(
          `B's warnings: ${logB.lines.filter((line) => line.startsWith('warn')).length}; A's: ${logA.lines.filter((line) => line.startsWith('warn')).length}`,
        );
      } finally {
        await raw.close();
        await a.close();
        await b.close();
      }
    });
  });
});

describe('a paused or restarted Redis', () => {
  let redis: RedisServer;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    redis?.resume();
    await redis?.close();
  });

  test('paused (SIGSTOP): a MISS waits about one command timeout, a revalidation answers 503 with Retry-After, and reaches the other instance once Redis answers', async (t) => {
    const prefix = `isr-pause-${process.pid}-${Date.now()}:`;
    const config = { redisUrl: redis.url, redisKeyPrefix: prefix };
    const logA = createMemoryLogger({ debug: false });
    const logB = createMemoryLogger({ debug: false });
    const a = await serve(undefined, logA, config);
    const b = await serve(undefined, logB, config);
    try {
      // /forever is never revalidated by time (revalidate = false): only the invalidation can refresh it.
      f.api.items.set('forever', 'pause one v1');
      assert.equal((await revalidate(a, { tags: ['forever'] })).status, 200, 'replaces the prerendered page');
      for (const server of [a, b]) {
        assert.equal(pageText((await request(server, '/forever')).text), 'pause one v1');
        await server.isr.engine.flush();
      }
      assert.equal((await request(b, '/forever')).headers.get('x-isr-cache'), 'HIT');

      redis.pause();
      f.api.items.set('p2', 'pause two');
      const began = performance.now();
      const miss = await request(a, '/items/p2');
      const missMs = performance.now() - began;
      assert.equal(miss.status, 200);
      assert.equal(pageText(miss.text), 'pause two');
      // Four Redis commands lie on a MISS's path (get, lock, getShared, set): only the first waits.
      assert.ok(missMs < 2500, `the MISS took ${missMs.toFixed(0)} ms: more than one command timeout (1 s) was waited`);
      assert.equal((await status(a)).cache.tiers.find((tier) => tier.store.startsWith('redis'))?.reachable, false);

      f.api.items.set('forever', 'pause one v2');
      const refused = await revalidate(a, { tags: ['forever'] });
      assert.equal(refused.status, 503, refused.text);
      assert.equal(refused.headers.get('retry-after'), '5');
      assert.equal(pageText((await request(a, '/forever')).text), 'pause one v2', 'it applies on this instance at once');
      t.diagnostic(`MISS during the pause: ${missMs.toFixed(0)} ms`);

      redis.resume();
      await waitFor('A to see Redis again', async () => (await status(a)).cache.tiers.some((tier) => tier.reachable === true));
      // The invalidation made during the pause reaches B (A's resync records it and announces it).
      await waitFor('B to serve the revalidated page', async () => pageText((await request(b, '/forever')).text) === 'pause one v2');
      assert.equal(logA.lines.filter((line) => line.includes('Redis is unreachable')).length, 1, logA.lines.join('\n'));
      assert.ok(
        logA.lines.some((line) => line.includes('Redis is reachable again')),
        logA.lines.join('\n'),
      );
      assert.equal(logA.lines.filter((line) => line.startsWith('error')).length, 0, logA.lines.join('\n'));
    } finally {
      redis.resume();
      await a.close();
      await b.close();
    }
  });

  test('NOSCRIPT (the script cache emptied, as by a restart or SCRIPT FLUSH): revalidations still answer 200 and reach the other instance', async () => {
    const prefix = `isr-noscript-${process.pid}-${Date.now()}:`;
    const config = { redisUrl: redis.url, redisKeyPrefix: prefix };
    const logA = createMemoryLogger({ debug: false });
    const a = await serve(undefined, logA, config);
    const b = await serve(undefined, createMemoryLogger({ debug: false }), config);
    const raw = createClient({ url: redis.url });
    raw.on('error', () => {});
    await raw.connect();
    try {
      f.api.items.set('n1', 'noscript v1');
      assert.equal((await revalidate(a, { tags: ['item-n1'] })).status, 200, 'the scripts are loaded');
      assert.equal(pageText((await request(b, '/items/n1')).text), 'noscript v1');
      await b.isr.engine.flush();
      for (const version of ['v2', 'v3']) {
        await raw.sendCommand(['SCRIPT', 'FLUSH']);
        f.api.items.set('n1', `noscript ${version}`);
        const response = await revalidate(a, { tags: ['item-n1'] });
        assert.equal(response.status, 200, response.text);
        await waitFor(
          'B to serve the revalidated page',
          async () => pageText((await request(b, '/items/n1')).text) === `noscript ${version}`,
        );
        await b.isr.engine.flush();
      }
      assert.equal(logA.lines.filter((line) => line.startsWith('error') || line.startsWith('warn')).length, 0, logA.lines.join('\n'));
    } finally {
      await raw.close();
      await a.close();
      await b.close();
    }
  });
});

describe('repeated warnings', () => {
  test('a page with an overlong tag rendered on every request: 1,000 requests log a bounded number of short warnings', async (t) => {
    const { dir, cleanup } = await copyFixture('site');
    await mkdir(path.join(dir, 'app', 'long-tag'), { recursive: true });
    await writeFile(
      path.join(dir, 'app', 'long-tag', 'page.tsx'),
      [
        "import { API } from '../../api';",
        "export const dynamic = 'force-dynamic';",
        'export default async function LongTag() {',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the fixture page's source, a template literal of its own.
        "  const res = await fetch(`${API()}/item/1?pad=${'p'.repeat(2000)}`, { next: { revalidate: 60, tags: ['t'.repeat(2048)] } });",
        '  return <p id="text">{((await res.json()) as { text: string }).text}</p>;',
        '}',
        '',
      ].join('\n'),
    );
    const logger = createMemoryLogger({ debug: false });
    await build({ siteDir: dir, logger: createMemoryLogger() });
    const server = await startServer({ siteDir: dir, port: 0, hostname: '127.0.0.1', logger, config: { revalidateToken: TOKEN } });
    try {
      const statuses = new Map<number, number>();
      let next = 0;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (next < 1000) {
            next++;
            const response = await fetch(`${server.url}/long-tag`);
            await response.arrayBuffer();
            statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          }
        }),
      );
      assert.deepEqual([...statuses], [[200, 1000]]);
      const warnings = logger.lines.filter((line) => line.startsWith('warn'));
      const bytes = warnings.reduce((sum, line) => sum + line.length, 0);
      t.diagnostic(`1,000 requests: ${warnings.length} warning line(s), ${bytes} characters`);
      assert.ok(warnings.length >= 1 && warnings.length <= 2, `at most one warning per minute:\n${warnings.join('\n')}`);
      for (const line of warnings) assert.ok(line.length < 400, `a short line (${line.length} characters): ${line}`);
      assert.match(warnings[0]!, /tag is longer than 256 characters/);
    } finally {
      await server.close();
      await cleanup();
    }
  });
});
