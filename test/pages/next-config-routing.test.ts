/**
 * next.config's `redirects`, `rewrites` (beforeFiles, afterFiles, fallback to another origin) and
 * `headers` on the pages-client-site fixture, applied as Next.js applies them.
 * @see https://nextjs.org/docs/app/api-reference/config/next-config-js/rewrites
 */

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { rawRequest } from '../helpers/raw-http.ts';
import { type FixtureServer, pageText, request, startFixtureServer } from '../helpers/server.ts';

let f: FixtureServer;

before(async () => {
  f = await startFixtureServer({}, { name: 'pages-client-site', items: { '1': 'one', '2': 'two' } });
});
after(() => f?.close());

describe('next.config routing rules', () => {
  it('redirects: permanent is a 308, otherwise a 307; params fill the destination; the query is kept', async () => {
    const permanent = await request(f, '/old-about');
    assert.equal(permanent.status, 308);
    assert.equal(permanent.headers.get('location'), '/about');
    const temporary = await request(f, '/legacy/2?from=mail');
    assert.equal(temporary.status, 307);
    assert.equal(temporary.headers.get('location'), '/items/2?from=mail');
  });

  it('a has condition: the redirect applies only with the cookie', async () => {
    assert.equal((await request(f, '/beta')).status, 404);
    const withCookie = await request(f, '/beta', { headers: { cookie: 'theme=dark; beta=yes' } });
    assert.equal(withCookie.status, 307);
    assert.equal(withCookie.headers.get('location'), '/about');
  });

  it('a beforeFiles rewrite serves another page of the site, from the cache, under the requested URL', async () => {
    const rewritten = await request(f, '/pretty/1');
    assert.equal(rewritten.status, 200);
    assert.equal(pageText(rewritten.text), 'one');
    assert.equal(rewritten.headers.get('x-isr-cache'), 'HIT');
    assert.equal(rewritten.headers.get('x-item'), null, 'headers rules match the requested path');
  });

  it('an afterFiles rewrite applies where no page has the path', async () => {
    const docs = await request(f, '/docs/a/b');
    assert.equal(docs.status, 200);
    assert.match(docs.text, /<h1>About<\/h1>/);
  });

  it('a fallback rewrite to another origin is proxied, not cached', async () => {
    const proxied = await request(f, '/api-item/2');
    assert.equal(proxied.status, 200);
    assert.deepEqual(JSON.parse(proxied.text), { id: '2', text: 'two' });
    assert.equal(proxied.headers.get('x-isr-cache'), null);
    assert.equal((await request(f, '/nowhere')).status, 404, 'a path no rule names is still a 404');
  });

  it('a rewrite whose destination does not answer is a 502 that names nothing of it; the log does', async () => {
    const failed = await request(f, '/dead-origin/1');
    assert.equal(failed.status, 502);
    assert.equal(failed.text.trim(), 'Bad Gateway');
    assert.ok(
      f.logger.lines.some((line) => line.startsWith('warn ') && line.includes('http://127.0.0.1:9')),
      f.logger.lines.join('\n'),
    );
  });

  it('headers: added to matching answers, with params; a page keeps its cache headers', async () => {
    const about = await request(f, '/about');
    assert.equal(about.headers.get('x-about'), 'yes');
    assert.equal(about.headers.get('x-isr-cache'), 'HIT');
    const item = await request(f, '/items/1');
    assert.equal(item.headers.get('x-item'), 'item 1');
    assert.equal((await request(f, '/')).headers.get('x-about'), null);
  });
});

describe('next.config routing rules and client navigation', () => {
  it('the data route of a redirected or rewritten path is a 404 (the browser loads the page whole and gets the rule); others answer', async () => {
    const buildId = JSON.parse(await readFile(path.join(f.dir, '.isr', 'build', 'manifest.json'), 'utf8')).buildId as string;
    assert.equal((await request(f, `/_isr/data/${buildId}/legacy/2.json`)).status, 404);
    assert.equal((await request(f, `/_isr/data/${buildId}/pretty/1.json`)).status, 404);
    assert.equal((await request(f, `/_isr/data/${buildId}/items/1.json`)).status, 200);
  });

  it('a proxied rewrite drops the hop-by-hop fields a client sent (fetch would refuse them)', async () => {
    const proxied = await rawRequest(Number(new URL(f.url).port), {
      path: '/api-item/1',
      headers: { connection: 'keep-alive, x-drop-me', 'x-drop-me': '1', 'keep-alive': 'timeout=5' },
    });
    assert.equal(proxied.status, 200);
    assert.deepEqual(JSON.parse(proxied.body.toString()), { id: '1', text: 'one' });
  });

  it('a malformed cookie does not break a cookie condition', async () => {
    assert.equal((await request(f, '/beta', { headers: { cookie: 'beta=%E0%A4%A' } })).status, 404);
  });
});
