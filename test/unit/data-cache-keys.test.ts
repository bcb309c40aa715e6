/**
 * Data-cache keys: what makes two cached `fetch` calls, or two `unstable_cache` calls, share one
 * entry and what keeps them apart — first on the key functions (`fetchCacheKey`,
 * `unstableCacheKey`), then through the real engine on a memory store, counting the requests an
 * in-process HTTP server receives and the calls a cached function gets.
 * @see https://nextjs.org/docs/app/api-reference/functions/fetch
 * @see https://nextjs.org/docs/app/api-reference/functions/unstable_cache
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import { fetchCacheKey, installFetch, unstableCache, unstableCacheKey } from '../../src/app/data-cache.ts';
import { ManualClock } from '../../src/engine/clock.ts';
import { IsrEngine } from '../../src/engine/engine.ts';
import { createMemoryLogger } from '../../src/log.ts';
import { createRenderContext, type RenderContext, renderStorage, setRuntime } from '../../src/render/context.ts';
import { MemoryStore } from '../../src/store/memory.ts';

describe('fetchCacheKey: which fetches share an entry', () => {
  const URL_A = 'https://api.example/posts/1';

  test('the key is fetch: and a SHA-256 in hex', () => {
    assert.match(fetchCacheKey(URL_A), /^fetch:[0-9a-f]{64}$/);
  });

  test('the same method, URL and headers share a key, however they are written', () => {
    const key = fetchCacheKey(URL_A, { headers: { Authorization: 'Bearer t', Accept: 'application/json' } });
    assert.equal(
      fetchCacheKey(URL_A, {
        method: 'get',
        headers: [
          ['accept', 'application/json'],
          ['authorization', 'Bearer t'],
        ],
      }),
      key,
    );
    assert.equal(fetchCacheKey(new URL(URL_A), { headers: new Headers({ accept: 'application/json', authorization: 'Bearer t' }) }), key);
    assert.equal(fetchCacheKey(new Request(URL_A, { headers: { accept: 'application/json', authorization: 'Bearer t' } })), key);
  });

  test('what is not part of the key: next.revalidate, next.tags, cache and other RequestInit fields', () => {
    const key = fetchCacheKey(URL_A);
    const init = { next: { revalidate: 60, tags: ['posts'] }, cache: 'force-cache', redirect: 'manual', signal: AbortSignal.timeout(1000) };
    assert.equal(fetchCacheKey(URL_A, init as RequestInit), key);
    assert.equal(fetchCacheKey(URL_A, { method: 'GET' }), key);
  });

  test('a different method, URL or header value separates the entries', () => {
    const key = fetchCacheKey(URL_A);
    assert.notEqual(fetchCacheKey(URL_A, { method: 'HEAD' }), key);
    assert.notEqual(fetchCacheKey('https://api.example/posts/2'), key);
    assert.notEqual(fetchCacheKey(`${URL_A}?draft=1`), key);
    assert.notEqual(fetchCacheKey(URL_A, { headers: { accept: 'text/html' } }), key);
    assert.notEqual(
      fetchCacheKey(URL_A, { headers: { accept: 'text/html' } }),
      fetchCacheKey(URL_A, { headers: { accept: 'application/json' } }),
    );
  });

  test('a URL string is keyed as written; a URL object by its normalised href', () => {
    assert.notEqual(fetchCacheKey('https://api.example'), fetchCacheKey('https://api.example/'));
    assert.notEqual(fetchCacheKey('https://API.example/x'), fetchCacheKey('https://api.example/x'));
    assert.equal(fetchCacheKey(new URL('https://API.example')), fetchCacheKey('https://api.example/'));
  });

  test('init.headers replace a Request’s headers in the key, as they do in the request', () => {
    const request = new Request(URL_A, { headers: { accept: 'text/html' } });
    assert.equal(
      fetchCacheKey(request, { headers: { accept: 'application/json' } }),
      fetchCacheKey(URL_A, { headers: { accept: 'application/json' } }),
    );
    assert.equal(fetchCacheKey(request, { method: 'HEAD' }), fetchCacheKey(URL_A, { method: 'HEAD', headers: { accept: 'text/html' } }));
  });
});

describe('unstableCacheKey: which unstable_cache calls share an entry', () => {
  const getPost = async (id: number) => ({ id });

  test('the key is function: and a SHA-256 in hex', () => {
    assert.match(unstableCacheKey(getPost, [], [1]), /^function:[0-9a-f]{64}$/);
  });

  test('the same function source, key parts and JSON of the arguments share a key', () => {
    assert.equal(unstableCacheKey(getPost, ['posts'], [1]), unstableCacheKey(getPost, ['posts'], [1]));
    // Two different closures with the same source text share a key: keyParts must tell them apart.
    const byUser = (user: string) => async () => user;
    assert.equal(unstableCacheKey(byUser('ann'), [], []), unstableCacheKey(byUser('bob'), [], []));
    assert.notEqual(unstableCacheKey(byUser('ann'), ['ann'], []), unstableCacheKey(byUser('bob'), ['bob'], []));
  });

  test('arguments are compared as JSON', () => {
    assert.equal(unstableCacheKey(getPost, [], [{ a: 1, b: 2 }]), unstableCacheKey(getPost, [], [{ a: 1, b: 2 }]));
    assert.notEqual(unstableCacheKey(getPost, [], [{ a: 1, b: 2 }]), unstableCacheKey(getPost, [], [{ b: 2, a: 1 }]));
    assert.equal(unstableCacheKey(getPost, [], [undefined]), unstableCacheKey(getPost, [], [null]));
    assert.notEqual(unstableCacheKey(getPost, [], []), unstableCacheKey(getPost, [], [undefined]));
    assert.equal(unstableCacheKey(getPost, [], [new Map([['a', 1]])]), unstableCacheKey(getPost, [], [new Map()]));
    assert.notEqual(unstableCacheKey(getPost, [], [1]), unstableCacheKey(getPost, [], ['1']));
  });

  test('a different source, key part or argument separates the entries', () => {
    const getPage = async (id: number) => ({ page: id });
    assert.notEqual(unstableCacheKey(getPost, [], [1]), unstableCacheKey(getPage, [], [1]));
    assert.notEqual(unstableCacheKey(getPost, ['a'], [1]), unstableCacheKey(getPost, ['b'], [1]));
    assert.notEqual(unstableCacheKey(getPost, ['a', 'b'], []), unstableCacheKey(getPost, ['a,b'], []));
    assert.notEqual(unstableCacheKey(getPost, [], [1]), unstableCacheKey(getPost, [], [2]));
  });
});

describe('the keys at work: the engine on a memory store', () => {
  let server: Server;
  let origin: string;
  let requests: string[] = [];

  before(async () => {
    server = createServer((request, response) => {
      requests.push(`${request.method} ${request.url} ${request.headers.accept}`);
      response.setHeader('content-type', 'text/plain');
      response.end(`answer ${requests.length}`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    installFetch();
  });

  after(async () => {
    setRuntime(undefined);
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  beforeEach(() => {
    requests = [];
    setRuntime({
      engine: new IsrEngine({ store: new MemoryStore(), clock: new ManualClock(), logger: createMemoryLogger() }),
      logger: createMemoryLogger(),
    });
  });

  /** Runs `fn` as the render of page `path`. */
  function render<T>(path: string, fn: () => Promise<T>): Promise<T> {
    const context: RenderContext = createRenderContext(path, path, { revalidate: false, dynamic: 'auto' });
    return renderStorage().run(context, fn);
  }

  const get = async (input: string, init?: RequestInit & { next?: { revalidate?: number | false; tags?: string[] } }) =>
    (await fetch(input, init)).text();

  test('a cached fetch answers again from the entry, on the same page or another', async () => {
    const first = await render('/a', () => get(`${origin}/posts`, { next: { revalidate: 60 } }));
    const again = await render('/a', () => get(`${origin}/posts`, { next: { revalidate: 60 } }));
    const elsewhere = await render('/b', () => get(`${origin}/posts`, { next: { revalidate: 3600, tags: ['posts'] } }));
    assert.deepEqual([first, again, elsewhere], ['answer 1', 'answer 1', 'answer 1']);
    assert.deepEqual(requests, ['GET /posts */*']);
  });

  test('a different header or URL is a request of its own', async () => {
    await render('/a', async () => {
      await get(`${origin}/posts`, { next: { revalidate: 60 }, headers: { accept: 'text/plain' } });
      await get(`${origin}/posts`, { next: { revalidate: 60 }, headers: { accept: 'application/json' } });
      await get(`${origin}/posts?page=2`, { next: { revalidate: 60 } });
      await get(`${origin}/posts`, { next: { revalidate: 60 }, headers: { accept: 'text/plain' } });
    });
    assert.deepEqual(requests, ['GET /posts text/plain', 'GET /posts application/json', 'GET /posts?page=2 */*']);
  });

  test('unstable_cache calls its function once per distinct key', async () => {
    const calls: number[] = [];
    const getPost = unstableCache(
      async (id: number) => {
        calls.push(id);
        return { id, calls: calls.length };
      },
      ['post'],
      { revalidate: 60 },
    );
    assert.deepEqual(await getPost(1), { id: 1, calls: 1 });
    assert.deepEqual(await getPost(1), { id: 1, calls: 1 });
    assert.deepEqual(await render('/p', () => getPost(1)), { id: 1, calls: 1 });
    assert.deepEqual(await getPost(2), { id: 2, calls: 2 });
    assert.deepEqual(calls, [1, 2]);
  });
});
