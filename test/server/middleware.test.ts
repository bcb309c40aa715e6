/**
 * A site's middleware (test/fixtures/middleware-site/proxy.ts), built by `isr build` and run by
 * the server before the cache, as `next start` runs it: rewrites served from the target's own
 * cache entry (A/B variants cached apart), redirects at once, `next()` with request and response
 * headers and cookies, responses of its own, matcher exclusions and `has` conditions, data routes,
 * a middleware that throws, and the HIT fast path, which must not answer a covered path.
 * @see https://nextjs.org/docs/app/api-reference/file-conventions/proxy
 */

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { rawExchange } from '../helpers/raw-http.ts';
import { type FixtureServer, pageText, request, startFixtureServer, TOKEN } from '../helpers/server.ts';

let f: FixtureServer;
let buildId: string;

before(async () => {
  f = await startFixtureServer({}, { name: 'middleware-site', items: {} });
  buildId = JSON.parse(await readFile(path.join(f.dir, '.isr', 'build', 'manifest.json'), 'utf8')).buildId as string;
});
after(() => f?.close());

const port = () => Number(new URL(f.url).port);

describe('middleware: rewrites (A/B test by cookie on a cached page)', () => {
  it('a visitor without a bucket is rewritten to one and given its cookie; the URL stays /home', async () => {
    const first = await request(f, '/home?assign=b');
    assert.equal(first.status, 200);
    assert.match(first.text, /<h1>Variant B<\/h1>/);
    assert.equal(first.headers.get('set-cookie'), 'bucket=b; Path=/');
    assert.equal(first.headers.get('x-isr-cache'), 'HIT', 'the prerendered /home/b');
  });

  it('each variant is its own cache entry: both HIT on a second visit, with their own bytes', async () => {
    const a1 = await request(f, '/home', { headers: { cookie: 'bucket=a' } });
    const b1 = await request(f, '/home', { headers: { cookie: 'bucket=b' } });
    const a2 = await request(f, '/home', { headers: { cookie: 'bucket=a' } });
    const b2 = await request(f, '/home', { headers: { cookie: 'bucket=b' } });
    assert.match(a1.text, /Variant A/);
    assert.match(b1.text, /Variant B/);
    assert.equal(a2.text, a1.text);
    assert.equal(b2.text, b1.text);
    assert.equal(a2.headers.get('x-isr-cache'), 'HIT');
    assert.equal(b2.headers.get('x-isr-cache'), 'HIT');
    assert.equal(a2.headers.get('set-cookie'), null, 'a visitor with a bucket keeps it');
    // The variant's own page, requested directly, is the same entry.
    assert.equal((await request(f, '/home/a')).text, a1.text);
  });

  it('a cookie set by the middleware never reaches the cache entry', async () => {
    await request(f, '/home?assign=a');
    const next = await request(f, '/home/a');
    assert.equal(next.headers.get('set-cookie'), null);
    const again = await request(f, '/home', { headers: { cookie: 'bucket=a' } });
    assert.equal(again.headers.get('set-cookie'), null);
  });

  it('on-demand revalidation does not run the middleware: a rewritten page is revalidated by its real path', async () => {
    const before = await request(f, '/home', { headers: { cookie: 'bucket=a' } });
    const revalidate = (paths: string[]) =>
      request(f, '/_isr/revalidate', {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ paths }),
      });
    assert.equal((await revalidate(['/home'])).status, 200);
    assert.equal((await request(f, '/home', { headers: { cookie: 'bucket=a' } })).text, before.text, '/home names no entry');
    assert.equal((await revalidate(['/home/a'])).status, 200);
    let after = await request(f, '/home', { headers: { cookie: 'bucket=a' } });
    for (let i = 0; i < 50 && after.text === before.text; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      after = await request(f, '/home', { headers: { cookie: 'bucket=a' } });
    }
    assert.notEqual(after.text, before.text);
  });
});

