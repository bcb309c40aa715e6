/**
 * The middleware's build step and `next/server`: what `isr build` records of a `proxy.ts` /
 * `middleware.ts` (the function's export, `config.matcher` compiled with Next.js's rules), what it
 * refuses with the file named, and the `NextRequest` / `NextResponse` shims' own rules (cookies,
 * absolute URLs, the header protocol the server reads).
 * @see https://nextjs.org/docs/app/api-reference/file-conventions/proxy
 */

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { build } from '../../src/build/build.ts';
import { createMemoryLogger } from '../../src/log.ts';
import { NextRequest, NextResponse } from '../../src/render/next-server.ts';
import { mergedCookies } from '../../src/server/middleware.ts';
import { compileMatchers } from '../../src/site/middleware.ts';
import { fileTrees } from '../helpers/file-tree.ts';

const trees = fileTrees('isr-middleware');
after(() => trees.cleanup());

const PAGE = 'export default function Page() { return <p>page</p>; }\n';

async function buildSite(files: Record<string, string>) {
  const logger = createMemoryLogger();
  const result = await build({ siteDir: trees.site({ 'pages/index.jsx': PAGE, ...files }), logger });
  return { manifest: result.manifest, lines: logger.lines };
}

describe('isr build: the middleware file', () => {
  it('proxy.ts: compiled, its export and matchers recorded', async () => {
    const { manifest } = await buildSite({
      'proxy.ts':
        "import { NextResponse } from 'next/server';\nexport function proxy() { return NextResponse.next(); }\nexport const config = { matcher: ['/about/:path*', { source: '/api/:path*', has: [{ type: 'cookie', key: 'session' }] }] };\n",
    });
    assert.equal(manifest.middleware?.file, 'proxy.ts');
    assert.equal(manifest.middleware?.export, 'proxy');
    assert.match(manifest.middleware?.module ?? '', /^middleware\/proxy\.mjs$/);
    assert.deepEqual(
      manifest.middleware?.matchers.map(({ source, has }) => ({ source, has })),
      [
        { source: '/about/:path*', has: undefined },
        { source: '/api/:path*', has: [{ type: 'cookie', key: 'session', value: undefined }] },
      ],
    );
  });

  it('middleware.js with a default export and no matcher: every path, and a notice of the rename', async () => {
    const { manifest, lines } = await buildSite({ 'middleware.js': 'export default function middleware() {}\n' });
    assert.equal(manifest.middleware?.export, 'default');
    assert.deepEqual(manifest.middleware?.matchers, [{ source: '/:path*', regexp: '^/.*$' }]);
    assert.ok(lines.some((line) => line.includes('middleware.js: the middleware file convention is deprecated')));
  });

  it('a site without one records none', async () => {
    assert.equal((await buildSite({})).manifest.middleware, undefined);
  });

  it('src/middleware.ts beside a root pages/ is not run (as under next build), with a warning', async () => {
    const { manifest, lines } = await buildSite({ 'src/middleware.ts': 'export default function middleware() {}\n' });
    assert.equal(manifest.middleware, undefined);
    assert.ok(lines.some((line) => line.includes('src/middleware.ts is not run')));
  });

  it("runtime 'edge' in middleware.ts builds with a warning (it runs on Node.js)", async () => {
    const { manifest, lines } = await buildSite({
      'middleware.ts': "export function middleware() {}\nexport const config = { runtime: 'experimental-edge', matcher: '/' };\n",
    });
    assert.equal(manifest.middleware?.export, 'middleware');
    assert.ok(lines.some((line) => line.includes("config.runtime 'experimental-edge': isr runs the middleware on Node.js")));
  });

  const refused: [string, Record<string, string>, RegExp][] = [
    [
      'both proxy.ts and middleware.ts',
      { 'proxy.ts': 'export default () => {}\n', 'middleware.ts': 'export default () => {}\n' },
      /both middleware\.ts and proxy\.ts exist: keep proxy\.ts only/,
    ],
    [
      'no function exported',
      { 'proxy.ts': 'export const config = {};\n' },
      /proxy\.ts must export a function named `proxy` or a default function/,
    ],
    [
      'a middleware.ts exporting `proxy` only',
      { 'middleware.ts': 'export function proxy() {}\n' },
      /middleware\.ts must export a function named `middleware`/,
    ],
    [
      'a matcher path-to-regexp cannot parse',
      { 'proxy.ts': "export default () => {};\nexport const config = { matcher: ['/ok', '/(.*'] };\n" },
      /proxy\.ts: config\.matcher\[1\]: "\/\(\.\*" is not a valid path pattern/,
    ],
    [
      'a matcher not starting with /',
      { 'proxy.ts': "export default () => {};\nexport const config = { matcher: 'about' };\n" },
      /proxy\.ts: config\.matcher: the source must be a path starting with \//,
    ],
    [
      'a bad has condition',
      { 'proxy.ts': "export default () => {};\nexport const config = { matcher: { source: '/', has: [{ type: 'ip' }] } };\n" },
      /proxy\.ts: config\.matcher\.has: each condition needs a type of header, cookie, query or host/,
    ],
    [
      'an unknown config key',
      { 'proxy.ts': "export default () => {};\nexport const config = { matchers: ['/'] };\n" },
      /proxy\.ts: config\.matchers is not a middleware setting/,
    ],
    [
      'runtime in proxy.ts (Next.js 16 refuses it)',
      { 'proxy.ts': "export default () => {};\nexport const config = { runtime: 'nodejs' };\n" },
      /proxy\.ts: config\.runtime is not allowed in proxy\.ts/,
    ],
    [
      'an import next/server does not provide',
      { 'proxy.ts': "import { userAgent } from 'next/server';\nexport default (r) => { userAgent(r); };\n" },
      /No matching export in .*next-server\.ts" for import "userAgent".*proxy\.ts:1:9/s,
    ],
    [
      'a module that throws when loaded',
      { 'proxy.ts': "throw new Error('boom at load');\nexport default () => {};\n" },
      /proxy\.ts failed to load: boom at load/,
    ],
  ];
  for (const [what, files, message] of refused) {
    it(`refuses ${what}, naming the file`, async () => {
      await assert.rejects(buildSite(files), message);
    });
  }
});

