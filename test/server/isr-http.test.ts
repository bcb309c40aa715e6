/**
 * Rules 1–6 and 8 over HTTP, against the real server (in-process, injected clock) serving the
 * built fixture site, whose pages read a real HTTP content API.
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type FixtureServer, pageText, request, startFixtureServer, TOKEN } from '../helpers/server.ts';

let f: FixtureServer;
before(async () => {
  f = await startFixtureServer();
});
after(async () => {
  await f.close();
});

const get = (path: string, init?: RequestInit) => request(f, path, init);
const flush = () => f.server.isr.engine.flush();
const revalidate = (body: unknown) =>
  get('/_isr/revalidate', {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('rule 1: prerendered pages are served from cache inside their window', () => {
  test('a prerendered path is a HIT with the content read at build time, without calling the content API', async () => {
    const calls = f.api.callsFor('1');
    const response = await get('/items/1');
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-isr-cache'), 'HIT');
    assert.equal(pageText(response.text), 'one');
    assert.equal(f.api.callsFor('1'), calls);
  });

  test('every prerendered kind is a HIT: static page, catch-all, cached route handler', async () => {
    for (const path of ['/', '/docs/a/b', '/api/static', '/strict/a']) {
      const response = await get(path);
      assert.equal(response.status, 200, path);
      assert.equal(response.headers.get('x-isr-cache'), 'HIT', path);
    }
    assert.equal(pageText((await get('/docs/a/b')).text), 'docs a|b');
  });

  test('differently encoded requests for one page share one entry', async () => {
    const plain = await get('/items/1');
    const encoded = await get('/items/%31');
    assert.equal(encoded.headers.get('x-isr-cache'), 'HIT');
    assert.equal(encoded.headers.get('etag'), plain.headers.get('etag'));
  });
});

describe('rule 2: stale-while-revalidate after the window', () => {
  test('the stale page answers at once, 30 concurrent requests cause one regeneration, then the new page is served', async () => {
    f.api.items.set('2', 'two v2');
    f.api.delays.set('2', 500); // the regeneration outlasts the burst
    f.clock.advance(10_001);
    const calls = f.api.callsFor('2');
    const answers = await Promise.all(Array.from({ length: 30 }, () => get('/items/2')));
    for (const answer of answers) {
      assert.equal(answer.headers.get('x-isr-cache'), 'STALE');
      assert.equal(pageText(answer.text), 'two');
    }
    await flush();
    assert.equal(f.api.callsFor('2') - calls, 1, 'one content-API call for the whole burst');
    const fresh = await get('/items/2');
    assert.equal(fresh.headers.get('x-isr-cache'), 'HIT');
    assert.equal(pageText(fresh.text), 'two v2');
    f.api.delays.delete('2');
  });

  test('a cached fetch whose window passed is fetched again inside the regeneration: one regeneration carries new data', async () => {
    // /data: page revalidate 30 s, its fetch revalidate 5 s → the page's window is 5 s.
    assert.match((await get('/data')).headers.get('cache-control') ?? '', /^s-maxage=5,/);
    await flush(); // that request may have found the page stale already and regenerated it
    f.api.items.set('data', 'data v2');
    f.clock.advance(5_001);
    assert.equal(pageText((await get('/data')).text), 'data v1');
    await flush();
    const after = await get('/data');
    assert.equal(after.headers.get('x-isr-cache'), 'HIT');
    assert.equal(pageText(after.text), 'data v2');
  });
});

describe('rule 3: unknown paths render on first request', () => {
  test('an unknown id is a blocking MISS, then a HIT', async () => {
    f.api.items.set('3', 'three');
    const first = await get('/items/3');
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('x-isr-cache'), 'MISS');
    assert.equal(pageText(first.text), 'three');
    const second = await get('/items/3');
    assert.equal(second.headers.get('x-isr-cache'), 'HIT');
  });

  test('request memoization: generateMetadata and the page fetch the same URL, the API is called once per render', async () => {
    f.api.items.set('memo', 'memoized');
    const first = await get('/items/memo');
    assert.equal(first.headers.get('x-isr-cache'), 'MISS');
    assert.match(first.text, /<title>Item memo: memoized<\/title>/);
    assert.equal(pageText(first.text), 'memoized');
    assert.equal(f.api.callsFor('memo'), 1);
    // A new render is a new memo: the regeneration calls the API again, once.
    f.api.items.set('memo', 'memoized v2');
    assert.equal((await revalidate({ tags: ['item-memo'] })).status, 200);
    const second = await get('/items/memo');
    assert.match(second.text, /<title>Item memo: memoized v2<\/title>/);
    assert.equal(f.api.callsFor('memo'), 2);
  });

  test('a route handler’s fetches are not memoized, as in Next.js: the same URL twice is two API calls', async () => {
    // Prerendered at build (one generation: two calls); a revalidation generates it again.
    const before = f.api.callsFor('twice');
    assert.equal((await revalidate({ paths: ['/api/twice'] })).status, 200);
    const response = await get('/api/twice');
    assert.equal(response.status, 200);
    assert.equal(f.api.callsFor('twice') - before, 2);
  });

  test('a MISS stampede renders once', async () => {
    f.api.items.set('4', 'four');
    f.api.delays.set('4', 150);
    const answers = await Promise.all(Array.from({ length: 25 }, () => get('/items/4')));
    assert.ok(answers.every((a) => a.status === 200 && pageText(a.text) === 'four'));
    assert.equal(f.api.callsFor('4'), 1);
  });

  test('with dynamicParams = false an unknown path is the not-found page with 404, and renders nothing', async () => {
    const response = await get('/strict/zzz');
    assert.equal(response.status, 404);
    assert.match(response.text, /Nothing here/);
    assert.equal(response.headers.get('cache-control'), 'private, no-cache, no-store, max-age=0, must-revalidate');
  });

  test('notFound() in a page answers 404 with the not-found page; unmatched URLs too', async () => {
    const missing = await get('/items/does-not-exist');
    assert.equal(missing.status, 404);
    assert.match(missing.text, /Nothing here/);
    const unmatched = await get('/no/such/route');
    assert.equal(unmatched.status, 404);
    assert.match(unmatched.text, /Nothing here/);
  });
});

describe('rule 4: failures keep the last good page', () => {
  test('a regeneration whose fetch fails keeps serving the old page, logs route and cause, and retries on the next request', async () => {
    f.clock.advance(10_001);
    f.api.statuses.set('1', 500);
    const calls = f.api.callsFor('1');
    const stale = await get('/items/1');
    assert.equal(stale.headers.get('x-isr-cache'), 'STALE');
    await flush();
    const errors = f.logger.lines.filter((line) => line.startsWith('error') && line.includes('/items/1'));
    assert.ok(
      errors.some((line) => line.includes('route /items/[id]') && line.includes('received status 500')),
      errors.join('\n'),
    );
    const again = await get('/items/1');
    assert.equal(again.status, 200);
    assert.equal(pageText(again.text), 'one');
    await flush();
    assert.equal(f.api.callsFor('1') - calls, 2, 'each request after the window retries');
    f.api.statuses.delete('1');
    f.api.items.set('1', 'one v2');
    await get('/items/1');
    await flush();
    assert.equal(pageText((await get('/items/1')).text), 'one v2');
  });

  test('a first render that fails answers 500 without a stack trace, and is retried by the next request', async () => {
    f.api.statuses.set('5', 503);
    const response = await get('/items/5');
    assert.equal(response.status, 500);
    assert.doesNotMatch(response.text, /\bat \w|\.mjs|\.ts|received status|503/);
    assert.equal(response.headers.get('cache-control'), 'private, no-cache, no-store, max-age=0, must-revalidate');
    f.api.statuses.delete('5');
    f.api.items.set('5', 'five');
    const retry = await get('/items/5');
    assert.equal(retry.status, 200);
    assert.equal(pageText(retry.text), 'five');
  });

  test('a route handler gets a NextRequest, as in Next.js: nextUrl and cookies', async () => {
    const response = await get('/api/next-request?q=find', {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: 'flavour=lemon' },
      body: JSON.stringify({ a: 1 }),
    });
    assert.equal(response.status, 200);
    assert.deepEqual(JSON.parse(response.text), { echo: { a: 1 }, q: 'find', flavour: 'lemon' });
  });

  test('a route handler that throws answers a plain-text 500 (as Next.js does), and the route and cause are logged once', async () => {
    const before = f.logger.lines.length;
    // `await request.json()` throws on a body that is not JSON; the client did not go away.
    const response = await get('/api/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
    assert.equal(response.status, 500);
    assert.equal(response.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(response.headers.get('cache-control'), 'private, no-cache, no-store, max-age=0, must-revalidate');
    assert.equal(response.text, 'Internal Server Error\n');
    assert.doesNotMatch(response.text, /\bat \w|\.mjs|\.ts|JSON/);
    const errors = f.logger.lines.slice(before).filter((line) => line.startsWith('error'));
    assert.equal(errors.length, 1, errors.join('\n'));
    assert.match(errors[0]!, /^error route handler \/api\/echo \(route \/api\/echo\) failed :: SyntaxError/);
  });
});

describe('rule 5: on-demand revalidation', () => {
  test('revalidateTag through the endpoint: the next request gets the new content, never the old page', async () => {
    f.api.items.set('2', 'two v3');
    const response = await revalidate({ tags: ['item-2'] });
    assert.equal(response.status, 200);
    const next = await get('/items/2');
    assert.equal(next.headers.get('x-isr-cache'), 'MISS');
    assert.equal(pageText(next.text), 'two v3');
  });

  test('revalidatePath through the guides’ secret-token revalidation route, as a route handler (secret in the query)', async () => {
    f.api.items.set('3', 'three v2');
    assert.equal((await get(`/api/revalidate?secret=wrong&path=/items/3`, { method: 'POST' })).status, 401);
    assert.equal(pageText((await get('/items/3')).text), 'three');
    const response = await get(`/api/revalidate?secret=${TOKEN}&path=/items/3`, { method: 'POST' });
    assert.equal(response.status, 200);
    assert.equal(JSON.parse(response.text).revalidated, true);
    assert.equal(pageText((await get('/items/3')).text), 'three v2');
  });

  test("revalidatePath('/items/[id]', 'page') and ('/', 'layout') reach every page of the route / site", async () => {
    f.api.items.set('3', 'three v3');
    f.api.items.set('4', 'four v2');
    await revalidate({ paths: [{ path: '/items/[id]', type: 'page' }] });
    assert.equal(pageText((await get('/items/3')).text), 'three v3');
    assert.equal(pageText((await get('/items/4')).text), 'four v2');
    f.api.items.set('forever', 'ever v2');
    await revalidate({ paths: [{ path: '/', type: 'layout' }] });
    assert.equal(pageText((await get('/forever')).text), 'ever v2');
  });

  test('revalidate = false caches until revalidated, however much time passes', async () => {
    f.api.items.set('forever', 'ever v3');
    f.clock.advanceSeconds(400 * 24 * 3600);
    const cached = await get('/forever');
    assert.equal(cached.headers.get('x-isr-cache'), 'HIT');
    assert.equal(pageText(cached.text), 'ever v2');
    await revalidate({ tags: ['forever'] });
    assert.equal(pageText((await get('/forever')).text), 'ever v3');
  });

  test('a revalidation that arrives while a regeneration is in flight is never lost', async () => {
    f.api.items.set('6', 'six v1');
    await get('/items/6');
    f.clock.advance(10_001);
    f.api.delays.set('6', 300);
    assert.equal((await get('/items/6')).headers.get('x-isr-cache'), 'STALE'); // regeneration reads "six v1"...
    await new Promise((r) => setTimeout(r, 50));
    f.api.items.set('6', 'six v2'); // ...the CMS changes the post and calls the webhook meanwhile
    await revalidate({ paths: ['/items/6'] });
    f.api.delays.delete('6');
    const next = await get('/items/6');
    assert.equal(pageText(next.text), 'six v2');
    await flush();
    const later = await get('/items/6');
    assert.equal(pageText(later.text), 'six v2', 'the slow regeneration of old data did not become the cached page');
    assert.equal(later.headers.get('x-isr-cache'), 'HIT');
  });
});

describe('rule 6: headers', () => {
  test('Cache-Control follows revalidate and expire; ETag on every cached response', async () => {
    const cases: [string, string][] = [
      ['/items/1', 's-maxage=10, stale-while-revalidate=31535990'],
      ['/forever', 's-maxage=31536000'],
      ['/cached-fn', 's-maxage=20, stale-while-revalidate=31535980'],
      ['/api/static', 's-maxage=10, stale-while-revalidate=31535990'],
    ];
    for (const [path, expected] of cases) {
      const response = await get(path);
      assert.equal(response.headers.get('cache-control'), expected, path);
      assert.match(response.headers.get('etag') ?? '', /^"[\w-]+"$/, path);
      assert.ok(response.headers.get('x-isr-cache'), path);
    }
  });

  test('a route handler’s request.signal aborts when the client goes away (as in Next.js)', async () => {
    const globals = globalThis as Record<string, unknown>;
    delete globals.isrWaitAborted;
    const controller = new AbortController();
    const pending = fetch(`${f.url}/api/wait`, { signal: controller.signal }).catch((error: Error) => error.name);
    await new Promise((resolve) => setTimeout(resolve, 100));
    controller.abort();
    assert.equal(await pending, 'AbortError');
    for (let i = 0; i < 100 && globals.isrWaitAborted === undefined; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(globals.isrWaitAborted, 'AbortError');
  });

  test('a dynamic page (no-store fetch) renders per request with no-store and no ETag', async () => {
    const first = await get('/dynamic');
    f.api.items.set('1', 'one live');
    const second = await get('/dynamic');
    assert.equal(second.headers.get('cache-control'), 'private, no-cache, no-store, max-age=0, must-revalidate');
    assert.equal(second.headers.get('x-isr-cache'), null);
    assert.notEqual(pageText(first.text), pageText(second.text));
    assert.equal(pageText(second.text), 'dynamic one live');
  });

  test('If-None-Match with the ETag gets 304 without a body; HEAD gets the headers only', async () => {
    const full = await get('/items/1');
    const etag = full.headers.get('etag')!;
    const notModified = await get('/items/1', { headers: { 'if-none-match': etag } });
    assert.equal(notModified.status, 304);
    assert.equal(notModified.text, '');
    assert.equal(notModified.headers.get('etag'), etag);
    const other = await get('/items/1', { headers: { 'if-none-match': '"something-else"' } });
    assert.equal(other.status, 200);
    const head = await get('/items/1', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
    assert.equal(head.headers.get('etag'), etag);
    assert.equal(head.headers.get('content-length'), String(Buffer.byteLength(full.text)));
  });

  test('a trailing slash redirects to the canonical path; bad paths get 400', async () => {
    const redirect = await get('/items/1/?x=1');
    assert.equal(redirect.status, 308);
    assert.equal(redirect.headers.get('location'), '/items/1?x=1');
    for (const path of ['/items/%E0%A4%A', '/items/%00', '/items/%2e%2e%2fx', '/items/a%5Cb']) {
      assert.equal((await get(path)).status, 400, path);
    }
    assert.equal((await get(`/${'a'.repeat(3000)}`)).status, 414);
    assert.equal((await get('/items/1', { method: 'POST' })).status, 405);
  });
});

describe('data cache', () => {
  test('revalidateTag refetches only the data carrying the tag; the other cached fetch is a HIT inside the regeneration', async () => {
    assert.equal(pageText((await get('/mixed')).text), 'a1 + b1');
    f.api.items.set('mix-a', 'a2');
    f.api.items.set('mix-b', 'b2');
    const calls = [f.api.callsFor('mix-a'), f.api.callsFor('mix-b')];
    await revalidate({ tags: ['b'] });
    const response = await get('/mixed');
    assert.equal(response.headers.get('x-isr-cache'), 'MISS');
    assert.equal(pageText(response.text), 'a1 + b2');
    assert.deepEqual([f.api.callsFor('mix-a') - calls[0]!, f.api.callsFor('mix-b') - calls[1]!], [0, 1]);
  });
});

describe('rule 8: ISR_DEBUG_CACHE logs', () => {
  test('HIT, STALE, MISS, regenerations (with duration in ms) and data-cache fetches (HIT or MISS, full URL) are logged', async () => {
    const lines = f.logger.lines.join('\n');
    assert.match(lines, /debug HIT \/items\/1 \(route \/items\/\[id\]\) [\d.]+ ms/);
    assert.match(lines, /debug STALE \/items\/2 .* [\d.]+ ms/);
    assert.match(lines, /debug MISS \/items\/3 .* [\d.]+ ms/);
    assert.match(lines, /debug generated \/items\/2 \(route \/items\/\[id\]\) in [\d.]+ ms/);
    assert.ok(lines.includes(`debug fetch MISS ${f.api.url}/item/mix-b`), 'data-cache MISS with the full URL');
    assert.ok(lines.includes(`debug fetch HIT ${f.api.url}/item/mix-a`), 'data-cache HIT with the full URL');
  });
});

describe('route segment config', () => {
  test("dynamic = 'force-dynamic' renders every request with no-store", async () => {
    const a = pageText((await get('/forced-dynamic')).text);
    const response = await get('/forced-dynamic');
    assert.notEqual(pageText(response.text), a);
    assert.equal(response.headers.get('cache-control'), 'private, no-cache, no-store, max-age=0, must-revalidate');
  });

  test("dynamic = 'force-static' keeps a page cached despite a no-store fetch in a nested async component", async () => {
    await get('/forced-static'); // (an earlier test revalidated every page)
    const response = await get('/forced-static');
    assert.equal(response.headers.get('x-isr-cache'), 'HIT');
    assert.match(response.text, /static <span>/);
  });

  test('a page that reads searchParams is dynamic: the query is never cached under the path', async () => {
    const one = await get('/search?q=one');
    const two = await get('/search?q=two');
    assert.equal(pageText(one.text), 'q=one');
    assert.equal(pageText(two.text), 'q=two');
    assert.equal(two.headers.get('cache-control'), 'private, no-cache, no-store, max-age=0, must-revalidate');
  });

  test('the query string of a static page does not create or poison entries', async () => {
    const plain = await get('/items/1');
    const withQuery = await get('/items/1?utm=x&x=1');
    assert.equal(withQuery.headers.get('x-isr-cache'), 'HIT');
    assert.equal(withQuery.headers.get('etag'), plain.headers.get('etag'));
  });

  test('unstable_cache results are cached with their tags and revalidated by them', async () => {
    f.api.items.set('fn', 'fn v2');
    assert.equal(pageText((await get('/cached-fn')).text), 'fn v1');
    await revalidate({ tags: ['fn'] });
    assert.equal(pageText((await get('/cached-fn')).text), 'fn v2');
  });
});

describe('data cache failures', () => {
  test('when a cached fetch cannot be refreshed, the regeneration fails: the old page stays STALE, never re-stored as fresh', async () => {
    await get('/data');
    await flush();
    const before = pageText((await get('/data')).text);
    f.api.statuses.set('data', 500);
    f.clock.advance(30_001);
    assert.equal((await get('/data')).headers.get('x-isr-cache'), 'STALE');
    await flush();
    const after = await get('/data');
    assert.equal(after.headers.get('x-isr-cache'), 'STALE', 'the failed regeneration did not store a page');
    assert.equal(pageText(after.text), before);
    await flush();
    f.api.statuses.delete('data');
    f.api.items.set('data', 'data v3');
    await get('/data');
    await flush();
    assert.equal(pageText((await get('/data')).text), 'data v3');
  });

  test('when an unstable_cache function throws on refresh, its old result is not reused for a new page', async () => {
    await get('/cached-fn');
    await flush();
    const before = pageText((await get('/cached-fn')).text);
    f.api.statuses.set('fn', 500);
    f.clock.advance(20_001);
    assert.equal((await get('/cached-fn')).headers.get('x-isr-cache'), 'STALE');
    await flush();
    const after = await get('/cached-fn');
    assert.equal(after.headers.get('x-isr-cache'), 'STALE', 'no page was stored from the old data');
    assert.equal(pageText(after.text), before);
    await flush();
    f.api.statuses.delete('fn');
  });

  test('revalidatePath takes paths as written or encoded, like requests', async () => {
    f.api.items.set('c++', 'cpp v1');
    assert.equal(pageText((await get('/items/c%2B%2B')).text), 'cpp v1');
    f.api.items.set('c++', 'cpp v2');
    await revalidate({ paths: ['/items/c++'] });
    assert.equal(pageText((await get('/items/c++')).text), 'cpp v2');
  });
});

describe('review cases', () => {
  test('the secret-token revalidation route handler revalidates by tag and by route pattern with a type', async () => {
    f.api.items.set('fn', 'fn via handler');
    assert.equal((await get(`/api/revalidate?secret=${TOKEN}&tag=fn`, { method: 'POST' })).status, 200);
    assert.equal(pageText((await get('/cached-fn')).text), 'fn via handler');
    f.api.items.set('1', 'one via pattern');
    await get(`/api/revalidate?secret=${TOKEN}&path=/items/[id]&type=page`, { method: 'POST' });
    assert.equal(pageText((await get('/items/1')).text), 'one via pattern');
  });

  test('revalidatePath reaches a page’s untagged cached fetch', async () => {
    assert.equal(pageText((await get('/untagged')).text), 'untagged v1');
    f.api.items.set('untagged', 'untagged v2');
    await revalidate({ paths: ['/untagged'] });
    assert.equal(pageText((await get('/untagged')).text), 'untagged v2');
  });

  test('cached fetches of one URL with different Authorization headers do not share an entry', async () => {
    assert.equal(pageText((await get('/whoami')).text), 'alice|bob');
  });

  test('a cached route handler never replays Set-Cookie, and a 5xx keeps its last good response', async () => {
    await revalidate({ paths: ['/api/static'] });
    const first = await get('/api/static');
    assert.equal(first.headers.get('set-cookie'), null);
    const good = first.text;
    f.api.statuses.set('route', 500);
    f.clock.advance(10_001);
    assert.equal((await get('/api/static')).headers.get('x-isr-cache'), 'STALE');
    await flush();
    const after = await get('/api/static');
    assert.equal(after.status, 200);
    assert.equal(after.text, good);
    assert.equal(after.headers.get('x-isr-cache'), 'STALE');
    f.api.statuses.delete('route');
    await flush();
  });

  test('a prerendered page that turns dynamic is rendered per request from then on', async () => {
    assert.equal(pageText((await get('/sometimes')).text), 'static v1');
    f.api.items.set('sometimes', 'dynamic 1');
    f.clock.advance(10_001);
    await get('/sometimes'); // STALE: the background regeneration finds the page dynamic
    await flush();
    const now = await get('/sometimes');
    assert.equal(pageText(now.text), 'dynamic 1');
    assert.equal(now.headers.get('cache-control'), 'private, no-cache, no-store, max-age=0, must-revalidate');
    f.api.items.set('sometimes', 'dynamic 2');
    assert.equal(pageText((await get('/sometimes')).text), 'dynamic 2');
  });

  test('once one path of a route turns dynamic, its other paths are no longer answered from memory either', async () => {
    assert.equal(pageText((await get('/sometimes-each/b')).text), 'static b1');
    assert.equal((await get('/sometimes-each/b')).headers.get('x-isr-cache'), 'HIT', 'b is in memory');
    f.api.items.set('sometimes-a', 'dynamic a');
    await revalidate({ paths: ['/sometimes-each/a'] });
    assert.equal(pageText((await get('/sometimes-each/a')).text), 'dynamic a');
    // b's stored page is still fresh, but its route now renders per request, as next start does.
    f.api.items.set('sometimes-b', 'static b2');
    const b = await get('/sometimes-each/b');
    assert.equal(pageText(b.text), 'static b2');
    assert.equal(b.headers.get('cache-control'), 'private, no-cache, no-store, max-age=0, must-revalidate');
  });

  test('dynamicParams = false on a dynamic page: generateStaticParams paths render, others are 404', async () => {
    const valid = await get('/strict-dyn/a?q=1');
    assert.equal(valid.status, 200);
    assert.equal(pageText(valid.text), 'a q=1');
    assert.equal((await get('/strict-dyn/zz')).status, 404);
  });
});

describe('the in-memory HIT fast path', () => {
  test('answers fresh pages from memory with the same status, headers and bytes as the full handler', async () => {
    await get('/items/2');
    const fast = await get('/items/2');
    assert.ok(
      f.logger.lines.some((line) => /^debug HIT \/items\/2 \(memory\) [\d.]+ ms$/.test(line)),
      'served by the fast path',
    );
    const slow = await f.server.isr.handler(new Request(`${f.url}/items/2`));
    assert.equal(fast.status, slow.status);
    assert.equal(fast.text, await slow.text());
    for (const name of ['cache-control', 'etag', 'content-type', 'content-length', 'x-isr-cache']) {
      assert.equal(fast.headers.get(name), slow.headers.get(name), name);
    }
  });

  test('stale, revalidated and oddly spelled requests bypass it and get the full rules', async () => {
    await get('/items/2');
    f.clock.advance(10_001);
    assert.equal((await get('/items/2')).headers.get('x-isr-cache'), 'STALE');
    await flush();
    await revalidate({ tags: ['item-2'] });
    assert.equal((await get('/items/2')).headers.get('x-isr-cache'), 'MISS');
    assert.equal((await get('/items/2/')).status, 308);
    assert.equal((await get('/items/%32')).headers.get('x-isr-cache'), 'HIT');
    const head = await get('/items/2', { method: 'HEAD' });
    assert.equal(head.text, '');
    assert.equal(head.headers.get('x-isr-cache'), 'HIT');
    const etag = head.headers.get('etag')!;
    const notModified = await get('/items/2', { headers: { 'if-none-match': `W/${etag}, "other"` } });
    assert.equal(notModified.status, 304);
    assert.equal(notModified.headers.get('content-length'), null);
  });
});
