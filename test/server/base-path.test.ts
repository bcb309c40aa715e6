/**
 * next.config's `basePath: '/docs'` (https://nextjs.org/docs/app/api-reference/config/next-config-js/basePath):
 * the site is served under `/docs` in both routers (a path outside it is the 404 page), cache keys
 * stay the unprefixed page paths, every URL isr writes into a page carries the prefix and loads,
 * next.config's redirects get the prefix unless they say `basePath: false`, `redirect()` targets
 * get it, and Chromium hydrates and navigates client-side under it.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { build } from '../../src/build/build.ts';
import { ConfigError } from '../../src/config/errors.ts';
import { loadNextConfig } from '../../src/config/next-config.ts';
import { createMemoryLogger } from '../../src/log.ts';
import { type RunningServer, startServer } from '../../src/server/index.ts';
import { launchChromium, recordPageErrors } from '../helpers/browser.ts';
import { fileTrees } from '../helpers/file-tree.ts';
import { request, TOKEN } from '../helpers/server.ts';

const trees = fileTrees('isr-base-path');
let server: RunningServer;

const CONFIG = `module.exports = {
  basePath: '/docs',
  async redirects() {
    return [
      { source: '/old', destination: '/about', permanent: false },
      { source: '/legacy', destination: '/about', permanent: true, basePath: false },
    ];
  },
};
`;

before(async () => {
  const dir = trees.site({
    'next.config.js': CONFIG,
    'app/layout.tsx':
      'export default function Layout({ children }: { children: React.ReactNode }) { return <html><body>{children}</body></html>; }\n',
    'app/page.tsx':
      'import Link from \'next/link\';\nimport { Where } from \'./where\';\nexport default function Home() { return <main><p id="text">home</p><Where /><Link id="to-about" href="/about">about</Link></main>; }\n',
    'app/where.tsx':
      "'use client';\nimport { usePathname, useRouter } from 'next/navigation';\nexport function Where() { const router = useRouter(); return <><p id=\"where\">{usePathname()}</p><button id=\"home\" onClick={() => router.push('/')}>home</button></>; }\n",
    'app/about/page.tsx':
      'import { Where } from \'../where\';\nexport const revalidate = 3600;\nexport default function About() { return <main><p id="text">about {Date.now()}</p><Where /></main>; }\n',
    'app/go/page.tsx': "import { redirect } from 'next/navigation';\nexport default function Go() { redirect('/about'); }\n",
    'pages/moved.tsx':
      "export async function getStaticProps() { return { redirect: { destination: '/blog', permanent: false } }; }\nexport default function Moved() { return null; }\n",
    'pages/away.tsx':
      "export async function getStaticProps() { return { redirect: { destination: '/elsewhere', permanent: true, basePath: false } }; }\nexport default function Away() { return null; }\n",
    'pages/blog.tsx':
      'import Link from \'next/link\';\nimport { useRouter } from \'next/router\';\nexport async function getStaticProps() { return { props: { title: \'blog\' } }; }\nexport default function Blog({ title }: { title: string }) { const router = useRouter(); return <main><p id="text">{title}</p><p id="as">{router.asPath}</p><Link id="to-post" href="/post">post</Link></main>; }\n',
    'pages/post.tsx':
      'import Link from \'next/link\';\nimport { useRouter } from \'next/router\';\nexport async function getStaticProps() { return { props: { title: \'post\' } }; }\nexport default function Post({ title }: { title: string }) { const router = useRouter(); return <main><p id="text">{title}</p><p id="as">{router.asPath}</p><Link id="to-blog" href="/blog">blog</Link></main>; }\n',
    'public/robots.txt': 'User-Agent: *\n',
  });
  const logger = createMemoryLogger();
  await build({ siteDir: dir, logger });
  server = await startServer({ siteDir: dir, port: 0, hostname: '127.0.0.1', logger, config: { revalidateToken: TOKEN } });
});
after(async () => {
  await server?.close();
  trees.cleanup();
});

/** The site's own URLs (`/…`) in `html`'s `src` and `href` attributes. */
function ownUrls(html: string): string[] {
  return [...html.matchAll(/(?:src|href)="(\/[^"/][^"]*)"/g)].map((match) => match[1]!.replaceAll('&amp;', '&'));
}

