/**
 * The Pages Router in headless Chromium: pages hydrate with the props their document carries
 * (`__NEXT_DATA__`), `next/link` and `router.push` navigate client-side through the data route
 * (served from the ISR cache, and following an on-demand revalidation), `_app` keeps its state
 * across navigations, `Router.events` fire, back and forward work, stylesheets (global CSS in
 * `_app`, a CSS Module in a page) apply, and the browser's bundles hold no server code
 * (`getStaticProps` and what only it imports are dropped).
 * @see https://nextjs.org/docs/pages/building-your-application/routing/linking-and-navigating
 */

import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { DESKTOP_CHROME, launchChromium, recordPageErrors } from '../helpers/browser.ts';
import { type FixtureServer, request, startFixtureServer, TOKEN } from '../helpers/server.ts';

let f: FixtureServer;
let browser: Browser;
let buildId: string;

before(async () => {
  f = await startFixtureServer({}, { name: 'pages-client-site', items: { '1': 'one', '2': 'two' } });
  buildId = JSON.parse(await readFile(path.join(f.dir, '.isr', 'build', 'manifest.json'), 'utf8')).buildId;
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await f?.close();
});

/** A page with its errors and every request it makes recorded. */
async function open(
  url: string,
): Promise<{ page: Page; errors: string[]; requests: { url: string; type: string }[]; close(): Promise<void> }> {
  const context = await browser.newContext({ userAgent: DESKTOP_CHROME });
  const page = await context.newPage();
  const errors = recordPageErrors(page);
  const requests: { url: string; type: string }[] = [];
  page.on('request', (r) => requests.push({ url: r.url().replace(f.url, ''), type: r.resourceType() }));
  await page.goto(`${f.url}${url}`);
  return { page, errors, requests, close: () => context.close() };
}

/** Waits until the page hydrated: its counter answers a click. */
async function hydrated(page: Page): Promise<void> {
  await page.locator('#app-clicks').click();
  await page.locator('#app-clicks', { hasText: 'app clicks: 1' }).waitFor({ timeout: 10_000 });
}

