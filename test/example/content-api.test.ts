/**
 * Tests of the example blog's content API (examples/blog/content-api), over real HTTP on port 0.
 * Run: node --import tsx --test test/example/content-api.test.ts
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type ContentApi, type ContentApiOptions, startContentApi } from '../../examples/blog/content-api/server.ts';

const quiet: ContentApiOptions = { port: 0, editsFile: null, revalidate: null, log: () => {} };

interface Received {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A stand-in for the ISR server's revalidation webhook that records what it receives. */
async function startReceiver(status = 200) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      received.push({ method: req.method, url: req.url, headers: req.headers, body });
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: status < 400 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/_isr/revalidate`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A JSON body as the tests read it: fields accessed freely, checked by the assertions. */
// biome-ignore lint/suspicious/noExplicitAny: the tests assert on the API's JSON fields directly.
type Json = any;

async function getJson(api: ContentApi, path: string): Promise<{ status: number; body: Json }> {
  const res = await fetch(api.url + path);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json; charset=utf-8/);
  return { status: res.status, body: await res.json() };
}

async function put(api: ContentApi, path: string, body: string): Promise<{ status: number; body: Json }> {
  const res = await fetch(api.url + path, { method: 'PUT', headers: { 'content-type': 'application/json' }, body });
  return { status: res.status, body: await res.json() };
}

describe('content API: reading', () => {
  let api: ContentApi;
  before(async () => {
    api = await startContentApi(quiet);
  });
  after(() => api.close());

  test('GET /posts lists every post newest first, without bodies', async () => {
    const { status, body } = await getJson(api, '/posts');
    assert.equal(status, 200);
    assert.equal(body.length, 1049);
    for (const post of body) {
      assert.deepEqual(Object.keys(post), ['id', 'title', 'date', 'category', 'author']);
      for (const value of Object.values(post)) assert.equal(typeof value, 'string');
    }
    for (let i = 1; i < body.length; i++) assert.ok(body[i - 1].date >= body[i].date, `order at ${i}`);
    assert.equal(new Set(body.map((p: { id: string }) => p.id)).size, body.length);
    assert.ok(body.some((p: { id: string }) => p.id === 'v8.0.0'));
  });

  test('GET /posts?limit=N returns the N newest; a bad limit is a 400', async () => {
    const all = (await getJson(api, '/posts')).body;
    const { status, body } = await getJson(api, '/posts?limit=5');
    assert.equal(status, 200);
    assert.deepEqual(body, all.slice(0, 5));
    const bad = await getJson(api, '/posts?limit=-1');
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /limit/);
  });

  test('GET /posts/:id returns the real post with its Markdown rendered', async () => {
    const { status, body } = await getJson(api, '/posts/v8.0.0');
    assert.equal(status, 200);
    assert.deepEqual(Object.keys(body), ['id', 'title', 'date', 'category', 'author', 'html']);
    assert.equal(body.id, 'v8.0.0');
    assert.equal(body.title, 'Node.js 8.0.0 (Current)');
    assert.equal(body.date, '2017-05-30T18:52:01.625Z');
    assert.equal(body.category, 'release');
    assert.equal(body.author, 'James M Snell, Colin Ihrig');
    assert.match(body.html, /<h3[^>]*>Say hello to npm version 5\.0\.0<\/h3>/);
    assert.match(body.html, /The next major release of Node\.js brings a range of significant changes/);
    assert.doesNotMatch(body.html, /layout: blog-post/, 'front matter is not part of the body');
  });

  test('GET /posts/:id renders an .mdx post as Markdown', async () => {
    const { status, body } = await getJson(api, '/posts/v20-to-v22');
    assert.equal(status, 200);
    assert.equal(body.category, 'migrations');
    assert.ok(body.html.length > 1000);
    assert.match(body.html, /<h[1-3][^>]*>/);
  });

  test('unknown post and unknown endpoint answer 404 JSON', async () => {
    const missing = await getJson(api, '/posts/no-such-post');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error, 'Post not found: no-such-post');
    const nowhere = await getJson(api, '/nowhere');
    assert.equal(nowhere.status, 404);
    assert.equal(typeof nowhere.body.error, 'string');
  });
});

describe('content API: stats and fault injection', () => {
  test('every request is counted by path, query string excluded', async () => {
    const api = await startContentApi(quiet);
    try {
      await fetch(`${api.url}/posts`).then((r) => r.arrayBuffer());
      await fetch(`${api.url}/posts?limit=3`).then((r) => r.arrayBuffer());
      await fetch(`${api.url}/posts/v8.0.0`).then((r) => r.arrayBuffer());
      await fetch(`${api.url}/posts/missing`).then((r) => r.arrayBuffer());
      assert.equal(api.stats.requests, 4);
      assert.equal(api.stats.byPath.get('/posts'), 2);
      assert.equal(api.stats.byPath.get('/posts/v8.0.0'), 1);
      assert.equal(api.stats.byPath.get('/posts/missing'), 1);
      assert.equal(api.stats.byPath.size, 3);
    } finally {
      await api.close();
    }
  });

  test('failPaths answer 500 while listed, and the set is live', async () => {
    const failPaths = new Set(['/posts/v8.0.0']);
    const api = await startContentApi({ ...quiet, failPaths });
    try {
      const failing = await getJson(api, '/posts/v8.0.0');
      assert.equal(failing.status, 500);
      assert.match(failing.body.error, /Injected failure/);
      assert.equal((await getJson(api, '/posts?limit=1')).status, 200, 'other paths still work');
      failPaths.delete('/posts/v8.0.0');
      assert.equal((await getJson(api, '/posts/v8.0.0')).status, 200);
      failPaths.add('/posts');
      assert.equal((await getJson(api, '/posts?limit=1')).status, 500, 'matched without the query string');
      assert.equal(api.stats.byPath.get('/posts/v8.0.0'), 2, 'failed requests are counted too');
    } finally {
      await api.close();
    }
  });

  test('latencyMs delays every answer', async () => {
    const api = await startContentApi({ ...quiet, latencyMs: 150 });
    try {
      const started = performance.now();
      assert.equal((await getJson(api, '/posts?limit=1')).status, 200);
      assert.ok(performance.now() - started >= 140);
    } finally {
      await api.close();
    }
  });
});

describe('content API: editing', () => {
  let api: ContentApi;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  before(async () => {
    receiver = await startReceiver();
    api = await startContentApi({ ...quiet, revalidate: { url: receiver.url, token: 'test-token' } });
  });
  after(async () => {
    await api.close();
    await receiver.close();
  });

  test('PUT validates its body (400) and the id (404)', async () => {
    const cases: Array<[string, RegExp]> = [
      ['not json', /not valid JSON/],
      ['', /empty/],
      ['[1, 2]', /must be a JSON object/],
      ['null', /must be a JSON object/],
      ['"a title"', /must be a JSON object/],
      ['{}', /Nothing to change/],
      ['{"title": 42}', /"title" must be a string, got number/],
      ['{"markdown": null}', /"markdown" must be a string, got null/],
      ['{"title": "   "}', /"title" must not be blank/],
      ['{"title": "ok", "author": "me"}', /Unknown field\(s\): author/],
      [JSON.stringify({ markdown: 'x'.repeat(1024 * 1024 + 1) }), /"markdown" is 1048577 bytes; the limit is 1048576 bytes/],
      [JSON.stringify({ title: 'é'.repeat(600 * 1024) }), /"title" is 1228800 bytes/],
    ];
    for (const [body, message] of cases) {
      const res = await put(api, '/posts/v8.0.0', body);
      assert.equal(res.status, 400, `status for ${body.slice(0, 40)}`);
      assert.match(res.body.error, message);
    }
    const missing = await put(api, '/posts/no-such-post', '{"title": "x"}');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error, 'Post not found: no-such-post');
    assert.equal(receiver.received.length, 0, 'rejected edits do not revalidate');
    assert.equal((await getJson(api, '/posts/v8.0.0')).body.title, 'Node.js 8.0.0 (Current)');
  });

  test('PUT changes the post and calls the revalidation webhook', async () => {
    const res = await put(api, '/posts/v10.0.0', JSON.stringify({ title: 'Edited title', markdown: '# Fresh\n\nBrand *new* text.' }));
    assert.equal(res.status, 200);
    assert.equal(res.body.id, 'v10.0.0');
    assert.equal(res.body.title, 'Edited title');
    assert.equal(res.body.revalidated, 200);
    assert.equal(res.body.error, undefined);

    assert.equal(receiver.received.length, 1);
    const call = receiver.received[0]!;
    assert.equal(call.method, 'POST');
    assert.equal(call.url, '/_isr/revalidate');
    assert.equal(call.headers.authorization, 'Bearer test-token');
    assert.match(call.headers['content-type'] ?? '', /^application\/json/);
    assert.deepEqual(JSON.parse(call.body), { paths: ['/blog/v10.0.0', '/blog'], tags: ['posts'] });

    const post = (await getJson(api, '/posts/v10.0.0')).body;
    assert.equal(post.title, 'Edited title');
    assert.equal(post.html, '<h1>Fresh</h1>\n<p>Brand <em>new</em> text.</p>\n');
    const listed = (await getJson(api, '/posts')).body.find((p: { id: string }) => p.id === 'v10.0.0');
    assert.equal(listed.title, 'Edited title');

    // A title-only edit keeps the edited body.
    assert.equal((await put(api, '/posts/v10.0.0', '{"title": "Again"}')).status, 200);
    assert.match((await getJson(api, '/posts/v10.0.0')).body.html, /Brand <em>new<\/em> text/);
  });

  test('a failing webhook still saves the edit and reports revalidated: false', async () => {
    const failing = await startReceiver(503);
    const logs: string[] = [];
    const local = await startContentApi({ ...quiet, revalidate: { url: failing.url, token: 't' }, log: (m) => logs.push(m) });
    try {
      const res = await put(local, '/posts/v8.0.0', '{"title": "Saved anyway"}');
      assert.equal(res.status, 200);
      assert.equal(res.body.revalidated, false);
      assert.match(res.body.error, /answered 503/);
      assert.ok(
        logs.some((line) => /answered 503/.test(line)),
        'the failure is logged',
      );
      assert.equal((await getJson(local, '/posts/v8.0.0')).body.title, 'Saved anyway');
    } finally {
      await local.close();
      await failing.close();
    }

    const unreachable = await startContentApi({ ...quiet, revalidate: { url: 'http://127.0.0.1:9/_isr/revalidate', token: 't' } });
    try {
      const res = await put(unreachable, '/posts/v8.0.0', '{"title": "Still saved"}');
      assert.equal(res.status, 200);
      assert.equal(res.body.revalidated, false);
      assert.match(res.body.error, /revalidation webhook .* failed/);
    } finally {
      await unreachable.close();
    }
  });
});

describe('content API: edits overlay file', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'content-api-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('edits survive a restart of the API', async () => {
    const editsFile = join(dir, 'nested', 'edits.json');
    const first = await startContentApi({ ...quiet, editsFile });
    try {
      assert.equal((await put(first, '/posts/v8.0.0', '{"markdown": "Persisted **body**."}')).status, 200);
      assert.equal((await put(first, '/posts/v8.0.0', '{"title": "Persisted title"}')).status, 200);
    } finally {
      await first.close();
    }
    const saved = JSON.parse(await readFile(editsFile, 'utf8'));
    assert.deepEqual(Object.keys(saved), ['v8.0.0']);
    assert.equal(saved['v8.0.0'].title, 'Persisted title');
    assert.equal(saved['v8.0.0'].markdown, 'Persisted **body**.');
    assert.ok(!Number.isNaN(Date.parse(saved['v8.0.0'].updatedAt)));

    const second = await startContentApi({ ...quiet, editsFile });
    try {
      const post = (await getJson(second, '/posts/v8.0.0')).body;
      assert.equal(post.title, 'Persisted title');
      assert.equal(post.html, '<p>Persisted <strong>body</strong>.</p>\n');
      assert.equal((await getJson(second, '/posts/v10.0.0')).body.title, 'Node.js 10.0.0 (Current)', 'others untouched');
    } finally {
      await second.close();
    }
  });

  test('a corrupt edits file fails the start loudly', async () => {
    const editsFile = join(dir, 'corrupt.json');
    await writeFile(editsFile, '{ not json');
    await assert.rejects(startContentApi({ ...quiet, editsFile }), /Edits file .*corrupt\.json is not valid JSON/);
  });
});

describe('content API: loading', () => {
  test('duplicate post ids across folders fail loudly', async () => {
    const postsDir = await mkdtemp(join(tmpdir(), 'content-api-posts-'));
    try {
      const post = "---\ndate: '2020-01-01T00:00:00.000Z'\ntitle: Twin\nauthor: A\n---\nBody\n";
      await mkdir(join(postsDir, 'one'));
      await mkdir(join(postsDir, 'two'));
      await writeFile(join(postsDir, 'one', 'twin.md'), post);
      await writeFile(join(postsDir, 'two', 'twin.mdx'), post);
      await assert.rejects(
        startContentApi({ ...quiet, postsDir }),
        /Duplicate post id "twin": one\/twin\.md and two\/twin\.mdx|Duplicate post id "twin": two\/twin\.mdx and one\/twin\.md/,
      );
    } finally {
      await rm(postsDir, { recursive: true, force: true });
    }
  });
});
