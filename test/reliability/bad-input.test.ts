/**
 * "Reliability and security": bad input never makes things worse. Every malformed, hostile or odd
 * request gets a clear 4xx (never a 5xx or a crash), reads or writes nothing outside the site's
 * cache folder, and leaves the cache as it was (no poisoned entry). Runs against the real server
 * (fast path in front of node:http), with raw sockets where fetch would normalise the input.
 */

import assert from 'node:assert/strict';
import { readdir, stat, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { parsePath } from '../../src/http/paths.ts';
import { type FixtureServer, request as fetchRequest, startFixtureServer, TOKEN } from '../helpers/server.ts';

let f: FixtureServer;
/** The temp folder holding the site folder (`<parent>/site`): a marker file sits beside the site. */
let parent: string;
const MARKER = 'MARKER-outside-the-cache-5d1f0c';
/** Every response body seen by this file, for the secrets check at the end. */
const bodies: string[] = [];

before(async () => {
  f = await startFixtureServer();
  parent = path.dirname(f.dir);
  await writeFile(path.join(parent, 'secret.txt'), MARKER);
  await writeFile(path.join(f.dir, 'secret.txt'), MARKER);
});
after(async () => {
  await f.close();
});

async function request(target: string, init: RequestInit = {}) {
  const response = await fetchRequest(f, target, init);
  bodies.push(response.text);
  return response;
}

interface RawResponse {
  /** 0 when the connection closed without a response. */
  status: number;
  headers: Map<string, string>;
  body: Buffer;
}

/**
 * Writes `head` (a request head without its final empty line; latin1 unless a Buffer) and `body`
 * to a new connection and reads one response (`headOnly`: the answer to a HEAD, no body). The
 * bytes go out exactly as given: nothing is normalised.
 */
function raw(head: string | Buffer, options: { body?: Buffer; headOnly?: boolean } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(f.server.port, '127.0.0.1');
    let buffer = Buffer.alloc(0);
    let done = false;
    const finish = (response: RawResponse) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      bodies.push(response.body.toString('utf8'));
      resolve(response);
    };
    const timer = setTimeout(() => {
      done = true;
      socket.destroy();
      reject(new Error(`no complete response within 5 s; got: ${buffer.toString('latin1').slice(0, 200)}`));
    }, 5_000);
    const parse = (closed: boolean) => {
      const end = buffer.indexOf('\r\n\r\n');
      if (end === -1) {
        if (closed) finish({ status: 0, headers: new Map(), body: buffer });
        return;
      }
      const [statusLine, ...lines] = buffer.subarray(0, end).toString('latin1').split('\r\n');
      const headers = new Map(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      const status = Number(statusLine!.split(' ')[1]);
      const rest = buffer.subarray(end + 4);
      if (options.headOnly || status === 304 || status === 204) return finish({ status, headers, body: Buffer.alloc(0) });
      if (headers.get('transfer-encoding') === 'chunked') {
        const chunks: Buffer[] = [];
        let at = 0;
        for (;;) {
          const lineEnd = rest.indexOf('\r\n', at);
          if (lineEnd === -1) return closed ? finish({ status, headers, body: Buffer.concat(chunks) }) : undefined;
          const size = parseInt(rest.subarray(at, lineEnd).toString('latin1'), 16);
          if (size === 0) return finish({ status, headers, body: Buffer.concat(chunks) });
          if (rest.length < lineEnd + 2 + size + 2) return closed ? finish({ status, headers, body: Buffer.concat(chunks) }) : undefined;
          chunks.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
          at = lineEnd + 2 + size + 2;
        }
      }
      const length = headers.get('content-length');
      if (length !== undefined && rest.length >= Number(length)) return finish({ status, headers, body: rest.subarray(0, Number(length)) });
      if (closed) finish({ status, headers, body: rest });
    };
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      parse(false);
    });
    socket.on('close', () => parse(true));
    // A server that answers before reading the whole body (413) may reset the connection.
    socket.on('error', () => parse(true));
    socket.on('connect', () => {
      const bytes = typeof head === 'string' ? Buffer.from(`${head}\r\n\r\n`, 'latin1') : Buffer.concat([head, Buffer.from('\r\n\r\n')]);
      socket.write(options.body === undefined ? bytes : Buffer.concat([bytes, options.body]));
    });
  });
}

