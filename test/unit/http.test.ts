/**
 * `src/http/`, the HTTP semantics every way in shares (the handler today, the proxy next): path
 * canonicalisation, entity tags and conditional requests, Cache-Control values, what a stored
 * response head may hold, Host and request targets, and bodies read with a limit. Each test names
 * the rule it checks.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { BodyError, readBody } from '../../src/http/body.ts';
import { cacheControl, NO_STORE, NOT_STORED, ONE_YEAR_SECONDS, PUBLIC_FILE } from '../../src/http/cache-control.ts';
import { entityTag, etagMatches, representationEtag, requestIsFresh } from '../../src/http/etag.ts';
import { fieldValueProblem, isToken, responseHeadProblem } from '../../src/http/fields.ts';
import { absoluteFormTarget, isValidHost } from '../../src/http/host.ts';
import { MAX_PATH_LENGTH, normalizePath, parsePath, trailingSlashOf, trailingSlashRedirectOf } from '../../src/http/paths.ts';

describe('paths: one cache key per page', () => {
  test('parsePath re-encodes each segment as encodeURIComponent does, whatever the request encoded', () => {
    for (const [raw, canonical] of [
      ['/', '/'],
      ['/blog//1/', '/blog/1'],
      ['/caf%C3%A9', '/caf%C3%A9'],
      ['/tags/c++', '/tags/c%2B%2B'],
      ['/tags/c%2b%2B', '/tags/c%2B%2B'],
      ["/a!~*'()", "/a!~*'()"],
    ] as const) {
      const parsed = parsePath(raw);
      assert.ok(parsed.ok, raw);
      assert.equal(parsed.pathname, canonical, raw);
    }
  });

  test('parsePath refuses with 400 what no page can be, and with 414 an overlong path', () => {
    for (const raw of ['/%E0', '/%zz', '/a/%2e%2E', '/%00', '/a%2Fb', '/a%5Cb']) {
      const parsed = parsePath(raw);
      assert.equal(parsed.ok, false, raw);
      if (!parsed.ok) assert.equal(parsed.status, 400, raw);
    }
    const long = parsePath(`/${'a'.repeat(MAX_PATH_LENGTH)}`);
    assert.equal(long.ok ? 200 : long.status, 414);
  });

  test('normalizePath (tags, revalidatePath) names the same key as parsePath for every path parsePath accepts', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary', maxLength: 6 }), { maxLength: 5 }), (segments) => {
        const raw = `/${segments.map(encodeURIComponent).join('/')}`;
        const parsed = parsePath(raw);
        if (parsed.ok) assert.equal(normalizePath(raw), parsed.pathname);
      }),
      { numRuns: 500 },
    );
    assert.equal(normalizePath('/blog/[id]/'), '/blog/[id]', 'a pattern segment is kept as written');
    assert.equal(normalizePath('/%E0'), '/%25E0', 'invalid percent-encoding is encoded, not refused');
  });
});

describe('entity tags and conditional requests (RFC 9110 §8.8.3, §13.1.2)', () => {
  const etag = entityTag(new TextEncoder().encode('<p>hi</p>'));

  test('entityTag is strong, quoted, and changes with the bytes (and the data representation)', () => {
    assert.match(etag, /^"[^"]+"$/);
    assert.equal(entityTag(new TextEncoder().encode('<p>hi</p>')), etag);
    assert.notEqual(entityTag(new TextEncoder().encode('<p>ho</p>')), etag);
    assert.notEqual(entityTag(new TextEncoder().encode('<p>hi</p>'), new TextEncoder().encode('{}')), etag);
  });

  test('If-None-Match: a list, weak comparison, *, and optional whitespace including HTAB', () => {
    assert.equal(etagMatches(null, etag), false);
    assert.equal(etagMatches(etag, etag), true);
    assert.equal(etagMatches(`W/${etag}`, etag), true, 'weak comparison');
    assert.equal(etagMatches(`"other", ${etag}`, etag), true);
    assert.equal(etagMatches(`"other",\t${etag}`, etag), true);
    assert.equal(etagMatches('*', etag), true);
    assert.equal(etagMatches('"other"', etag), false);
  });

  test('representationEtag gives the data representation a tag of its own', () => {
    assert.equal(representationEtag('"abc"', 'json'), '"abc.json"');
    assert.equal(etagMatches('"abc"', representationEtag('"abc"', 'json')), false);
  });

  test('requestIsFresh (API routes, as Next.js): a match is fresh unless the request says Cache-Control: no-cache', () => {
    assert.equal(requestIsFresh(new Headers({ 'if-none-match': etag }), etag), true);
    assert.equal(requestIsFresh(new Headers({ 'if-none-match': `"x",\t${etag}` }), etag), true);
    assert.equal(requestIsFresh(new Headers({ 'if-none-match': etag, 'cache-control': 'no-cache' }), etag), false);
    assert.equal(requestIsFresh(new Headers(), etag), false);
  });
});

describe('Cache-Control values (RFC 9111 §5.2, RFC 5861)', () => {
  test('a cached page: s-maxage = revalidate, stale-while-revalidate = expire - revalidate (seconds)', () => {
    assert.equal(cacheControl(60, ONE_YEAR_SECONDS), `s-maxage=60, stale-while-revalidate=${ONE_YEAR_SECONDS - 60}`);
    assert.equal(cacheControl(60, 60), 's-maxage=60');
    assert.equal(cacheControl(60, 30), 's-maxage=60', 'an expire below revalidate gives no stale window');
    assert.equal(cacheControl(false, 60), `s-maxage=${ONE_YEAR_SECONDS}`);
  });

  test('the fixed values', () => {
    assert.equal(NO_STORE, 'private, no-cache, no-store, max-age=0, must-revalidate');
    assert.equal(PUBLIC_FILE, 'public, max-age=0');
    assert.equal(NOT_STORED, 'no-store');
  });
});

describe('what a stored response head may hold (RFC 9110 §5.5, §5.6.2)', () => {
  test('tokens, field values and heads', () => {
    assert.equal(isToken('x-custom'), true);
    assert.equal(isToken('bad name'), false);
    assert.equal(fieldValueProblem('ok\tvalue'), undefined);
    assert.match(fieldValueProblem('a\r\nb') ?? '', /U\+000D/);
    assert.match(fieldValueProblem('snowman ☃') ?? '', /U\+2603/);
    assert.equal(responseHeadProblem(200, { 'content-type': 'text/html' }), undefined);
    assert.equal(responseHeadProblem(100, {})?.field, 'status');
    assert.ok(responseHeadProblem(200, { 'set-cookie': 'a=b' }), 'a per-visitor header is never stored');
    assert.ok(responseHeadProblem(200, { 'Content-Type': 'text/html' }), 'names are stored lower-case');
  });
});

describe('Host and request targets (RFC 9112 §3.2)', () => {
  test('isValidHost accepts uri-host [":" port] and refuses anything else', () => {
    for (const host of ['example.com', 'example.com:8080', '127.0.0.1:3000', '[::1]:3000']) assert.equal(isValidHost(host), true, host);
    for (const host of ['a b', 'a/b', 'a@b\r', `${'a'.repeat(256)}`]) assert.equal(isValidHost(host), false, host);
  });

  test('absoluteFormTarget splits an absolute-form target into its authority and origin-form', () => {
    assert.deepEqual(absoluteFormTarget('http://example.com/blog?x=1'), { host: 'example.com', target: '/blog?x=1' });
    assert.deepEqual(absoluteFormTarget('https://example.com'), { host: 'example.com', target: '/' });
    assert.equal(absoluteFormTarget('/blog'), undefined);
    assert.equal(absoluteFormTarget('http:///blog'), undefined);
  });
});

describe('request bodies with a limit', () => {
  const post = (body: BodyInit, headers: Record<string, string> = {}) =>
    new Request('http://localhost/', { method: 'POST', body, headers });

  test('reads the bytes, or a string in the given charset', async () => {
    assert.deepEqual([...(await readBody(post('abc'), 3))], [97, 98, 99]);
    assert.equal(await readBody(post(new Uint8Array([0xe9])), 10, 'latin1'), 'é');
    assert.equal((await readBody(new Request('http://localhost/'), 10)).length, 0, 'no body reads as empty');
  });

  test('over the limit: 413, refused before reading when Content-Length says so', async () => {
    await assert.rejects(readBody(post('abcd'), 3), (error: unknown) => error instanceof BodyError && error.status === 413);
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new Uint8Array(1024));
      },
    });
    const declared = new Request('http://localhost/', {
      method: 'POST',
      body: endless,
      headers: { 'content-length': '4096' },
      duplex: 'half',
    } as RequestInit);
    await assert.rejects(readBody(declared, 1024), { name: 'BodyError', status: 413 });
    assert.ok(pulled <= 1, `read ${pulled} chunks of a body whose declared length was over the limit`);
  });

  test('an unknown charset: 415', async () => {
    await assert.rejects(readBody(post('abc'), 10, 'no-such-charset'), { name: 'BodyError', status: 415 });
  });
});

describe('trailingSlashOf: next.config trailingSlash, as Next.js writes paths', () => {
  test('adds the slash to a page path, never to a file’s; removes it without trailingSlash; leaves other hrefs', () => {
    const cases: [string, boolean, string][] = [
      ['/about', true, '/about/'],
      ['/about/', true, '/about/'],
      ['/about?x=1#top', true, '/about/?x=1#top'],
      ['/', true, '/'],
      ['/feed.xml', true, '/feed.xml'],
      ['/feed.xml/', true, '/feed.xml'],
      ['/about/', false, '/about'],
      ['/about//', false, '/about'],
      ['/about', false, '/about'],
      ['/', false, '/'],
      ['https://other.example/a', true, 'https://other.example/a'],
      ['//cdn.example/a', true, '//cdn.example/a'],
      ['#top', true, '#top'],
      ['relative', true, 'relative'],
    ];
    for (const [href, trailingSlash, expected] of cases)
      assert.equal(trailingSlashOf(href, trailingSlash), expected, `${href} ${trailingSlash}`);
  });
});

describe('trailingSlashRedirectOf: the server redirects of next.config trailingSlash, as next start has them', () => {
  test('a file-like path loses the slash, a dotless one gains it, other dotted paths and /.well-known/ are left alone', () => {
    const cases: [string, boolean, string][] = [
      ['/about', true, '/about/'],
      ['/about/', true, '/about/'],
      ['/feed.xml/', true, '/feed.xml'],
      ['/feed.xml', true, '/feed.xml'],
      ['/docs/v1.2-beta', true, '/docs/v1.2-beta'],
      ['/docs/v1.2-beta/', true, '/docs/v1.2-beta/'],
      ['/.well-known/apple-app-site-association', true, '/.well-known/apple-app-site-association'],
      ['/.well-known/acme-challenge/tOk3n_-x', true, '/.well-known/acme-challenge/tOk3n_-x'],
      ['/.well-known/security.txt/', true, '/.well-known/security.txt/'],
      ['/', true, '/'],
      ['/about/', false, '/about'],
      ['/about//', false, '/about'],
      ['/.well-known/x/', false, '/.well-known/x'],
      ['/about', false, '/about'],
      ['//evil.example/', true, '//evil.example/'],
      ['//evil.example/', false, '//evil.example/'],
    ];
    for (const [path, trailingSlash, expected] of cases)
      assert.equal(trailingSlashRedirectOf(path, trailingSlash), expected, `${path} ${trailingSlash}`);
  });
});
