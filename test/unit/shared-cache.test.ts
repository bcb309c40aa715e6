/**
 * `src/http/shared-cache.ts`, the HTTP semantics of `isr proxy`'s shared cache: what it stores and
 * for how long (RFC 9111 on http-cache-semantics, RFC 9213's targeted fields, RFC 5861's stale
 * windows, Varnish's Set-Cookie rule), which tags purge an entry, which fields a proxy drops and
 * adds (RFC 9110 §7.6), and the conditional request that revalidates an entry. Each test names the
 * rule it checks.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type CacheRequest,
  type CacheResponse,
  forwardRequestHeaders,
  forwardResponseHeaders,
  type HeaderRecord,
  responseTags,
  revalidationHeaders,
  storagePolicy,
} from '../../src/http/shared-cache.ts';

const GET: CacheRequest = { method: 'GET', url: '/page', headers: { host: 'example.com' } };

function ok(headers: HeaderRecord, status = 200) {
  return { status, headers };
}

/** The policy, asserted storable. */
function stored(response: CacheResponse, request: CacheRequest = GET, options = {}) {
  const policy = storagePolicy(request, response, options);
  assert.ok(policy.storable, `expected storable, got ${JSON.stringify(policy)}`);
  return policy;
}

/** The reason, asserted not storable. */
function refused(response: CacheResponse, request: CacheRequest = GET) {
  const policy = storagePolicy(request, response);
  assert.equal(policy.storable, false, `expected not storable, got ${JSON.stringify(policy)}`);
  return policy.storable ? '' : policy.reason;
}