describe('middleware: redirects, its own responses, next() with headers', () => {
  it('i18n: a redirect by Accept-Language, answered at once with a relative Location', async () => {
    const french = await request(f, '/hello', { headers: { 'accept-language': 'fr-FR,fr;q=0.9,en;q=0.8' } });
    assert.equal(french.status, 307);
    assert.equal(french.headers.get('location'), '/fr');
    const other = await request(f, '/hello', { headers: { 'accept-language': 'de' } });
    assert.equal(other.headers.get('location'), '/en');
    const permanent = await request(f, '/old');
    assert.equal(permanent.status, 308);
    assert.equal(permanent.headers.get('location'), '/en?from=old');
    assert.match((await request(f, '/fr')).text, /Bonjour/);
  });

  it('a response of its own is sent as it is: a body with a status, or JSON', async () => {
    const blocked = await request(f, '/blocked');
    assert.equal(blocked.status, 403);
    assert.equal(blocked.text, 'Forbidden by the middleware');
    const json = await request(f, '/json');
    assert.equal(json.status, 418);
    assert.equal(json.headers.get('content-type'), 'application/json');
    assert.deepEqual(JSON.parse(json.text), { from: 'middleware' });
  });

  it('next({ request: { headers } }): the route handler sees the changed request headers and the cookie set; the answer carries the response headers', async () => {
    const echo = await request(f, '/echo', { headers: { 'x-secret': 'sent by the client', cookie: 'theme=dark' } });
    assert.equal(echo.status, 200);
    assert.deepEqual(JSON.parse(echo.text), { fromMiddleware: 'hello', secret: null, cookie: 'theme=dark; seen=1' });
    assert.equal(echo.headers.get('x-middleware-said'), 'hi');
    assert.equal(echo.headers.get('set-cookie'), 'seen=1; Path=/; HttpOnly');
    assert.equal(echo.headers.get('x-middleware-next'), null, 'the protocol fields stay inside');
    assert.equal(echo.headers.get('x-middleware-override-headers'), null);
  });

  it('a cached page keeps its own Cache-Control and ETag under the middleware headers', async () => {
    const home = await request(f, '/');
    assert.equal(home.headers.get('x-middleware'), 'ran');
    assert.equal(home.headers.get('x-isr-cache'), 'HIT');
    assert.match(home.headers.get('cache-control') ?? '', /^s-maxage=60, /);
    const etag = home.headers.get('etag')!;
    const notModified = await request(f, '/', { headers: { 'if-none-match': etag } });
    assert.equal(notModified.status, 304);
    assert.equal(notModified.headers.get('x-middleware'), 'ran');
  });

  it('a middleware that throws is a 500, as under next start, and the error is logged', async () => {
    const failed = await request(f, '/throws');
    assert.equal(failed.status, 500);
    assert.match(failed.text, /Internal Server Error/);
    assert.doesNotMatch(failed.text, /on purpose/, 'no details reach the client');
    assert.ok(
      f.logger.lines.some((line) => line.includes('middleware proxy.ts (for /throws) threw') && line.includes('on purpose')),
      f.logger.lines.join('\n'),
    );
  });
});

describe('middleware: matchers', () => {
  it('a path the matcher excludes is served without the middleware', async () => {
    assert.equal((await request(f, '/static')).headers.get('x-middleware'), null);
    assert.equal((await request(f, '/home/b')).headers.get('x-middleware'), null);
    assert.equal((await request(f, '/en')).headers.get('x-middleware'), 'ran');
  });

  it('a matcher with `has` runs only when its condition holds', async () => {
    const without = await request(f, '/api/conditional');
    assert.deepEqual(JSON.parse(without.text), { fromMiddleware: null });
    const withHeader = await request(f, '/api/conditional', { headers: { 'x-run-middleware': '1' } });
    assert.deepEqual(JSON.parse(withHeader.text), { fromMiddleware: 'hello' });
    assert.equal(withHeader.headers.get('x-middleware-said'), 'hi');
  });

  it("isr's own files are no paths of the site: the middleware does not run for them", async () => {
    const manifest = JSON.parse(await readFile(path.join(f.dir, '.isr', 'build', 'manifest.json'), 'utf8'));
    const asset = manifest.clientAssets[0] as string;
    const file = await request(f, `/_isr/${asset}`);
    assert.equal(file.status, 200);
    assert.equal(file.headers.get('x-middleware'), null);
  });
});

