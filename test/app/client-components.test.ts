/**
 * The App Router's React Server Components (issue 16's first step): pages and layouts are Server
 * Components, a `'use client'` module is a client component, server-rendered into the cached HTML
 * and hydrated in the browser from the RSC payload the page carries; a page without client
 * components ships no JavaScript, and the browser's files are content-hashed and immutable.
 * Over HTTP and in headless Chromium.
 */

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type Browser, type BrowserContext, chromium } from 'playwright-core';
import { type FixtureServer, request, startFixtureServer } from '../helpers/server.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const DESKTOP_CHROME = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

let f: FixtureServer;
let browser: Browser;
let context: BrowserContext;

/** The script URLs a page's HTML loads (`import("/_isr/static/...")` and `src=`). */
function scriptUrls(html: string): string[] {
  return [...html.matchAll(/(?:import\("|src=")(\/_isr\/[^"]+\.js)"/g)].map((match) => match[1]!);
}

before(async () => {
  assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: install it (apt-get install -y chromium) or set CHROMIUM_PATH`);
  f = await startFixtureServer({}, { name: 'client-site', items: { '1': 'one' } });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], timeout: 30_000 });
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
  it('hydrate: effects run and state changes on click, with no error', async () => {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(String(error)));
    page.on('console', (message) => {
      // A missing favicon is the browser's own request, not the page's.
      if (message.type() === 'error' && !message.location().url.endsWith('/favicon.ico')) errors.push(message.text());
    });
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
    await page.click('#counter');
    assert.equal(await page.locator('#counter').textContent(), 'one 4');

    f.api.items.set('1', 'uno!');
    const purge = await request(f, '/_isr/revalidate', {
      method: 'POST',
      headers: { authorization: 'Bearer test-token-0123456789', 'content-type': 'application/json' },
      body: JSON.stringify({ tags: ['item-1'] }),
    });
    assert.equal(purge.status, 200, purge.text);
    await page.goto(`${f.url}/items/1`);
    await page.locator('#counter', { hasText: 'uno! 4' }).waitFor({ timeout: 15_000 });
    await page.click('#counter');
    assert.equal(await page.locator('#counter').textContent(), 'uno! 5');
    assert.equal(await page.locator('#text').textContent(), 'uno!');
    await page.close();
  });
});
