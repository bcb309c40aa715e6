/**
 * The Pages Router on the real server (test/fixtures/pages-site): getStaticProps/getStaticPaths in
 * each fallback mode, bot-aware fallback, notFound and redirect results, the JSON data route,
 * API routes with res.revalidate, and recovery from getStaticProps errors (Next.js Pages Router
 * ISR guide, https://nextjs.org/docs/pages/guides/incremental-static-regeneration, and its 12.1
 * version, https://github.com/vercel/next.js/blob/v12.1.6/docs/basic-features/data-fetching/incremental-static-regeneration.md).
 */

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type FixtureServer, pageText, request, startFixtureServer, TOKEN } from '../helpers/server.ts';

const ITEMS = { '1': 'one', '2': 'two', '5': 'five', '6': 'six', '7': 'seven', moved: 'redirect:/strict/1' };
const BROWSER = { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36' };
const GOOGLEBOT = { 'user-agent': 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)' };
const BINGBOT = { 'user-agent': 'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)' };

let f: FixtureServer;
let buildId: string;
const flush = () => f.server.isr.engine.flush();
const data = (pagePath: string) => `/_isr/data/${buildId}${pagePath === '/' ? '/index' : pagePath}.json`;

before(async () => {
  f = await startFixtureServer({}, { name: 'pages-site', items: ITEMS });
  buildId = JSON.parse(await readFile(path.join(f.dir, '.isr', 'build', 'manifest.json'), 'utf8')).buildId;
});
after(() => f.close());

describe('Pages Router: build', () => {
  it('records each route with its fallback mode and prerenders the listed paths', async () => {
    const manifest = JSON.parse(await readFile(path.join(f.dir, '.isr', 'build', 'manifest.json'), 'utf8'));
    const byPattern = Object.fromEntries(manifest.routes.map((r: { pattern: string }) => [r.pattern, r]));
    assert.equal(byPattern['/strict/[id]'].fallback, false);
    assert.deepEqual(byPattern['/strict/[id]'].prerendered, ['/strict/1', '/strict/2']);
    assert.equal(byPattern['/blocking/[id]'].fallback, 'blocking');
    assert.equal(byPattern['/lazy/[id]'].fallback, true);
    assert.equal(byPattern['/api/revalidate'].kind, 'api');
    assert.equal(byPattern['/'].router, 'pages');
    assert.equal(byPattern['/'].dataRoute, false);
    assert.equal(byPattern['/strict/[id]'].dataRoute, true);
  });
});

describe('Pages Router: pages', () => {
  it('serves a prerendered page inside _app, with next/head and next/link rendered', async () => {
    const home = await request(f, '/');
    assert.equal(home.status, 200);
    assert.equal(home.headers.get('x-isr-cache'), 'HIT');
    assert.equal(home.headers.get('cache-control'), 's-maxage=31536000');
    assert.match(home.text, /^<!DOCTYPE html><html>/);
    assert.match(home.text, /<head>.*<title>Pages fixture<\/title>.*<\/head>/);
    assert.match(home.text, /<div id="__next"><div id="app"><main><p id="text">home<\/p><a href="\/strict\/1\?from=home">first<\/a>/);
  });

  it('fallback: false answers 404 (the custom 404 page inside _app) for an unlisted path, page and data', async () => {
    const listed = await request(f, '/strict/2');
    assert.equal(listed.status, 200);
    assert.equal(pageText(listed.text), 'two');
    const before = f.api.callsFor('5');
    const unlisted = await request(f, '/strict/5');
    assert.equal(unlisted.status, 404);
    assert.match(unlisted.text, /<div id="app"><p id="not-found">Nothing here<\/p>/);
    assert.equal(unlisted.headers.get('cache-control'), 'private, no-cache, no-store, max-age=0, must-revalidate');
    const json = await request(f, data('/strict/5'));
    assert.equal(json.status, 404);
    assert.deepEqual(JSON.parse(json.text), { notFound: true });
    assert.equal(f.api.callsFor('5'), before, 'getStaticProps never ran for an unlisted path');
    assert.equal((await request(f, '/strict/1', { method: 'POST' })).status, 405);
  });

  it("fallback: 'blocking' renders an unlisted path on its first request, then serves it from the cache", async () => {
    const first = await request(f, '/blocking/6', { headers: BROWSER });
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('x-isr-cache'), 'MISS');
    assert.equal(pageText(first.text), 'six');
    const second = await request(f, '/blocking/6');
    assert.equal(second.headers.get('x-isr-cache'), 'HIT');
    assert.equal(second.text, first.text);
    assert.equal(f.api.callsFor('6'), 1);
  });

  it('fallback: true gives a browser the fallback page at once, then the generated page to later visitors', async () => {
    f.api.delays.set('7', 300);
    const began = performance.now();
    const first = await request(f, '/lazy/7', { headers: BROWSER });
    assert.ok(performance.now() - began < 250, 'the fallback page does not wait for getStaticProps');
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('x-isr-cache'), 'FALLBACK');
    assert.equal(first.headers.get('cache-control'), 'private, no-cache, no-store, max-age=0, must-revalidate');
    assert.match(first.text, /<p id="fallback">Loading <!-- -->\/lazy\/\[id\]<!-- -->…<\/p>/);
    // The fallback page hydrates, then the browser fetches the props from the data route (client.ts).
    assert.match(
      first.text,
      new RegExp(
        `<script id="__NEXT_DATA__" type="application/json">\\{"props":\\{"pageProps":\\{\\}\\},"page":"/lazy/\\[id\\]","query":\\{\\},"buildId":"${buildId}","isFallback":true\\}</script>`,
      ),
    );
    assert.match(first.text, /<script type="module" src="\/_isr\/static\/pages\/runtime-[\w-]+\.js"><\/script>/);
    await flush();
    f.api.delays.delete('7');
    const later = await request(f, '/lazy/7', { headers: BROWSER });
    assert.equal(later.headers.get('x-isr-cache'), 'HIT');
    assert.equal(pageText(later.text), 'seven');
    assert.match(later.text, /<title>Lazy 7<\/title>/);
    assert.match(later.text, /<p id="query">\{&quot;id&quot;:&quot;7&quot;\}<\/p>/);
    assert.match(later.text, /"page":"\/lazy\/\[id\]","query":\{"id":"7"\},"buildId":"[^"]+","isFallback":false\}<\/script>/);
    assert.equal(f.api.callsFor('7'), 1, 'one generation for the fallback visit and the later one');
  });

  it('fallback: true gives crawlers (Googlebot, Bingbot) the blocking render, never the fallback', async () => {
    for (const [id, headers] of [
      ['5', GOOGLEBOT],
      ['2', BINGBOT],
    ] as const) {
      const page = await request(f, `/lazy/${id}`, { headers });
      assert.equal(page.status, 200, id);
      assert.equal(page.headers.get('x-isr-cache'), 'MISS', id);
      assert.equal(pageText(page.text), ITEMS[id]);
      assert.doesNotMatch(page.text, /fallback/);
    }
  });

  it('a listed path of a fallback: true route is prerendered, so it never gets the fallback', async () => {
    const page = await request(f, '/lazy/1', { headers: BROWSER });
    assert.equal(page.headers.get('x-isr-cache'), 'HIT');
    assert.equal(pageText(page.text), 'one');
  });

  it('a dynamic page without data functions renders each path once with useRouter().query', async () => {
    const page = await request(f, '/plain/hello%20world');
    assert.equal(page.status, 200);
    assert.equal(pageText(page.text), 'plain hello world');
    assert.equal((await request(f, '/plain/hello%20world')).headers.get('x-isr-cache'), 'HIT');
    assert.equal((await request(f, data('/plain/x'))).status, 404, 'no data route without getStaticProps');
  });
});

