/**
 * A real public App Router app, vercel/examples' app-directory/redirect-with-fallback (vendored
 * unmodified in test/fixtures/real-apps/redirect-with-fallback): `redirects()` of next.config.js
 * with path matching (`/complex-redirect-source/:path*`), and the simple redirects answered by a
 * catch-all route handler prerendered from `generateStaticParams` (`dynamic = 'error'`), whose
 * unknown paths throw; metadata from `@vercel/examples-ui`'s `getMetadata`, Tailwind through
 * PostCSS, `public/favicon.ico`. Built and served by isr and by Next.js (`next build` / `next
 * start`): every answer a browser or a crawler gets must match.
 */

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { DESKTOP_CHROME } from '../helpers/browser.ts';
import { realAppDir, serveBothWays } from '../helpers/real-app.ts';

const servers = serveBothWays('redirect-with-fallback');

/** Status and `Location` of `path`, not following redirects. */
async function redirectOf(base: string, path: string) {
  const response = await fetch(base + path, { redirect: 'manual' });
  await response.arrayBuffer();
  return { status: response.status, location: response.headers.get('location') };
}

/** The `<title>` and the `<meta name|property content>` of a page's head, as served. */
async function headOf(base: string, path: string) {
  const html = await (await fetch(base + path)).text();
  const head = /<head>([\s\S]*?)<\/head>/.exec(html)?.[1] ?? '';
  const title = /<title>([^<]*)<\/title>/.exec(head)?.[1];
  const metas = [...head.matchAll(/<meta (?:name|property)="([^"]+)" content="([^"]*)"\/>/g)].map((m) => `${m[1]}=${m[2]}`).sort();
  return { title, metas };
}

