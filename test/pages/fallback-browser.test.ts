/**
 * `getStaticPaths({ fallback: true })` in a real browser (headless Chromium): the first visitor of
 * an unlisted path sees the fallback page at once, and the page's script swaps in the generated
 * page when it is ready (Next.js `getStaticPaths`, "fallback: true",
 * https://nextjs.org/docs/pages/api-reference/functions/get-static-paths).
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext } from 'playwright-core';
import { DESKTOP_CHROME, launchChromium } from '../helpers/browser.ts';
import { type FixtureServer, startFixtureServer } from '../helpers/server.ts';

const ITEMS = { '1': 'one', '7': 'seven', moved: 'redirect:/lazy/1' };

let f: FixtureServer;
let browser: Browser;
let context: BrowserContext;

before(async () => {
  f = await startFixtureServer({}, { name: 'pages-site', items: ITEMS });
  browser = await launchChromium();
  context = await browser.newContext({ userAgent: DESKTOP_CHROME });
});
after(async () => {
  await browser?.close();
  await f?.close();
});

describe('fallback: true in headless Chromium', () => {
  it('shows the fallback page first, then swaps in the generated page at the same URL', async () => {
    f.api.delays.set('7', 1_500);
    const page = await context.newPage();
    const response = await page.goto(`${f.url}/lazy/7`, { waitUntil: 'domcontentloaded' });
    assert.equal(response?.status(), 200);
    assert.equal(response?.headers()['x-isr-cache'], 'FALLBACK');
    assert.equal(await page.locator('#fallback').textContent(), 'Loading /lazy/[id]…');
    await page.locator('#text').waitFor({ timeout: 15_000 });
    assert.equal(await page.locator('#text').textContent(), 'seven');
    assert.equal(await page.locator('#fallback').count(), 0);
    assert.equal(await page.title(), 'Lazy 7');
    assert.equal(new URL(page.url()).pathname, '/lazy/7');
    assert.equal(f.api.callsFor('7'), 1, 'the fallback visit and the swap shared one generation');
    await page.close();
  });

  it('follows a redirect result and shows the 404 page for a notFound result', async () => {
    const page = await context.newPage();
    await page.goto(`${f.url}/lazy/moved`, { waitUntil: 'domcontentloaded' });
    await page.waitForURL(`${f.url}/lazy/1`, { timeout: 15_000 });
    assert.equal(await page.locator('#text').textContent(), 'one');

    await page.goto(`${f.url}/lazy/missing`, { waitUntil: 'domcontentloaded' });
    await page.locator('#not-found').waitFor({ timeout: 15_000 });
    assert.equal(await page.locator('#not-found').textContent(), 'Nothing here');
    await page.close();
  });
});