/** A GET of `target` exactly as written, with a normal Host. */
const rawGet = (target: string, extra = '') => raw(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1${extra}`);

/** Every file below `dir` with its size and modification time, except those below `skip`. */
async function snapshot(dir: string, skip?: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const file = path.join(entry.parentPath, entry.name);
    if (skip !== undefined && (file === skip || file.startsWith(skip + path.sep))) continue;
    if (!entry.isFile()) continue;
    const info = await stat(file).catch(() => undefined); // a temp file renamed meanwhile
    if (info !== undefined) files.set(path.relative(dir, file), `${info.size}@${info.mtimeMs}`);
  }
  return files;
}

/** The cache folder's files once the writes of earlier requests have landed (two snapshots alike, 50 ms apart). */
async function settledCache(): Promise<Map<string, string>> {
  const dir = path.join(f.dir, '.isr', 'cache');
  let last = await snapshot(dir);
  for (let i = 0; i < 40; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const next = await snapshot(dir);
    if ([...next].every(([file]) => !file.endsWith('.tmp')) && JSON.stringify([...next].sort()) === JSON.stringify([...last].sort()))
      return next;
    last = next;
  }
  throw new Error('the cache folder kept changing for 2 s');
}

const assert4xx = (status: number, what: string) => assert.ok(status >= 400 && status < 500, `${what}: expected a 4xx, got ${status}`);

describe('path traversal', () => {
  const targets = [
    '/../secret.txt',
    '/../../secret.txt',
    '/../site/secret.txt',
    '/%2e%2e%2fsecret.txt',
    '/%2e%2e/secret.txt',
    '/%2e%2e/%2e%2e/secret.txt',
    '/..%2fsecret.txt',
    '/..%2f..%2fsecret.txt',
    '/%252e%252e%252fsecret.txt',
    '/%252e%252e/secret.txt',
    '/..\\secret.txt',
    '/..\\..\\secret.txt',
    '/..%5csecret.txt',
    '/%5c..%5csecret.txt',
    '/secret.txt%00',
    '/%00',
    '/%00/../secret.txt',
    '/items/%00',
    '/%2E%2E/secret.txt',
    '/%2E%2e%2Fsecret.txt',
    '/%2e%2E%5Csecret.txt',
    '/items/..%2f..%2fsecret.txt',
    '/items/%2e%2e%2f%2e%2e%2fsecret.txt',
    '/docs/a/%2e%2e%2f%2e%2e%2f%2e%2e%2fsecret.txt',
    '/opt/..%5c..%5csecret.txt',
    '/opt/%2e%2e%2f%2e%2e%2fsite%2fsecret.txt',
    '/.isr/cache',
    '/.isr/build/manifest.json',
    '/api.ts',
    '/app/page.tsx',
    '/secret.txt',
    '/%2fsecret.txt',
    '//secret.txt',
    '/./../secret.txt',
    '/..;/secret.txt',
    '/.%2e/secret.txt',
    '/%2e./secret.txt',
    '/%u002e%u002e/secret.txt',
    '/%c0%ae%c0%ae/secret.txt',
  ];

  test(`${targets.length} traversal targets, each raw over a socket and through fetch: a 4xx, the marker beside the site never served, no file written outside .isr/`, async () => {
    const outsideBefore = await snapshot(parent, path.join(f.dir, '.isr'));
    for (const target of targets) {
      const viaSocket = await rawGet(target);
      assert4xx(viaSocket.status, `raw ${target}`);
      assert.ok(!viaSocket.body.toString('utf8').includes(MARKER), `raw ${target} served the marker`);
      const viaHead = await raw(`HEAD ${target} HTTP/1.1\r\nHost: 127.0.0.1`, { headOnly: true });
      assert4xx(viaHead.status, `HEAD ${target}`);
      const viaFetch = await request(target);
      assert4xx(viaFetch.status, `fetch ${target}`);
      assert.ok(!viaFetch.text.includes(MARKER), `fetch ${target} served the marker`);
    }
    assert.deepEqual(await snapshot(parent, path.join(f.dir, '.isr')), outsideBefore, 'no file appeared or changed outside <site>/.isr/');
  });

  test('the refusals are the documented ones: 400 for NUL, backslash, encoded "/" and invalid escapes; 404 where the URL parser resolves the dots', async () => {
    assert.equal((await rawGet('/%2e%2e%2fsecret.txt')).status, 400);
    assert.equal((await rawGet('/..%5csecret.txt')).status, 400);
    assert.equal((await rawGet('/secret.txt%00')).status, 400);
    assert.equal((await rawGet('/%c0%ae%c0%ae/secret.txt')).status, 400);
    // `..` and `%2e%2e` segments are resolved by the URL parser, and cannot climb above `/`.
    assert.equal((await rawGet('/../../secret.txt')).status, 404);
    assert.equal((await rawGet('/%2E%2E/secret.txt')).status, 404);
  });

  test('percent-encoded dots inside a page path resolve like the plain path and create no entry of their own', async () => {
    const plain = await rawGet('/items/1');
    const files = await settledCache();
    const dotted = await rawGet('/items/x/%2e%2e/1');
    assert.equal(dotted.status, 200);
    assert.deepEqual(dotted.body, plain.body);
    assert.deepEqual(await settledCache(), files);
  });
});

describe('malformed requests', () => {
  test('a path over 2,048 characters: 414, over the fast path and node:http alike', async () => {
    assert.equal((await rawGet(`/${'a'.repeat(3000)}`)).status, 414);
    assert.equal((await rawGet(`/items/${'%61'.repeat(1000)}`)).status, 414);
    assert.equal((await raw(`GET /${'a'.repeat(3000)} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close`)).status, 414);
    assert.equal((await rawGet(`/${'a'.repeat(2047)}`)).status, 404, 'a path of exactly 2,048 characters is accepted');
  });

  test("headers over Node's limit (16 KiB): 431", async () => {
    assert.equal((await rawGet('/data', `\r\nX-Big: ${'b'.repeat(20_000)}`)).status, 431);
    const many = Array.from({ length: 400 }, (_, i) => `\r\nX-H${i}: ${'v'.repeat(60)}`).join('');
    assert.equal((await rawGet('/data', many)).status, 431);
    assert.equal((await rawGet('/data')).status, 200, 'the server still answers');
  });

  test('invalid UTF-8 and invalid escapes in the path: 400; raw bytes and control characters: a 4xx', async () => {
    for (const target of ['/%ff%fe', '/items/%ff', '/docs/a/%c3', '/opt/%e2%82', '/%', '/%4', '/%zz', '/opt/%ed%a0%80']) {
      assert.equal((await rawGet(target)).status, 400, target);
    }
    for (const bytes of [[0xff, 0xfe], [0xc3, 0xa9], [0x00], [0x7f], [0x09]]) {
      const head = Buffer.concat([Buffer.from('GET /opt/'), Buffer.from(bytes), Buffer.from(' HTTP/1.1\r\nHost: 127.0.0.1')]);
      const response = await raw(head);
      assert.ok(response.status < 500, `raw bytes ${bytes}: ${response.status}`);
      assert.ok(response.status !== 0, `raw bytes ${bytes}: no answer`);
    }
  });

  test('unknown methods: FOO is refused by the HTTP parser (400), CONNECT 405, PROPFIND and others 405 with Allow, on a page and a route handler', async () => {
    assert.equal((await raw('FOO /data HTTP/1.1\r\nHost: 127.0.0.1')).status, 400);
    for (const method of ['PROPFIND', 'DELETE', 'PUT', 'PATCH', 'OPTIONS', 'POST']) {
      const page = await raw(`${method} /data HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0`);
      assert.equal(page.status, 405, `${method} /data`);
      assert.equal(page.headers.get('allow'), 'GET, HEAD');
      const route = await raw(`${method} /api/static HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0`);
      assert.equal(route.status, 405, `${method} /api/static`);
      assert.match(route.headers.get('allow') ?? '', /\bGET\b/);
      assert.doesNotMatch(route.headers.get('allow') ?? '', new RegExp(`\\b${method}\\b`));
    }
    // Methods node:http or the Fetch API refuse, and one it passes to a `connect` listener.
    for (const method of ['TRACE', 'TRACK', 'get', 'CONNECT']) {
      const target = method === 'CONNECT' ? '127.0.0.1:80' : '/data';
      const response = await raw(`${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1`);
      assert4xx(response.status, method);
    }
    for (const method of ['M-SEARCH', 'QUERY', 'PURGE', 'LINK']) {
      const response = await raw(`${method} /data HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0`);
      assert.equal(response.status, 405, method);
    }
    // The asterisk-form target is for OPTIONS only (RFC 9112 §3.2.4).
    assert.equal((await raw('GET * HTTP/1.1\r\nHost: 127.0.0.1')).status, 400);
    assert.equal((await raw('HEAD * HTTP/1.1\r\nHost: 127.0.0.1')).status, 400);
    assert4xx((await raw('OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0')).status, 'OPTIONS *');
    const via = await request('/data', { method: 'PROPFIND' });
    assert.equal(via.status, 405);
    assert.equal((await request('/data')).headers.get('x-isr-cache'), 'HIT', 'the page is untouched');
  });

  test('HEAD: headers only, from the same entry as GET (same ETag, the content API called once)', async () => {
    f.api.items.set('head-1', 'head one');
    const head = await raw('HEAD /items/head-1 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close', {});
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0, 'no body after a HEAD');
    assert.equal(head.headers.get('x-isr-cache'), 'MISS');
    const get = await rawGet('/items/head-1');
    assert.equal(get.status, 200);
    assert.equal(get.headers.get('x-isr-cache'), 'HIT');
    assert.equal(get.headers.get('etag'), head.headers.get('etag'));
    assert.equal(head.headers.get('content-length'), String(get.body.length));
    const again = await raw('HEAD /items/head-1 HTTP/1.1\r\nHost: 127.0.0.1', { headOnly: true });
    assert.equal(again.headers.get('etag'), head.headers.get('etag'));
    assert.equal(f.api.callsFor('head-1'), 1);
  });
});

describe('query strings', () => {
  test('queries on a cached page create no entry and never change what a plain request gets', async () => {
    f.api.items.set('q-1', 'query one');
    const first = await rawGet('/items/q-1?first=1');
    assert.equal(first.status, 200);
    const files = await settledCache();
    const queries = ['?x=1', '?x=2&y=3', '?', '?&&', '?x', '?x=%ff', '?x=%00', '?__proto__=1', '?a=b#frag', `?q=${'z'.repeat(1500)}`];
    const random = fc.sample(fc.string({ unit: 'binary-ascii', maxLength: 30 }), { numRuns: 60, seed: 42 });
    for (const query of [...queries, ...random.map((s) => `?${encodeURIComponent(s)}=${encodeURI(s).replace(/#/g, '%23')}`)]) {
      const response = await rawGet(`/items/q-1${query}`);
      assert.equal(response.status, 200, query);
      assert.equal(response.headers.get('etag'), first.headers.get('etag'), query);
      assert.deepEqual(response.body, first.body, query);
    }
    const plain = await rawGet('/items/q-1');
    assert.deepEqual(plain.body, first.body);
    assert.equal(plain.headers.get('x-isr-cache'), 'HIT');
    assert.equal(f.api.callsFor('q-1'), 1);
    assert.deepEqual(await settledCache(), files, 'no new entry for any query');
  });

  test('a page that reads searchParams is dynamic: rendered per request, never stored', async () => {
    const files = await settledCache();
    const a = await rawGet('/search?q=abc');
    const b = await rawGet('/search?q=%3Cscript%3E');
    const plain = await rawGet('/search');
    assert.match(a.body.toString(), /q=abc/);
    assert.match(b.body.toString(), /q=&lt;script&gt;/);
    assert.match(plain.body.toString(), /q=<\/p>/, 'a plain request is not served an earlier query');
    for (const response of [a, b, plain]) {
      assert.equal(response.status, 200);
      assert.match(response.headers.get('cache-control') ?? '', /no-store/);
      assert.equal(response.headers.get('x-isr-cache'), undefined);
    }
    assert.deepEqual(await settledCache(), files, '/search is never stored');
  });
});

