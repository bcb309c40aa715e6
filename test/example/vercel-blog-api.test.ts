/**
 * Tests of the api.vercel.app stand-in (test/helpers/vercel-blog-api.ts) and of routing this
 * process's built-in fetch of https://api.vercel.app to it.
 * Run: node --import tsx --test test/example/vercel-blog-api.test.ts
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { type BlogPost, routeVercelApiTo, startVercelBlogApi, type VercelBlogApi } from '../helpers/vercel-blog-api.ts';

const NO_HANG = 3000;

describe('Vercel blog API stand-in', () => {
  let api: VercelBlogApi;
  before(async () => {
    api = await startVercelBlogApi();
  });
  after(() => api.close());

  test('serves the list of 25 real posts in id order, and one post', async () => {
    const res = await fetch(`${api.url}/blog`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const list = (await res.json()) as BlogPost[];
    assert.equal(list.length, 25);
    assert.deepEqual(
      list.map((p) => p.id),
      Array.from({ length: 25 }, (_, i) => i + 1),
    );
    for (const post of list) {
      assert.deepEqual(Object.keys(post).sort(), ['author', 'category', 'content', 'date', 'id', 'title']);
      assert.ok(post.title.length > 0 && post.content.length > 0 && post.content.length <= 281);
      assert.doesNotMatch(post.content, /<[a-z][^>]*>|^#/i);
      assert.ok(!Number.isNaN(Date.parse(post.date)));
    }
    // Newest first, as taken from the corpus.
    assert.ok(list[0]!.date >= list[24]!.date);

    const one = await fetch(`${api.url}/blog/3`);
    assert.equal(one.status, 200);
    assert.deepEqual(await one.json(), list[2]);

    const missing = await fetch(`${api.url}/blog/999`);
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), { error: 'not found' });
    assert.equal((await fetch(`${api.url}/other`)).status, 404);
    assert.equal((await fetch(`${api.url}/blog`, { method: 'POST' })).status, 405);
    assert.deepEqual(api.requests.slice(-5), ['GET /blog', 'GET /blog/3', 'GET /blog/999', 'GET /other', 'POST /blog']);
  });

  test('edits to `posts` show on the next request', async () => {
    const post = api.posts.get(2)!;
    const last = api.posts.get(25)!;
    api.posts.set(2, { ...post, title: 'Edited' });
    api.posts.delete(25);
    try {
      const list = (await (await fetch(`${api.url}/blog`)).json()) as BlogPost[];
      assert.equal(list.length, 24);
      assert.equal(list[1]!.title, 'Edited');
      assert.equal((await fetch(`${api.url}/blog/25`)).status, 404);
    } finally {
      api.posts.set(2, post);
      api.posts.set(25, last);
    }
  });

  test('failNext answers the next n requests with the given status', async () => {
    api.failNext(2, 503);
    const first = await fetch(`${api.url}/blog/1`);
    assert.equal(first.status, 503);
    assert.match(first.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(((await first.json()) as { error: string }).error, 'injected failure');
    assert.equal((await fetch(`${api.url}/nowhere`)).status, 503);
    assert.equal((await fetch(`${api.url}/blog/1`)).status, 200);
  });

  test('routeVercelApiTo routes https://api.vercel.app only, until restored', async () => {
    const other = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('other'));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}/`;
    const fetchBefore = globalThis.fetch;
    const restore = routeVercelApiTo(api);
    try {
      assert.equal(globalThis.fetch, fetchBefore, 'fetch itself is not replaced');
      const requestsBefore = api.requests.length;
      const res = await fetch('https://api.vercel.app/blog/1', { signal: AbortSignal.timeout(NO_HANG) });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), api.posts.get(1));
      const list = await fetch('https://api.vercel.app/blog', { signal: AbortSignal.timeout(NO_HANG) });
      assert.equal(((await list.json()) as BlogPost[]).length, 25);
      assert.deepEqual(api.requests.slice(requestsBefore), ['GET /blog/1', 'GET /blog']);

      const fromOther = await fetch(otherUrl, { signal: AbortSignal.timeout(NO_HANG) });
      assert.equal(await fromOther.text(), 'other');
    } finally {
      restore();
      other.close();
      other.closeAllConnections();
    }
    const requestsAfter = api.requests.length;
    await assert.rejects(fetch('https://api.vercel.app/blog/1', { signal: AbortSignal.timeout(NO_HANG) }));
    assert.equal(api.requests.length, requestsAfter, 'the stand-in saw nothing after restore');
  });
});