describe('storagePolicy: what a shared cache stores, and for how long', () => {
  test('CDN-Cache-Control replaces Cache-Control and Expires for this cache (RFC 9213 §2.1)', () => {
    const policy = stored(
      ok({ 'cache-control': 'no-store', 'cdn-cache-control': 'max-age=120', expires: 'Thu, 01 Jan 1970 00:00:00 GMT' }),
    );
    assert.equal(policy.revalidate, 120);
    assert.match(refused(ok({ 'cache-control': 'max-age=60', 'cdn-cache-control': 'no-store' })), /cdn-cache-control says no-store/);
    const date = new Date();
    const expires = new Date(date.getTime() + 60_000).toUTCString();
    assert.equal(stored(ok({ 'cdn-cache-control': 'public', date: date.toUTCString(), expires })).revalidate, 0, 'Expires is ignored');
  });

  test('Surrogate-Control replaces Cache-Control when there is no CDN-Cache-Control, and yields to it', () => {
    assert.equal(stored(ok({ 'cache-control': 'private', 'surrogate-control': 'max-age=300' })).revalidate, 300);
    assert.equal(stored(ok({ 'surrogate-control': 'max-age=300', 'cdn-cache-control': 'max-age=30' })).revalidate, 30);
  });

  test('s-maxage, then max-age, then Expires give the freshness lifetime (RFC 9111 §4.2.1, shared)', () => {
    assert.equal(stored(ok({ 'cache-control': 'max-age=10, s-maxage=90' })).revalidate, 90);
    assert.equal(stored(ok({ 'cache-control': 'max-age=10' })).revalidate, 10);
    const date = new Date();
    const expires = new Date(date.getTime() + 45_000);
    assert.equal(stored(ok({ date: date.toUTCString(), expires: expires.toUTCString() })).revalidate, 45);
  });

  test('revalidate is the freshness lifetime minus the Age the origin sent (RFC 9111 §4.2.3)', () => {
    assert.equal(stored(ok({ 'cache-control': 's-maxage=60', age: '25' })).revalidate, 35);
    assert.equal(stored(ok({ 'cache-control': 's-maxage=60', age: '100' })).revalidate, 0);
  });

  test('no-store in the response or the request is not stored (RFC 9111 §5.2.2.5, §5.2.1.5)', () => {
    assert.match(refused(ok({ 'cache-control': 'no-store, max-age=60' })), /cache-control says no-store/);
    assert.match(
      refused(ok({ 'cache-control': 'max-age=60' }), { ...GET, headers: { host: 'example.com', 'cache-control': 'no-store' } }),
      /request says no-store/,
    );
  });

  test('private is not stored by a shared cache (RFC 9111 §5.2.2.7)', () => {
    assert.match(refused(ok({ 'cache-control': 'private, max-age=60' })), /private/);
  });

  test('Authorization is stored only with public, s-maxage or must-revalidate (RFC 9111 §3.5)', () => {
    const authorized = { ...GET, headers: { host: 'example.com', authorization: 'Bearer x' } };
    assert.match(refused(ok({ 'cache-control': 'max-age=60' }), authorized), /Authorization/);
    for (const cc of ['public, max-age=60', 's-maxage=60', 'max-age=60, must-revalidate']) {
      assert.ok(storagePolicy(authorized, ok({ 'cache-control': cc })).storable, cc);
    }
  });

  test('a status that is not heuristically cacheable is stored only with explicit freshness (RFC 9110 §15.1)', () => {
    assert.match(refused(ok({ location: '/x' }, 302)), /status 302 is not heuristically cacheable/);
    assert.equal(stored(ok({ location: '/x', 'cache-control': 'max-age=5' }, 302)).revalidate, 5);
    assert.match(refused(ok({ 'cache-control': 'max-age=60' }, 500)), /status 500/);
    assert.ok(storagePolicy(GET, ok({}, 404)).storable, '404 is heuristically cacheable');
  });

  test('Vary: * is not stored (RFC 9110 §12.5.5); other Vary fields are listed', () => {
    assert.match(refused(ok({ 'cache-control': 'max-age=60', vary: 'Accept, *' })), /Vary: \*/);
    assert.deepEqual(stored(ok({ 'cache-control': 'max-age=60', vary: 'Accept-Encoding, Accept-Language' })).vary, [
      'accept-encoding',
      'accept-language',
    ]);
  });

  test('a response that sets a cookie is not stored (Varnish default), even when public', () => {
    assert.match(refused(ok({ 'cache-control': 'public, max-age=60', 'set-cookie': ['id=1; Path=/'] })), /Set-Cookie/);
  });

  test('only responses to GET and HEAD are stored', () => {
    assert.match(refused(ok({ 'cache-control': 's-maxage=60' }), { ...GET, method: 'POST' }), /POST/);
    assert.ok(storagePolicy({ ...GET, method: 'HEAD' }, ok({ 'cache-control': 's-maxage=60' })).storable);
  });

  test('stale-while-revalidate and stale-if-error come from the effective directives (RFC 5861)', () => {
    const policy = stored(
      ok({ 'cache-control': 'max-age=1', 'cdn-cache-control': 'max-age=10, stale-while-revalidate=50, stale-if-error=600' }),
    );
    assert.deepEqual([policy.revalidate, policy.staleWhileRevalidate, policy.staleIfError], [10, 50, 600]);
  });

  test('options.defaultStaleIfError applies when the response sends no stale-if-error', () => {
    assert.equal(stored(ok({ 'cache-control': 's-maxage=10' }), GET, { defaultStaleIfError: 3600 }).staleIfError, 3600);
    assert.equal(stored(ok({ 'cache-control': 's-maxage=10, stale-if-error=5' }), GET, { defaultStaleIfError: 3600 }).staleIfError, 5);
    assert.equal(stored(ok({ 'cache-control': 's-maxage=10' })).staleIfError, 0);
  });

  test('no-cache, must-revalidate and proxy-revalidate forbid serving stale (RFC 9111 §4.2.4)', () => {
    for (const cc of [
      'no-cache, stale-while-revalidate=60',
      's-maxage=10, must-revalidate, stale-if-error=60',
      's-maxage=10, proxy-revalidate',
    ]) {
      const policy = stored(ok({ 'cache-control': cc }), GET, { defaultStaleIfError: 3600 });
      assert.deepEqual([policy.staleWhileRevalidate, policy.staleIfError], [0, 0], cc);
    }
  });

  test('the stored policy carries the response tags', () => {
    assert.deepEqual(stored(ok({ 'cache-control': 's-maxage=10', 'cache-tag': 'a,b' })).tags, ['a', 'b']);
  });
});