describe('odd Host headers', () => {
  // [name, Host value (undefined: no Host line), valid per RFC 9110 §7.2]
  const hosts: [string, Buffer | string | undefined, boolean][] = [
    ['empty', '', true],
    ['with a port', 'evil.example:8080', true],
    ['IPv6 literal', '[::1]:3000', true],
    ['sub-delims', "evil!$&'()*+,;=.example", true],
    ['very long', 'h'.repeat(8000), false],
    ['with a path', 'evil.example/../../secret.txt', false],
    ['bad IPv6', '[::1', false],
    ['non-ASCII', Buffer.from('évil.例え.jp', 'utf8'), false],
    ['with a scheme', 'http://evil.example', false],
    ['with userinfo', 'user:pass@evil.example', false],
    ['two of them', 'a.example\r\nHost: b.example', false],
    ['none', undefined, false],
  ];

  test('an invalid, repeated or missing Host is a 400 (RFC 9112 §3.2); a valid odd one gets byte for byte the page a normal Host gets', async () => {
    const reference = await rawGet('/docs/host-ref');
    assert.equal(reference.status, 200);
    const template = (body: Buffer, slug: string) => body.toString('utf8').replaceAll(slug, 'SLUG');
    for (const [index, [name, host, valid]] of hosts.entries()) {
      const target = `/docs/host-${index}`;
      const head =
        host === undefined
          ? Buffer.from(`GET ${target} HTTP/1.1`)
          : Buffer.concat([Buffer.from(`GET ${target} HTTP/1.1\r\nHost: `), Buffer.from(host)]);
      const odd = await raw(head);
      assert.equal(odd.status, valid ? 200 : 400, name);
      for (const value of odd.headers.values()) assert.ok(!value.includes('evil'), `${name}: a header echoes the Host`);
      const normal = await rawGet(target);
      assert.equal(normal.status, 200, name);
      if (odd.status === 200) assert.deepEqual(odd.body, normal.body, `${name}: odd and normal Host bytes`);
      assert.equal(template(normal.body, `host-${index}`), template(reference.body, 'host-ref'), `${name}: no Host-dependent content`);
      // A redirect built under an odd Host points to this site's path, not the Host.
      const redirect = await raw(
        host === undefined
          ? Buffer.from('GET /docs/a/b/ HTTP/1.1')
          : Buffer.concat([Buffer.from('GET /docs/a/b/ HTTP/1.1\r\nHost: '), Buffer.from(host)]),
      );
      assert.equal(redirect.status, valid ? 308 : 400, `${name}: redirect`);
      if (redirect.status === 308) assert.equal(redirect.headers.get('location'), '/docs/a/b');
    }
    const route = await raw('GET /api/static HTTP/1.1\r\nHost: evil.example');
    assert.equal(route.status, 200);
    assert.deepEqual(route.body, (await rawGet('/api/static')).body);
  });
});