describe('Pages Router: results', () => {
  it('{ redirect } answers a temporary redirect, cached like a page, and its data says where to go', async () => {
    const page = await request(f, '/blocking/moved');
    assert.equal(page.status, 307);
    assert.equal(page.headers.get('location'), '/strict/1');
    assert.equal(page.text, '');
    const json = await request(f, data('/blocking/moved'));
    assert.equal(json.status, 200);
    assert.deepEqual(JSON.parse(json.text), { pageProps: { __N_REDIRECT: '/strict/1', __N_REDIRECT_STATUS: 307 }, __N_SSG: true });
    assert.equal((await request(f, '/blocking/moved')).headers.get('x-isr-cache'), 'HIT');
  });

  it('{ notFound, revalidate: 5 } caches the 404 for 5 s, then checks again', async () => {
    const first = await request(f, '/blocking/later');
    assert.equal(first.status, 404);
    assert.match(first.text, /Nothing here/);
    assert.equal(f.api.callsFor('later'), 1);
    f.api.items.set('later', 'now here');
    const cached = await request(f, '/blocking/later');
    assert.equal(cached.status, 404);
    assert.equal(cached.headers.get('x-isr-cache'), 'HIT');
    assert.equal(f.api.callsFor('later'), 1, 'the 404 is served from the cache within its window');
    f.clock.advance(5_001);
    const stale = await request(f, '/blocking/later');
    assert.equal(stale.status, 404);
    assert.equal(stale.headers.get('x-isr-cache'), 'STALE');
    await flush();
    const found = await request(f, '/blocking/later');
    assert.equal(found.status, 200);
    assert.equal(pageText(found.text), 'now here');
  });

  it('a getStaticProps error in a background regeneration keeps the last good page and is retried', async () => {
    const good = await request(f, '/strict/1');
    assert.equal(pageText(good.text), 'one');
    f.api.statuses.set('1', 500);
    f.clock.advance(10_001);
    const stale = await request(f, '/strict/1');
    assert.equal(stale.headers.get('x-isr-cache'), 'STALE');
    assert.equal(pageText(stale.text), 'one');
    await flush();
    assert.ok(f.logger.lines.some((line) => line.startsWith('error generation of /strict/1') && line.includes('received status 500')));
    const after = await request(f, '/strict/1');
    assert.equal(pageText(after.text), 'one', 'the failed regeneration did not replace the page');
    assert.equal((await request(f, data('/strict/1'))).text, JSON.stringify({ pageProps: { id: '1', text: 'one' }, __N_SSG: true }));
    await flush();
    const calls = f.api.callsFor('1');
    f.api.statuses.delete('1');
    f.api.items.set('1', 'one v2');
    await request(f, '/strict/1'); // still stale: this request retries getStaticProps
    await flush();
    assert.ok(f.api.callsFor('1') > calls);
    assert.equal(pageText((await request(f, '/strict/1')).text), 'one v2');
  });

  it('rejects a thrown error with no page to fall back on with a plain 500 that leaks nothing', async () => {
    f.api.statuses.set('boom', 500);
    const page = await request(f, '/blocking/boom');
    assert.equal(page.status, 500);
    assert.doesNotMatch(page.text, /received status|at .*\.mjs/);
  });
});

