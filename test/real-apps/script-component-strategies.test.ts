/**
 * A real public Pages Router app, vercel/examples' solutions/script-component-strategies (vendored
 * in test/fixtures/real-apps/script-component-strategies): `next/script` loading Stripe's SDK
 * `afterInteractive` and Facebook's `lazyOnload`, each page logging what its `onLoad` saw; an
 * `_app` that reads its `router` prop; `@vercel/examples-ui`'s layout and Tailwind through PostCSS.
 * Built and served by isr and by Next.js (`next build` / `next start`) and driven the same way in
 * Chromium. The third-party hosts are not reachable from the tests: Chromium answers them with a
 * small script that sets `window.Stripe` / `window.FB`, or fails them, the same for both servers.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BrowserContext } from 'playwright-core';
import { DESKTOP_CHROME } from '../helpers/browser.ts';
import { serveBothWays } from '../helpers/real-app.ts';

const servers = serveBothWays('script-component-strategies');

const THIRD_PARTY = /^https:\/\/(js\.stripe\.com|connect\.facebook\.net)\//;

/**
 * A browser context whose third-party scripts Chromium answers itself (`reachable`: a script
 * setting the SDK's global; otherwise a network failure), recording each script element added
 * with a `src` on another origin and the document's `readyState` at that moment.
 */
async function contextFor(reachable: boolean): Promise<{ context: BrowserContext; fetched: string[] }> {
  const context = await servers.browser.newContext({ userAgent: DESKTOP_CHROME, viewport: { width: 1280, height: 900 } });
  const fetched: string[] = [];
  await context.route(THIRD_PARTY, (route) => {
    fetched.push(route.request().url());
    if (!reachable) return route.abort('connectionrefused');
    const global = route.request().url().includes('stripe') ? 'Stripe' : 'FB';
    return route.fulfill({ status: 200, contentType: 'text/javascript', body: `window.${global} = { from: 'test' };` });
  });
  await context.addInitScript(() => {
    const seen: { src: string; readyState: string; strategy: string | null }[] = [];
    (window as unknown as { __scripts: typeof seen }).__scripts = seen;
    new MutationObserver((records) => {
      for (const record of records)
        for (const node of record.addedNodes)
          if (node instanceof HTMLScriptElement && node.src.startsWith('https://'))
            seen.push({ src: node.src, readyState: document.readyState, strategy: node.getAttribute('data-nscript') });
    }).observe(document, { childList: true, subtree: true });
  });
  return { context, fetched };
}

/** The log lines a demo page shows, without their timestamps. */
async function logOf(page: import('playwright-core').Page): Promise<string[]> {
  return (await page.locator('main li').allTextContents()).map((line) => line.replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z:\s*/, ''));
}

/** Opens a demo page, waits for its log to reach `lines` lines, reads what a visitor sees. */
async function demo(base: string, path: string, reachable: boolean, lines: number) {
  const { context, fetched } = await contextFor(reachable);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  const response = await page.goto(base + path);
  await page.waitForLoadState('load');
  await page.waitForFunction((n) => document.querySelectorAll('main li').length >= n, lines);
  // Long enough for a script injected late (lazyOnload waits for idle time) to have shown.
  await page.waitForTimeout(500);
  const seen = {
    status: response?.status(),
    title: await page.title(),
    heading: await page.locator('h1').textContent(),
    log: await logOf(page),
    scripts: await page.evaluate(() => (window as unknown as { __scripts: unknown[] }).__scripts),
    global: await page.evaluate(() =>
      JSON.stringify((window as unknown as Record<string, unknown>)[location.pathname === '/fb' ? 'FB' : 'Stripe']),
    ),
    backLink: await page.locator('footer a', { hasText: 'See all examples' }).count(),
    fetched,
    errors,
  };
  await context.close();
  return seen;
}

