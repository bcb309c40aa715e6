/**
 * `isr proxy` in front of a plain node:http origin: the ISR rules over HTTP (MISS, HIT, STALE with
 * one origin call per herd, purges by tag and path, soft purge, stale-if-error while the origin
 * fails or hangs, durability across a restart, one regeneration for a herd over two proxies on
 * one Redis) and the shared-cache rules (Set-Cookie, Vary, unsafe methods, 304 revalidation, route
 * rules). Time is an injected clock; the origin counts its requests.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { request } from 'undici';
import type { IsrConfig } from '../../src/config/config.ts';
import { ManualClock } from '../../src/engine/clock.ts';
import { createMemoryLogger } from '../../src/log.ts';
import { type RunningProxy, startProxy } from '../../src/proxy/index.ts';
import { startOrigin, type TestOrigin } from '../helpers/origin.ts';
import { header, rawRequest } from '../helpers/raw-http.ts';
import { type RedisServer, startRedis } from '../helpers/redis.ts';

const TOKEN = 'proxy-test-token';
/** The `Host` every test request sends. */
const SITE_HOST = 'site.test';

interface Harness {
  origin: TestOrigin;
  proxy: RunningProxy;
  clock: ManualClock;
  dir: string;
  logger: ReturnType<typeof createMemoryLogger>;
  get(path: string, init?: RequestInit): Promise<{ status: number; cache: string | null; body: string; headers: Headers }>;
  purge(body: unknown): Promise<Response>;
  close(): Promise<void>;
}

async function harness(
  config: Partial<IsrConfig> = {},
  shared?: { dir?: string; origin?: TestOrigin; clock?: ManualClock },
): Promise<Harness> {
  const origin = shared?.origin ?? (await startOrigin());
  const dir = shared?.dir ?? (await mkdtemp(path.join(tmpdir(), 'isr-proxy-')));
  const clock = shared?.clock ?? new ManualClock(Date.now());
  const logger = createMemoryLogger();
  const proxy = await startProxy({
    dir,
    config: { origin: origin.url, revalidateToken: TOKEN, ...config },
    clock,
    logger,
    port: 0,
    hostname: '127.0.0.1',
  });
  return {
    origin,
    proxy,
    clock,
    dir,
    logger,
    async get(path, init = {}) {
      // One public host for every proxy (instances of one site see the same Host); fetch may not set it.
      const response = await request(proxy.url + path, {
        method: (init.method ?? 'GET') as 'GET',
        headers: { host: SITE_HOST, ...(init.headers as Record<string, string> | undefined) },
        body: init.body as string | undefined,
        signal: AbortSignal.timeout(10_000),
      });
      const headers = new Headers();
      for (const [name, value] of Object.entries(response.headers)) {
        for (const one of Array.isArray(value) ? value : [value]) if (one !== undefined) headers.append(name, one);
      }
      return { status: response.statusCode, cache: headers.get('x-isr-cache'), body: await response.body.text(), headers };
    },
    purge: (body) =>
      fetch(`${proxy.url}/_isr/revalidate`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }),
    async close() {
      await proxy.close();
      if (shared?.origin === undefined) await origin.close();
    },
  };
}

/** Waits until `check` holds, polling; fails after `timeoutMs`. */
async function eventually(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) assert.fail(`timed out waiting for ${what}`);
    await delay(10);
  }
}

