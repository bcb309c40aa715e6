/** Pages Router API routes: runApiRoute with real Web Requests and inline modules. */

import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { createMemoryLogger } from '../../src/log.ts';
import {
  type ApiHandler,
  type ApiRequest,
  type ApiRouteInput,
  type ApiRouteModule,
  parseSizeLimit,
  type RevalidateOptions,
  runApiRoute,
} from '../../src/pages/api.ts';

interface RunOptions {
  method?: string;
  url?: string;
  headers?: HeadersInit;
  body?: BodyInit | null;
  params?: ApiRouteInput['params'];
  config?: ApiRouteModule['config'];
  revalidate?: ApiRouteInput['revalidate'];
  module?: ApiRouteModule;
}

async function run(handler: ApiHandler | undefined, options: RunOptions = {}) {
  const logger = createMemoryLogger({ debug: false });
  const url = new URL(options.url ?? '/api/test', 'http://localhost');
  const init: RequestInit & { duplex?: 'half' } = { method: options.method ?? 'GET', headers: options.headers, body: options.body ?? null };
  if (init.body !== null) init.duplex = 'half';
  const response = await runApiRoute({
    request: new Request(url, init),
    pathname: url.pathname,
    pattern: '/api/test',
    params: options.params ?? {},
    module: options.module ?? { default: handler, config: options.config },
    revalidate: options.revalidate ?? (async () => {}),
    logger,
  });
  return { response, logger };
}

/** A handler that answers with JSON of what it saw of `req`. */
const echo: ApiHandler = (req, res) => {
  res.json({
    method: req.method,
    url: req.url,
    headers: req.headers,
    query: req.query,
    cookies: req.cookies,
    body: req.body ?? null,
    bodyType: typeof req.body,
  });
};

async function echoed(options: RunOptions): Promise<Record<string, unknown>> {
  const { response } = await run(echo, options);
  assert.equal(response.status, 200, await response.clone().text());
  return (await response.json()) as Record<string, unknown>;
}

/** A request body that counts the bytes it was asked for and never ends. */
function endlessBody(chunkSize: number): { stream: ReadableStream<Uint8Array>; pulled: () => number } {
  let pulled = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        pulled += chunkSize;
        controller.enqueue(new Uint8Array(chunkSize).fill(97));
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, pulled: () => pulled };
}

const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
};

describe('pages/api: the request', { timeout: 30_000 }, () => {
  test('method, url (path and query as sent), Node-style headers, any method reaches the handler', async () => {
    const headers = new Headers([
      ['X-Multi', 'a'],
      ['x-multi', 'b'],
      ['Set-Cookie', 'a=1'],
      ['set-cookie', 'b=2'],
    ]);
    const seen = await echoed({ method: 'PATCH', url: '/api/test?x=1&y=%20', headers, body: 'p' });
    assert.equal(seen.method, 'PATCH');
    assert.equal(seen.url, '/api/test?x=1&y=%20');
    const h = seen.headers as Record<string, unknown>;
    assert.equal(h['x-multi'], 'a, b');
    assert.deepEqual(h['set-cookie'], ['a=1', 'b=2']);
    assert.ok(!('X-Multi' in h), 'names are lower-case');
    for (const method of ['DELETE', 'OPTIONS', 'PUT']) assert.equal((await echoed({ method })).method, method);
  });

  test('query: search params with repeated keys as arrays, merged with route params, which win', async () => {
    const seen = await echoed({ url: '/api/posts/7?id=x&tag=a&tag=b&q=1', params: { id: '7', slug: ['a', 'b'], missing: undefined } });
    assert.deepEqual(seen.query, { id: '7', tag: ['a', 'b'], q: '1', slug: ['a', 'b'] });
  });

  test('cookies: the Cookie header parsed (quotes dropped, percent-decoded, first of a name kept)', async () => {
    const seen = await echoed({ headers: { cookie: 'a=1; b="two%20words"; a=3; junk; c=%E0' } });
    assert.deepEqual(seen.cookies, { a: '1', b: 'two words', c: '%E0' });
    assert.deepEqual((await echoed({})).cookies, {});
  });

  test('cookies as Next.js reads them with the cookie package: an unterminated quote loses its last character, an empty name is a key', async () => {
    const seen = await echoed({ headers: { cookie: 'a="abc; =x; b=' } });
    assert.deepEqual(seen.cookies, { a: 'ab', '': 'x', b: '' });
  });
});