describe('responseTags: purge tags from CDN and Next.js headers', () => {
  test('Cache-Tag (comma), Surrogate-Key (space) and x-next-cache-tags (comma), trimmed, de-duplicated, empty ones dropped', () => {
    const tags = responseTags({
      'cache-tag': ' posts , post-1,,',
      'surrogate-key': 'post-1  author-7 ',
      'x-next-cache-tags': '_N_T_/layout,posts, ',
    });
    assert.deepEqual(tags, ['posts', 'post-1', 'author-7', '_N_T_/layout']);
    assert.deepEqual(responseTags({}), []);
  });
});

describe('forwarding headers (RFC 9110 §7.6)', () => {
  const from = { clientAddress: '203.0.113.9', proto: 'https', host: 'shop.example' };

  test('forwardRequestHeaders drops hop-by-hop fields and those Connection names (RFC 9110 §7.6.1)', () => {
    const forwarded = forwardRequestHeaders(
      {
        host: 'shop.example',
        accept: 'text/html',
        connection: 'keep-alive, X-Secret',
        'x-secret': 'hop',
        'keep-alive': 'timeout=5',
        'proxy-connection': 'keep-alive',
        te: 'trailers',
        'transfer-encoding': 'chunked',
        upgrade: 'websocket',
        'proxy-authorization': 'Basic x',
        'proxy-authenticate': 'Basic',
        trailer: 'x-checksum',
      },
      from,
    );
    assert.deepEqual(Object.keys(forwarded).sort(), ['accept', 'host', 'via', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto']);
  });

  test('forwardRequestHeaders appends to X-Forwarded-For, sets X-Forwarded-Host/Proto and appends Via (RFC 9110 §7.6.3)', () => {
    const forwarded = forwardRequestHeaders({ 'x-forwarded-for': '198.51.100.1', 'x-forwarded-proto': 'http', via: '1.1 cdn' }, from);
    assert.equal(forwarded['x-forwarded-for'], '198.51.100.1, 203.0.113.9');
    assert.equal(forwarded['x-forwarded-host'], 'shop.example');
    assert.equal(forwarded['x-forwarded-proto'], 'https');
    assert.equal(forwarded.via, '1.1 cdn, 1.1 isr');
    assert.equal(forwardRequestHeaders({}, from)['x-forwarded-for'], '203.0.113.9');
  });

  test('forwardResponseHeaders drops hop-by-hop fields, keeps the rest (Set-Cookie arrays too) and adds Via', () => {
    const forwarded = forwardResponseHeaders({
      'content-type': 'text/html',
      'set-cookie': ['a=1', 'b=2'],
      connection: 'close, x-internal',
      'x-internal': '1',
      'transfer-encoding': 'chunked',
      'keep-alive': 'timeout=5',
    });
    assert.deepEqual(forwarded, { 'content-type': 'text/html', 'set-cookie': ['a=1', 'b=2'], via: '1.1 isr' });
  });
});

describe('revalidationHeaders: the conditional request for a stale entry (RFC 9111 §4.3.1)', () => {
  test("If-None-Match and If-Modified-Since come from the stored response's validators", () => {
    const lastModified = 'Wed, 01 Jan 2025 00:00:00 GMT';
    const response = ok({ 'cache-control': 's-maxage=10', etag: '"v1"', 'last-modified': lastModified });
    const headers = revalidationHeaders(GET, response, { ...GET, headers: { host: 'example.com', accept: 'text/html' } });
    assert.equal(headers['if-none-match'], '"v1"');
    assert.equal(headers['if-modified-since'], lastModified);
    assert.equal(headers.accept, 'text/html');
  });

  test('a response stored under CDN-Cache-Control is revalidated even though Cache-Control says private', () => {
    const response = ok({ 'cache-control': 'private', 'cdn-cache-control': 's-maxage=10', etag: '"v2"' });
    assert.equal(revalidationHeaders(GET, response, GET)['if-none-match'], '"v2"');
  });
});