describe('isr proxy: the ISR rules in front of a node:http origin', () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(async () => {
    await h.close();
    await rm(h.dir, { recursive: true, force: true });
  });

  it('MISS, then HIT without an origin call; Age, Via and the origin headers are sent', async () => {
    h.origin.route('/hit', { headers: { 'cache-control': 'public, s-maxage=60', 'x-custom': 'kept' } });
    const first = await h.get('/hit');
    assert.deepEqual([first.status, first.cache, first.body], [200, 'MISS', '/hit #1']);
    const second = await h.get('/hit');
    assert.deepEqual([second.status, second.cache, second.body], [200, 'HIT', '/hit #1']);
    assert.equal(h.origin.count('/hit'), 1);
    assert.equal(second.headers.get('x-custom'), 'kept');
    assert.equal(second.headers.get('cache-control'), 'public, s-maxage=60');
    assert.match(second.headers.get('via') ?? '', /1\.1 isr/);
    h.clock.advanceSeconds(5);
    assert.equal((await h.get('/hit')).headers.get('age'), '5');
    // The origin saw the forwarding fields and asked for no encoding.
    const seen = h.origin.requests.find((request) => request.url === '/hit')!;
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen.headers['accept-encoding'], 'identity');
  });

  it("Age adds the time stored to the origin's own Age, which also shortens freshness (RFC 9111 §4.2.3)", async () => {
    h.origin.route('/aged', { headers: { 'cache-control': 'public, s-maxage=60', age: '20' } });
    const first = await h.get('/aged');
    assert.deepEqual([first.cache, first.headers.get('age')], ['MISS', '20']);
    h.clock.advanceSeconds(35);
    const held = await h.get('/aged');
    assert.deepEqual([held.cache, held.headers.get('age'), held.body], ['HIT', '55', '/aged #1']);
    h.clock.advanceSeconds(6); // 61 s old in all: past its 60 s of freshness
    assert.notEqual((await h.get('/aged')).cache, 'HIT');
    assert.equal(h.origin.count('/aged'), 2);
  });

  it('a query is part of the key; HEAD is answered from the stored GET', async () => {
    assert.equal((await h.get('/q?a=1')).body, '/q?a=1 #1');
    assert.equal((await h.get('/q?a=2')).body, '/q?a=2 #1');
    const head = await h.get('/q?a=1', { method: 'HEAD' });
    assert.deepEqual([head.cache, head.body], ['HIT', '']);
    assert.equal(head.headers.get('content-length'), String('/q?a=1 #1'.length));
    assert.equal(h.origin.requests.filter((request) => request.method === 'HEAD').length, 0);
  });

  it('after s-maxage: STALE at once for 100 concurrent requests, and exactly one origin call regenerates', async () => {
    h.origin.route('/herd', { headers: { 'cache-control': 'public, s-maxage=10, stale-while-revalidate=60' }, delayMs: 1500 });
    await h.get('/herd');
    h.clock.advanceSeconds(11);
    const herd = await Promise.all(Array.from({ length: 100 }, () => h.get('/herd')));
    assert.ok(
      herd.every((answer) => answer.cache === 'STALE' && answer.body === '/herd #1'),
      JSON.stringify(herd.map((a) => a.cache)),
    );
    await h.proxy.engine.flush();
    assert.equal(h.origin.count('/herd'), 2, 'one regeneration for the whole herd');
    const after = await h.get('/herd');
    assert.deepEqual([after.cache, after.body], ['HIT', '/herd #2']);
  });

  it('while a stale page regenerates, the fast path answers it STALE with the bytes node:http sends', async () => {
    h.origin.route('/stale-fast', { headers: { 'cache-control': 'public, s-maxage=10, stale-while-revalidate=60' }, delayMs: 800 });
    await h.get('/stale-fast');
    h.clock.advanceSeconds(11);
    const port = h.proxy.port;
    // Nothing regenerates it yet: node:http answers the first request and starts the regeneration.
    const first = await rawRequest(port, { path: '/stale-fast', host: SITE_HOST });
    const during = await rawRequest(port, { path: '/stale-fast', host: SITE_HOST });
    /** Answers from the fast path carry a lowercase `date` line; node:http writes `Date`. */
    const fast = (r: typeof first) => r.head.includes('\r\ndate: ');
    assert.deepEqual([first.status, header(first, 'x-isr-cache'), fast(first)], [200, 'STALE', false]);
    assert.deepEqual([during.status, header(during, 'x-isr-cache'), fast(during)], [200, 'STALE', true]);
    assert.equal(during.body.toString(), first.body.toString());
    for (const name of ['cache-control', 'etag', 'content-length', 'age', 'via'])
      assert.equal(header(during, name), header(first, name), name);
    await h.proxy.engine.flush();
    assert.equal(h.origin.count('/stale-fast'), 2, 'one regeneration');
    const fresh = await rawRequest(port, { path: '/stale-fast', host: SITE_HOST });
    assert.deepEqual([header(fresh, 'x-isr-cache'), fresh.body.toString(), fast(fresh)], ['HIT', '/stale-fast #2', true]);
  });

  it('past stale-while-revalidate, the request waits for the regeneration (MISS)', async () => {
    h.origin.route('/expired', { headers: { 'cache-control': 'public, s-maxage=10, stale-while-revalidate=5' } });
    await h.get('/expired');
    h.clock.advanceSeconds(16);
    const answer = await h.get('/expired');
    assert.deepEqual([answer.cache, answer.body], ['MISS', '/expired #2']);
  });

  it('a MISS herd is one origin request', async () => {
    h.origin.route('/miss-herd', { delayMs: 150 });
    const herd = await Promise.all(Array.from({ length: 50 }, () => h.get('/miss-herd')));
    assert.ok(herd.every((answer) => answer.body === '/miss-herd #1'));
    assert.equal(h.origin.count('/miss-herd'), 1);
  });

  it('purges by tag (Cache-Tag, Surrogate-Key, x-next-cache-tags) and by path: the next request regenerates before answering', async () => {
    h.origin.route('/tagged-a', { headers: { 'cache-control': 'public, s-maxage=600', 'cache-tag': 'posts, post-a' } });
    h.origin.route('/tagged-b', { headers: { 'cache-control': 'public, s-maxage=600', 'surrogate-key': 'posts post-b' } });
    h.origin.route('/tagged-c', { headers: { 'cache-control': 'public, s-maxage=600', 'x-next-cache-tags': '_N_T_/layout,feed' } });
    for (const p of ['/tagged-a', '/tagged-b', '/tagged-c']) await h.get(p);
    const cached = await h.get('/tagged-a');
    assert.equal(cached.headers.get('cache-tag'), null, 'purge tags are not sent on');
    assert.equal((await h.purge({ tags: ['post-b'] })).status, 200);
    assert.deepEqual(
      [(await h.get('/tagged-a')).cache, (await h.get('/tagged-b')).body, (await h.get('/tagged-c')).cache],
      ['HIT', '/tagged-b #2', 'HIT'],
    );
    assert.equal((await h.purge({ tags: ['posts', '_N_T_/layout'] })).status, 200);
    const after = await Promise.all(['/tagged-a', '/tagged-b', '/tagged-c'].map((p) => h.get(p)));
    assert.deepEqual(
      after.map((answer) => `${answer.cache} ${answer.body}`),
      ['MISS /tagged-a #2', 'MISS /tagged-b #3', 'MISS /tagged-c #2'],
    );
    assert.equal((await h.purge({ paths: ['/tagged-a'] })).status, 200);
    assert.equal((await h.get('/tagged-a')).body, '/tagged-a #3');
    assert.equal((await h.get('/tagged-b')).cache, 'HIT');
    // A layout path purges everything below it.
    await h.get('/tree/x/y');
    assert.equal((await h.purge({ paths: [{ path: '/tree', type: 'layout' }] })).status, 200);
    assert.equal((await h.get('/tree/x/y')).body, '/tree/x/y #2');
  });

  it('a soft purge marks stale: the next request gets the old page at once (STALE) and one regeneration follows', async () => {
    h.origin.route('/soft', { headers: { 'cache-control': 'public, s-maxage=600', 'cache-tag': 'soft' } });
    await h.get('/soft');
    const purged = await h.purge({ tags: ['soft'], soft: true });
    assert.equal(purged.status, 200);
    assert.equal(((await purged.json()) as { soft?: boolean }).soft, true);
    const stale = await h.get('/soft');
    assert.deepEqual([stale.cache, stale.body], ['STALE', '/soft #1']);
    await h.proxy.engine.flush();
    assert.deepEqual([(await h.get('/soft')).cache, (await h.get('/soft')).body], ['HIT', '/soft #2']);
  });

  it('the purge endpoint wants the token and a well-formed body', async () => {
    const unauthorized = await fetch(`${h.proxy.url}/_isr/revalidate`, { method: 'POST', body: '{"tags":["x"]}' });
    assert.equal(unauthorized.status, 401);
    assert.equal((await h.purge({ tags: ['bad\u0001tag'] })).status, 400);
    assert.equal((await h.purge({ tags: ['_ISR_SOFT_x'] })).status, 400);
    assert.equal((await h.purge({ tags: ['x'], soft: 'yes' })).status, 400);
    const status = await fetch(`${h.proxy.url}/_isr/status`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(status.status, 200);
  });

  it('a response that sets a cookie goes to its own client only, never stored', async () => {
    h.origin.route('/cookie', { headers: { 'cache-control': 'public, s-maxage=60', 'set-cookie': 'session=abc' } });
    const first = await h.get('/cookie');
    assert.deepEqual([first.cache, first.headers.get('set-cookie')], ['BYPASS', 'session=abc']);
    const second = await h.get('/cookie');
    assert.equal(second.cache, 'BYPASS');
    assert.equal(h.origin.count('/cookie'), 2);
  });

  it('private and no-store responses are passed through; Authorization requests bypass the cache', async () => {
    h.origin.route('/private', { headers: { 'cache-control': 'private, max-age=60' } });
    await h.get('/private');
    assert.equal((await h.get('/private')).body, '/private #2');
    await h.get('/public');
    const authorized = await h.get('/public', { headers: { authorization: 'Bearer user' } });
    assert.deepEqual([authorized.cache, authorized.body], ['BYPASS', '/public #2']);
  });

  it('Vary: each variant is stored under its own key, and never served to the other', async () => {
    h.origin.route('/lang', {
      headers: { 'cache-control': 'public, s-maxage=60', vary: 'Accept-Language' },
      body: (n) => `lang #${n}`,
    });
    const en1 = await h.get('/lang', { headers: { 'accept-language': 'en' } });
    const en2 = await h.get('/lang', { headers: { 'accept-language': 'en' } });
    const fr1 = await h.get('/lang', { headers: { 'accept-language': 'fr' } });
    const fr2 = await h.get('/lang', { headers: { 'accept-language': 'fr' } });
    const en3 = await h.get('/lang', { headers: { 'accept-language': 'en' } });
    assert.notEqual(en2.body, fr1.body);
    assert.equal(fr1.body, fr2.body);
    assert.equal(en3.body, en2.body);
    assert.equal(fr2.cache, 'HIT');
    assert.equal(en1.cache === 'MISS' || en1.cache === 'BYPASS', true);
  });

  it('a successful POST invalidates the stored GET of its path (RFC 9111 §4.4); a failed one does not', async () => {
    await h.get('/form');
    assert.equal((await h.get('/form')).cache, 'HIT');
    h.origin.route('/form', { status: 500, headers: { 'cache-control': 'no-store' } });
    const failed = await h.get('/form', { method: 'POST', body: 'x=1' });
    assert.equal(failed.status, 500);
    h.origin.route('/form', {});
    assert.equal((await h.get('/form')).cache, 'HIT');
    const posted = await h.get('/form', { method: 'POST', body: 'x=2' });
    assert.deepEqual([posted.status, posted.cache], [200, 'BYPASS']);
    assert.equal(h.origin.requests.at(-1)!.body, 'x=2', 'the body reached the origin');
    assert.equal((await h.get('/form')).cache, 'MISS');
  });

  it('a stale entry with an ETag is revalidated with If-None-Match, and a 304 refreshes it', async () => {
    h.origin.route('/etag', { etag: '"v1"', headers: { 'cache-control': 'public, s-maxage=10' } });
    await h.get('/etag');
    h.clock.advanceSeconds(11);
    const refreshed = await h.get('/etag');
    assert.deepEqual([refreshed.cache, refreshed.body], ['MISS', '/etag #1']);
    const conditional = h.origin.requests.filter((request) => request.url === '/etag').at(-1)!;
    assert.equal(conditional.headers['if-none-match'], '"v1"');
    assert.equal((await h.get('/etag')).cache, 'HIT');
    // A client's own validator gets a 304 from the proxy.
    const notModified = await fetch(`${h.proxy.url}/etag`, { headers: { 'if-none-match': '"v1"' } });
    assert.equal(notModified.status, 304);
  });

  it("an origin's own stale answer (Next.js's x-nextjs-cache: STALE) goes to its client but is not stored", async () => {
    h.origin.route('/next-stale', { headers: { 'cache-control': 's-maxage=60', 'x-nextjs-cache': 'STALE' } });
    assert.equal((await h.get('/next-stale')).body, '/next-stale #1');
    h.origin.route('/next-stale', { headers: { 'cache-control': 's-maxage=60', 'x-nextjs-cache': 'HIT' } });
    assert.equal((await h.get('/next-stale')).body, '/next-stale #2');
    assert.deepEqual([(await h.get('/next-stale')).cache, (await h.get('/next-stale')).body], ['HIT', '/next-stale #2']);
  });

  it('a MISS whose origin answers 5xx passes that answer on and stores nothing', async () => {
    h.origin.route('/broken', { status: 503, body: 'down for maintenance', headers: { 'retry-after': '30' } });
    const answer = await h.get('/broken');
    assert.deepEqual([answer.status, answer.body, answer.headers.get('retry-after')], [503, 'down for maintenance', '30']);
    h.origin.route('/broken', {});
    assert.equal((await h.get('/broken')).status, 200);
  });
});