describe('pages/api: body parsing', { timeout: 30_000 }, () => {
  test('a Content-Type the content-type package cannot parse is read as text/plain, as Next.js parseBody does', async () => {
    for (const type of ['application/json;', 'application/json;charset=utf-8;']) {
      assert.equal((await echoed({ method: 'POST', headers: { 'content-type': type }, body: '{"a":1}' })).body, '{"a":1}', type);
    }
  });

  test('application/json and +json are parsed; an empty JSON body is {}', async () => {
    const json = { a: [1, 2], b: { c: 'd' } };
    assert.deepEqual(
      (await echoed({ method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(json) })).body,
      json,
    );
    assert.deepEqual((await echoed({ method: 'POST', headers: { 'content-type': 'application/ld+json' }, body: '[1]' })).body, [1]);
    assert.deepEqual((await echoed({ method: 'POST', headers: { 'content-type': 'application/vnd.api+json' }, body: '{"x":1}' })).body, {
      x: 1,
    });
    assert.deepEqual((await echoed({ method: 'POST', headers: { 'content-type': 'application/json' }, body: '' })).body, {});
  });

  test('invalid JSON answers 400 "Invalid JSON" in plain text and the handler is not called', async () => {
    let called = false;
    const { response } = await run(
      () => {
        called = true;
      },
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":' },
    );
    assert.equal(response.status, 400);
    assert.equal(await response.text(), 'Invalid JSON');
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
    assert.equal(called, false);
  });

  test('urlencoded forms become objects with repeated keys as arrays', async () => {
    const seen = await echoed({
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'a=1&b=x+y&a=2&c=%C3%A9',
    });
    assert.deepEqual(seen.body, { a: ['1', '2'], b: 'x y', c: 'é' });
  });

  test('other types are a string (decoded with the charset given); GET without a body gives an empty string, or {} when typed JSON', async () => {
    const text = await echoed({ method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'héllo {"not": json}' });
    assert.equal(text.body, 'héllo {"not": json}');
    const untyped = await echoed({ method: 'POST', body: new Uint8Array([104, 105]) });
    assert.equal(untyped.body, 'hi');
    const latin1 = await echoed({
      method: 'POST',
      headers: { 'content-type': 'text/plain; charset=latin1' },
      body: new Uint8Array([0xe9]),
    });
    assert.equal(latin1.body, 'é');
    const get = await echoed({});
    assert.equal(get.body, '');
    assert.equal(get.bodyType, 'string');
    assert.deepEqual((await echoed({ headers: { 'content-type': 'application/json' } })).body, {});
    const { response } = await run(echo, { method: 'POST', headers: { 'content-type': 'text/plain; charset=klingon' }, body: 'x' });
    assert.equal(response.status, 400);
    assert.equal(await response.text(), 'Invalid body');
  });

  test('when the body is parsed, req is an already-consumed stream', async () => {
    const { response } = await run(
      async (req: ApiRequest, res) => {
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        res.send(`${chunks.length} chunks, body ${String(req.body)}`);
      },
      { method: 'POST', body: 'abc' },
    );
    assert.equal(await response.text(), '0 chunks, body abc');
  });

  test('over the default 1mb limit: 413 "Body exceeded 1mb limit", reading no further than the limit', { timeout: 10_000 }, async () => {
    let called = false;
    const handler = () => {
      called = true;
    };
    const limit = 1024 * 1024;
    const endless = endlessBody(64 * 1024);
    const { response } = await run(handler, { method: 'POST', body: endless.stream });
    assert.equal(response.status, 413);
    assert.equal(await response.text(), 'Body exceeded 1mb limit');
    assert.ok(endless.pulled() <= limit + 64 * 1024, `read ${endless.pulled()} bytes`);
    const declared = endlessBody(1024);
    const refused = await run(handler, { method: 'POST', headers: { 'content-length': String(limit + 1) }, body: declared.stream });
    assert.equal(refused.response.status, 413);
    assert.ok(declared.pulled() <= 1024, 'a declared length over the limit is refused before reading');
    const exact = await echoed({ method: 'POST', body: 'x'.repeat(limit) });
    assert.equal((exact.body as string).length, limit, 'exactly the limit is accepted');
    assert.equal(called, false);
  });

  test('config.api.bodyParser.sizeLimit changes the limit (b/kb/mb/gb strings or bytes); an invalid one answers 500', async () => {
    const config = { api: { bodyParser: { sizeLimit: '500kb' } } };
    const fits = await run(echo, { method: 'POST', body: 'x'.repeat(500 * 1024), config });
    assert.equal(fits.response.status, 200);
    const over = await run(echo, { method: 'POST', body: 'x'.repeat(500 * 1024 + 1), config });
    assert.equal(over.response.status, 413);
    assert.equal(await over.response.text(), 'Body exceeded 500kb limit');
    const bytes = await run(echo, { method: 'POST', body: 'x'.repeat(11), config: { api: { bodyParser: { sizeLimit: 10 } } } });
    assert.equal(bytes.response.status, 413);
    assert.deepEqual(
      [parseSizeLimit('1mb'), parseSizeLimit('1.5KB'), parseSizeLimit('2 gb'), parseSizeLimit('7')],
      [1048576, 1536, 2 * 1024 ** 3, 7],
    );
    // Blanks around the number and unit are ignored; what the grammar does not cover is refused, where
    // `bytes` alone would read an integer prefix ('4mib' as 4 bytes, '1e3' as 1 byte).
    assert.deepEqual([parseSizeLimit(' 1mb '), parseSizeLimit('1 MB'), parseSizeLimit('2pb')], [1048576, 1048576, 2 * 1024 ** 5]);
    for (const unreadable of ['4mib', '1e3', 'lots', '-1kb', '']) assert.throws(() => parseSizeLimit(unreadable), TypeError, unreadable);
    const bad = await run(echo, { method: 'POST', body: 'x', config: { api: { bodyParser: { sizeLimit: 'lots' } } } });
    assert.equal(bad.response.status, 500);
    assert.match(bad.logger.lines.join('\n'), /error API route \/api\/test: Invalid bodyParser.sizeLimit "lots"/);
  });

  test('bodyParser: false leaves req.body undefined and req streams the live request body', { timeout: 10_000 }, async () => {
    const client = new TransformStream<Uint8Array, Uint8Array>();
    const writer = client.writable.getWriter();
    const firstSeen = deferred();
    const pending = run(
      async (req: ApiRequest, res) => {
        res.setHeader('x-body-type', typeof req.body);
        const chunks: string[] = [];
        for await (const chunk of req) {
          chunks.push(String(chunk));
          firstSeen.resolve();
        }
        res.send(chunks.join('|'));
      },
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: client.readable, config: { api: { bodyParser: false } } },
    );
    await writer.write(new TextEncoder().encode('{not json'));
    await firstSeen.promise; // the handler read the first chunk while the request is still open
    await writer.write(new TextEncoder().encode(' at all'));
    await writer.close();
    const { response } = await pending;
    assert.equal(response.headers.get('x-body-type'), 'undefined');
    assert.equal(await response.text(), '{not json| at all');
  });
});

