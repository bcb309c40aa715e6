/** The TCP front and fast path of `isr start`: the strict request grammar, byte-exact answers from memory, keep-alive and pipelining, and every request it hands to node:http. */

import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/config.ts';
import { parseSimpleRequest, responseCache } from '../../src/serve/fast-path.ts';
import { createFrontServer, READ_AHEAD_BYTES } from '../../src/serve/front.ts';
import { toNodeListener } from '../../src/serve/node.ts';
import { storedBodyOf } from '../../src/serve/stored-body.ts';
import type { RequestHandler } from '../../src/server/handler.ts';
import { type FixtureServer, pageText, startFixtureServer } from '../helpers/server.ts';

/** One HTTP/1.1 response read off a raw socket. */
interface RawResponse {
  status: number;
  /** Header lines as sent (name case kept). */
  lines: string[];
  headers: Map<string, string>;
  body: string;
}

/**
 * Writes `parts` to a new connection (each part a separate write, `gapMs` apart), then reads
 * `count` responses (`headOnly[i]`: the i-th answers a HEAD, so it has no body). Resolves with the
 * responses and whether the server closed the connection afterwards.
 */
function exchange(url: string, parts: string[], count: number, options: { gapMs?: number; headOnly?: boolean[] } = {}) {
  const { port } = new URL(url);
  return new Promise<{ responses: RawResponse[]; closed: boolean }>((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    let buffer = Buffer.alloc(0);
    const responses: RawResponse[] = [];
    let closed = false;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`timed out with ${responses.length} of ${count} responses; buffered: ${buffer.toString('latin1').slice(0, 300)}`));
    }, 5_000);
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ responses, closed });
    };
    const parse = () => {
      for (;;) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end === -1) return;
        const [statusLine, ...lines] = buffer.subarray(0, end).toString('latin1').split('\r\n');
        const headers = new Map(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
        let bodyLength =
          options.headOnly?.[responses.length] || statusLine!.includes(' 304 ') ? 0 : Number(headers.get('content-length') ?? 0);
        if (headers.get('transfer-encoding') === 'chunked') {
          // Enough for these tests: the body's chunks are kept as sent, up to the last chunk.
          const last = buffer.indexOf('\r\n0\r\n\r\n', end + 4);
          if (last === -1) return;
          bodyLength = last + 7 - (end + 4);
        }
        if (buffer.length < end + 4 + bodyLength) return;
        const body = buffer.subarray(end + 4, end + 4 + bodyLength).toString('utf8');
        responses.push({ status: Number(statusLine!.split(' ')[1]), lines, headers, body });
        buffer = buffer.subarray(end + 4 + bodyLength);
        if (responses.length === count) {
          // Give the server a moment to close (Connection: close) before reporting.
          setTimeout(finish, 50);
          return;
        }
      }
    };
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      parse();
    });
    socket.on('end', () => {
      closed = true;
    });
    socket.on('close', () => {
      closed = true;
    });
    socket.on('error', reject);
    socket.on('connect', async () => {
      for (const [i, part] of parts.entries()) {
        if (i > 0 && options.gapMs) await new Promise((r) => setTimeout(r, options.gapMs));
        socket.write(part);
      }
    });
  });
}

