/**
 * A third-party `'use client'` package from npm (react-intersection-observer 11.0.1, MIT, installed
 * from the fixture's package-lock.json with React beside it, as a real site has it): its component
 * used from a server component and its hook from a client component of the site both hydrate in
 * Chromium with the one React isr bundles (two copies would fail the hook with "Invalid hook call").
 */

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchChromium, recordPageErrors } from '../helpers/browser.ts';
import { newestMtime } from '../helpers/examples.ts';
import { type FixtureServer, request, startFixtureServer } from '../helpers/server.ts';
import { FIXTURES } from '../helpers/site.ts';

const SITE = path.join(FIXTURES, 'package-site');

let f: FixtureServer;
let browser: Browser;

before(async () => {
  const modules = path.join(SITE, 'node_modules');
  if (!existsSync(modules) || newestMtime(path.join(SITE, 'package-lock.json')) > newestMtime(modules)) {
    execFileSync('npm', ['ci', '--include=dev', '--no-audit', '--no-fund', '--ignore-scripts'], {
      cwd: SITE,
      stdio: 'pipe',
      timeout: 120_000,
    });
  }
  f = await startFixtureServer({}, { name: 'package-site', items: {} });
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await f?.close();
});

describe("a 'use client' package from node_modules", () => {
  it('renders into the cached HTML', async () => {
    const page = await request(f, '/');
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('x-isr-cache'), 'HIT');
    assert.match(page.text, /<section id="package-component"><p>rendered by the package<\/p><\/section>/);
    assert.match(page.text, /<p id="seen">in view: <!-- -->no<\/p>/);
  });

  it('hydrates with one React: the package’s hook reports the element in view, with no error', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors = recordPageErrors(page);
    await page.goto(`${f.url}/`);
    await page.locator('#seen', { hasText: 'in view: yes' }).waitFor({ timeout: 15_000 });
    assert.deepEqual(errors, []);
    await context.close();
  });
});

describe('Sass with the site’s own sass package', () => {
  it('compiles .scss and .module.scss in pages/ (global CSS in _app, a CSS Module in a page) and in app/', async () => {
    const page = await browser.newPage();
    const errors = recordPageErrors(page);
    for (const [route, title] of [
      ['/sass', 'Sass'],
      ['/sassy', 'Sassy'],
    ] as const) {
      const html = await request(f, route);
      assert.equal(html.status, 200, route);
      await page.goto(`${f.url}${route}`);
      await page.locator('#title', { hasText: title }).waitFor();
      const styles = await page.evaluate(() => ({
        radius: getComputedStyle(document.getElementById('card')!).borderRadius,
        spacing: getComputedStyle(document.getElementById('title')!).letterSpacing,
      }));
      assert.deepEqual(styles, { radius: '7px', spacing: '2px' }, route);
    }
    await page.goto(`${f.url}/sass`);
    assert.equal(await page.evaluate(() => getComputedStyle(document.body).borderTopColor), 'rgb(0, 128, 64)', "_app's global .scss");
    assert.deepEqual(errors, []);
    await page.close();
  });
});