describe('Pages Router in the browser', () => {
  it('hydrates a page with its props: its state works, and the document carries __NEXT_DATA__', async () => {
    const html = await request(f, '/items/1');
    assert.match(
      html.text,
      new RegExp(
        `"props":\\{"pageProps":\\{"id":"1","text":"one"\\}\\},"page":"/items/\\[id\\]","query":\\{"id":"1"\\},"buildId":"${buildId}"`,
      ),
    );
    const { page, errors, close } = await open('/about');
    await hydrated(page);
    await page.locator('#count').click();
    await page.locator('#count', { hasText: 'count: 1' }).waitFor();
    assert.deepEqual(errors, []);
    await close();
  });

  it('a link navigates client-side through the data route; _app keeps its state; the title, URL and events follow', async () => {
    const { page, errors, requests, close } = await open('/');
    await hydrated(page);
    assert.equal(await page.locator('#text').textContent(), 'one');
    assert.equal(await page.locator('#app-route').textContent(), '/ /', "_app's router prop (AppProps), server-rendered and hydrated");
    const documents = requests.filter((r) => r.type === 'document').length;
    await page.locator('#to-2').click();
    await page.waitForURL(`${f.url}/items/2`);
    await page.locator('h1', { hasText: 'Item 2' }).waitFor();
    assert.equal(await page.locator('#app-route').textContent(), '/items/[id] /items/2', "_app's router prop follows the navigation");
    assert.equal(await page.locator('#text').textContent(), 'two');
    assert.equal(await page.locator('#query').textContent(), '{"id":"2"}');
    assert.equal(await page.title(), 'Item 2');
    assert.equal(await page.locator('#app-clicks').textContent(), 'app clicks: 1', "_app's state survives the navigation");
    assert.equal(requests.filter((r) => r.type === 'document').length, documents, 'no document load');
    assert.ok(
      requests.some((r) => r.url === `/_isr/data/${buildId}/items/2.json`),
      'the props came from the data route',
    );
    assert.deepEqual(await page.locator('#events li').allTextContents(), ['start /items/2', 'complete /items/2']);

    // router.push from a page's button, then back and forward.
    await page.locator('#push-about').click();
    await page.waitForURL(`${f.url}/about`);
    await page.locator('#about').waitFor();
    await page.goBack();
    await page.locator('h1', { hasText: 'Item 2' }).waitFor();
    await page.goBack();
    await page.locator('h1', { hasText: 'Home' }).waitFor();
    assert.equal(await page.locator('#text').textContent(), 'one');
    await page.goForward();
    await page.locator('h1', { hasText: 'Item 2' }).waitFor();
    assert.equal(await page.locator('#app-clicks').textContent(), 'app clicks: 1');
    assert.equal(requests.filter((r) => r.type === 'document').length, documents, 'still no document load');
    assert.deepEqual(errors, []);
    await close();
  });

  it('the data route a navigation reads is served from the ISR cache, and follows an on-demand revalidation', async () => {
    const data = `/_isr/data/${buildId}/items/1.json`;
    const cached = await request(f, data);
    assert.equal(cached.headers.get('x-isr-cache'), 'HIT');
    assert.deepEqual(JSON.parse(cached.text).pageProps, { id: '1', text: 'one' });

    f.api.items.set('1', 'one, revised');
    const revalidated = await fetch(`${f.url}/_isr/revalidate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ paths: ['/items/1'] }),
    });
    assert.equal(revalidated.status, 200);

    const { page, errors, close } = await open('/about');
    await hydrated(page);
    await page.locator('#to-1').click();
    await page.locator('h1', { hasText: 'Item 1' }).waitFor();
    assert.equal(await page.locator('#text').textContent(), 'one, revised');
    assert.deepEqual(errors, []);
    await close();
  });

  it('a link to a path no page matches loads the server’s 404 page', async () => {
    const { page, close } = await open('/');
    await hydrated(page);
    await page.locator('#to-nowhere').click();
    await page.locator('#not-found').waitFor();
    assert.equal(new URL(page.url()).pathname, '/nowhere');
    await close();
  });

  it('applies the stylesheets: global CSS from _app and a CSS Module, whose class the server rendered', async () => {
    const { page, errors, close } = await open('/about');
    await hydrated(page);
    assert.equal(await page.evaluate(() => getComputedStyle(document.body).color), 'rgb(10, 20, 30)');
    assert.equal(await page.evaluate(() => getComputedStyle(document.getElementById('about')!).borderLeftColor), 'rgb(200, 0, 0)');
    const html = await request(f, '/about');
    const stylesheets = [...html.text.matchAll(/<link rel="stylesheet" href="([^"]+)"/g)].map((m) => m[1]!);
    assert.equal(stylesheets.length, 2);
    for (const href of stylesheets) {
      const css = await fetch(f.url + href);
      assert.equal(css.status, 200);
      assert.equal(css.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      assert.match(css.headers.get('content-type') ?? '', /^text\/css/);
    }
    assert.deepEqual(errors, []);
    await close();
  });

  it('ships no server code: getStaticProps and what only it imports stay out of the browser bundles', async () => {
    const dir = path.join(f.dir, '.isr', 'build', 'client', 'static', 'pages');
    const files = (await readdir(dir, { recursive: true })).filter((file) => file.endsWith('.js'));
    assert.ok(files.length > 3);
    for (const file of files) {
      const text = await readFile(path.join(dir, file), 'utf8');
      assert.doesNotMatch(text, /server-only-marker|getStaticProps|readFileSync|FIXTURE_API_URL/, file);
    }
  });
});

describe('next/script', () => {
  it('beforeInteractive is a blocking script in the HTML; afterInteractive is preloaded, then loaded once after hydration; lazyOnload runs when idle', async () => {
    const html = (await request(f, '/scripts')).text;
    const head = /<head>(.*)<\/head>/s.exec(html)?.[1] ?? '';
    assert.match(html, /<main><script src="\/before\.js" data-nscript="beforeInteractive"><\/script>/);
    assert.match(head, /<link rel="preload" href="\/counter\.js" as="script"\/>/);
    assert.doesNotMatch(html, /<script[^>]*src="\/counter\.js"/, 'not in the HTML: the browser injects it');

    const { page, errors, close } = await open('/scripts');
    await page.locator('#loaded', { hasText: 'loaded: yes' }).waitFor();
    await page.waitForFunction(() => (window as { __lazyRan?: number }).__lazyRan === 1);
    assert.equal(await page.evaluate(() => (window as { __beforeAt?: string }).__beforeAt), 'loading', 'ran while the document was parsed');
    // Each script element marked with its strategy, as Next.js marks it.
    assert.deepEqual(
      await page
        .locator('script[data-nscript]')
        .evaluateAll((elements) =>
          elements.map((element) => `${element.getAttribute('src') ?? element.id}: ${element.getAttribute('data-nscript')}`),
        ),
      ['/before.js: beforeInteractive', '/counter.js: afterInteractive', 'lazy-inline: lazyOnload'],
    );
    // Away and back by client navigation: the script is not loaded again, onReady runs again.
    await page.locator('#scripts-to-about').click();
    await page.locator('#about').waitFor();
    await page.goBack();
    await page.locator('#ready', { hasText: 'ready: 1' }).waitFor();
    assert.equal(await page.evaluate(() => (window as { __counterRuns?: number }).__counterRuns), 1);
    assert.equal(await page.evaluate(() => (window as { __lazyRan?: number }).__lazyRan), 1);
    assert.deepEqual(errors, []);
    await close();
  });
});