describe('the revalidation endpoint under bad input', () => {
  const body = JSON.stringify({ paths: ['/forever'], tags: ['forever', 'items'] });
  const post = (payload: string | Uint8Array<ArrayBuffer>, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }) =>
    request('/_isr/revalidate', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: payload });
  /** The pages the requests above would invalidate are still HITs, and were not regenerated. */
  async function untouched(what: string) {
    const calls = f.api.callsFor('forever');
    const page = await request('/forever');
    assert.equal(page.headers.get('x-isr-cache'), 'HIT', `${what}: /forever was invalidated`);
    assert.equal((await request('/items/1')).headers.get('x-isr-cache'), 'HIT', `${what}: /items/1 was invalidated`);
    assert.equal(f.api.callsFor('forever'), calls);
  }

  test('bad tokens: 401, and nothing invalidated', async () => {
    await request('/forever');
    await request('/items/1');
    const bad: (string | undefined)[] = [
      undefined,
      '',
      'Bearer',
      'Bearer ',
      'Bearer wrong-token-0123456789',
      `Bearer ${TOKEN.slice(0, 8)}`,
      `Bearer ${TOKEN.slice(0, -1)}`,
      `Bearer ${TOKEN}x`,
      `Bearer ${TOKEN}${TOKEN}`,
      `Bearer ${TOKEN.toUpperCase()}`,
      `Bearer ${TOKEN.replace('t', 'T')}`,
      `Basic ${TOKEN}`,
      `Basic ${Buffer.from(`user:${TOKEN.slice(1)}`).toString('base64')}`,
      TOKEN.slice(1),
      `Bearer ${'x'.repeat(10_000)}`,
    ];
    for (const authorization of bad) {
      const response = await post(body, authorization === undefined ? {} : { authorization });
      assert.equal(response.status, 401, `authorization ${JSON.stringify(authorization?.slice(0, 40))}`);
      assert.equal(response.headers.get('www-authenticate'), 'Bearer');
    }
    // Twice the header, one of them right: node:http joins them, which is no valid token.
    const twice = await raw(
      `POST /_isr/revalidate HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer nope\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: ${body.length}\r\nConnection: close`,
      { body: Buffer.from(body) },
    );
    assert.equal(twice.status, 401);
    await untouched('bad tokens');
  });

  test('oversized bodies: 413 (declared or streamed); malformed JSON and wrong shapes: 400; nothing invalidated', async () => {
    const big = Buffer.from(`{"tags":["${'a'.repeat(1024 * 1024)}"]}`);
    assert.equal((await post(new Uint8Array(big))).status, 413);
    const chunk = (data: Buffer) => Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n')]);
    const streamed = await raw(
      `POST /_isr/revalidate HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\nTransfer-Encoding: chunked\r\nConnection: close`,
      { body: Buffer.concat([chunk(big.subarray(0, 600_000)), chunk(big.subarray(600_000)), Buffer.from('0\r\n\r\n')]) },
    );
    assert.equal(streamed.status, 413);
    const lying = await raw(
      `POST /_isr/revalidate HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: 99999999999\r\nConnection: close`,
      { body: Buffer.from(body) },
    );
    assert.equal(lying.status, 413);
    const malformed = [
      '',
      '{',
      '{"paths": ["/forever"]',
      'null',
      'nul',
      '"/forever"',
      '[]',
      '[{"paths":["/forever"]}]',
      '{"paths":["/forever"]}x',
    ];
    const shapes = [
      '{}',
      '{"paths":[]}',
      '{"paths":"/forever"}',
      '{"tags":"forever"}',
      '{"paths":[1]}',
      '{"paths":[null]}',
      '{"paths":[["/forever"]]}',
      '{"paths":[{"path":1}]}',
      '{"paths":[{"path":"/forever","type":"nope"}]}',
      '{"paths":["/forever"],"tags":[1]}',
      '{"tags":[""]}',
      `{"tags":["${'t'.repeat(300)}"]}`,
      '{"tags":["_N_T_/forever"]}',
      `{"paths":["/${'p'.repeat(3000)}"]}`,
      '{"paths":["/forever"],"extra":1}',
      '{"__proto__":{"paths":["/forever"]}}',
      '{"paths":{"length":1,"0":"/forever"}}',
    ];
    for (const payload of [...malformed, ...shapes]) {
      const response = await post(payload);
      assert.equal(response.status, 400, payload.slice(0, 60));
      assert.match(JSON.parse(response.text).error, /\S/);
    }
    const notUtf8 = await post(new Uint8Array([0x7b, 0x22, 0x74, 0x61, 0x67, 0x73, 0x22, 0x3a, 0x5b, 0x22, 0xff, 0x22, 0x5d, 0x7d]));
    assert.equal(notUtf8.status, 400);
    await untouched('bad bodies');
  });

  test('a body cut short (the client closes or resets mid-body): a 4xx or a closed connection, never an unhandled error', async () => {
    const errors = () => f.logger.lines.filter((line) => line.startsWith('error')).length;
    const before = errors();
    // The revalidation endpoint, and a route handler that reads its body (`await request.json()`).
    for (const target of ['/_isr/revalidate', '/api/echo']) {
      const head = `POST ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json`;
      for (const framing of ['Content-Length: 100', 'Transfer-Encoding: chunked']) {
        const partial = framing.startsWith('Content') ? '{"tags":["forever"' : '20\r\n{"tags":["forever"';
        // Half-closed: node:http answers 400 itself.
        const halfClosed = await new Promise<string>((resolve) => {
          const socket = connect(f.server.port, '127.0.0.1', () => socket.end(`${head}\r\n${framing}\r\n\r\n${partial}`));
          let out = '';
          socket.on('data', (chunk) => (out += chunk.toString('latin1')));
          socket.on('close', () => resolve(out));
          socket.on('error', () => {});
        });
        assert.match(halfClosed, /^HTTP\/1\.1 4\d\d /, `${target} ${framing}`);
        // Reset: nobody to answer; the server must not treat it as its own failure.
        await new Promise<void>((resolve) => {
          const socket = connect(f.server.port, '127.0.0.1', () => {
            socket.write(`${head}\r\n${framing}\r\n\r\n${partial}`);
            setTimeout(() => socket.resetAndDestroy(), 50);
          });
          socket.on('close', () => resolve());
          socket.on('error', () => {});
        });
      }
    }
    const echo = await fetchRequest(f, '/api/echo', {
      method: 'POST',
      body: '{"whole":true}',
      headers: { 'content-type': 'application/json' },
    });
    assert.deepEqual(JSON.parse(echo.text), { echo: { whole: true } }, 'a whole body still reaches the handler');
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(
      errors(),
      before,
      `error lines: ${f.logger.lines
        .filter((line) => line.startsWith('error'))
        .slice(-2)
        .join('\n')}`,
    );
    await untouched('bodies cut short');
  });

  test('at most 10,000 paths and tags in one request (README): 10,001 is a 400, 10,000 unrelated tags a 200', async () => {
    const tooMany = await post(
      JSON.stringify({
        paths: Array.from({ length: 5001 }, (_, i) => `/nowhere/${i}`),
        tags: Array.from({ length: 5000 }, (_, i) => `t${i}`),
      }),
    );
    assert.equal(tooMany.status, 400);
    assert.match(tooMany.text, /at most 10000/);
    const hugeArray = await post(JSON.stringify({ tags: Array.from({ length: 100_000 }, () => 'forever') }));
    assert.equal(hugeArray.status, 400);
    await untouched('too many items');
    const many = await post(JSON.stringify({ tags: Array.from({ length: 10_000 }, (_, i) => `unrelated-${i}`) }));
    assert.equal(many.status, 200);
    await untouched('unrelated tags');
  });

  test('after all of it, every fixture page still answers 200', async () => {
    const pages = [
      '/',
      '/items/1',
      '/items/2',
      '/data',
      '/forever',
      '/mixed',
      '/untagged',
      '/whoami',
      '/cached-fn',
      '/docs/a/b',
      '/opt',
      '/opt/x/y',
      '/strict/a',
      '/strict/b',
      '/strict-dyn/a',
      '/search',
      '/forced-static',
      '/forced-dynamic',
      '/dynamic',
      '/sometimes',
      '/broken',
      '/api/static',
    ];
    for (const page of pages) {
      assert.equal((await request(page)).status, 200, page);
      assert.equal((await rawGet(page)).status, 200, `raw ${page}`);
    }
  });
});