/** Plays a visitor: the home page, then each redirecting link in turn, back to the home page between. */
async function visit(base: string) {
  const context = await servers.browser.newContext({ userAgent: DESKTOP_CHROME, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  // What goes wrong in the page, as recordPageErrors (helpers/browser.ts) collects it.
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  const response = await page.goto(`${base}/`);
  await page.waitForLoadState('networkidle');
  const home = {
    status: response?.status(),
    title: await page.title(),
    heading: await page.locator('h1').textContent(),
    items: await page.locator('main li').allTextContents(),
    // Tailwind's preflight and the examples' Text component: what tells the stylesheet applied.
    style: await page.locator('h1').evaluate((element) => {
      const style = getComputedStyle(element);
      return { fontSize: style.fontSize, fontWeight: style.fontWeight, marginTop: style.marginTop, letterSpacing: style.letterSpacing };
    }),
    listStyle: await page.locator('main ul').evaluate((element) => getComputedStyle(element).listStyleType),
  };
  const followed: Record<string, { path: string; heading: string | null; snippet: string | null; sameDocument: boolean }> = {};
  for (const name of ['/simple-redirect-source', '/complex-redirect-source']) {
    // A mark on the document: still there after the click when the navigation was client-side.
    await page.evaluate(() => Object.assign(window, { __beforeClick: true }));
    await page.getByRole('link', { name, exact: true }).click();
    await page.waitForURL((url) => url.pathname !== '/');
    await page
      .locator('h1')
      .filter({ hasText: /redirect/ })
      .waitFor();
    followed[name] = {
      path: new URL(page.url()).pathname,
      heading: await page.locator('h1').textContent(),
      snippet: await page.locator('pre').first().textContent(),
      sameDocument: await page.evaluate(() => (window as unknown as { __beforeClick?: boolean }).__beforeClick === true),
    };
    await page.getByRole('link', { name: 'back', exact: true }).click();
    await page.locator('h1', { hasText: 'Redirects' }).waitFor();
  }
  await context.close();
  return { home, followed, errors };
}

describe('redirect-with-fallback (vercel/examples, App Router): isr start and next start', () => {
  it('the home page and both kinds of redirect, clicked in Chromium, as under next start', async () => {
    const withIsr = await visit(servers.isr.url);
    const withNext = await visit(servers.next.url);
    assert.equal(withIsr.home.status, 200);
    assert.equal(withIsr.home.title, 'Redirects with fallback - Vercel Examples');
    assert.equal(withIsr.home.heading, 'Redirects');
    assert.equal(withIsr.home.items.length, 2);
    assert.match(withIsr.home.items[1]!, /handled by redirects in next\.config\.js/);
    assert.equal(withIsr.home.listStyle, 'none', "Tailwind's preflight applies");
    assert.equal(withIsr.followed['/simple-redirect-source']!.path, '/simple-redirect-destination');
    assert.equal(withIsr.followed['/simple-redirect-source']!.heading, 'simple-redirect');
    assert.match(withIsr.followed['/simple-redirect-source']!.snippet ?? '', /"source": "\/simple-redirect-source"/);
    assert.equal(withIsr.followed['/complex-redirect-source']!.path, '/complex-redirect-destination');
    assert.equal(withIsr.followed['/complex-redirect-source']!.heading, 'complex-redirect');
    assert.ok(withIsr.followed['/simple-redirect-source']!.sameDocument, 'the redirect was followed client-side, without a page load');
    assert.deepEqual(withIsr.errors, []);
    assert.deepEqual(withIsr, withNext);
  });

  it('the RSC payload of a redirecting path redirects to its target’s payload, so the browser’s fetch lands there', async () => {
    const manifest = path.join(realAppDir('redirect-with-fallback'), '.isr', 'build', 'manifest.json');
    const build = (JSON.parse(await readFile(manifest, 'utf8')) as { buildId: string }).buildId;
    for (const [source, target] of [
      ['simple-redirect-source', 'simple-redirect-destination'],
      ['complex-redirect-source', 'complex-redirect-destination'],
    ]) {
      const hop = await fetch(`${servers.isr.url}/_isr/data/${build}/${source}.rsc`, { redirect: 'manual' });
      assert.ok([307, 308].includes(hop.status), `${source}: ${hop.status}`);
      assert.equal(hop.headers.get('location'), `/_isr/data/${build}/${target}.rsc`);
      const payload = await fetch(`${servers.isr.url}/_isr/data/${build}/${source}.rsc`);
      assert.equal(payload.status, 200);
      assert.match(payload.headers.get('content-type') ?? '', /^text\/x-component/);
      assert.match(await payload.text(), /redirect/);
    }
  });

  it('answers each redirect with the status and Location next start answers', async () => {
    const paths = [
      // next.config.js redirects(), with :path* matching zero or more segments.
      '/complex-redirect-source',
      '/complex-redirect-source/a',
      '/complex-redirect-source/a/b?x=1',
      // The route handler's prerendered redirect.
      '/simple-redirect-source',
      // A trailing slash is removed first (308).
      '/simple-redirect-source/',
    ];
    for (const path of paths) {
      const withIsr = await redirectOf(servers.isr.url, path);
      assert.deepEqual(withIsr, await redirectOf(servers.next.url, path), path);
      assert.ok([307, 308].includes(withIsr.status), path);
    }
    assert.deepEqual(await redirectOf(servers.isr.url, '/complex-redirect-source/a/b?x=1'), {
      status: 307,
      location: '/complex-redirect-destination/a/b?x=1',
    });
    assert.deepEqual(await redirectOf(servers.isr.url, '/simple-redirect-source'), {
      status: 307,
      location: '/simple-redirect-destination',
    });
  });

  it('prerenders the route handler’s redirect from generateStaticParams, cached as next start caches it', async () => {
    const withIsr = await fetch(`${servers.isr.url}/simple-redirect-source`, { redirect: 'manual' });
    const withNext = await fetch(`${servers.next.url}/simple-redirect-source`, { redirect: 'manual' });
    assert.equal(withIsr.headers.get('x-isr-cache'), 'HIT');
    assert.equal(withNext.headers.get('x-nextjs-cache'), 'HIT');
    assert.equal(withIsr.headers.get('cache-control'), withNext.headers.get('cache-control'));
  });

  it('a path the route handler does not know fails with a plain-text 500, as under next start', async () => {
    for (const path of ['/unknown', '/some/deep/path']) {
      const withIsr = await fetch(servers.isr.url + path, { redirect: 'manual' });
      const withNext = await fetch(servers.next.url + path, { redirect: 'manual' });
      assert.equal(withIsr.status, 500, path);
      assert.equal(withIsr.status, withNext.status, path);
      assert.equal(withIsr.headers.get('content-type')?.split(';')[0], withNext.headers.get('content-type'), path);
      assert.equal((await withIsr.text()).trim(), await withNext.text(), path);
    }
  });

  it('the title and meta tags of every page match next start’s', async () => {
    for (const path of ['/', '/simple-redirect-destination', '/complex-redirect-destination']) {
      const withIsr = await headOf(servers.isr.url, path);
      assert.equal(withIsr.title, 'Redirects with fallback - Vercel Examples', path);
      assert.ok(withIsr.metas.includes('description=Learn how to use a Next.js route handler for redirects'), path);
      assert.deepEqual(withIsr, await headOf(servers.next.url, path), path);
    }
  });

  it('serves public/favicon.ico with the bytes and type next start sends', async () => {
    const withIsr = await fetch(`${servers.isr.url}/favicon.ico`);
    const withNext = await fetch(`${servers.next.url}/favicon.ico`);
    assert.equal(withIsr.status, 200);
    assert.equal(withIsr.headers.get('content-type'), 'image/x-icon');
    assert.equal(withIsr.headers.get('content-type'), withNext.headers.get('content-type'));
    assert.deepEqual(Buffer.from(await withIsr.arrayBuffer()), Buffer.from(await withNext.arrayBuffer()));
  });
});