describe('Pages Router: data route', () => {
  it('answers the props as JSON from the same entry as the page, with matching validators', async () => {
    const page = await request(f, '/strict/2');
    const json = await request(f, data('/strict/2'));
    assert.equal(json.status, 200);
    assert.equal(json.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.equal(json.headers.get('cache-control'), page.headers.get('cache-control'));
    assert.deepEqual(JSON.parse(json.text), { pageProps: { id: '2', text: 'two' }, __N_SSG: true });
    assert.equal(json.headers.get('etag'), `${page.headers.get('etag')!.slice(0, -1)}.json"`);
    const revalidated = await request(f, data('/strict/2'), { headers: { 'if-none-match': json.headers.get('etag')! } });
    assert.equal(revalidated.status, 304);
    assert.equal((await request(f, data('/strict/2'), { method: 'HEAD' })).text, '');
    assert.equal((await request(f, data('/strict/2'), { method: 'POST' })).status, 405);
  });

  it('answers 404 for another build ID, a malformed data path, App-Router-less paths and API routes', async () => {
    for (const bad of [
      `/_isr/data/0-00000000/strict/2.json`,
      `/_isr/data/${buildId}/strict/2`,
      `/_isr/data/${buildId}/.json`,
      `/_isr/data/${buildId}/nowhere.json`,
      `/_isr/data/${buildId}/api/revalidate.json`,
    ]) {
      const response = await request(f, bad);
      assert.equal(response.status, 404, bad);
      assert.equal(response.headers.get('content-type'), 'application/json; charset=utf-8', bad);
    }
  });

  it('generates an unlisted page of a fallback route before answering, and the page then matches it', async () => {
    const json = await request(f, data('/lazy/6'), { headers: BROWSER });
    assert.equal(json.status, 200);
    assert.deepEqual(JSON.parse(json.text).pageProps, { id: '6', text: 'six' });
    const page = await request(f, '/lazy/6', { headers: BROWSER });
    assert.equal(page.headers.get('x-isr-cache'), 'HIT');
    assert.equal(pageText(page.text), 'six');
  });

  it('page and JSON never disagree: a regeneration replaces both at once', async () => {
    f.api.items.set('2', 'two v2');
    f.clock.advance(10_001);
    await request(f, '/strict/2'); // stale: regenerates in the background
    await flush();
    const page = await request(f, '/strict/2');
    const json = await request(f, data('/strict/2'));
    assert.equal(pageText(page.text), 'two v2');
    assert.equal(JSON.parse(json.text).pageProps.text, 'two v2');
    assert.equal(json.headers.get('etag'), `${page.headers.get('etag')!.slice(0, -1)}.json"`);
  });
});

describe('Pages Router: API routes', () => {
  it('passes method, query (with route params), JSON body and headers through req/res', async () => {
    const response = await request(f, '/api/echo/alpha?x=1&x=2', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ hello: 'world' }),
    });
    assert.equal(response.status, 201);
    assert.equal(response.headers.get('x-echo'), 'yes');
    assert.match(response.headers.get('content-type')!, /^application\/json/);
    assert.deepEqual(JSON.parse(response.text), { method: 'POST', query: { x: ['1', '2'], name: 'alpha' }, body: { hello: 'world' } });
    const get = await request(f, '/api/echo/beta');
    assert.deepEqual(
      JSON.parse(get.text),
      { method: 'GET', query: { name: 'beta' }, body: '' },
      'Next.js gives a GET an empty string body',
    );
  });

  it('an Edge API route (config.runtime = edge) gets a NextRequest and answers with its Web Response; one that throws is a plain 500', async () => {
    const response = await request(f, '/api/edge?q=search', { method: 'POST', headers: { cookie: 'flavour=mint' }, body: 'raw text' });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-edge'), 'yes');
    assert.deepEqual(JSON.parse(response.text), { method: 'POST', q: 'search', flavour: 'mint', body: 'raw text' });
    const failed = await request(f, '/api/edge?throw=1');
    assert.equal(failed.status, 500);
    assert.equal(failed.text, 'Internal Server Error');
    assert.ok(f.logger.lines.some((line) => line.includes('API route /api/edge failed') && line.includes('edge route failed on purpose')));
  });

  it('answers 400 for malformed JSON without running the handler', async () => {
    const response = await request(f, '/api/echo/alpha', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":',
    });
    assert.equal(response.status, 400);
  });

  it('res.revalidate regenerates the page before it resolves: the next request gets the new page', async () => {
    f.api.items.set('5', 'five v2');
    const refused = await request(f, `/api/revalidate?secret=wrong&path=/blocking/5`);
    assert.equal(refused.status, 401);
    assert.deepEqual(JSON.parse(refused.text), { message: 'Invalid token' });
    await request(f, '/blocking/5');
    const calls = f.api.callsFor('5');
    const response = await request(f, `/api/revalidate?secret=${TOKEN}&path=/blocking/5`);
    assert.equal(response.status, 200);
    assert.deepEqual(JSON.parse(response.text), { revalidated: true });
    assert.equal(f.api.callsFor('5'), calls + 1, 'getStaticProps ran before the response');
    const page = await request(f, '/blocking/5');
    assert.equal(page.headers.get('x-isr-cache'), 'HIT');
    assert.equal(pageText(page.text), 'five v2');
    assert.equal(JSON.parse((await request(f, data('/blocking/5'))).text).pageProps.text, 'five v2');
  });

  it('res.revalidate rejects when the regeneration fails, and the old page stays', async () => {
    f.api.statuses.set('6', 503);
    const response = await request(f, `/api/revalidate?secret=${TOKEN}&path=/blocking/6`);
    assert.equal(response.status, 500);
    assert.match(response.text, /^Error revalidating: Failed to revalidate \/blocking\/6/);
    f.api.statuses.delete('6');
    const page = await request(f, '/blocking/6');
    assert.equal(page.status, 200);
    assert.equal(pageText(page.text), 'six');
  });

  it('res.revalidate rejects paths that are not pages of the site', async () => {
    for (const target of ['/strict/9', '/api/echo/x', '/nowhere/at/all']) {
      const response = await request(f, `/api/revalidate?secret=${TOKEN}&path=${encodeURIComponent(target)}`);
      assert.equal(response.status, 500, target);
      assert.match(response.text, /Failed to revalidate/, target);
    }
  });
});