describe('isr proxy: the last good page while the origin fails or hangs (stale-if-error)', () => {
  let h: Harness;
  before(async () => {
    h = await harness({ originTimeout: 1, staleIfError: 3600 });
  });
  after(async () => {
    await h.close();
    await rm(h.dir, { recursive: true, force: true });
  });

  it('the origin answers 500: the stale page stays, in the background and past stale-while-revalidate', async () => {
    h.origin.route('/fails', { headers: { 'cache-control': 'public, s-maxage=10, stale-while-revalidate=10' } });
    await h.get('/fails');
    h.origin.route('/fails', { status: 500, body: 'boom' });
    h.clock.advanceSeconds(11);
    assert.deepEqual([(await h.get('/fails')).cache, (await h.get('/fails')).body], ['STALE', '/fails #1']);
    await h.proxy.engine.flush();
    h.clock.advanceSeconds(60); // past stale-while-revalidate, within stale-if-error
    const answer = await h.get('/fails');
    assert.deepEqual([answer.status, answer.cache, answer.body], [200, 'STALE', '/fails #1']);
  });

  it('the origin hangs: the stale page is served after the origin timeout; a MISS gets 504, not a hang', async () => {
    h.origin.route('/hangs', { headers: { 'cache-control': 'public, s-maxage=10' } });
    await h.get('/hangs');
    h.origin.route('/hangs', { hang: true });
    h.clock.advanceSeconds(11);
    const began = Date.now();
    const answer = await h.get('/hangs');
    assert.deepEqual([answer.status, answer.body], [200, '/hangs #1']);
    assert.ok(Date.now() - began < 5000);
    h.origin.route('/never', { hang: true });
    const miss = await h.get('/never');
    assert.deepEqual([miss.status, miss.cache], [504, 'MISS']);
  });

  it('the origin is down: the stale page stays; a MISS gets 502', async () => {
    h.origin.route('/down', { headers: { 'cache-control': 'public, s-maxage=10' } });
    await h.get('/down');
    await h.origin.close();
    h.clock.advanceSeconds(11);
    assert.deepEqual([(await h.get('/down')).status, (await h.get('/down')).body], [200, '/down #1']);
    const miss = await h.get('/nothing-here');
    assert.equal(miss.status, 502);
  });

  it('an origin that is down or failing is one warning a minute per kind, not a log line (or a stack) per request', async () => {
    const misses = await Promise.all(Array.from({ length: 20 }, (_, i) => h.get(`/nothing-${i}`)));
    assert.deepEqual(new Set(misses.map((miss) => miss.status)), new Set([502]));
    const unreachable = h.logger.lines.filter((line) => line.includes('could not be reached'));
    assert.equal(unreachable.length, 1, unreachable.join('\n'));
    assert.match(unreachable[0]!, /^warn the origin http:\/\/127\.0\.0\.1:\d+ could not be reached: .*ECONNREFUSED/);
    assert.equal(h.logger.lines.filter((line) => line.includes('answered 500')).length, 1);
    assert.deepEqual(
      h.logger.lines.filter((line) => line.startsWith('error')),
      [],
    );
  });
});