const get = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: localhost\r\n${extra}\r\n`;
/** Answers from the fast path carry a lowercase `date` line; node:http writes `Date`. */
const fromFastPath = (r: RawResponse) => r.lines.some((l) => l.startsWith('date: '));

describe('parseSimpleRequest (the fast path grammar)', () => {
  it('accepts GET and HEAD in origin-form over HTTP/1.1, with If-None-Match, Host, Authorization and Cookie', () => {
    assert.deepEqual(parseSimpleRequest('GET /a/b?x=1 HTTP/1.1\r\nHost: h\r\nIf-None-Match:  "e1" \r\nConnection: Keep-Alive'), {
      method: 'GET',
      target: '/a/b?x=1',
      ifNoneMatch: '"e1"',
      host: 'h',
      authorization: false,
      cookie: undefined,
    });
    assert.deepEqual(parseSimpleRequest('HEAD / HTTP/1.1\r\nhost: h:8080\r\nAuthorization: Bearer x\r\nCookie: a=1\r\ncookie: b=2'), {
      method: 'HEAD',
      target: '/',
      ifNoneMatch: undefined,
      host: 'h:8080',
      authorization: true,
      cookie: 'a=1; b=2',
    });
  });

  it('reads field names in any case and values without their surrounding whitespace', () => {
    assert.deepEqual(parseSimpleRequest('GET / HTTP/1.1\r\nhOsT: \t h \t\r\nCONNECTION:KEEP-alive\r\nIF-NONE-MATCH:"e"\r\ncOOKIE:  a=1'), {
      method: 'GET',
      target: '/',
      ifNoneMatch: '"e"',
      host: 'h',
      authorization: false,
      cookie: 'a=1',
    });
    // Names of the same length as a looked-at one are other fields: no Host here.
    assert.equal(parseSimpleRequest('GET / HTTP/1.1\r\nHosu: h\r\nCookiE: a=1'), undefined);
    // A Host once found valid does not make a later invalid one pass.
    assert.notEqual(parseSimpleRequest('GET / HTTP/1.1\r\nHost: example.com'), undefined);
    assert.equal(parseSimpleRequest('GET / HTTP/1.1\r\nHost: example.com/../x'), undefined);
    assert.equal(parseSimpleRequest('GET / HTTP/1.1\r\nHOST: h\r\nCONTENT-LENGTH: 0'), undefined);
    assert.equal(parseSimpleRequest('GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alivf'), undefined);
  });

  it('refuses everything else, for node:http to handle', () => {
    // Each is refused for one reason only: all but the Host cases carry exactly one Host.
    const refused = [
      'POST / HTTP/1.1\r\nHost: h',
      'GET / HTTP/1.0\r\nHost: h',
      'GET http://h/ HTTP/1.1\r\nHost: h',
      'GET * HTTP/1.1\r\nHost: h',
      'GET /a b HTTP/1.1\r\nHost: h',
      'GET /\u00e9 HTTP/1.1\r\nHost: h',
      'GET /\x7f HTTP/1.1\r\nHost: h',
      'GET / HTTP/1.1 \r\nHost: h',
      'GET  / HTTP/1.1\r\nHost: h',
      'get / HTTP/1.1\r\nHost: h',
      'GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 0',
      'GET / HTTP/1.1\r\nHost: h\r\ntransfer-encoding: chunked',
      'GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket',
      'GET / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue',
      'GET / HTTP/1.1\r\nHost: h\r\nConnection: close',
      'GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade',
      'GET / HTTP/1.1\r\nHost: h\r\nAccept : */*',
      'GET / HTTP/1.1\r\nHost: h\r\n Accept: */*',
      'GET / HTTP/1.1\r\nHost: h\r\nAccept */*',
      'GET / HTTP/1.1\r\nHost: h\r\n: h',
      'GET / HTTP/1.1\r\nHost: h\r\nX-A: a\x00b',
      'GET / HTTP/1.1\r\nHost: h\r\nX-A: a\nb',
      'GET / HTTP/1.1\r\nHost: h\r\nIf-None-Match: "a"\r\nIf-None-Match: "b"',
      'GET / HTTP/1.1',
      'GET / HTTP/1.1\r\nAccept: */*',
      'GET / HTTP/1.1\r\nHost: h\r\nHost: h',
      'GET / HTTP/1.1\r\nHost: h/../x',
      'GET / HTTP/1.1\r\nHost: user@h',
      'GET / HTTP/1.1\r\nHost: [::1',
      'GET / HTTP/1.1\r\nHost: a\r\nHost: b',
    ];
    for (const head of refused) assert.equal(parseSimpleRequest(head), undefined, JSON.stringify(head));
  });
});

describe('responseCache (the answer bytes)', () => {
  it('one write for a small body at once, for a page up to 64 KiB from its second answer in a second, never for a larger one', () => {
    for (const [size, first, second] of [
      [4 * 1024, 1, 1],
      [20 * 1024, 2, 1],
      [100 * 1024, 2, 2],
    ] as const) {
      const body = new Uint8Array(size).fill(0x61);
      const answer = { status: 200, headers: { 'content-type': 'text/html', 'content-length': String(size) }, body };
      // Both answers within one second (the cache starts over each second): again if not.
      let a: Buffer[];
      let b: Buffer[];
      let at: number;
      do {
        at = Math.floor(Date.now() / 1000);
        const bytesOf = responseCache(5_000);
        a = bytesOf(answer);
        b = bytesOf(answer);
      } while (Math.floor(Date.now() / 1000) !== at);
      assert.deepEqual([a.length, b.length], [first, second], `${size} bytes`);
      // Whichever form, the same bytes: the head, then exactly the body.
      const whole = Buffer.concat(b);
      assert.deepEqual(Buffer.concat(a), whole);
      const head = whole.subarray(0, whole.indexOf('\r\n\r\n') + 4).toString('latin1');
      assert.match(
        head,
        /^HTTP\/1\.1 200 OK\r\ncontent-type: text\/html\r\ncontent-length: \d+\r\ndate: [^\r]+ GMT\r\nconnection: keep-alive\r\nkeep-alive: timeout=5\r\n\r\n$/,
      );
      assert.equal(whole.length - head.length, size);
    }
  });
});

describe('the HIT fast path over real connections', () => {
  let f: FixtureServer;
  before(async () => {
    f = await startFixtureServer();
    // First requests load the prerendered pages into the memory tier (node:http answers them).
    for (const path of ['/items/1', '/items/2']) assert.equal((await fetch(f.url + path)).status, 200);
  });
  after(() => f.close());

  it('answers a fresh page from memory with the same status, headers and bytes as node:http', async () => {
    const fast = (await exchange(f.url, [get('/items/1')], 1)).responses[0]!;
    const slow = (await exchange(f.url, [get('/items/1', 'Connection: close\r\n')], 1)).responses[0]!;
    assert.ok(fromFastPath(fast), 'answered by the fast path');
    assert.ok(!fromFastPath(slow), 'answered by node:http');
    assert.equal(fast.status, 200);
    assert.equal(fast.body, slow.body);
    assert.equal(pageText(fast.body), 'one');
    for (const name of ['content-type', 'cache-control', 'etag', 'content-length', 'x-isr-cache']) {
      assert.equal(fast.headers.get(name), slow.headers.get(name), name);
    }
    assert.equal(fast.headers.get('x-isr-cache'), 'HIT');
    assert.equal(fast.headers.get('connection'), 'keep-alive');
    assert.match(fast.headers.get('date') ?? '', /^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
  });

  it('answers HEAD with headers only and a matching If-None-Match with 304', async () => {
    const etag = (await exchange(f.url, [get('/items/1')], 1)).responses[0]!.headers.get('etag')!;
    const head = `HEAD /items/1 HTTP/1.1\r\nHost: localhost\r\n\r\n`;
    const { responses } = await exchange(f.url, [head + get('/items/1', `If-None-Match: ${etag}\r\n`) + get('/items/2')], 3, {
      headOnly: [true, false, false],
    });
    assert.deepEqual(
      responses.map((r) => r.status),
      [200, 304, 200],
    );
    assert.ok(responses.every(fromFastPath));
    assert.equal(responses[0]!.headers.get('content-length'), String(Buffer.byteLength(responses[2]!.body.replace('two', 'one'))));
    assert.equal(responses[1]!.headers.get('content-length'), undefined);
    assert.equal(responses[1]!.headers.get('etag'), etag);
    assert.equal(pageText(responses[2]!.body), 'two');
  });

  it('answers pipelined requests in order, one at a time: the fast path those it can, node:http the others', async () => {
    const { responses, closed } = await exchange(
      f.url,
      [get('/items/1') + get('/items/does-not-exist') + get('/items/2') + get('/items/1', 'Connection: close\r\n')],
      4,
    );
    assert.deepEqual(
      responses.map((r) => r.status),
      [200, 404, 200, 200],
    );
    // The connection stays with the front: after node:http's answer the next HIT is the fast path's again.
    assert.deepEqual(responses.map(fromFastPath), [true, false, true, false]);
    assert.deepEqual(
      responses.map((r) => pageText(r.body) ?? null),
      ['one', null, 'two', 'one'],
    );
    assert.ok(closed, 'Connection: close is honoured after the hand-over');
  });

  it('hands a request with a body to node:http without losing or misreading a byte', async () => {
    const body = JSON.stringify({ paths: ['/items/1'] });
    const post =
      `POST /_isr/revalidate HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer wrong-token-123\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    const { responses } = await exchange(f.url, [get('/items/1') + post + get('/items/2')], 3);
    assert.deepEqual(
      responses.map((r) => r.status),
      [200, 401, 200],
    );
    assert.equal(pageText(responses[2]!.body), 'two');
  });

  it('does not answer a GET that declares a body: the body cannot be taken for the next request', async () => {
    // A smuggling attempt: the "body" is a second request. node:http reads it as the body.
    const smuggled = get('/items/2');
    const attack = `GET /items/1 HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${smuggled.length}\r\n\r\n${smuggled}`;
    const { responses } = await exchange(f.url, [attack + get('/items/1', 'Connection: close\r\n')], 2);
    assert.deepEqual(
      responses.map((r) => pageText(r.body)),
      ['one', 'one'],
    );
  });

  it('hands over a head split across packets, and malformed heads get node:http’s 400', async () => {
    const split = await exchange(f.url, ['GET /items/2 HTTP/1.1\r\nHo', 'st: localhost\r\n\r\n'], 1, { gapMs: 30 });
    assert.equal(split.responses[0]!.status, 200);
    assert.equal(pageText(split.responses[0]!.body), 'two');
    const bad = await exchange(f.url, [`${get('/items/1')}GET /items/1 HTTP/1.1\r\nHost : localhost\r\n\r\n`], 2);
    assert.deepEqual(
      bad.responses.map((r) => r.status),
      [200, 400],
    );
    assert.ok(bad.closed);
  });

  it('serves the regenerated page, not the old bytes, once a page is revalidated', async () => {
    f.api.items.set('1', 'one v2');
    const res = await fetch(`${f.url}/_isr/revalidate`, {
      method: 'POST',
      headers: { authorization: 'Bearer test-token-0123456789', 'content-type': 'application/json' },
      body: JSON.stringify({ tags: ['item-1'] }),
    });
    assert.equal(res.status, 200);
    const first = (await exchange(f.url, [get('/items/1')], 1)).responses[0]!;
    assert.equal(first.headers.get('x-isr-cache'), 'MISS');
    assert.equal(pageText(first.body), 'one v2');
    const second = (await exchange(f.url, [get('/items/1')], 1)).responses[0]!;
    assert.ok(fromFastPath(second));
    assert.equal(pageText(second.body), 'one v2');
  });

  it('passes a stale page to node:http, which serves it STALE and starts its regeneration; while that runs the fast path answers it STALE too', async () => {
    f.api.items.set('2', 'two v2');
    f.api.delays.set('2', 400);
    try {
      f.clock.advance(11_000);
      const stale = (await exchange(f.url, [get('/items/2')], 1)).responses[0]!;
      assert.ok(!fromFastPath(stale));
      assert.equal(stale.headers.get('x-isr-cache'), 'STALE');
      // The regeneration waits on the slow content API: every request meanwhile is the fast path's,
      // with node:http's status, headers and bytes.
      const during = (await exchange(f.url, [get('/items/2')], 1)).responses[0]!;
      assert.ok(fromFastPath(during), 'answered by the fast path');
      assert.equal(during.status, 200);
      assert.equal(during.body, stale.body);
      for (const name of ['content-type', 'cache-control', 'etag', 'content-length', 'x-isr-cache']) {
        assert.equal(during.headers.get(name), stale.headers.get(name), name);
      }
      assert.equal(pageText(during.body), 'two');
      const etag = during.headers.get('etag')!;
      const notModified = (await exchange(f.url, [get('/items/2', `If-None-Match: ${etag}\r\n`)], 1)).responses[0]!;
      assert.deepEqual([notModified.status, notModified.headers.get('x-isr-cache'), fromFastPath(notModified)], [304, 'STALE', true]);
      // Once stored, the new page is a HIT from memory.
      await f.server.isr.engine.flush();
      const fresh = (await exchange(f.url, [get('/items/2')], 1)).responses[0]!;
      assert.deepEqual([fresh.headers.get('x-isr-cache'), pageText(fresh.body), fromFastPath(fresh)], ['HIT', 'two v2', true]);
    } finally {
      f.api.delays.delete('2');
      f.api.items.set('2', 'two');
    }
  });
});

