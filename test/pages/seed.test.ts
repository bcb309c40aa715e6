/**
 * The examples of the Next.js Pages Router guide "How to implement Incremental Static Regeneration
 * (ISR)" (https://nextjs.org/docs/pages/guides/incremental-static-regeneration), unmodified
 * (test/fixtures/pages-seed), built and served by isr.
 * They fetch https://api.vercel.app/blog, which a local stand-in answers (real Node.js blog posts)
 * over a real socket.
 */

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type FixtureServer, escapeHtml as html, request, startFixtureServer, TOKEN } from '../helpers/server.ts';
import { routeVercelApiTo, startVercelBlogApi, type VercelBlogApi } from '../helpers/vercel-blog-api.ts';

let api: VercelBlogApi;
let restore: () => void;
let f: FixtureServer;
const flush = () => f.server.isr.engine.flush();

before(async () => {
  api = await startVercelBlogApi(25);
  restore = routeVercelApiTo(api);
  f = await startFixtureServer({}, { name: 'pages-seed' });
});
after(async () => {
  await f?.close();
  restore?.();
  await api?.close();
});

describe("the Next.js Pages Router ISR guide's examples", () => {
  it('"During next build, all known blog posts are generated (there are 25 in this example)"', async () => {
    const manifest = JSON.parse(await readFile(path.join(f.dir, '.isr', 'build', 'manifest.json'), 'utf8'));
    const blog = manifest.routes.find((route: { pattern: string }) => route.pattern === '/blog/[id]');
    assert.equal(blog.prerendered.length, 25);
    assert.equal(blog.fallback, false);
    assert.ok(api.requests.includes('GET /blog'));
  });

  it('"All requests made to these pages (e.g. /blog/1) are cached and instantaneous"', async () => {
    const calls = api.requests.length;
    const page = await request(f, '/blog/1');
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('x-isr-cache'), 'HIT');
    assert.equal(page.headers.get('cache-control'), 's-maxage=60, stale-while-revalidate=31535940');
    const post = api.posts.get(1)!;
    assert.ok(page.text.includes(`<h1>${html(post.title)}</h1>`));
    assert.ok(page.text.includes(`<p>${html(post.content)}</p>`));
    assert.equal(api.requests.length, calls, 'served without calling the API');
  });

  it('after 60 s the cached (stale) page is served while a new one is generated in the background', async () => {
    api.posts.get(2)!.title = 'An edited title';
    f.clock.advance(59_000);
    assert.equal((await request(f, '/blog/2')).headers.get('x-isr-cache'), 'HIT');
    f.clock.advance(1_001);
    const stale = await request(f, '/blog/2');
    assert.equal(stale.headers.get('x-isr-cache'), 'STALE');
    assert.ok(!stale.text.includes('An edited title'));
    await flush();
    const fresh = await request(f, '/blog/2');
    assert.equal(fresh.headers.get('x-isr-cache'), 'HIT');
    assert.ok(fresh.text.includes('<h1>An edited title</h1>'));
  });

  it('fallback: false: a post that was not listed at build time is a 404', async () => {
    api.posts.set(26, { ...api.posts.get(1)!, id: 26, title: 'Published after the build' });
    const page = await request(f, '/blog/26');
    assert.equal(page.status, 404);
  });

  it("the props are served as JSON at the page's data route", async () => {
    const manifest = JSON.parse(await readFile(path.join(f.dir, '.isr', 'build', 'manifest.json'), 'utf8'));
    const json = await request(f, `/_isr/data/${manifest.buildId}/blog/3.json`);
    assert.equal(json.status, 200);
    assert.deepEqual(JSON.parse(json.text), { pageProps: { post: api.posts.get(3) }, __N_SSG: true });
  });

  it('pages/api/revalidate: the secret is checked, then /posts/1 is regenerated before the answer', async () => {
    const refused = await request(f, '/api/revalidate?secret=nope');
    assert.equal(refused.status, 401);
    assert.deepEqual(JSON.parse(refused.text), { message: 'Invalid token' });
    assert.equal((await request(f, '/posts/1')).status, 200);
    api.posts.get(1)!.title = 'Revalidated on demand';
    const response = await request(f, `/api/revalidate?secret=${TOKEN}`);
    assert.equal(response.status, 200);
    assert.deepEqual(JSON.parse(response.text), { revalidated: true });
    const page = await request(f, '/posts/1');
    assert.equal(page.headers.get('x-isr-cache'), 'HIT');
    assert.ok(page.text.includes('<h1>Revalidated on demand</h1>'));
  });

  it('"If there was an error, Next.js will continue to show the last successfully generated page"', async () => {
    api.posts.get(1)!.title = 'Never shown';
    api.failNext(1, 500);
    const response = await request(f, `/api/revalidate?secret=${TOKEN}`);
    assert.equal(response.status, 500);
    assert.equal(response.text, 'Error revalidating');
    const page = await request(f, '/posts/1');
    assert.ok(page.text.includes('<h1>Revalidated on demand</h1>'));
    assert.ok(f.logger.lines.some((line) => line.includes('Failed to fetch posts, received status 500')));
  });

  it('a getStaticProps that throws in a background regeneration keeps the page; the next request retries', async () => {
    f.clock.advance(60_001);
    api.failNext(1, 500);
    const stale = await request(f, '/posts/1');
    assert.equal(stale.headers.get('x-isr-cache'), 'STALE');
    await flush();
    assert.ok((await request(f, '/posts/1')).text.includes('<h1>Revalidated on demand</h1>'), 'the failure replaced nothing');
    await flush(); // that request was still stale: it retried, and this time the API answered
    const retried = await request(f, '/posts/1');
    assert.equal(retried.headers.get('x-isr-cache'), 'HIT');
    assert.ok(retried.text.includes('<h1>Never shown</h1>'));
  });
});