describe('script-component-strategies (vercel/examples, Pages Router next/script): isr start and next start', () => {
  it('afterInteractive: Stripe’s SDK is injected after hydration and its onLoad logs, as under next start', async () => {
    const withIsr = await demo(servers.isr.url, '/stripe', true, 2);
    assert.equal(withIsr.status, 200);
    assert.equal(withIsr.title, 'script component strategies - Vercel Examples');
    assert.equal(withIsr.heading, 'lazyOnload Stripe sdk');
    assert.deepEqual(withIsr.log, ['Page loaded window.Stripe is undefined', 'script loaded correctly, window.Stripe has been populated']);
    assert.equal(withIsr.global, '{"from":"test"}');
    assert.deepEqual(withIsr.fetched, ['https://js.stripe.com/v3/'], 'loaded once');
    assert.equal(withIsr.scripts.length, 1);
    assert.equal(withIsr.backLink, 1, "_app's router prop: the footer links home off the home page");
    assert.deepEqual(withIsr.errors, []);
    assert.deepEqual(withIsr, await demo(servers.next.url, '/stripe', true, 2));
  });

  it('lazyOnload: Facebook’s SDK is injected only once the page has loaded, and its onLoad logs, as under next start', async () => {
    const withIsr = await demo(servers.isr.url, '/fb', true, 2);
    assert.equal(withIsr.heading, 'lazyOnload FB sdk');
    assert.deepEqual(withIsr.log, ['Page loaded window.FB is undefined', 'script loaded correctly, window.FB has been populated']);
    assert.deepEqual(withIsr.scripts, [
      { src: 'https://connect.facebook.net/en_US/sdk.js', readyState: 'complete', strategy: 'lazyOnload' },
    ]);
    assert.deepEqual(withIsr, await demo(servers.next.url, '/fb', true, 2));
  });

  it('a third-party host that cannot be reached: the page keeps working, onLoad never logs, as under next start', async () => {
    for (const path of ['/stripe', '/fb']) {
      const withIsr = await demo(servers.isr.url, path, false, 1);
      assert.equal(withIsr.log.length, 1, path);
      assert.match(withIsr.log[0]!, /^Page loaded window\.(Stripe|FB) is undefined$/, path);
      assert.equal(withIsr.global, undefined, path);
      assert.deepEqual(withIsr.errors, [], path);
      assert.deepEqual(withIsr, await demo(servers.next.url, path, false, 1), path);
    }
  });

  it('the home page, its styles, and a client navigation to a demo that then loads its script', async () => {
    const visit = async (base: string) => {
      const { context, fetched } = await contextFor(true);
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(String(error)));
      const response = await page.goto(`${base}/`);
      await page.waitForLoadState('networkidle');
      const home = {
        status: response?.status(),
        title: await page.title(),
        heading: await page.locator('h1').textContent(),
        sections: await page.locator('h2').allTextContents(),
        footer: await page.locator('footer a', { hasText: 'See all examples' }).count(),
        styles: await page.locator('h1').evaluate((element) => {
          const style = getComputedStyle(element);
          return { fontSize: style.fontSize, fontWeight: style.fontWeight, letterSpacing: style.letterSpacing };
        }),
        snippet: await page.locator('pre').evaluate((element) => {
          const style = getComputedStyle(element);
          return { background: style.backgroundColor, radius: style.borderRadius, padding: style.padding };
        }),
        thirdParty: [...fetched],
      };
      await page.locator('#afterInteractive a', { hasText: 'Demo' }).click();
      await page.waitForURL(`${base}/stripe`);
      await page.waitForFunction(() => document.querySelectorAll('main li').length >= 2);
      const navigated = {
        log: await logOf(page),
        fetched: [...fetched],
        footer: await page.locator('footer a', { hasText: 'See all examples' }).count(),
      };
      await context.close();
      return { home, navigated, errors };
    };
    const withIsr = await visit(servers.isr.url);
    assert.equal(withIsr.home.status, 200);
    assert.equal(withIsr.home.heading, 'next/script strategies');
    assert.deepEqual(withIsr.home.sections, ['afterInteractive examples', 'lazyOnLoad examples']);
    assert.equal(withIsr.home.footer, 0, 'no "See all examples" on the home page');
    assert.deepEqual(withIsr.home.thirdParty, [], 'the home page loads no third-party script');
    assert.equal(withIsr.navigated.footer, 1, "_app's router prop follows the client navigation");
    assert.deepEqual(withIsr.navigated.log, [
      'Page loaded window.Stripe is undefined',
      'script loaded correctly, window.Stripe has been populated',
    ]);
    assert.deepEqual(withIsr.errors, []);
    assert.deepEqual(withIsr, await visit(servers.next.url));
  });
});
