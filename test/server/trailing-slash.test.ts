/**
 * next.config's `trailingSlash: true` (https://nextjs.org/docs/app/api-reference/config/next-config-js/trailingSlash):
 * pages are at `/about/`, `/about` redirects there with a 308 (also on the memory fast path), a
 * file keeps its name (`/robots.txt`), and `next/link` writes hrefs with the slash, in both routers.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { build } from '../../src/build/build.ts';
import { createMemoryLogger } from '../../src/log.ts';
import { type RunningServer, startServer } from '../../src/server/index.ts';
import { fileTrees } from '../helpers/file-tree.ts';
import { request } from '../helpers/server.ts';

const trees = fileTrees('isr-trailing-slash');
let server: RunningServer;

before(async () => {
  const dir = trees.site({
    'next.config.js': 'module.exports = { trailingSlash: true };\n',
    'app/layout.tsx':
      'export default function Layout({ children }: { children: React.ReactNode }) { return <html><body>{children}</body></html>; }\n',
    'app/about/page.tsx':
      'import Link from \'next/link\';\nexport default function About() { return <main><p id="text">about</p><Link href="/docs">docs</Link> <Link href="/feed.xml">feed</Link> <Link href={{ pathname: \'/about\', query: { a: \'1\' } }}>self</Link></main>; }\n',
    'pages/docs.tsx':
      'import Link from \'next/link\';\nexport default function Docs() { return <main><p id="text">docs</p><Link href="/about">about</Link></main>; }\n',
    'public/robots.txt': 'User-Agent: *\n',
    'public/.assets/notes.txt': 'in a dot-folder\n',
    'public/.env': 'SECRET=1\n',
    'app/releases/[version]/page.tsx':
      'export default async function Release({ params }: { params: Promise<{ version: string }> }) { return <p id="text">release {(await params).version}</p>; }\n',
    // RFC 8615 resources answered by the site's code: their fetchers (Apple's, ACME's) follow no redirect.
    'middleware.ts':
      "export function middleware() { return Response.json({ applinks: {} }); }\nexport const config = { matcher: '/.well-known/:path*' };\n",
  });
  const logger = createMemoryLogger();
  await build({ siteDir: dir, logger });
  server = await startServer({ siteDir: dir, port: 0, hostname: '127.0.0.1', logger });
});
after(async () => {
  await server?.close();
  trees.cleanup();
});

describe('trailingSlash: true', () => {
  it('a page answers at its path with the slash; without it, a 308 there (the query kept), on every request', async () => {
    for (const round of [1, 2, 3]) {
      const bare = await request(server, '/about?x=1');
      assert.equal(bare.status, 308, `round ${round}`);
      assert.equal(bare.headers.get('location'), '/about/?x=1');
      const page = await request(server, '/about/');
      assert.equal(page.status, 200);
      assert.equal(page.headers.get('x-isr-cache'), 'HIT');
      assert.match(page.text, /<p id="text">about<\/p>/);
    }
    assert.equal((await request(server, '/docs')).headers.get('location'), '/docs/');
    assert.match((await request(server, '/docs/')).text, /<p id="text">docs<\/p>/);
  });

  it('a file keeps its name: /robots.txt is served, /robots.txt/ redirects to it', async () => {
    const file = await request(server, '/robots.txt');
    assert.equal(file.status, 200);
    assert.equal(file.text, 'User-Agent: *\n');
    const slashed = await request(server, '/robots.txt/');
    assert.equal(slashed.status, 308);
    assert.equal(slashed.headers.get('location'), '/robots.txt');
  });

  it('as next start: /.well-known/ paths are never redirected, nor a dotted path that is no file name', async () => {
    const association = await request(server, '/.well-known/apple-app-site-association');
    assert.equal(association.status, 200);
    assert.deepEqual(JSON.parse(association.text), { applinks: {} });
    for (const path of ['/releases/v1.2-beta', '/releases/v1.2-beta/']) {
      const release = await request(server, path);
      assert.equal(release.status, 200, path);
      assert.match(release.text, /release (<!-- -->)?v1\.2-beta/);
    }
    assert.equal((await request(server, '/releases/v1.2')).status, 200);
    assert.equal((await request(server, '/releases/v1.2/')).headers.get('location'), '/releases/v1.2');
  });

  it('a file of a dot-folder of public/ is served as it is, never redirected; a dot-file is not served', async () => {
    const file = await request(server, '/.assets/notes.txt');
    assert.equal(file.status, 200);
    assert.equal(file.text, 'in a dot-folder\n');
    assert.equal((await request(server, '/.env')).status, 404);
  });

  it('next/link writes hrefs with the slash (not a file’s), in the App Router and the Pages Router', async () => {
    const about = (await request(server, '/about/')).text;
    assert.match(about, /<a href="\/docs\/">docs<\/a>/);
    assert.match(about, /<a href="\/feed\.xml">feed<\/a>/);
    assert.match(about, /<a href="\/about\/\?a=1">self<\/a>/);
    assert.match((await request(server, '/docs/')).text, /<a href="\/about\/">about<\/a>/);
  });
});