describe('the front: one request in flight per connection, bounded reading, errors', () => {
  let f: FixtureServer;
  before(async () => {
    f = await startFixtureServer();
    for (const path of ['/items/1', '/items/2']) assert.equal((await fetch(f.url + path)).status, 200);
  });
  after(() => f.close());

  it('starts a pipelined request only once the one before it is answered', async () => {
    f.api.delays.set('slow-a', 400);
    const answered = exchange(f.url, [get('/items/slow-a') + get('/items/slow-b')], 2);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(f.api.callsFor('slow-a'), 1);
    assert.equal(f.api.callsFor('slow-b'), 0, 'the second request was started while the first was in flight');
    const { responses } = await answered;
    assert.deepEqual(
      responses.map((r) => r.status),
      [404, 404],
    );
    assert.equal(f.api.callsFor('slow-b'), 1);
  });

  it('reads no further than one head ahead while a request is in flight', async () => {
    let serverSide: Socket | undefined;
    const onConnection = (socket: Socket) => (serverSide = socket);
    f.server.server.on('connection', onConnection);
    f.api.delays.set('*', 1500);
    const client = connect(f.server.port, '127.0.0.1');
    client.on('error', () => {});
    try {
      await new Promise((resolve) => client.once('connect', resolve));
      client.pause();
      const line = get('/items/never-read');
      client.write(line.repeat(Math.ceil((2 * 1024 * 1024) / line.length)));
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.ok(serverSide !== undefined);
      // The first request is still rendering: what was read off the socket is the read-ahead bound
      // plus at most two reads of 64 KiB (the one that crossed it, and the one the paused socket
      // holds); the rest of the pipeline waits, unread, in the kernel.
      assert.ok(serverSide.bytesRead <= READ_AHEAD_BYTES + 2 * 64 * 1024, `read ${serverSide.bytesRead} bytes of a 2 MiB pipeline`);
    } finally {
      f.api.delays.delete('*');
      f.server.server.off('connection', onConnection);
      client.destroy();
    }
  });

  it('answers an entry node:http cannot send with a 500, on both paths, and keeps serving', async () => {
    const good = (await f.server.isr.store.get('/items/2'))!;
    const poisoned = {
      ...good,
      lastModified: f.clock.now(),
      value: { ...good.value, headers: { ...good.value.headers, 'x-bad': 'a\r\nset-cookie: evil=1' } },
    };
    // Written past the generation check (as a store shared with other code could be): memory takes it.
    await f.server.isr.store.set('/items/2', poisoned).catch(() => {});
    const errorsBefore = f.logger.lines.filter((line) => line.startsWith('error')).length;
    const { responses } = await exchange(f.url, [get('/items/2') + get('/items/1') + get('/items/2', 'Connection: close\r\n')], 3);
    assert.deepEqual(
      responses.map((r) => r.status),
      [500, 200, 500],
    );
    for (const response of responses) assert.ok(!response.lines.some((line) => /^set-cookie/i.test(line)), response.lines.join('\n'));
    assert.ok(f.logger.lines.filter((line) => line.startsWith('error')).length > errorsBefore, 'the failure is logged');
    assert.equal(pageText((await exchange(f.url, [get('/items/1')], 1)).responses[0]!.body), 'one');
    await f.server.isr.store.delete('/items/2');
  });

  it('shares a stored body among the answers that send it, and copies it only for a reader of the Web stream', async () => {
    const stored = (await f.server.isr.store.get('/items/1'))!.value.body;
    const [a, b] = await Promise.all([0, 1].map(() => f.server.isr.handler(new Request('http://localhost/items/1'))));
    assert.equal(storedBodyOf(a!), stored, 'the answer holds the stored bytes themselves, not a copy');
    assert.equal(storedBodyOf(b!), stored);
    const { value: read } = await a!.body!.getReader().read();
    read!.fill(0x21);
    assert.notEqual(stored[0], 0x21, 'what a reader of the Web body changes is its own copy');
    assert.equal(pageText(await b!.text()), 'one');
  });

  it('accepts absolute-form targets (RFC 9112 §3.2.2)', async () => {
    const { responses } = await exchange(f.url, ['GET http://localhost/items/1?x=1 HTTP/1.1\r\nHost: localhost\r\n\r\n'], 1);
    assert.equal(responses[0]!.status, 200);
    assert.equal(pageText(responses[0]!.body), 'one');
  });
});