describe('isr proxy: windows and route rules', () => {
  it('stale-if-error ends: past its window, a failing origin gets through', async () => {
    const h = await harness({ staleIfError: 0 });
    try {
      h.origin.route('/brief', { headers: { 'cache-control': 'public, s-maxage=10, stale-if-error=20' } });
      await h.get('/brief');
      h.origin.route('/brief', { status: 500, body: 'boom' });
      h.clock.advanceSeconds(15);
      assert.deepEqual([(await h.get('/brief')).status, (await h.get('/brief')).body], [200, '/brief #1']);
      h.clock.advanceSeconds(30);
      assert.equal((await h.get('/brief')).status, 500);
    } finally {
      await h.close();
      await rm(h.dir, { recursive: true, force: true });
    }
  });

  it('route rules: revalidate for an origin without caching headers, tags, allowQuery, vary on a cookie, bypass', async () => {
    const h = await harness({
      routes: [
        { source: '/plain/:id', revalidate: 30, tags: ['plain'], allowQuery: ['page'] },
        { source: '/ab', revalidate: 30, vary: ['cookie:variant'] },
        { source: '/draft', revalidate: 30, bypass: { headers: ['x-preview'] } },
      ] as unknown as IsrConfig['routes'],
    });
    try {
      for (const p of ['/plain/1', '/ab', '/draft']) h.origin.route(p, { headers: {} });
      await h.get('/plain/1?page=2&utm_source=x');
      const same = await h.get('/plain/1?utm_source=y&page=2');
      assert.deepEqual([same.cache, same.body], ['HIT', '/plain/1?page=2 #1']);
      assert.equal((await h.purge({ tags: ['plain'] })).status, 200);
      assert.equal((await h.get('/plain/1?page=2')).cache, 'MISS');
      const a = await h.get('/ab', { headers: { cookie: 'variant=a' } });
      const b = await h.get('/ab', { headers: { cookie: 'variant=b' } });
      assert.notEqual(a.body, b.body);
      assert.equal((await h.get('/ab', { headers: { cookie: 'variant=a; other=1' } })).body, a.body);
      await h.get('/draft');
      assert.equal((await h.get('/draft')).cache, 'HIT');
      assert.equal((await h.get('/draft', { headers: { 'x-preview': '1' } })).cache, 'BYPASS');
      assert.equal((await h.get('/draft', { headers: { cookie: '__prerender_bypass=1' } })).cache, 'BYPASS');
    } finally {
      await h.close();
      await rm(h.dir, { recursive: true, force: true });
    }
  });

  it('bad route rules are refused with the rule and field named', async () => {
    await assert.rejects(
      startProxy({
        dir: tmpdir(),
        config: { origin: 'http://127.0.0.1:1', routes: [{ source: 'no-slash' }] as unknown as IsrConfig['routes'] },
      }),
      /routes\[0\]\.source/,
    );
    await assert.rejects(
      startProxy({
        dir: tmpdir(),
        config: { origin: 'http://127.0.0.1:1', routes: [{ source: '/x', revalidat: 1 }] as unknown as IsrConfig['routes'] },
      }),
      /routes\[0\]: unknown field "revalidat"/,
    );
    await assert.rejects(
      startProxy({
        dir: tmpdir(),
        config: { origin: 'http://127.0.0.1:1', routes: [{ source: '/x', staleWhileRevalidate: 60 }] as unknown as IsrConfig['routes'] },
      }),
      /routes\[0\]\.staleWhileRevalidate needs routes\[0\]\.revalidate/,
    );
    await assert.rejects(startProxy({ dir: tmpdir(), config: {} }), /needs an origin/);
  });
});

