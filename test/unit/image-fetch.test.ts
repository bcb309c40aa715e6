/**
 * The image endpoint's remote fetch (src/server/image-fetch.ts) against a local HTTP server: a
 * private address is refused unless `dangerouslyAllowLocalIP`, every redirect hop must be allowed
 * again, at most `maximumRedirects` are followed, and a body over the limit is refused even without
 * a Content-Length. Also `remotePatterns`' empty port and `localPatterns`.
 */

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { matchesLocalPatterns, matchesRemotePattern } from '../../src/server/image.ts';
import { fetchRemoteImage, isPrivateAddress } from '../../src/server/image-fetch.ts';

let server: Server;
let base: string;

before(async () => {
  server = createServer((req, res) => {
    if (req.url === '/img.png') {
      res.writeHead(200, { 'content-type': 'image/png', 'cache-control': 'max-age=600' });
      res.end(Buffer.from([1, 2, 3]));
    } else if (req.url?.startsWith('/hop/')) {
      const left = Number(req.url.slice(5));
      res.writeHead(302, { location: left > 0 ? `/hop/${left - 1}` : '/img.png' });
      res.end();
    } else if (req.url === '/away') {
      res.writeHead(302, { location: 'http://elsewhere.invalid/img.png' });
      res.end();
    } else if (req.url === '/huge') {
      res.writeHead(200, { 'content-type': 'image/png' });
      res.write(Buffer.alloc(600));
      res.end(Buffer.alloc(600));
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

const LIMITS = { timeoutMs: 3_000, maxBytes: 1_000 };
const LOCAL_ALLOWED = { maximumRedirects: 3, dangerouslyAllowLocalIP: true };
const onlyLocalhost = (url: URL) => url.hostname === '127.0.0.1';

describe('remote image fetch', () => {
  it('refuses a private address unless dangerouslyAllowLocalIP', async () => {
    assert.deepEqual(
      await fetchRemoteImage(new URL(`${base}/img.png`), { maximumRedirects: 3, dangerouslyAllowLocalIP: false }, onlyLocalhost, LIMITS),
      {
        status: 400,
        message: '"url" parameter is not allowed',
      },
    );
    const fetched = await fetchRemoteImage(new URL(`${base}/img.png`), LOCAL_ALLOWED, onlyLocalhost, LIMITS);
    assert.deepEqual(fetched, { body: new Uint8Array([1, 2, 3]), type: 'image/png', maxAge: 600 });
  });

  it('follows up to maximumRedirects hops, each allowed again', async () => {
    assert.ok('body' in (await fetchRemoteImage(new URL(`${base}/hop/2`), LOCAL_ALLOWED, onlyLocalhost, LIMITS)));
    assert.equal(
      ((await fetchRemoteImage(new URL(`${base}/hop/3`), LOCAL_ALLOWED, onlyLocalhost, LIMITS)) as { status: number }).status,
      508,
    );
    assert.deepEqual(await fetchRemoteImage(new URL(`${base}/away`), LOCAL_ALLOWED, onlyLocalhost, LIMITS), {
      status: 400,
      message: '"url" parameter is not allowed',
    });
  });

  it('refuses a body over the limit without a Content-Length', async () => {
    assert.deepEqual(await fetchRemoteImage(new URL(`${base}/huge`), LOCAL_ALLOWED, onlyLocalhost, LIMITS), {
      status: 413,
      message: 'the upstream image is too large',
    });
  });

  it('knows private addresses, IPv4-mapped ones included', () => {
    for (const address of [
      '127.0.0.1',
      '10.1.2.3',
      '169.254.169.254',
      '172.20.0.1',
      '192.168.1.1',
      '::1',
      'fd00::1',
      'fe80::1',
      '::ffff:10.0.0.1',
    ]) {
      assert.ok(isPrivateAddress(address), address);
    }
    for (const address of ['93.184.216.34', '2606:4700::1111', '::ffff:8.8.8.8']) assert.ok(!isPrivateAddress(address), address);
  });

  it('remotePatterns: an empty port is the default port only; localPatterns: a query needs a pattern that allows it', () => {
    assert.ok(matchesRemotePattern({ hostname: 'cdn.example.com', port: '' }, new URL('https://cdn.example.com/a.png')));
    assert.ok(!matchesRemotePattern({ hostname: 'cdn.example.com', port: '' }, new URL('https://cdn.example.com:8443/a.png')));
    assert.ok(matchesLocalPatterns(undefined, new URL('/a.png', 'http://x')));
    assert.ok(!matchesLocalPatterns(undefined, new URL('/a.png?v=1', 'http://x')));
    assert.ok(matchesLocalPatterns([{ pathname: '/assets/**' }], new URL('/assets/a/b.png', 'http://x')));
    assert.ok(!matchesLocalPatterns([{ pathname: '/assets/**' }], new URL('/private/b.png', 'http://x')));
  });
});