describe('pages/api: res helpers', { timeout: 30_000 }, () => {
  test('status().json(): status, JSON content type (unless set), content-length, ETag', async () => {
    const { response } = await run((_req: ApiRequest, res) => res.status(201).json({ ok: true, n: 'é' }));
    assert.equal(response.status, 201);
    assert.equal(response.headers.get('content-type'), 'application/json; charset=utf-8');
    const text = await response.text();
    assert.equal(text, '{"ok":true,"n":"é"}');
    assert.equal(response.headers.get('content-length'), String(Buffer.byteLength(text)));
    assert.match(response.headers.get('etag') ?? '', /^"[\w-]+"$/);
    const custom = await run((_req: ApiRequest, res) => res.setHeader('Content-Type', 'application/problem+json').json({ a: 1 }));
    assert.equal(custom.response.headers.get('content-type'), 'application/problem+json');
  });

  test('send: string as is, Buffer and Uint8Array as octet-stream, objects/numbers/booleans as JSON, null empty', async () => {
    const cases: [unknown, string | null, string][] = [
      ['héllo', null, 'héllo'],
      [Buffer.from('buf'), 'application/octet-stream', 'buf'],
      [new Uint8Array([65, 66]), 'application/octet-stream', 'AB'],
      [{ a: 1 }, 'application/json; charset=utf-8', '{"a":1}'],
      [[1, 'x'], 'application/json; charset=utf-8', '[1,"x"]'],
      [42, 'application/json; charset=utf-8', '42'],
      [false, 'application/json; charset=utf-8', 'false'],
    ];
    for (const [body, type, text] of cases) {
      const { response } = await run((_req: ApiRequest, res) => res.send(body));
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-type'), type, String(body));
      assert.equal(response.headers.get('content-length'), String(Buffer.byteLength(text)), String(body));
      assert.equal(await response.text(), text);
    }
    const typed = await run((_req: ApiRequest, res) => res.setHeader('content-type', 'image/png').send(Buffer.from([1])));
    assert.equal(typed.response.headers.get('content-type'), 'image/png');
    for (const empty of [null, undefined]) {
      const { response } = await run((_req: ApiRequest, res) => res.send(empty));
      assert.equal(response.status, 200);
      assert.equal(await response.text(), '');
    }
  });

  test('send with 204 or 304 drops content headers and the body', async () => {
    for (const status of [204, 304]) {
      const { response } = await run((_req: ApiRequest, res) =>
        res.status(status).setHeader('content-type', 'text/plain').setHeader('x-kept', '1').send('ignored'),
      );
      assert.equal(response.status, status);
      assert.equal(response.body, null);
      assert.equal(response.headers.get('content-type'), null);
      assert.equal(response.headers.get('content-length'), null);
      assert.equal(response.headers.get('x-kept'), '1');
    }
  });

  test('send pipes Node and Web streams (octet-stream unless typed)', async () => {
    const node = await run((_req: ApiRequest, res) => res.send(Readable.from(['a', 'b', 'c'])));
    assert.equal(node.response.headers.get('content-type'), 'application/octet-stream');
    assert.equal(await node.response.text(), 'abc');
    assert.ok(!node.logger.lines.some((l) => l.startsWith('warn')), 'a piped response is not "resolved without sending"');
    const web = await run((_req: ApiRequest, res) => res.setHeader('content-type', 'text/csv').send(new Blob(['x,y\n', '1,2\n']).stream()));
    assert.equal(web.response.headers.get('content-type'), 'text/csv');
    assert.equal(await web.response.text(), 'x,y\n1,2\n');
  });

  test('send: a GET whose If-None-Match matches the ETag answers 304; other methods do not', async () => {
    const handler = (_req: ApiRequest, res: Parameters<ApiHandler>[1]) => res.json({ v: 1 });
    const first = await run(handler);
    const etag = first.response.headers.get('etag')!;
    const again = await run(handler, { headers: { 'if-none-match': etag } });
    assert.equal(again.response.status, 304);
    assert.equal(again.response.body, null);
    assert.equal(again.response.headers.get('etag'), etag);
    const noCache = await run(handler, { headers: { 'if-none-match': etag, 'cache-control': 'no-cache' } });
    assert.equal(noCache.response.status, 200);
    const post = await run(handler, { method: 'POST', headers: { 'if-none-match': etag } });
    assert.equal(post.response.status, 200);
    assert.equal(await post.response.text(), '{"v":1}');
  });

  test('send of a function answers 500', async () => {
    const { response, logger } = await run((_req: ApiRequest, res) => res.send(() => 1));
    assert.equal(response.status, 500);
    assert.match(logger.lines.join('\n'), /res\.send\(\) takes/);
  });

  test('redirect(url) is 307, redirect(status, url) uses the status; location set, URL as body', async () => {
    const plain = await run((_req: ApiRequest, res) => res.redirect('/new'));
    assert.equal(plain.response.status, 307);
    assert.equal(plain.response.headers.get('location'), '/new');
    assert.equal(await plain.response.text(), '/new');
    const moved = await run((_req: ApiRequest, res) => res.redirect(301, 'https://example.com/x'));
    assert.equal(moved.response.status, 301);
    assert.equal(moved.response.headers.get('location'), 'https://example.com/x');
    const bad = await run((_req: ApiRequest, res) => (res.redirect as unknown as (status: number) => void).call(res, 302));
    assert.equal(bad.response.status, 500);
    assert.match(bad.logger.lines.join('\n'), /Invalid redirect arguments/);
  });

  test('writeHead(status, message, headers) and writeHead(status, [flat headers]) send the head at once', async () => {
    const { response } = await run((_req: ApiRequest, res) => {
      res.setHeader('x-before', 'kept');
      res.setHeader('x-replaced', 'old');
      res.writeHead(202, 'Accepted Later', { 'X-Replaced': 'new', 'Content-Type': 'text/plain' });
      assert.equal(res.headersSent, true);
      res.end('done');
    });
    assert.equal(response.status, 202);
    assert.equal(response.statusText, 'Accepted Later');
    assert.equal(response.headers.get('x-before'), 'kept');
    assert.equal(response.headers.get('x-replaced'), 'new');
    assert.equal(await response.text(), 'done');
    const flat = await run((_req: ApiRequest, res) => {
      res.setHeader('x-a', 'old');
      res.writeHead(200, ['x-a', '1', 'x-a', '2', 'x-b', 3]).end();
    });
    assert.equal(flat.response.headers.get('x-a'), '1, 2');
    assert.equal(flat.response.headers.get('x-b'), '3');
    assert.equal(flat.response.statusText, 'OK', "Node's reason phrase by default");
  });

  test('header API: case-insensitive names, values as set, multi-valued headers appended, set-cookie kept apart', async () => {
    const { response } = await run((_req: ApiRequest, res) => {
      res.setHeader('X-Num', 5).setHeader('Set-Cookie', ['a=1; Path=/', 'b=2']).setHeader('x-list', ['p', 'q']);
      assert.equal(res.getHeader('x-num'), 5);
      assert.deepEqual(res.getHeader('SET-COOKIE'), ['a=1; Path=/', 'b=2']);
      assert.equal(res.hasHeader('x-NUM'), true);
      assert.deepEqual(res.getHeaderNames(), ['x-num', 'set-cookie', 'x-list']);
      assert.deepEqual({ ...res.getHeaders() }, { 'x-num': 5, 'set-cookie': ['a=1; Path=/', 'b=2'], 'x-list': ['p', 'q'] });
      res.setHeader('x-gone', 'soon');
      res.removeHeader('X-Gone');
      assert.equal(res.getHeader('x-gone'), undefined);
      res.appendHeader('x-num', '6');
      assert.throws(() => res.setHeader('bad name', 'x'), { code: 'ERR_INVALID_HTTP_TOKEN' });
      assert.throws(() => res.setHeader('x-bad', 'a\r\nb'), { code: 'ERR_INVALID_CHAR' });
      assert.throws(() => res.setHeader('x-bad', undefined as unknown as string), { code: 'ERR_HTTP_INVALID_HEADER_VALUE' });
      res.end();
    });
    assert.equal(response.headers.get('x-num'), '5, 6');
    assert.deepEqual(response.headers.getSetCookie(), ['a=1; Path=/', 'b=2']);
    assert.equal(response.headers.get('x-list'), 'p, q');
    assert.equal(response.headers.get('x-gone'), null);
    assert.equal(response.headers.get('content-length'), '0', 'end() without a body declares length 0, as Node');
  });

  test('after the headers are sent, setHeader, writeHead and removeHeader throw ERR_HTTP_HEADERS_SENT', async () => {
    const errors: unknown[] = [];
    const { response } = await run((_req: ApiRequest, res) => {
      res.write('x');
      for (const change of [
        () => res.setHeader('x-late', '1'),
        () => res.writeHead(500),
        () => res.removeHeader('x'),
        () => res.status(200).json({}),
      ]) {
        try {
          change();
        } catch (error) {
          errors.push(error);
        }
      }
      res.end();
    });
    assert.equal(await response.text(), 'x');
    assert.equal(errors.length, 4);
    for (const error of errors) {
      assert.ok(error instanceof Error);
      assert.equal((error as Error & { code?: string }).code, 'ERR_HTTP_HEADERS_SENT');
    }
    assert.equal(response.headers.get('x-late'), null);
  });

  test('write rejects chunks that are not strings or bytes', async () => {
    const { response } = await run((_req: ApiRequest, res) => {
      assert.throws(() => res.write(42), { code: 'ERR_INVALID_ARG_TYPE' });
      assert.equal(res.headersSent, false, 'a refused write sends nothing');
      res.end('fine');
    });
    assert.equal(await response.text(), 'fine');
  });

  test('revalidate: calls input.revalidate with the path and options, resolving once it is done', async () => {
    const calls: [string, RevalidateOptions][] = [];
    let done = false;
    const revalidate = async (path: string, options: RevalidateOptions) => {
      calls.push([path, options]);
      await new Promise((resolve) => setTimeout(resolve, 5));
      done = true;
    };
    const { response } = await run(
      async (_req: ApiRequest, res) => {
        await res.revalidate('/blog/post-1', { unstable_onlyGenerated: true });
        const afterFirst = done;
        await res.revalidate('/');
        res.json({ revalidated: true, afterFirst });
      },
      { revalidate },
    );
    assert.deepEqual(await response.json(), { revalidated: true, afterFirst: true });
    assert.deepEqual(calls, [
      ['/blog/post-1', { unstable_onlyGenerated: true }],
      ['/', {}],
    ]);
  });

  test('revalidate failure rejects naming the path, the cause kept', async () => {
    const cause = new Error('render exploded');
    let caught: unknown;
    const { response } = await run(
      async (_req: ApiRequest, res) => {
        try {
          await res.revalidate('/blog/post-1');
        } catch (error) {
          caught = error;
        }
        res.status(500).send('Error revalidating');
      },
      {
        revalidate: async () => {
          throw cause;
        },
      },
    );
    assert.equal(response.status, 500);
    assert.ok(caught instanceof Error);
    assert.equal(caught.message, 'Failed to revalidate /blog/post-1: render exploded');
    assert.equal(caught.cause, cause);
  });

  test('revalidate refuses what is not a path (relative, full URL, //host, /\\host) without calling input.revalidate', async () => {
    const calls: string[] = [];
    const messages: string[] = [];
    await run(
      async (_req: ApiRequest, res) => {
        for (const path of ['blog', 'https://x/y', '//x', '/\\x']) {
          await res.revalidate(path).catch((error: unknown) => {
            assert.ok(error instanceof TypeError);
            messages.push(error.message);
          });
        }
        res.end();
      },
      { revalidate: async (path) => void calls.push(path) },
    );
    assert.deepEqual(messages, [
      'Invalid urlPath provided to revalidate(), must be a path e.g. /blog/post-1, received blog',
      'Invalid urlPath provided to revalidate(), must be a path e.g. /blog/post-1, received https://x/y',
      'Invalid urlPath provided to revalidate(), must be a path e.g. /blog/post-1, received //x',
      'Invalid urlPath provided to revalidate(), must be a path e.g. /blog/post-1, received /\\x',
    ]);
    assert.deepEqual(calls, []);
  });

  test('unstable_revalidate is an alias of revalidate', async () => {
    const calls: [string, RevalidateOptions][] = [];
    const { response } = await run(
      async (_req: ApiRequest, res) => {
        await res.unstable_revalidate('/posts/2');
        res.json({ ok: true });
      },
      { revalidate: async (path, options) => void calls.push([path, options]) },
    );
    assert.equal(response.status, 200);
    assert.deepEqual(calls, [['/posts/2', {}]]);
  });

  test('setDraftMode, setPreviewData and clearPreviewData throw: no preview mode in isr', async () => {
    const messages: string[] = [];
    await run((_req: ApiRequest, res) => {
      for (const call of [() => res.setDraftMode({ enable: true }), () => res.setPreviewData({}), () => res.clearPreviewData()]) {
        try {
          call();
        } catch (error) {
          messages.push((error as Error).message);
        }
      }
      res.end();
    });
    assert.equal(messages.length, 3);
    for (const message of messages) assert.match(message, /not supported by isr/);
  });
});