describe('the front on its own: framing and timeouts (review findings)', () => {
  /** A front over a plain node:http server; `listener` answers what the fast path does not. */
  async function front(listener: (req: IncomingMessage, res: ServerResponse) => void, keepAliveTimeoutMs = 5000) {
    const http = createServer({ keepAliveTimeout: keepAliveTimeoutMs });
    const errors: string[] = [];
    const big = Buffer.alloc(4 * 1024 * 1024, 0x78);
    const created = createFrontServer(http, {
      fromMemory: ({ method, target }) =>
        target === '/fresh'
          ? { status: 200, headers: { 'content-length': '6' }, body: method === 'HEAD' ? undefined : Buffer.from('fresh\n') }
          : target === '/big'
            ? { status: 200, headers: { 'content-length': String(big.length) }, body: big }
            : undefined,
      listener,
      keepAliveTimeoutMs,
      onError: (error, consequence) => errors.push(`${consequence}: ${(error as Error).message}`),
    });
    await new Promise<void>((resolve) => created.server.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(created.server.address() as { port: number }).port}`, errors, close: created.close, big };
  }
  const echo = (req: IncomingMessage, res: ServerResponse) => {
    let bytes = 0;
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => res.end(`${req.method} ${req.url} body=${bytes}\n`));
  };

  it('answers a request node:http parsed along with a chunked body, and lets the connection idle out', async () => {
    const f = await front(echo, 200);
    const pipeline =
      'POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n' +
      'POST /cl HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789' +
      'GET /third HTTP/1.1\r\nHost: a\r\n\r\n';
    try {
      const { responses } = await exchange(f.url, [pipeline], 3);
      assert.deepEqual(
        responses.map((r) => r.body),
        ['POST /c body=3\n', 'POST /cl body=10\n', 'GET /third body=0\n'],
      );
      // Closed by the idle timeout (0.2 s + 1 s), not held open waiting for a body node:http already had.
      const began = performance.now();
      const socket = connect(Number(new URL(f.url).port), '127.0.0.1');
      socket.on('error', () => {});
      socket.resume();
      socket.write(pipeline);
      await Promise.race([new Promise((resolve) => socket.once('close', resolve)), new Promise((resolve) => setTimeout(resolve, 5000))]);
      socket.destroy();
      const seconds = (performance.now() - began) / 1000;
      assert.ok(seconds < 4, `closed after ${seconds.toFixed(1)} s`);
    } finally {
      await f.close();
    }
  });

  it('closes a connection whose request was answered but whose body never came, after the idle timeout', async () => {
    const f = await front((_req, res) => res.end('answered\n'), 200);
    try {
      const began = performance.now();
      const socket = connect(Number(new URL(f.url).port), '127.0.0.1');
      socket.on('error', () => {});
      socket.resume(); // take the answer, so the close is seen
      socket.write('POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n');
      await Promise.race([new Promise((resolve) => socket.once('close', resolve)), new Promise((resolve) => setTimeout(resolve, 5000))]);
      socket.destroy();
      const seconds = (performance.now() - began) / 1000;
      assert.ok(seconds < 4, `closed after ${seconds.toFixed(1)} s (node:http's request timeout is 300 s)`);
    } finally {
      await f.close();
    }
  });

  it('answers 500 when the listener throws, and serves the connection on', async () => {
    const f = await front((req, res) => {
      if (req.url === '/throw') throw new Error('listener bug');
      res.end('ok\n');
    });
    try {
      const { responses } = await exchange(f.url, [get('/throw') + get('/fresh') + get('/throw') + get('/ok')], 4);
      assert.deepEqual(
        responses.map((r) => r.status),
        [500, 200, 500, 200],
      );
      assert.equal(f.errors.length, 2);
    } finally {
      await f.close();
    }
  });

  it('gives a client taking a large answer slowly the send timeout, not the idle one', async () => {
    const f = await front(echo, 100);
    try {
      const received = await new Promise<number>((resolve) => {
        const socket = connect(Number(new URL(f.url).port), '127.0.0.1');
        let bytes = 0;
        socket.on('data', (chunk: Buffer) => {
          if (bytes === 0) {
            // Take nothing for longer than the idle timeout (0.1 s + 1 s), then everything.
            socket.pause();
            setTimeout(() => socket.resume(), 1500);
          }
          bytes += chunk.length;
          if (bytes >= f.big.length) socket.destroy();
        });
        socket.on('close', () => resolve(bytes));
        socket.on('error', () => {});
        socket.write(get('/big'));
      });
      assert.ok(received >= f.big.length, `received ${received} of ${f.big.length} bytes before the connection closed`);
    } finally {
      await f.close();
    }
  });

  it('refuses the HTTP/2 connection preface at once (400)', async () => {
    const f = await front(echo);
    try {
      const { responses } = await exchange(f.url, ['PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'], 1);
      assert.equal(responses[0]!.status, 400);
    } finally {
      await f.close();
    }
  });

  it('cancels a streamed body when its client goes away without reading', async () => {
    let cancelled = false;
    const handler = Object.assign(async () => {
      const chunk = new Uint8Array(64 * 1024);
      const body = new ReadableStream<Uint8Array>({
        pull: (controller) => controller.enqueue(chunk),
        cancel: () => {
          cancelled = true;
        },
      });
      return new Response(body, { headers: { 'content-type': 'text/plain' } });
    }, {}) as RequestHandler;
    const f = await front(toNodeListener(handler));
    try {
      const socket = connect(Number(new URL(f.url).port), '127.0.0.1');
      socket.on('error', () => {});
      socket.write(get('/stream'));
      await new Promise((resolve) => socket.once('data', resolve));
      socket.pause();
      await new Promise((resolve) => setTimeout(resolve, 300));
      socket.destroy();
      for (let i = 0; i < 50 && !cancelled; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.ok(cancelled, 'the body stream was never cancelled: its render keeps running for nobody');
    } finally {
      await f.close();
    }
  });
});

describe('fastPath: false (ISR_FAST_PATH=0)', () => {
  it('serves every request, HITs included, through node:http', async () => {
    const f = await startFixtureServer({ fastPath: false });
    try {
      assert.equal((await fetch(`${f.url}/items/1`)).status, 200);
      const { responses } = await exchange(f.url, [get('/items/1') + get('/items/1')], 2);
      assert.deepEqual(
        responses.map((r) => r.headers.get('x-isr-cache')),
        ['HIT', 'HIT'],
      );
      assert.deepEqual(responses.map(fromFastPath), [false, false]);
    } finally {
      await f.close();
    }
  });

  it('takes 1/0 and true/false, and names the option for anything else', async () => {
    const dir = tmpdir();
    assert.equal((await loadConfig(dir, {}, { ISR_FAST_PATH: '0' })).fastPath, false);
    assert.equal((await loadConfig(dir, {}, { ISR_FAST_PATH: 'true' })).fastPath, true);
    assert.equal((await loadConfig(dir, {}, {})).fastPath, true);
    await assert.rejects(loadConfig(dir, {}, { ISR_FAST_PATH: 'off' }), /fastPath \(ISR_FAST_PATH\) must be true or false/);
  });
});
