/**
 * Several instances on one Redis (docs/deployment.md): three real `isr start` instances (the third
 * with two worker processes) sharing one real Redis (started by the test, so it can be stopped and
 * restarted) behave as one cache — synchronized purges, one regeneration per page across
 * instances (cache shielding), and no lost page or 5xx while Redis is away. Each instance has its
 * own cache folder, so Redis is the only thing they share.
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { build } from '../../src/build/build.ts';
import { createMemoryLogger } from '../../src/log.ts';
import { type FixtureApi, startFixtureApi } from '../helpers/fixture-api.ts';
import { get, type Instance, startInstance } from '../helpers/instances.ts';
import { type RedisServer, startRedis } from '../helpers/redis.ts';
import { FIXTURE_ITEMS, pageText, TOKEN } from '../helpers/server.ts';
import { copyFixture } from '../helpers/site.ts';

let api: FixtureApi;
let redis: RedisServer;
let site: { dir: string; cleanup: () => Promise<void> };
let instances: Instance[] = [];

/** Polls `check` every 5 ms until it holds or `ms` pass; returns the elapsed ms, or throws. */
async function within(ms: number, what: string, check: () => Promise<boolean>): Promise<number> {
  const start = performance.now();
  for (;;) {
    if (await check()) return performance.now() - start;
    if (performance.now() - start > ms) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(5);
  }
}

async function revalidate(instance: Instance, body: unknown): Promise<number> {
  const response = await fetch(`${instance.url}/_isr/revalidate`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', connection: 'close' },
    body: JSON.stringify(body),
  });
  await response.text();
  return response.status;
}

/** The page's text on every instance. */
async function textsOf(path: string): Promise<(string | undefined)[]> {
  return Promise.all(instances.map(async (instance) => pageText((await get(instance.url + path)).text)));
}

before(async () => {
  api = await startFixtureApi(FIXTURE_ITEMS);
  redis = await startRedis();
  site = await copyFixture('site');
  process.env.FIXTURE_API_URL = api.url;
  await build({ siteDir: site.dir, logger: createMemoryLogger() });
  const env = {
    FIXTURE_API_URL: api.url,
    ISR_REDIS_URL: redis.url,
    ISR_REDIS_KEY_PREFIX: `isr-test-${randomBytes(4).toString('hex')}:`,
    ISR_REVALIDATE_TOKEN: TOKEN,
    ISR_LOCK_TIMEOUT: '5',
  };
  // The third runs two worker processes (`--workers 2`): they share the cache through Redis too.
  instances = await Promise.all(
    ['a', 'b', 'c'].map((name) =>
      startInstance(site.dir, { ...env, ISR_CACHE_DIR: `${site.dir}/.isr/cache-${name}` }, name === 'c' ? ['--workers', '2'] : []),
    ),
  );
});

after(async () => {
  await Promise.allSettled(instances.map((instance) => instance.stop()));
  await redis?.close();
  await api?.close();
  await site?.cleanup();
});