describe('pages/api: the Web response', { timeout: 30_000 }, () => {
  test('the response resolves at the first write and the body streams each write', { timeout: 10_000 }, async () => {
    const gate = deferred();
    let ended = false;
    const endCallback = deferred();
    const { response } = await run(async (_req: ApiRequest, res) => {
      res.setHeader('content-type', 'text/event-stream');
      res.write('one\n');
      await gate.promise;
      res.write('two\n');
      res.end('three\n', () => {
        ended = true;
        endCallback.resolve();
      });
    });
    assert.equal(response.headers.get('content-type'), 'text/event-stream');
    assert.equal(response.headers.get('content-length'), null);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    assert.equal(decoder.decode((await reader.read()).value), 'one\n');
    assert.equal(ended, false, 'the response was delivered before end');
    gate.resolve();
    let rest = '';
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += decoder.decode(chunk.value);
    assert.equal(rest, 'two\nthree\n');
    await endCallback.promise;
  });

  test('flushHeaders sends the head before any body', { timeout: 10_000 }, async () => {
    const gate = deferred();
    const { response } = await run(async (_req: ApiRequest, res) => {
      res.status(200).setHeader('x-early', 'yes');
      res.flushHeaders();
      await gate.promise;
      res.end('later');
    });
    assert.equal(response.headers.get('x-early'), 'yes');
    gate.resolve();
    assert.equal(await response.text(), 'later');
  });

  test('backpressure: writes wait for the reader once about 64 KiB are buffered', { timeout: 10_000 }, async () => {
    const chunk = Buffer.alloc(16 * 1024, 120);
    let written = 0;
    const finished = deferred();
    const { response } = await run((_req: ApiRequest, res) => {
      const writeMore = (): void => {
        while (written < 64) {
          written++;
          if (!res.write(chunk)) {
            res.once('drain', writeMore);
            return;
          }
        }
        res.end(() => finished.resolve());
      };
      writeMore();
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(written < 16, `${written} chunks of 16 KiB written before anything was read`);
    let total = 0;
    for await (const part of response.body as unknown as AsyncIterable<Uint8Array>) total += part.byteLength;
    await finished.promise;
    assert.equal(total, 64 * chunk.byteLength);
  });

  test('HEAD answers the headers with a null body; the writes are discarded', async () => {
    const { response } = await run((_req: ApiRequest, res) => res.send('hello'), { method: 'HEAD' });
    assert.equal(response.status, 200);
    assert.equal(response.body, null);
    assert.equal(response.headers.get('content-length'), '5');
  });

  test('a reader that cancels the body destroys res', { timeout: 10_000 }, async () => {
    const closed = deferred();
    const { response } = await run((_req: ApiRequest, res) => {
      res.on('close', () => closed.resolve());
      res.write('first');
    });
    await response.body!.cancel();
    await closed.promise;
  });

  test('statuses a Web Response cannot carry answer 500', async () => {
    for (const status of [103, 600, 42]) {
      const { response, logger } = await run((_req: ApiRequest, res) => res.status(status).end());
      assert.equal(response.status, 500);
      assert.match(logger.lines.join('\n'), /Invalid status code/);
    }
  });
});

describe('pages/api: lifecycle and failures', { timeout: 30_000 }, () => {
  test('a handler that throws before sending answers 500 "Internal Server Error" without the message, and it is logged', async () => {
    for (const handler of [
      () => {
        throw new Error('secret database password');
      },
      async (_req: ApiRequest, res: Parameters<ApiHandler>[1]) => {
        res.setHeader('content-type', 'application/json');
        await Promise.resolve();
        throw new Error('secret database password');
      },
    ]) {
      const { response, logger } = await run(handler, { url: '/api/fails' });
      assert.equal(response.status, 500);
      assert.equal(response.headers.get('content-type'), 'text/plain; charset=utf-8');
      const text = await response.text();
      assert.equal(text, 'Internal Server Error');
      assert.ok(!text.includes('secret') && !text.includes('at '));
      const errors = logger.lines.filter((l) => l.startsWith('error'));
      assert.equal(errors.length, 1);
      assert.match(errors[0]!, /^error API route \/api\/fails failed :: Error: secret database password/);
    }
  });

  test('a handler that throws after sending headers aborts the body (logged once)', { timeout: 10_000 }, async () => {
    const gate = deferred();
    const { response, logger } = await run(async (_req: ApiRequest, res) => {
      res.write('partial');
      await gate.promise;
      throw new Error('mid-stream');
    });
    assert.equal(response.status, 200);
    const reader = response.body!.getReader();
    assert.equal(new TextDecoder().decode((await reader.read()).value), 'partial');
    gate.resolve();
    await assert.rejects(reader.read(), /mid-stream/);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(logger.lines.filter((l) => l.startsWith('error')).length, 1);
  });

  test('a handler that throws after ending keeps the complete response, even what is still buffered (logged)', async () => {
    const { response, logger } = await run((_req: ApiRequest, res) => {
      res.write('all of it: ');
      res.end(Buffer.alloc(256 * 1024, 120));
      throw new Error('afterwards');
    });
    assert.equal(await response.text(), `all of it: ${'x'.repeat(256 * 1024)}`);
    assert.match(logger.lines.join('\n'), /API route \/api\/test failed :: Error: afterwards/);
  });

  test('resolving without a response warns (Next.js text) and a later res.end still answers', { timeout: 10_000 }, async () => {
    const { response, logger } = await run((_req: ApiRequest, res) => {
      setTimeout(() => res.status(202).end('eventually'), 20);
    });
    assert.equal(response.status, 202);
    assert.equal(await response.text(), 'eventually');
    assert.deepEqual(logger.lines, ['warn API resolved without sending a response for /api/test, this may result in stalled requests.']);
    const external = await run(
      (_req: ApiRequest, res) => {
        setTimeout(() => res.end(), 5);
      },
      { config: { api: { externalResolver: true } } },
    );
    assert.equal(external.response.status, 200);
    assert.deepEqual(external.logger.lines, []);
  });

  test('a missing or non-function default export answers 500 and names the route', async () => {
    for (const module of [{}, { default: { not: 'a function' } }] as ApiRouteModule[]) {
      const { response, logger } = await run(undefined, { module });
      assert.equal(response.status, 500);
      assert.equal(await response.text(), 'Internal Server Error');
      assert.match(logger.lines.join('\n'), /error API route \/api\/test has no default export function/);
    }
  });

  test('a handler that returns a Web Response answers 500, logged', async () => {
    const { response, logger } = await run(() => new Response('edge style'));
    assert.equal(response.status, 500);
    assert.match(logger.lines.join('\n'), /returned a Response object/);
  });

  test('res destroyed before its headers answers 500, logged', async () => {
    const { response, logger } = await run((_req: ApiRequest, res) => {
      res.destroy();
    });
    assert.equal(response.status, 500);
    assert.match(logger.lines.join('\n'), /destroyed before its headers were sent/);
  });
});

describe('Edge API routes (config.runtime = edge)', () => {
  test("the route's params are in the request's query, winning over a search param of the same name, as Next.js passes them", async () => {
    const module: ApiRouteModule = {
      config: { runtime: 'edge' },
      default: async (request: Request) => {
        const { searchParams } = new URL(request.url);
        return Response.json({
          name: searchParams.get('name'),
          slug: searchParams.getAll('slug'),
          q: searchParams.get('q'),
          body: await request.text(),
        });
      },
    };
    const { response } = await run(undefined, {
      url: '/api/hello/world?name=spoofed&q=1',
      method: 'POST',
      body: 'payload',
      params: { name: 'world', slug: ['a', 'b'], optional: undefined },
      module,
    });
    assert.equal(response.status, 200, await response.clone().text());
    assert.deepEqual(await response.json(), { name: 'world', slug: ['a', 'b'], q: '1', body: 'payload' });
  });
});
