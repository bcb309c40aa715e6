/**
 * renderTimeout over HTTP: the fixture site's `/items/[id]` page awaits the content API, whose
 * `delays` make a render hang. The timeout is wall time (a real timer; the injected clock only
 * decides freshness), so it is small here: 0.3 s.
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { build } from '../../src/build/build.ts';
import { createMemoryLogger } from '../../src/log.ts';
import { startFixtureApi } from '../helpers/fixture-api.ts';
import { FIXTURE_ITEMS, type FixtureServer, pageText, request, startFixtureServer } from '../helpers/server.ts';
import { copyFixture } from '../helpers/site.ts';

const RENDER_TIMEOUT_MS = 300;

let f: FixtureServer;
before(async () => {
  f = await startFixtureServer({ renderTimeout: RENDER_TIMEOUT_MS / 1000 });
});
after(async () => {
  await f.close();
});

const get = (path: string) => request(f, path);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('renderTimeout: a render that hangs does not hang the site', () => {
  test('a STALE page is served during a hung regeneration; after the timeout the next request regenerates, and the late result is discarded', async () => {
    const calls = f.api.callsFor('1');
    f.api.items.set('1', 'late'); // what the hung render reads
    f.api.delays.set('1', 1500);
    f.clock.advance(10_001);
    const hungAt = performance.now();
    for (let i = 0; i < 2; i++) {
      const stale = await get('/items/1');
      assert.equal(stale.headers.get('x-isr-cache'), 'STALE');
      assert.equal(pageText(stale.text), 'one');
      await sleep(100);
    }
    assert.equal(f.api.callsFor('1') - calls, 1, 'one regeneration while it hangs');
    await sleep(RENDER_TIMEOUT_MS + 100 - (performance.now() - hungAt));
    const logged = f.logger.lines.filter((line) => /timed out/.test(line));
    assert.equal(logged.length, 1, logged.join('\n'));
    assert.match(logged[0]!, /^error generation of \/items\/1 .*timed out after 0\.3 s; the last good version \(if any\) stays in place$/);

    // The API recovers: the next request starts a new regeneration, which succeeds.
    f.api.delays.delete('1');
    f.api.items.set('1', 'one v3');
    const stale = await get('/items/1');
    assert.equal(stale.headers.get('x-isr-cache'), 'STALE');
    await f.server.isr.engine.flush();
    assert.equal(f.api.callsFor('1') - calls, 2, 'a new regeneration after the timed-out one');
    const fresh = await get('/items/1');
    assert.equal(fresh.headers.get('x-isr-cache'), 'HIT');
    assert.equal(pageText(fresh.text), 'one v3');

    // The hung render completes once the API answers (1.5 s): its result is never stored.
    await sleep(1500 + 100 - (performance.now() - hungAt));
    await f.server.isr.engine.flush();
    const later = await get('/items/1');
    assert.equal(later.headers.get('x-isr-cache'), 'HIT');
    assert.equal(pageText(later.text), 'one v3');
  });

  test('a MISS whose render hangs answers the plain 500 page after the timeout, not before; the late result is not stored', async () => {
    f.api.items.set('slow', 'late');
    f.api.delays.set('slow', 1000);
    const began = performance.now();
    const response = await get('/items/slow');
    const elapsed = performance.now() - began;
    assert.equal(response.status, 500);
    assert.equal(response.headers.get('cache-control'), 'private, no-cache, no-store, max-age=0, must-revalidate');
    assert.ok(elapsed >= RENDER_TIMEOUT_MS - 10 && elapsed < 900, `answered after ${elapsed.toFixed(0)} ms`);

    await sleep(1000 + 100 - (performance.now() - began));
    await f.server.isr.engine.flush();
    assert.equal(await f.server.isr.store.get('/items/slow'), undefined, 'the late render was not stored');
    f.api.delays.delete('slow');
    f.api.items.set('slow', 'fresh');
    const retried = await get('/items/slow');
    assert.equal(retried.status, 200);
    assert.equal(retried.headers.get('x-isr-cache'), 'MISS');
    assert.equal(pageText(retried.text), 'fresh');
  });
});

test('isr build: a prerender that hangs past renderTimeout fails the build, naming the path', async () => {
  const api = await startFixtureApi(FIXTURE_ITEMS);
  const { dir, cleanup } = await copyFixture('site');
  const previous = { api: process.env.FIXTURE_API_URL, timeout: process.env.ISR_RENDER_TIMEOUT };
  process.env.FIXTURE_API_URL = api.url;
  process.env.ISR_RENDER_TIMEOUT = '0.3';
  try {
    api.delays.set('2', 2000);
    await assert.rejects(
      build({ siteDir: dir, logger: createMemoryLogger() }),
      /prerendering \/items\/2 \(.*\) failed: generation of \/items\/2 .*timed out after 0\.3 s/,
    );
  } finally {
    for (const [name, value] of [
      ['FIXTURE_API_URL', previous.api],
      ['ISR_RENDER_TIMEOUT', previous.timeout],
    ] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await api.close();
    await cleanup();
  }
});
