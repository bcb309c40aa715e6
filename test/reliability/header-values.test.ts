/**
 * Header values are valid by construction (docs/reliability.md, "Header values valid by
 * construction"). A real `isr start` process (dist/, so `npm run build` first) serves
 * `test/fixtures/headers-site`; every answer is read over a raw socket, so the bytes on the wire
 * are what is checked.
 *
 * Each stored answer is requested three ways, since each reaches different code:
 * - `fresh`: the first request of a key (node:http, the full handler, `new Response`);
 * - `fast`: a keep-alive request for an entry in memory (the fast path writes stored bytes raw);
 * - `close`: the same with `Connection: close` (handed to node:http, which answers from memory
 *   with `res.writeHead`: before the fix, one such request killed the process).
 */

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { build } from '../../src/build/build.ts';
import { createMemoryLogger } from '../../src/log.ts';
import { ENTRY_MAGIC } from '../../src/store/codec.ts';
import { FileSystemStore } from '../../src/store/filesystem.ts';
import { type FixtureApi, startFixtureApi } from '../helpers/fixture-api.ts';
import { type Instance, startInstance } from '../helpers/instances.ts';
import { header, headProblem, type RawRequest, type RawResponse, rawExchange, rawRequest } from '../helpers/raw-http.ts';
import { TOKEN } from '../helpers/server.ts';
import { copyFixture } from '../helpers/site.ts';

/** The encoded form of `/blog/café-日本` (WHATWG URL serialisation: UTF-8 percent-encoding). */
const CAFE = '/blog/caf%C3%A9-%E6%97%A5%E6%9C%AC';

const ITEMS: Record<string, string> = {
  cafe: '/blog/café-日本',
  evil: '/x\r\nSet-Cookie: evil=1',
  lf: '/y\nSet-Cookie: lf=1',
  moving: '/first',
  poison: '/clean',
  note: 'fine',
  latin: 'café',
  ctl: 'a\x01b',
};

let api: FixtureApi;
let site: { dir: string; cleanup: () => Promise<void> };
let cacheDir: string;
let instance: Instance;

/** One request on a new connection, `close` adding `Connection: close`. */
function once(path: string, close = false): Promise<RawResponse> {
  return rawRequest(instance.port, { path, headers: close ? { connection: 'close' } : {} });
}

/**
 * `path` requested the three ways of the module comment; each answer must be a well-formed head.
 * The `fast` request is the second on its connection, after one that puts the entry in memory.
 */
async function threeWays(path: string): Promise<{ fresh: RawResponse; fast: RawResponse; close: RawResponse }> {
  const fresh = await once(path);
  const [, fast] = await rawExchange(instance.port, [{ path }, { path }]);
  const close = await once(path, true);
  for (const [way, response] of Object.entries({ fresh, fast: fast!, close })) {
    assert.equal(headProblem(response.head), undefined, `${path} (${way}): ${JSON.stringify(response.head)}`);
  }
  return { fresh, fast: fast!, close };
}

/** The process is alive and another page answers 200. */
async function assertServing(): Promise<void> {
  assert.equal(instance.child.exitCode, null, `isr start exited:\n${instance.log()}`);
  const home = await once('/', true);
  assert.equal(home.status, 200, home.head);
}

/** Waits (bounded) for `text` to appear in the process's output. */
async function logged(text: string): Promise<string> {
  for (let i = 0; i < 100 && !instance.log().includes(text); i++) await sleep(20);
  const line = instance
    .log()
    .split('\n')
    .find((l) => l.includes(text));
  assert.ok(line !== undefined, `no log line with ${JSON.stringify(text)}:\n${instance.log()}`);
  return line;
}

/** An ISR1 entry file as another writer might have left it (codec layout, no check). */
function rawEntry(metadata: Record<string, unknown>): Buffer {
  const json = Buffer.from(JSON.stringify({ ...metadata, bodyLength: 0 }), 'utf8');
  const out = Buffer.alloc(8 + json.length);
  out.set(ENTRY_MAGIC, 0);
  out.writeUInt32BE(json.length, 4);
  out.set(json, 8);
  return out;
}

before(async () => {
  api = await startFixtureApi(ITEMS);
  process.env.FIXTURE_API_URL = api.url;
  site = await copyFixture('headers-site');
  cacheDir = await mkdtemp(path.join(tmpdir(), 'isr-headers-cache-'));
  const { buildId } = await build({ siteDir: site.dir, logger: createMemoryLogger() });
  // A stored entry no generation of this version writes: its location would split the response.
  const store = new FileSystemStore({ dir: path.join(cacheDir, buildId) });
  const file = store.entryPath('/go/cms/poison');
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(
    file,
    rawEntry({
      key: '/go/cms/poison',
      kind: 'page',
      status: 307,
      headers: { location: '/x\r\nSet-Cookie: poisoned=1' },
      tags: [],
      revalidate: false,
      expire: 'Infinity',
      lastModified: Date.now(),
      etag: '"poisoned"',
    }),
  );
  instance = await startInstance(site.dir, { FIXTURE_API_URL: api.url, ISR_CACHE_DIR: cacheDir, ISR_REVALIDATE_TOKEN: TOKEN });
});

