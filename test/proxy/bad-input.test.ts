/**
 * Hostile requests through `isr proxy`: request smuggling attempts, oversized heads, path
 * traversal and cache-poisoning headers. None reaches the origin malformed, and none changes what
 * another client gets from the cache.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createMemoryLogger } from '../../src/log.ts';
import { type RunningProxy, startProxy } from '../../src/proxy/index.ts';
import { startOrigin, type TestOrigin } from '../helpers/origin.ts';

/** Sends `bytes` on a new connection and resolves with everything the proxy sent until it closed (or 3 s passed). */
function raw(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(), 3000);
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    socket.write(bytes);
  });
}

/** The status codes of the responses in `text`, in order. */
function statuses(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((match) => Number(match[1]));
}

describe('isr proxy: bad input never reaches the origin malformed and never poisons the cache', () => {
  let origin: TestOrigin;
  let proxy: RunningProxy;
  let dir: string;
  before(async () => {
    origin = await startOrigin();
    dir = await mkdtemp(path.join(tmpdir(), 'isr-proxy-bad-'));
    proxy = await startProxy({ dir, config: { origin: origin.url }, logger: createMemoryLogger(), port: 0, hostname: '127.0.0.1' });
  });
  after(async () => {
    await proxy.close();
    await origin.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('smuggling: Content-Length with Transfer-Encoding, two Content-Lengths, a bad chunk size: 400, the origin sees nothing', async () => {
    const attempts = [
      'POST /s1 HTTP/1.1\r\nHost: site.test\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: site.test\r\n\r\n',
      'POST /s2 HTTP/1.1\r\nHost: site.test\r\nContent-Length: 4\r\nContent-Length: 40\r\n\r\nabcd',
      'POST /s3 HTTP/1.1\r\nHost: site.test\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n',
      'GET /s4 HTTP/1.1\r\nHost: site.test\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n',
    ];
    for (const attempt of attempts) {
      const answer = await raw(proxy.port, attempt);
      assert.equal(statuses(answer)[0], 400, JSON.stringify(attempt.slice(0, 60)));
    }
    assert.equal(
      origin.requests.filter((request) => /^\/s\d|smuggled/.test(request.url)).length,
      0,
      JSON.stringify(origin.requests.map((r) => r.url)),
    );
  });

  it('an oversized head is refused (431) before the origin', async () => {
    const answer = await raw(proxy.port, `GET /big HTTP/1.1\r\nHost: site.test\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    assert.equal(statuses(answer)[0], 431);
    assert.equal(origin.count('/big'), 0);
  });

  it('traversal and malformed paths are refused (400), never forwarded', async () => {
    for (const target of ['/../etc/passwd', '/a/%2e%2e/%2e%2e/etc/passwd', '/a%2fb', '/a%5c..%5cb', '/%00', '/bad%zz', '/./x']) {
      const answer = await raw(proxy.port, `GET ${target} HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n`);
      assert.equal(statuses(answer)[0], 400, target);
    }
    assert.equal(
      origin.requests.filter((request) => /etc|%2f|%5c|%00|%zz|\/\.\//i.test(request.url)).length,
      0,
      JSON.stringify(origin.requests.map((r) => r.url)),
    );
  });

  it('two Host headers, a bad Host and CONNECT are refused', async () => {
    assert.equal(statuses(await raw(proxy.port, 'GET /h HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\nConnection: close\r\n\r\n'))[0], 400);
    assert.equal(statuses(await raw(proxy.port, 'GET /h HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n'))[0], 400);
    assert.equal(statuses(await raw(proxy.port, 'CONNECT origin.test:443 HTTP/1.1\r\nHost: origin.test:443\r\n\r\n'))[0], 405);
    assert.equal(origin.count('/h'), 0);
  });

  it("cache poisoning: a client's X-Forwarded-Host, override headers and Host never change what others get", async () => {
    origin.route('/poison', {
      body: (n) => `#${n}`,
      headers: { 'cache-control': 'public, s-maxage=600' },
    });
    const poisoned = await raw(
      proxy.port,
      'GET /poison HTTP/1.1\r\nHost: site.test\r\nX-Forwarded-Host: evil.test\r\nX-Original-URL: /admin\r\nX-HTTP-Method-Override: DELETE\r\nConnection: close\r\n\r\n',
    );
    assert.equal(statuses(poisoned)[0], 200);
    const fill = origin.requests.find((request) => request.url === '/poison')!;
    assert.equal(fill.headers['x-forwarded-host'], 'site.test', "the proxy's own X-Forwarded-Host, from the Host it keys on");
    assert.equal(fill.headers['x-original-url'], undefined);
    assert.equal(fill.headers['x-http-method-override'], undefined);
    // Another Host is another key: it cannot replace site.test's page.
    const other = await raw(proxy.port, 'GET /poison HTTP/1.1\r\nHost: evil.test\r\nConnection: close\r\n\r\n');
    assert.match(other, /#2$/);
    const honest = await raw(proxy.port, 'GET /poison HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n');
    assert.match(honest, /x-isr-cache: HIT/i);
    assert.match(honest, /#1$/);
  });

  it('a Range or If-None-Match of one client is not sent on the cache fill', async () => {
    origin.route('/ranged', { headers: { 'cache-control': 'public, s-maxage=600' }, etag: '"r1"' });
    const first = await raw(
      proxy.port,
      'GET /ranged HTTP/1.1\r\nHost: site.test\r\nRange: bytes=0-1\r\nIf-None-Match: "r1"\r\nConnection: close\r\n\r\n',
    );
    assert.equal(statuses(first)[0], 304, 'the client gets its 304 from the stored page');
    const fill = origin.requests.find((request) => request.url === '/ranged')!;
    assert.equal(fill.headers.range, undefined);
    assert.equal(fill.headers['if-none-match'], undefined);
    const second = await raw(proxy.port, 'GET /ranged HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n');
    assert.match(second, /\/ranged #1$/);
  });
});