describe('middleware: data routes and the HIT fast path', () => {
  it("a Pages Router data route runs the middleware for its page's path (with x-nextjs-data), and carries its headers", async () => {
    const data = await request(f, `/_isr/data/${buildId}/legacy.json`);
    assert.equal(data.status, 200);
    assert.equal(data.headers.get('x-middleware'), 'ran');
    assert.equal(typeof JSON.parse(data.text).pageProps.at, 'number');
  });

  it('the data route of a path the middleware rewrites or answers is a 404: the browser loads the page whole; the middleware ran once', async () => {
    const counter = globalThis as { middlewareRuns?: number };
    for (const path of ['home.json', 'blocked.rsc', 'home.rsc']) {
      const before = counter.middlewareRuns ?? 0;
      assert.equal((await request(f, `/_isr/data/${buildId}/${path}`)).status, 404, path);
      assert.equal((counter.middlewareRuns ?? 0) - before, 1, `${path}: the middleware ran once`);
    }
  });

  it('the RSC payload of a path the middleware redirects is that redirect to the target’s payload, the middleware run once', async () => {
    const counter = globalThis as { middlewareRuns?: number };
    const before = counter.middlewareRuns ?? 0;
    const hop = await request(f, `/_isr/data/${buildId}/old.rsc`);
    assert.equal(hop.status, 308);
    assert.equal(hop.headers.get('location'), `/_isr/data/${buildId}/en.rsc?from=old`);
    assert.equal((counter.middlewareRuns ?? 0) - before, 1);
  });

  it("a client's x-middleware-* and x-nextjs-data request headers never reach the middleware (Next.js strips them): none can steer its answer", async () => {
    const response = await request(f, '/fr', {
      headers: {
        'x-middleware-rewrite': 'http://127.0.0.1:1/stolen',
        'x-middleware-override-headers': 'x-injected',
        'x-middleware-request-x-injected': 'yes',
        'x-nextjs-data': '1',
      },
    });
    assert.equal(response.status, 200, response.text);
    assert.match(response.text, /<html/);
    for (const name of ['x-middleware-rewrite', 'x-middleware-override-headers', 'x-middleware-request-x-injected', 'x-nextjs-data'])
      assert.equal(response.headers.get(name), null, name);
  });

  it('a data route nested in a data route is no page: one request runs the middleware at most once, not once per level', async () => {
    const counter = globalThis as { middlewareRuns?: number };
    const levels = 40;
    const nested = `${`/_isr/data/${buildId}`.repeat(levels)}/en${'.rsc'.repeat(levels)}`;
    const before = counter.middlewareRuns ?? 0;
    const response = await request(f, nested);
    assert.equal(response.status, 404);
    assert.ok((counter.middlewareRuns ?? 0) - before <= 1, `the middleware ran ${(counter.middlewareRuns ?? 0) - before} times`);
  });

  it('a covered path is never answered from memory before the middleware ran; an excluded one is', async () => {
    // Two requests on one keep-alive connection: the second may take the fast path.
    const [, covered] = await rawExchange(port(), [
      { path: '/home', headers: { cookie: 'bucket=a' } },
      { path: '/home', headers: { cookie: 'bucket=b' } },
    ]);
    assert.match(covered!.body.toString(), /Variant B/);
    const [, home] = await rawExchange(port(), [{ path: '/' }, { path: '/' }]);
    assert.match(home!.head, /\r\nx-middleware: ran\r\n/i);
    const [, excluded] = await rawExchange(port(), [{ path: '/static' }, { path: '/static' }]);
    assert.equal(excluded!.status, 200);
    assert.doesNotMatch(excluded!.head, /x-middleware/i);
  });
});

// Last: it moves the clock past every page's revalidate time.
describe('middleware: time-based revalidation of a rewritten page', () => {
  it('a stale variant is regenerated under its own path, and a HIT after it shows the new bytes', async () => {
    const before = await request(f, '/home', { headers: { cookie: 'bucket=b' } });
    f.clock.advance(61_000);
    const stale = await request(f, '/home', { headers: { cookie: 'bucket=b' } });
    assert.equal(stale.headers.get('x-isr-cache'), 'STALE');
    assert.equal(stale.text, before.text);
    let fresh = stale;
    for (let i = 0; i < 50 && fresh.text === before.text; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      fresh = await request(f, '/home', { headers: { cookie: 'bucket=b' } });
    }
    assert.notEqual(pageText(fresh.text), pageText(before.text));
    assert.equal(fresh.headers.get('x-isr-cache'), 'HIT');
  });
});
