/** The storage promises, over HTTP: durability across restarts, build-ID scoping, containment. */

import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { build } from '../../src/build/build.ts';
import { createMemoryLogger } from '../../src/log.ts';
import { startServer } from '../../src/server/index.ts';
import { type FixtureServer, pageText, request, startFixtureServer, TOKEN } from '../helpers/server.ts';

let f: FixtureServer;
before(async () => {
  f = await startFixtureServer();
});
after(async () => {
  await f.close();
});

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(full)));
    else out.push(full);
  }
  return out;
}

describe('storage', () => {
  test('a page generated at run time survives a restart: served as a HIT without rendering', async () => {
    f.api.items.set('7', 'seven');
    assert.equal((await request(f, '/items/7')).headers.get('x-isr-cache'), 'MISS');
    await f.restart();
    const calls = f.api.callsFor('7');
    const response = await request(f, '/items/7');
    assert.equal(response.headers.get('x-isr-cache'), 'HIT');
    assert.equal(pageText(response.text), 'seven');
    assert.equal(f.api.callsFor('7'), calls);
  });

  test('a revalidation survives a restart: the old page is not served after it', async () => {
    f.api.items.set('7', 'seven v2');
    const response = await request(f, '/_isr/revalidate', {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ paths: ['/items/7'] }),
    });
    assert.equal(response.status, 200);
    await f.restart();
    assert.equal(pageText((await request(f, '/items/7')).text), 'seven v2');
  });

  test('entries are scoped by build ID: a new build does not serve the previous build’s pages', async () => {
    const oldBuild = f.server.isr.site.buildId;
    f.api.items.set('7', 'seven after deploy');
    f.api.items.set('1', 'one after deploy');
    await build({ siteDir: f.dir, logger: createMemoryLogger() });
    // The new build's pages carry the wall time; the restarted server's clock is at least that late.
    f.clock.advance(Math.max(0, Date.now() - f.clock.now()));
    await f.restart();
    assert.notEqual(f.server.isr.site.buildId, oldBuild);
    assert.equal(pageText((await request(f, '/items/7')).text), 'seven after deploy');
    const prerendered = await request(f, '/items/1');
    assert.equal(prerendered.headers.get('x-isr-cache'), 'HIT');
    assert.equal(pageText(prerendered.text), 'one after deploy');
    const dirs = await readdir(path.join(f.dir, '.isr', 'cache'));
    assert.ok(dirs.includes(oldBuild) && dirs.includes(f.server.isr.site.buildId));
  });

  test('no request path writes outside the cache folder', async () => {
    const before = new Set(await walk(f.dir));
    const nasty = [
      '/items/..%2f..%2f..%2fescape',
      '/items/%2e%2e%2f%2e%2e%2fescape',
      '/items/%252e%252e%252fescape',
      '/items/..%5c..%5cescape',
      '/items/escape%00.html',
      '/../../../../tmp/escape',
      '/items/%2e%2e',
      '/items/C:%5Cwindows',
      `/items/${'x'.repeat(1500)}`,
      '/items/ünïcödé',
    ];
    for (const p of nasty) {
      const response = await request(f, p);
      assert.ok(response.status < 500, `${p} → ${response.status}`);
    }
    const cacheRoot = path.join(f.dir, '.isr') + path.sep;
    for (const file of await walk(f.dir)) {
      if (!before.has(file)) assert.ok(file.startsWith(cacheRoot), `${file} was created outside ${cacheRoot}`);
    }
    assert.deepEqual((await readdir(path.dirname(f.dir))).sort(), [path.basename(f.dir)], 'nothing appeared beside the site folder');
  });

  test('a cache folder that cannot be written: pages are still served (from memory) and the failure is logged', async () => {
    const blocker = path.join(f.dir, 'not-a-folder');
    await writeFile(blocker, 'a regular file where the cache folder should be');
    const logger = createMemoryLogger();
    const server = await startServer({
      siteDir: f.dir,
      port: 0,
      hostname: '127.0.0.1',
      logger,
      config: { cacheDir: path.join(blocker, 'cache') },
    });
    try {
      f.api.items.set('8', 'eight');
      const first = await request(server, '/items/8');
      assert.equal(first.status, 200);
      assert.equal(pageText(first.text), 'eight');
      const second = await request(server, '/items/8');
      assert.equal(second.headers.get('x-isr-cache'), 'HIT');
      assert.ok(
        logger.lines.some((line) => line.startsWith('warn') && line.includes(blocker)),
        logger.lines.join('\n'),
      );
    } finally {
      await server.close();
    }
  });
});

describe('old build caches', () => {
  test('starting a build keeps its cache and the two most recent others, and removes older ones', async () => {
    const { mkdir, utimes } = await import('node:fs/promises');
    const { pruneOldBuilds } = await import('../../src/server/index.ts');
    const cacheDir = path.join(f.dir, 'prune-test');
    const names = ['b1', 'b2', 'b3', 'b4', 'current'];
    for (const [index, name] of names.entries()) {
      await mkdir(path.join(cacheDir, name, 'entries'), { recursive: true });
      const time = new Date(Date.now() - (names.length - index) * 60_000);
      await utimes(path.join(cacheDir, name), time, time);
    }
    const removed = await pruneOldBuilds(cacheDir, 'current', createMemoryLogger());
    assert.deepEqual(removed.sort(), ['b1', 'b2']);
    assert.deepEqual((await readdir(cacheDir)).sort(), ['b3', 'b4', 'current']);
  });
});
