/**
 * The App Router's React Server Components: pages and layouts are Server Components, a
 * `'use client'` module is a client component, server-rendered into the cached HTML and hydrated
 * in the browser from the RSC payload the page carries; a page without client components ships no
 * JavaScript, and the browser's files are content-hashed and immutable. Client navigation
 * (`next/link`, `useRouter`) fetches the next page's RSC payload, stored in the page's own cache
 * entry and served with the same rules. Over HTTP and in headless Chromium.
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { DESKTOP_CHROME, launchChromium, recordPageErrors } from '../helpers/browser.ts';
import { type FixtureServer, request, startFixtureServer, TOKEN } from '../helpers/server.ts';

let f: FixtureServer;
let browser: Browser;
let context: BrowserContext;

/** `POST /_isr/revalidate` of one tag, as a CMS webhook does. */
function purgeTag(tag: string) {
  return request(f, '/_isr/revalidate', {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ tags: [tag] }),
  });
}

/** The script URLs a page's HTML loads (`import("/_isr/static/...")` and `src=`). */
function scriptUrls(html: string): string[] {
  return [...html.matchAll(/(?:import\("|src=")(\/_isr\/[^"]+\.js)"/g)].map((match) => match[1]!);
}

before(async () => {
  f = await startFixtureServer({}, { name: 'client-site', items: { '1': 'one', 'nav-a': 'page A', 'nav-b': 'page B' } });
  browser = await launchChromium();
  context = await browser.newContext({ userAgent: DESKTOP_CHROME });
});
after(async () => {
  await browser?.close();
  await f?.close();
});

describe('client components over HTTP', () => {
  it('are rendered into the cached HTML, which carries the RSC payload and the bootstrap script', async () => {
    const first = await request(f, '/');
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('x-isr-cache'), 'HIT', 'prerendered at build');
    assert.match(first.text, /<button id="counter" type="button">clicked<!-- --> <!-- -->2<\/button>/);
    assert.match(first.text, /<p id="hydrated">server<\/p>/);
    assert.match(first.text, /__FLIGHT_DATA/, 'the RSC payload is inlined');
    const scripts = scriptUrls(first.text);
    assert.ok(scripts.length >= 1, first.text);
    for (const url of scripts) {
      const asset = await request(f, url);
      assert.equal(asset.status, 200, url);
      assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      assert.match(asset.headers.get('content-type') ?? '', /javascript/);
      assert.match(url, /-[\w-]{8}\.js$/, 'content-hashed');
    }
  });

  it('a page without client components ships no JavaScript', async () => {
    const plain = await request(f, '/plain');
    assert.equal(plain.status, 200);
    assert.match(plain.text, /<h1 id="plain">Plain<\/h1>/);
    assert.doesNotMatch(plain.text, /<script/);
  });

  it('an unknown browser file is a 404, and nothing outside the build is reachable', async () => {
    assert.equal((await request(f, '/_isr/static/nope.js')).status, 404);
    assert.equal((await request(f, '/_isr/static/../../manifest.json')).status, 404);
    assert.equal((await request(f, '/_isr/package.json')).status, 404);
  });
});

describe('client components in headless Chromium', () => {
  it('next/image in a server component: a static import, sized by sizes, loaded through the image endpoint, hydrated without a mismatch', async () => {
    const html = (await request(f, '/gallery')).text;
    const tag = /<img [^>]*id="imported"[^>]*>/.exec(html)?.[0] ?? '';
    assert.match(tag, /width="200" height="125" decoding="async" data-nimg="1"/);
    assert.match(
      tag,
      /sizes="\(max-width: 600px\) 100vw, 50vw" srcSet="\/_next\/image\?url=%2F_isr%2Fstatic%2Fmedia%2Fgradient\.[0-9a-f]{8}\.png&amp;w=384&amp;q=75 384w, /,
    );
    const page = await context.newPage();
    const errors = recordPageErrors(page);
    const images: number[] = [];
    page.on('response', (response) => {
      if (response.url().includes('/_next/image')) images.push(response.status());
    });
    await page.goto(`${f.url}/gallery`);
    await page.waitForFunction(() => (document.getElementById('imported') as HTMLImageElement | null)?.complete === true);
    assert.equal(
      await page.evaluate(() => (document.getElementById('imported') as HTMLImageElement).naturalWidth > 0),
      true,
      'the image loaded',
    );
    assert.deepEqual(images, [200]);
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('hydrate: effects run and state changes on click, with no error', async () => {
    const page = await context.newPage();
    const errors = recordPageErrors(page);
    await page.goto(`${f.url}/`);
    await page.locator('#hydrated', { hasText: 'browser' }).waitFor({ timeout: 15_000 });
    await page.click('#counter');
    await page.click('#counter');
    assert.equal(await page.locator('#counter').textContent(), 'clicked 4');
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('props from server data cross into the client component, and follow a revalidation', async () => {
    const page = await context.newPage();
    await page.goto(`${f.url}/items/1`);
    await page.locator('#counter', { hasText: 'one 3' }).waitFor({ timeout: 15_000 });
    await hydrated(page, '#counter');
    await page.click('#counter');
    assert.equal(await page.locator('#counter').textContent(), 'one 4');

    f.api.items.set('1', 'uno!');
    const purge = await purgeTag('item-1');
    assert.equal(purge.status, 200, purge.text);
    await page.goto(`${f.url}/items/1`);
    await page.locator('#counter', { hasText: 'uno! 4' }).waitFor({ timeout: 15_000 });
    await hydrated(page, '#counter');
    await page.click('#counter');
    assert.equal(await page.locator('#counter').textContent(), 'uno! 5');
    assert.equal(await page.locator('#text').textContent(), 'uno!');
    await page.close();
  });
});

/**
 * Waits until React has hydrated the element at `selector` (React marks a hydrated DOM node with
 * its fiber): a click before that is the server HTML's, and nothing handles it.
 */
async function hydrated(page: Page, selector: string): Promise<void> {
  await page.waitForFunction(
    (target) => {
      const element = document.querySelector(target);
      return element !== null && Object.keys(element).some((key) => key.startsWith('__reactFiber'));
    },
    selector,
    { timeout: 15_000 },
  );
}

/** The build ID of the fixture's build (its data routes carry it). */
function buildId(): string {
  return (JSON.parse(readFileSync(path.join(f.dir, '.isr', 'build', 'manifest.json'), 'utf8')) as { buildId: string }).buildId;
}

describe('the RSC payload of a page (what client navigation fetches)', () => {
  it('is stored with the HTML in one entry: HIT, its own ETag, text/x-component, the same tags and purges', async () => {
    const url = `/_isr/data/${buildId()}/nav/a.rsc`;
    const payload = await request(f, url);
    assert.equal(payload.status, 200);
    assert.equal(payload.headers.get('x-isr-cache'), 'HIT');
    assert.equal(payload.headers.get('content-type'), 'text/x-component');
    assert.equal(payload.headers.get('cache-control'), 's-maxage=60, stale-while-revalidate=31535940');
    assert.match(payload.text, /page A/);
    const html = await request(f, '/nav/a');
    assert.notEqual(payload.headers.get('etag'), html.headers.get('etag'));
    assert.match(
      html.text,
      /<p id="where">\/nav\/a<\/p><p id="params">\{&quot;id&quot;:&quot;a&quot;\}<\/p>/,
      'usePathname and useParams in the server render',
    );
    assert.equal((await request(f, url, { headers: { 'if-none-match': payload.headers.get('etag')! } })).status, 304);

    f.api.items.set('nav-a', 'page A v2');
    const purge = await purgeTag('nav-a');
    assert.equal(purge.status, 200);
    const after = await request(f, url);
    assert.match(after.text, /page A v2/);
    assert.match((await request(f, '/nav/a')).text, /page A v2/, 'the HTML of the same entry agrees');
    f.api.items.set('nav-a', 'page A');
    await purgeTag('nav-a');
  });

  it('of a page that redirects is the same redirect to the target’s payload, which a fetch follows', async () => {
    const hop = await request(f, `/_isr/data/${buildId()}/moved.rsc`);
    assert.equal(hop.status, 307);
    assert.equal(hop.headers.get('location'), `/_isr/data/${buildId()}/nav/b.rsc?from=moved`);
    const followed = await fetch(`${f.url}/_isr/data/${buildId()}/moved.rsc`);
    assert.equal(followed.status, 200);
    assert.match(followed.headers.get('content-type') ?? '', /^text\/x-component/);
    assert.match(await followed.text(), /page B/);
  });

  it('is a 404 for another build, a path that is no App Router page, and a non-GET', async () => {
    assert.equal((await request(f, '/_isr/data/other-build/nav/a.rsc')).status, 404);
    assert.equal((await request(f, `/_isr/data/${buildId()}/nope/x.rsc`)).status, 404);
    assert.equal((await request(f, `/_isr/data/${buildId()}/nav/a.rsc`, { method: 'POST' })).status, 405);
  });
});

describe('client navigation in headless Chromium', () => {
  it('a link click renders the next ISR page from its cached payload, keeps the layout state, and follows revalidateTag', async () => {
    const page = await context.newPage();
    const payloads: { path: string; cache: string | undefined }[] = [];
    page.on('response', (response) => {
      const url = new URL(response.url());
      if (url.pathname.endsWith('.rsc')) payloads.push({ path: url.pathname, cache: response.headers()['x-isr-cache'] });
    });
    await page.goto(`${f.url}/nav/a`);
    await page.locator('#where', { hasText: '/nav/a' }).waitFor({ timeout: 15_000 });
    assert.equal(await page.locator('#params').textContent(), '{"id":"a"}');
    // Prefetched when the link came into view, before any click.
    await page.waitForFunction(() => performance.getEntriesByType('resource').some((entry) => entry.name.endsWith('/nav/b.rsc')));
    await page.evaluate(() => {
      (window as unknown as { marker: number }).marker = 1;
    });
    await page.click('#counter');
    await page.click('#counter');
    await page.click('#to-b');
    await page.locator('#nav-text', { hasText: 'page B' }).waitFor({ timeout: 15_000 });
    assert.equal(new URL(page.url()).pathname, '/nav/b');
    assert.equal(await page.locator('#where').textContent(), '/nav/b');
    assert.equal(await page.locator('#params').textContent(), '{"id":"b"}', 'useParams follows the navigation');
    assert.equal(await page.evaluate(() => (window as unknown as { marker?: number }).marker), 1, 'no full page load');
    assert.equal(await page.locator('#counter').textContent(), 'kept 2', "the layout's client state stays");
    const prefetchOfB = payloads.find((entry) => entry.path.endsWith('/nav/b.rsc'));
    assert.deepEqual([prefetchOfB?.path, prefetchOfB?.cache], [`/_isr/data/${buildId()}/nav/b.rsc`, 'HIT']);

    // Back to A through the browser's history, then the content changes and is purged by tag.
    await page.goBack();
    await page.locator('#nav-text', { hasText: 'page A' }).waitFor({ timeout: 15_000 });
    assert.equal(await page.locator('#where').textContent(), '/nav/a');
    f.api.items.set('nav-b', 'page B v2');
    const purge = await purgeTag('nav-b');
    assert.equal(purge.status, 200);
    await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 0)));
    await page.click('#push-a'); // useRouter().push to the page it is on: a no-op navigation
    // The prefetched payload of B is older than the purge only for its time to live; a refresh asks again.
    await page.click('#refresh');
    await page.click('#to-b');
    await page.locator('#nav-text', { hasText: /page B/ }).waitFor({ timeout: 15_000 });
    await page.waitForFunction(() => document.querySelector('#nav-text')?.textContent === 'page B v2', undefined, { timeout: 15_000 });
    assert.equal(await page.locator('#counter').textContent(), 'kept 2');
    assert.equal(await page.evaluate(() => (window as unknown as { marker?: number }).marker), 1);
    await page.close();
  });

  it('a link to a page without client components still navigates (its payload renders in place)', async () => {
    const page = await context.newPage();
    await page.goto(`${f.url}/nav/a`);
    await page.locator('#where', { hasText: '/nav/a' }).waitFor({ timeout: 15_000 });
    await page.click('#to-plain');
    await page.locator('#plain').waitFor({ timeout: 15_000 });
    assert.equal(new URL(page.url()).pathname, '/plain');
    await page.close();
  });
});

describe('error.tsx and loading.tsx', () => {
  it('the cached page is complete (no loading fallback); error.tsx catches a client component that throws, and reset() renders it again', async () => {
    const html = await request(f, '/boom');
    assert.equal(html.status, 200);
    assert.match(html.text, /<h1 id="boom">Boom<\/h1>/);
    assert.doesNotMatch(html.text, /id="loading"/);
    const page = await context.newPage();
    await page.goto(`${f.url}/boom`);
    await page.waitForFunction(() => (window as unknown as { __FLIGHT_DATA?: unknown }).__FLIGHT_DATA !== undefined);
    await page.waitForTimeout(200);
    await page.click('#throw');
    await page.locator('#segment-error').waitFor({ timeout: 15_000 });
    assert.equal(await page.locator('#error-message').textContent(), 'Something went wrong: the thrower threw');
    assert.equal(await page.locator('#boom').count(), 0, 'the segment (its page) is what the error UI replaces');
    assert.equal(await page.title(), 'client fixture', 'the layout around the boundary stays');
    await page.click('#reset');
    await page.locator('#throw').waitFor({ timeout: 15_000 });
    assert.equal(await page.locator('#segment-error').count(), 0);
    assert.equal(await page.locator('#boom').count(), 1);
    await page.close();
  });
});