describe('three instances sharing one Redis', () => {
  test('a revalidation on one instance is seen on all three, and the page is regenerated once', async () => {
    assert.deepEqual(await textsOf('/items/1'), ['one', 'one', 'one']);
    const calls = api.callsFor('1');
    api.items.set('1', 'one v2');
    assert.equal(await revalidate(instances[0]!, { paths: ['/items/1'] }), 200);
    // From the moment the call returns, no instance may serve the old page for long: the purge is
    // broadcast, and the first request on each instance after it waits for (or makes) the new one.
    await within(1000, 'every instance serves the new page', async () => (await textsOf('/items/1')).every((text) => text === 'one v2'));
    await sleep(100);
    assert.equal(api.callsFor('1') - calls, 1, 'one regeneration across the cluster');
  });

  test('a MISS stampede across the three renders once; the others wait for that result', async () => {
    api.items.set('brief-m', 'made once');
    api.delays.set('brief-m', 300);
    const responses = await Promise.all(Array.from({ length: 60 }, (_, i) => get(`${instances[i % 3]!.url}/brief/m`)));
    assert.deepEqual(new Set(responses.map((r) => r.status)), new Set([200]));
    assert.deepEqual(new Set(responses.map((r) => pageText(r.text))), new Set(['made once']));
    assert.equal(api.callsFor('brief-m'), 1);
  });

  test('200 concurrent requests for a stale page, spread over the three, cause exactly one regeneration', async () => {
    api.items.set('brief-h', 'herd v1');
    assert.deepEqual(await textsOf('/brief/h'), ['herd v1', 'herd v1', 'herd v1']);
    assert.equal(api.callsFor('brief-h'), 1);
    api.items.set('brief-h', 'herd v2');
    api.delays.set('brief-h', 200);
    await sleep(1100); // past the page's 1-second window
    const responses = await Promise.all(Array.from({ length: 200 }, (_, i) => get(`${instances[i % 3]!.url}/brief/h`)));
    assert.deepEqual(new Set(responses.map((r) => r.status)), new Set([200]), 'no failed request');
    assert.ok(responses.every((r) => ['herd v1', 'herd v2'].includes(pageText(r.text)!)));
    // Counted as soon as the regeneration reached the content API: the page's 1-second window may
    // pass again while a slow machine checks every instance, and a later regeneration is right then.
    await within(2000, 'the herd regenerated the page', async () => api.callsFor('brief-h') >= 2);
    assert.equal(api.callsFor('brief-h'), 2, 'the first render and exactly one regeneration');
    await within(2000, 'every instance serves the regenerated page', async () =>
      (await textsOf('/brief/h')).every((text) => text === 'herd v2'),
    );
  });

  test('Redis stopped and restarted mid-test: no page lost, no 5xx, the outage logged once, purges resume', async () => {
    const paths = ['/items/1', '/items/2', '/forever', '/brief/m'];
    for (const path of paths)
      assert.ok(
        (await textsOf(path)).every((text) => text !== undefined),
        path,
      );
    const before = await Promise.all(paths.map(async (path) => (await textsOf(path)).join('|')));
    await redis.stop();
    const during: { status: number; text: string }[] = [];
    const load = (async () => {
      const end = performance.now() + 1500;
      while (performance.now() < end) {
        during.push(...(await Promise.all(instances.flatMap((instance) => paths.map((path) => get(instance.url + path))))));
      }
    })();
    // A revalidation while Redis is away applies on the instance that got it, which says it could
    // not reach the others yet (503, retry later) ...
    api.items.set('2', 'two v2');
    assert.equal(await revalidate(instances[1]!, { paths: ['/items/2'] }), 503);
    await within(
      1000,
      'the instance that got the revalidation serves the new page',
      async () => pageText((await get(`${instances[1]!.url}/items/2`)).text) === 'two v2',
    );
    await load;
    assert.ok(during.length > 50, `load ran (${during.length} requests)`);
    assert.deepEqual(
      during.filter((r) => r.status !== 200).map((r) => `${r.status} ${r.text.slice(0, 80)}`),
      [],
      'every request for a cached page succeeded while Redis was down',
    );
    const unchanged = await Promise.all(paths.filter((path) => path !== '/items/2').map(async (path) => (await textsOf(path)).join('|')));
    assert.deepEqual(
      unchanged,
      before.filter((_, i) => paths[i] !== '/items/2'),
      'no page lost or changed',
    );

    // ... and reaches the others once Redis is back (the instance records it again on reconnect).
    await redis.start();
    await within(5000, 'every instance serves the page revalidated during the outage', async () =>
      (await textsOf('/items/2')).every((text) => text === 'two v2'),
    );
    // Purges work again.
    api.items.set('1', 'one v3');
    // An instance acknowledges once its own Redis connection is back (until then it answers 503).
    await within(
      3000,
      'a revalidation after the restart is acknowledged',
      async () => (await revalidate(instances[2]!, { paths: ['/items/1'] })) === 200,
    );
    await within(1000, 'a revalidation after the restart reaches every instance', async () =>
      (await textsOf('/items/1')).every((text) => text === 'one v3'),
    );
    for (const [index, instance] of instances.entries()) {
      const outage = instance
        .log()
        .split('\n')
        .filter((line) => /Redis is unreachable|failed/.test(line));
      const processes = index === 2 ? 2 : 1;
      assert.equal(outage.length, processes, `the outage is logged once per serving process:\n${instance.log()}`);
    }
  });
});