after(async () => {
  await instance?.stop();
  await api?.close();
  await site?.cleanup();
  if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
});

describe('header values valid by construction, on every path', () => {
  test('a redirect() to a non-Latin-1 path sends its percent-encoded form, byte for byte, on every path', async () => {
    const answers = await threeWays('/go/cafe');
    for (const [way, response] of Object.entries(answers)) {
      assert.equal(response.status, 307, `${way}: ${response.head}`);
      assert.ok(response.head.includes(`\r\nlocation: ${CAFE}\r\n`), `${way}: ${JSON.stringify(response.head)}`);
    }
    assert.equal(answers.fast.headers.find(([n]) => n === 'x-isr-cache')?.[1], 'HIT');
    await assertServing();
  });

  test('a getStaticProps redirect to a non-Latin-1 path is percent-encoded too (Pages Router)', async () => {
    const answers = await threeWays('/legacy/cafe');
    for (const [way, response] of Object.entries(answers)) {
      assert.equal(response.status, 307, `${way}: ${response.head}`);
      assert.equal(header(response, 'location'), CAFE, way);
    }
    await assertServing();
  });

  test('a CMS redirect target with CR/LF fails its generation: 500, no injected header, page and header logged', async () => {
    for (const [path, route, cookie] of [
      ['/go/cms/evil', '/go/cms/[id]', 'evil=1'],
      ['/go/cms/lf', '/go/cms/[id]', 'lf=1'],
    ] as const) {
      const answers = await threeWays(path);
      for (const [way, response] of Object.entries(answers)) {
        assert.equal(response.status, 500, `${path} ${way}: ${response.head}`);
        assert.equal(header(response, 'set-cookie'), undefined, `${path} ${way}: ${JSON.stringify(response.head)}`);
        assert.ok(!response.head.toLowerCase().includes('set-cookie'), `${path} ${way}`);
      }
      const line = await logged(`generation of ${path} (route ${route}) failed`);
      assert.match(line, /location/);
      assert.ok(!instance.log().includes(cookie), 'the log never echoes the whole value');
    }
    await assertServing();
  });

  test('a bad redirect target after a good one keeps the last good page', async () => {
    const good = await once('/go/cms/moving');
    assert.equal(good.status, 307);
    assert.equal(header(good, 'location'), '/first');
    api.items.set('moving', '/x\r\nSet-Cookie: moved=1');
    const response = await fetch(`${instance.url}/_isr/revalidate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tags: ['item-moving'] }),
    });
    assert.equal(response.status, 200, await response.text());
    const answers = await threeWays('/go/cms/moving');
    for (const [way, answer] of Object.entries(answers)) {
      assert.equal(answer.status, 307, `${way}: ${answer.head}`);
      assert.equal(header(answer, 'location'), '/first', way);
      assert.equal(header(answer, 'set-cookie'), undefined, way);
    }
    await logged('generation of /go/cms/moving (route /go/cms/[id]) failed');
    await assertServing();
  });

  test('a cached route handler header with a control character fails its generation: 500, page and header logged', async () => {
    const answers = await threeWays('/hdr/ctl');
    for (const [way, response] of Object.entries(answers)) assert.equal(response.status, 500, `${way}: ${response.head}`);
    const line = await logged('generation of /hdr/ctl (route /hdr/[id]) failed');
    assert.match(line, /"x-note"/);
    assert.match(line, /U\+0001/);
    // The same route with a clean value is stored and served.
    const fine = await threeWays('/hdr/note');
    for (const [way, response] of Object.entries(fine)) {
      assert.equal(response.status, 200, `${way}: ${response.head}`);
      assert.equal(header(response, 'x-note'), 'fine', way);
    }
    await assertServing();
  });

  test('a Latin-1 header value (obs-text) is kept and sent as the same byte on every path', async () => {
    const answers = await threeWays('/hdr/latin');
    for (const [way, response] of Object.entries(answers)) {
      assert.equal(response.status, 200, `${way}: ${response.head}`);
      assert.ok(response.head.includes('\r\nx-note: caf\xe9\r\n'), `${way}: ${JSON.stringify(response.head)}`);
    }
    await assertServing();
  });

  test('a stored entry whose head could not be sent is treated as corrupt: ignored, logged, regenerated', async () => {
    const answers = await threeWays('/go/cms/poison');
    for (const [way, response] of Object.entries(answers)) {
      assert.equal(response.status, 307, `${way}: ${response.head}`);
      assert.equal(header(response, 'location'), '/clean', way);
      assert.ok(!response.head.toLowerCase().includes('set-cookie'), way);
    }
    const line = await logged('ignoring entry "/go/cms/poison"');
    assert.match(line, /location/);
    await assertServing();
  });

  test('after all of the above, the process has not restarted and every page still answers', async () => {
    const requests: RawRequest[] = ['/', '/go/cafe', '/hdr/note', '/go/cms/moving', '/'].map((path) => ({ path }));
    const answers = await rawExchange(instance.port, requests);
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 307, 200, 307, 200],
    );
    assert.equal(instance.child.exitCode, null);
    assert.doesNotMatch(instance.log(), /uncaught|ERR_INVALID_CHAR/i);
  });
});