describe('config.matcher: Next.js compiles it with path-to-regexp 6, not strict, case-sensitive', () => {
  const covers = (source: string, path: string) => compileMatchers(source, 'proxy.ts').some(({ regexp }) => new RegExp(regexp).test(path));

  it('named params, zero-or-more and a trailing slash', () => {
    assert.equal(covers('/about/:path*', '/about'), true);
    assert.equal(covers('/about/:path*', '/about/a/b'), true);
    assert.equal(covers('/about/:path*', '/about/'), true);
    assert.equal(covers('/about/:path*', '/aboutx'), false);
    assert.equal(covers('/about', '/About'), false);
    assert.equal(covers('/', '/'), true);
    assert.equal(covers('/', '/x'), false);
  });

  it("the exclusion pattern of Next.js's docs", () => {
    const source = '/((?!api|_next/static|_next/image|favicon.ico).*)';
    assert.equal(covers(source, '/'), true);
    assert.equal(covers(source, '/blog/1'), true);
    assert.equal(covers(source, '/api/x'), false);
    assert.equal(covers(source, '/_next/static/a.js'), false);
    assert.equal(covers(source, '/favicon.ico'), false);
  });

  it('an empty list is refused (leave the matcher out to match every path)', () => {
    assert.throws(() => compileMatchers([], 'proxy.ts'), /proxy\.ts: config\.matcher is an empty list/);
  });
});

describe('next/server', () => {
  it('NextResponse.redirect: absolute URLs only, redirect statuses only, 307 by default', () => {
    assert.throws(() => NextResponse.redirect('/relative'), { name: 'TypeError', message: /URL is malformed "\/relative"/ });
    assert.throws(() => NextResponse.redirect('https://example.com/', 200), RangeError);
    const redirect = NextResponse.redirect(new URL('/en', 'https://example.com/x'));
    assert.equal(redirect.status, 307);
    assert.equal(redirect.headers.get('location'), 'https://example.com/en');
  });

  it('NextResponse cookies: one Set-Cookie each, Path=/ by default, maxAge also sets Expires; delete expires it', () => {
    const response = NextResponse.next();
    response.cookies.set('a', 'x y', { httpOnly: true, sameSite: 'lax', maxAge: 60 });
    response.cookies.set({ name: 'b', value: '1', path: '/shop', secure: true });
    response.cookies.delete('c');
    const [a, b, c] = response.headers.getSetCookie();
    assert.match(a!, /^a=x%20y; Path=\/; Expires=[^;]+ GMT; Max-Age=60; HttpOnly; SameSite=lax$/);
    assert.equal(b, 'b=1; Path=/shop; Secure');
    assert.equal(c, 'c=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT');
    assert.equal(response.cookies.get('b')?.value, '1');
    // The cookies also reach the request the page gets (server/middleware.ts reads this field).
    assert.match(response.headers.get('x-middleware-set-cookie') ?? '', /^a=x%20y; .*,b=1; Path=\/shop; Secure,c=; /);
  });

  it('NextResponse.next({ request: { headers } }) and rewrite(): the fields the server reads', () => {
    const headers = new Headers({ 'x-user': 'ada' });
    const next = NextResponse.next({ request: { headers } });
    assert.equal(next.headers.get('x-middleware-next'), '1');
    assert.equal(next.headers.get('x-middleware-override-headers'), 'x-user');
    assert.equal(next.headers.get('x-middleware-request-x-user'), 'ada');
    assert.equal(
      NextResponse.rewrite(new URL('https://example.com/b?x=1')).headers.get('x-middleware-rewrite'),
      'https://example.com/b?x=1',
    );
    assert.throws(() => NextResponse.rewrite('/b'), TypeError);
  });

  it('NextRequest: cookies as { name, value }, nextUrl a URL that clones', () => {
    const request = new NextRequest('https://example.com/home?x=1', { headers: { cookie: 'bucket=a; theme=dark%20blue' } });
    assert.deepEqual(request.cookies.get('bucket'), { name: 'bucket', value: 'a' });
    assert.equal(request.cookies.get('theme')?.value, 'dark blue');
    assert.equal(request.cookies.has('none'), false);
    const url = request.nextUrl.clone();
    url.pathname = '/home/a';
    assert.equal(request.nextUrl.pathname, '/home');
    assert.equal(url.href, 'https://example.com/home/a?x=1');
    request.cookies.set('bucket', 'b');
    assert.equal(request.headers.get('cookie'), 'bucket=b; theme=dark%20blue');
  });

  it('the cookies a middleware sets reach the page over the request’s, those it deletes do not; an Expires date’s comma splits nothing', () => {
    const set = [
      'fresh=1; Path=/; Expires=Thu, 01 Jan 2099 00:00:00 GMT; HttpOnly',
      'gone=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT',
      'zero=x; Max-Age=0',
      'plain=two',
    ].join(', ');
    assert.equal(mergedCookies('gone=old; keep=me; plain=one; zero=y', set), 'keep=me; plain=two; fresh=1');
    assert.equal(mergedCookies(null, 'a=1, b=2'), 'a=1; b=2');
  });
});