describe('isr proxy: durable across a restart', () => {
  it('a restarted proxy on the same cache folder answers HIT without calling the origin', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'isr-proxy-durable-'));
    const origin = await startOrigin();
    const clock = new ManualClock(Date.now());
    try {
      const first = await harness({ memoryCacheSize: 0 }, { dir, origin, clock });
      await first.get('/durable');
      await first.proxy.engine.flush();
      await first.close();
      const second = await harness({}, { dir, origin, clock });
      try {
        const answer = await second.get('/durable');
        assert.deepEqual([answer.cache, answer.body], ['HIT', '/durable #1']);
        assert.equal(origin.count('/durable'), 1);
      } finally {
        await second.close();
      }
    } finally {
      await origin.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('isr proxy: two proxies on one Redis', () => {
  let redis: RedisServer;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis?.close();
  });

  it('a STALE herd spread over both proxies is one origin request; a purge at one reaches the other', async () => {
    const origin = await startOrigin();
    // Behind the wall clock: Redis refuses entries from the future (its TIME), and the test moves this clock ahead.
    const clock = new ManualClock(Date.now() - 60_000);
    const config = { redisUrl: redis.url, redisKeyPrefix: `proxy-test-${process.pid}-${Date.now()}:` };
    const one = await harness(config, { origin, clock });
    const two = await harness(config, { origin, clock });
    try {
      origin.route('/shared', {
        headers: { 'cache-control': 'public, s-maxage=10, stale-while-revalidate=60', 'cache-tag': 'shared' },
        delayMs: 1500,
      });
      await one.get('/shared');
      assert.deepEqual([(await two.get('/shared')).cache, origin.count('/shared')], ['HIT', 1]);
      clock.advanceSeconds(11);
      const herd = await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? one : two).get('/shared')));
      assert.ok(herd.every((answer) => answer.cache === 'STALE'));
      await Promise.all([one.proxy.engine.flush(), two.proxy.engine.flush()]);
      await eventually(() => origin.count('/shared') >= 2, 'the regeneration');
      await delay(500);
      assert.equal(origin.count('/shared'), 2, 'one regeneration for both proxies');
      assert.equal((await one.purge({ tags: ['shared'] })).status, 200);
      // The purge reaches the other proxy as a Redis event, within milliseconds of the answer.
      let afterPurge = await two.get('/shared');
      for (const until = Date.now() + 3000; afterPurge.body === '/shared #2' && Date.now() < until; ) {
        await delay(20);
        afterPurge = await two.get('/shared');
      }
      assert.deepEqual([afterPurge.cache, afterPurge.body], ['MISS', '/shared #3']);
    } finally {
      await one.close();
      await two.close();
      await origin.close();
      await rm(one.dir, { recursive: true, force: true });
      await rm(two.dir, { recursive: true, force: true });
    }
  });
});