describe('fuzz: arbitrary request paths', () => {
  /** Route words of the fixture (pages that render per request or fail on unknown ids are left out). */
  const words = [
    'items',
    '1',
    '2',
    'docs',
    'a',
    'b',
    'opt',
    'strict',
    'strict-dyn',
    'data',
    'forever',
    'mixed',
    'search',
    'api',
    'static',
    '_isr',
    'revalidate',
    '_next',
    'secret.txt',
    '.isr',
  ];
  const escapes = [
    '%2e',
    '%2E',
    '%2e%2e',
    '%2f',
    '%2F',
    '%5c',
    '%00',
    '%ff',
    '%fe',
    '%c3%a9',
    '%e2%82',
    '%f0%9f%98%80',
    '%',
    '%4',
    '%zz',
    '%25',
    '%252e',
    '%20',
    '%3f',
    '%23',
    '%c0%ae',
  ];
  const segment = fc.oneof(
    fc.constantFrom(...words),
    fc.constantFrom(...escapes),
    fc.constantFrom('.', '..', '...', '', '\\', '..\\', '~', ';', '*', '?', '??x=1', '#', '&'),
    fc.string({ unit: 'binary-ascii', maxLength: 8 }),
    fc.string({ unit: 'grapheme', maxLength: 4 }),
    fc.array(fc.constantFrom(...escapes, ...words, '.', '\\'), { maxLength: 4 }).map((parts) => parts.join('')),
  );
  /**
   * A request target of ASCII only (so the server reads exactly these bytes): characters outside
   * visible ASCII are sent percent-encoded (as UTF-8), invalid escapes as written.
   */
  const target = fc
    .array(segment, { minLength: 1, maxLength: 6 })
    .map((segments) => `/${segments.join('/')}`.replace(/[^\x21-\x7e]/gu, (c) => encodeURIComponent(c)));

  const seed = Number(process.env.FUZZ_SEED ?? 20_261_121);
  const numRuns = Number(process.env.FUZZ_RUNS ?? 300);

  test(`${numRuns} random paths (seed ${seed}): never a 5xx, the server keeps answering, and every 200 is the page at the canonical path`, {
    timeout: 60_000,
  }, async () => {
    let tried = 0;
    let ok = 0;
    await fc.assert(
      fc.asyncProperty(target, async (t) => {
        tried++;
        const response = await rawGet(t);
        assert.ok(response.status !== 0, `no answer for ${t}`);
        assert.ok(response.status < 500, `${t}: ${response.status}`);
        assert.ok(!response.body.toString('utf8').includes(MARKER), `${t} served the marker`);
        if (response.status === 200) {
          ok++;
          const parsed = parsePath(new URL(`http://localhost${t}`).pathname);
          assert.ok(parsed.ok, `${t} answered 200 though its path is refused`);
          const canonical = await rawGet(parsed.pathname);
          assert.equal(canonical.status, 200, `${t} → ${parsed.pathname}`);
          assert.deepEqual(response.body.toString('utf8'), canonical.body.toString('utf8'), `${t} → ${parsed.pathname}`);
        }
        assert.equal((await rawGet('/')).status, 200, `the server stopped answering after ${t}`);
      }),
      { seed, numRuns, endOnFailure: true },
    );
    assert.equal(tried, numRuns);
    console.log(`fuzz: ${tried} paths, ${ok} answered 200, seed ${seed}`);
  });
});

describe('secrets', () => {
  test('the revalidation token never appears in the logs or in any response body', () => {
    assert.ok(bodies.length > 500, `only ${bodies.length} bodies were collected`);
    for (const body of bodies) assert.ok(!body.includes(TOKEN), `a response body holds the token: ${body.slice(0, 200)}`);
    for (const line of f.logger.lines) assert.ok(!line.includes(TOKEN), `a log line holds the token: ${line.slice(0, 200)}`);
  });
});