describe('basePath: /docs', () => {
  it('a path outside the prefix is the 404 page; the prefix itself is the home page', async () => {
    for (const path of ['/', '/about', '/blog', '/docsabout', '/_isr/status', '/robots.txt']) {
      assert.equal((await request(server, path)).status, 404, path);
    }
    const home = await request(server, '/docs');
    assert.equal(home.status, 200);
    assert.match(home.text, /<p id="text">home<\/p>/);
    const slashed = await request(server, '/docs/?x=1');
    assert.equal(slashed.status, 308);
    assert.equal(slashed.headers.get('location'), '/docs?x=1');
  });

  it('pages of both routers and public files are served under the prefix, from the cache', async () => {
    for (const path of ['/docs/about', '/docs/blog']) {
      await request(server, path);
      const page = await request(server, path);
      assert.equal(page.status, 200, path);
      assert.equal(page.headers.get('x-isr-cache'), 'HIT', path);
    }
    assert.equal((await request(server, '/docs/robots.txt')).text, 'User-Agent: *\n');
  });

  it('every URL a page writes carries the prefix and loads (scripts, styles, data and payload routes)', async () => {
    for (const path of ['/docs', '/docs/about', '/docs/blog']) {
      const html = (await request(server, path)).text;
      const urls = ownUrls(html);
      assert.ok(
        urls.some((url) => url.startsWith('/docs/_isr/')),
        `${path} links its assets under the prefix`,
      );
      for (const url of urls) {
        assert.ok(url === '/docs' || url.startsWith('/docs/'), `${path} writes ${url} under /docs`);
        assert.equal((await request(server, url)).status, 200, `${path} → ${url}`);
      }
    }
    const blog = (await request(server, '/docs/blog')).text;
    const buildId = /"buildId":"([^"]+)"/.exec(blog)?.[1];
    assert.ok(buildId);
    const data = await request(server, `/docs/_isr/data/${buildId}/blog.json`);
    assert.equal(data.status, 200);
    assert.deepEqual(JSON.parse(data.text).pageProps, { title: 'blog' });
    assert.equal((await request(server, `/docs/_isr/data/${buildId}/about.rsc`)).status, 200);
    assert.equal((await request(server, `/_isr/data/${buildId}/blog.json`)).status, 404);
    // An App Router link to a Pages Router page: its payload route has no content (no error logged), the browser loads the page whole.
    const pagesPayload = await request(server, `/docs/_isr/data/${buildId}/blog.rsc`);
    assert.equal(pagesPayload.status, 204);
    assert.equal(pagesPayload.text, '');
  });

  it('next/link writes hrefs under the prefix in both routers; the router sees paths without it', async () => {
    const home = (await request(server, '/docs')).text;
    assert.match(home, /href="\/docs\/about"/);
    assert.match(home, /<p id="where">\/<\/p>/);
    const blog = (await request(server, '/docs/blog')).text;
    assert.match(blog, /href="\/docs\/post"/);
    assert.match(blog, /<p id="as">\/blog<\/p>/);
  });

  it("next.config's redirects get the prefix, unless the rule says basePath: false", async () => {
    const old = await request(server, '/docs/old?x=1');
    assert.equal(old.status, 307);
    assert.equal(old.headers.get('location'), '/docs/about?x=1');
    assert.equal((await request(server, '/old')).status, 404);
    const legacy = await request(server, '/legacy');
    assert.equal(legacy.status, 308);
    assert.equal(legacy.headers.get('location'), '/about', 'a basePath: false destination is taken as written');
    assert.equal((await request(server, '/docs/legacy')).status, 404);
  });

  it('redirect() in a page sends the browser to the target under the prefix', async () => {
    const go = await request(server, '/docs/go');
    assert.equal(go.status, 307);
    assert.equal(go.headers.get('location'), '/docs/about');
  });

  it('a getStaticProps redirect gets the prefix, unless it says basePath: false (its data route says so too)', async () => {
    const moved = await request(server, '/docs/moved');
    assert.equal(moved.status, 307);
    assert.equal(moved.headers.get('location'), '/docs/blog');
    const away = await request(server, '/docs/away');
    assert.equal(away.status, 308);
    assert.equal(away.headers.get('location'), '/elsewhere');
    const blog = (await request(server, '/docs/blog')).text;
    const buildId = /"buildId":"([^"]+)"/.exec(blog)?.[1];
    const data = await request(server, `/docs/_isr/data/${buildId}/away.json`);
    assert.deepEqual(JSON.parse(data.text).pageProps, {
      __N_REDIRECT: '/elsewhere',
      __N_REDIRECT_STATUS: 308,
      __N_REDIRECT_BASE_PATH: false,
    });
  });

  it('revalidation under the prefix purges the unprefixed page path', async () => {
    const before = (await request(server, '/docs/about')).text;
    const answer = await request(server, '/docs/_isr/revalidate', {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ paths: ['/about'] }),
    });
    assert.equal(answer.status, 200, answer.text);
    await request(server, '/docs/about');
    const after = await request(server, '/docs/about');
    assert.equal(after.headers.get('x-isr-cache'), 'HIT');
    const stamp = (html: string) => /about (?:<!-- -->)?(\d+)/.exec(html)?.[1];
    assert.ok(stamp(before) !== undefined);
    assert.notEqual(stamp(after.text), stamp(before), 'rendered anew');
    assert.equal((await request(server, '/_isr/revalidate', { method: 'POST' })).status, 404);
  });

  it('Chromium hydrates and navigates client-side under the prefix in both routers, with no errors', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const errors = recordPageErrors(page);
      page.on('response', (response) => {
        if (response.status() >= 400) errors.push(`${response.status()} ${response.url()}`);
      });
      await page.goto(`${server.url}/docs`);
      await page.waitForLoadState('networkidle');
      await page.evaluate(() => {
        (window as unknown as { marker: boolean }).marker = true;
      });
      await page.click('#to-about');
      await page.waitForURL(`${server.url}/docs/about`);
      await page.waitForSelector('#text:has-text("about")');
      assert.equal(await page.textContent('#where'), '/about');
      await page.click('#home');
      await page.waitForURL(`${server.url}/docs`);
      await page.waitForSelector('#text:has-text("home")');
      assert.equal(await page.evaluate(() => (window as unknown as { marker?: boolean }).marker), true, 'no full page load');

      await page.goto(`${server.url}/docs/blog`);
      await page.waitForLoadState('networkidle');
      await page.evaluate(() => {
        (window as unknown as { marker: boolean }).marker = true;
      });
      await page.click('#to-post');
      await page.waitForURL(`${server.url}/docs/post`);
      await page.waitForSelector('#text:has-text("post")');
      assert.equal(await page.textContent('#as'), '/post');
      await page.goBack();
      await page.waitForSelector('#text:has-text("blog")');
      assert.equal(await page.evaluate(() => (window as unknown as { marker?: boolean }).marker), true, 'no full page load');
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });
});

describe('basePath validation', () => {
  for (const value of ['docs', '/docs/', '/', 3]) {
    it(`refuses ${JSON.stringify(value)}, naming the file`, async () => {
      const dir = trees.site({ 'next.config.js': `module.exports = { basePath: ${JSON.stringify(value)} };\n` });
      await assert.rejects(
        loadNextConfig(dir),
        (error: Error) => error instanceof ConfigError && /next\.config\.js: basePath/.test(error.message),
      );
    });
  }
});
