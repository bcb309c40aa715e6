/**
 * A canonical origin: the client's `Host` is never baked into cached output. Real `isr start`
 * processes (dist/, so `npm run build` first) serve `test/fixtures/headers-site`, whose cached
 * route handler `/feeds/[name]` builds absolute URLs from `request.url` and is generated on its
 * first request; that request carries `Host: evil.example`.
 *
 * - `plain`: no `siteUrl`: cached generations see the server's own address (`http://127.0.0.1:<port>`).
 * - `configured`: `ISR_SITE_URL=https://www.example.com` at build and at start.
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { build } from '../../src/build/build.ts';
import { createMemoryLogger } from '../../src/log.ts';
import { type FixtureApi, startFixtureApi } from '../helpers/fixture-api.ts';
import { type Instance, startInstance } from '../helpers/instances.ts';
import { header, rawExchange, rawRequest } from '../helpers/raw-http.ts';
import { TOKEN } from '../helpers/server.ts';
import { copyFixture } from '../helpers/site.ts';

const EVIL = 'evil.example';
const SITE_URL = 'https://www.example.com';

let api: FixtureApi;
const sites: Array<{ dir: string; cleanup: () => Promise<void> }> = [];
let plain: Instance;
let configured: Instance;

/** Builds a copy of the fixture with `env` set for the build, then starts it with `env`. */
async function serve(env: Record<string, string>): Promise<Instance> {
  const site = await copyFixture('headers-site');
  sites.push(site);
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    await build({ siteDir: site.dir, logger: createMemoryLogger() });
  } finally {
    for (const name of Object.keys(env)) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  }
  return startInstance(site.dir, { FIXTURE_API_URL: api.url, ISR_REVALIDATE_TOKEN: TOKEN, ...env });
}

/** A GET of `path` with `host` as its Host header, on its own connection; the body as text. */
async function get(instance: Instance, path: string, host?: string): Promise<{ status: number; cache: string | undefined; body: string }> {
  const response = await rawRequest(instance.port, { path, host, headers: { connection: 'close' } });
  return { status: response.status, cache: header(response, 'x-isr-cache'), body: response.body.toString('utf8') };
}

before(async () => {
  api = await startFixtureApi({});
  process.env.FIXTURE_API_URL = api.url;
  plain = await serve({});
  configured = await serve({ ISR_SITE_URL: `${SITE_URL}/` });
});

after(async () => {
  await plain?.stop();
  await configured?.stop();
  await api?.close();
  for (const site of sites) await site.cleanup();
});

describe('a canonical origin for generation, never the client’s Host', () => {
  test('without siteUrl, a cached route handler first requested with Host: evil.example holds the server’s own address', async () => {
    const own = `http://127.0.0.1:${plain.port}`;
    const first = await get(plain, '/feeds/a', EVIL);
    assert.equal(first.status, 200);
    assert.equal(first.cache, 'MISS');
    assert.equal(first.body, `<feed><id>${own}/feeds/a</id><link rel="self" href="${own}/feeds/a"/></feed>\n`);
    // Everyone after gets the stored answer: on the fast path, through node:http, and with another Host.
    const [fast] = await rawExchange(plain.port, [{ path: '/feeds/a' }]);
    assert.equal(header(fast!, 'x-isr-cache'), 'HIT');
    assert.equal(fast!.body.toString('utf8'), first.body);
    const other = await get(plain, '/feeds/a', 'another.example');
    assert.equal(other.body, first.body);
    assert.ok(!other.body.includes(EVIL));
  });

  test('with siteUrl, cached route handlers hold it, whatever the Host, at run time and at build time', async () => {
    const first = await get(configured, '/feeds/b', EVIL);
    assert.equal(first.status, 200);
    assert.equal(first.body, `<feed><id>${SITE_URL}/feeds/b</id><link rel="self" href="${SITE_URL}/feeds/b"/></feed>\n`);
    const again = await get(configured, '/feeds/b');
    assert.equal(again.cache, 'HIT');
    assert.equal(again.body, first.body);
    // Prerendered by `isr build` with the same setting.
    const feed = await get(configured, '/feed', EVIL);
    assert.deepEqual(JSON.parse(feed.body), { url: `${SITE_URL}/feed` });
  });

  test('a regeneration triggered by a request with Host: evil.example still uses the canonical origin', async () => {
    const before = await get(configured, '/feeds/c');
    assert.equal(before.status, 200);
    const response = await fetch(`${configured.url}/_isr/revalidate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ paths: ['/feeds/c'] }),
    });
    assert.equal(response.status, 200, await response.text());
    const regenerated = await get(configured, '/feeds/c', EVIL);
    assert.equal(regenerated.cache, 'MISS');
    assert.equal(regenerated.body, before.body);
    assert.ok(!regenerated.body.includes(EVIL));
  });

  test('a dynamic route handler still sees the real request, Host included', async () => {
    for (const instance of [plain, configured]) {
      const answer = await get(instance, '/echo-host', EVIL);
      assert.equal(answer.status, 200);
      assert.deepEqual(JSON.parse(answer.body), { url: `http://${EVIL}/echo-host`, host: EVIL });
    }
  });
});
