/**
 * A real public Pages Router app, next-themes' own example (pacocoursey/next-themes
 * examples/example, vendored in test/fixtures/real-apps/next-themes-example): `ThemeProvider` from
 * the next-themes package in `_app`, a theme `<select>`, pages with a forced theme reached through
 * `next/link`, global CSS, JSX in `.js` files. Built and served by isr and by Next.js (`next build`
 * / `next start`, Next 14 as the app pins it), driven the same way in Chromium.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DESKTOP_CHROME, recordPageErrors } from '../helpers/browser.ts';
import { serveBothWays } from '../helpers/real-app.ts';

const servers = serveBothWays('next-themes-example');

/** Plays a visitor: picks the dark theme, visits the forced-light page by its link, comes back, reloads. */
async function visit(base: string) {
  const context = await servers.browser.newContext({ userAgent: DESKTOP_CHROME, viewport: { width: 800, height: 500 } });
  const page = await context.newPage();
  const errors = recordPageErrors(page);
  let documents = 0;
  page.on('request', (r) => {
    if (r.resourceType() === 'document') documents++;
  });
  const theme = () =>
    page.evaluate(() => ({
      attribute: document.documentElement.getAttribute('data-theme'),
      stored: localStorage.getItem('theme'),
      background: getComputedStyle(document.body).backgroundColor,
    }));
  await page.goto(`${base}/`);
  await page.waitForLoadState('networkidle');
  const initial = { theme: await theme(), options: await page.locator('select option').allInnerTexts() };
  await page.selectOption('select', 'dark');
  const dark = await theme();
  await page.getByRole('link', { name: 'Forced Light Page' }).click();
  await page.getByRole('link', { name: 'Go back home' }).waitFor();
  const forcedLight = { path: new URL(page.url()).pathname, theme: await theme() };
  await page.getByRole('link', { name: 'Go back home' }).click();
  await page.locator('select').waitFor();
  const home = { theme: await theme(), selected: await page.locator('select').inputValue() };
  const navigations = documents;
  await page.reload();
  await page.waitForLoadState('networkidle');
  const reloaded = { theme: await theme(), selected: await page.locator('select').inputValue() };
  await context.close();
  return { initial, dark, forcedLight, home, navigations, reloaded, errors };
}

describe('next-themes example (Pages Router): isr start and next start', () => {
  it('switches themes, forces one per page across client navigation, and keeps the choice, as under next start', async () => {
    const withIsr = await visit(servers.isr.url);
    const withNext = await visit(servers.next.url);
    const white = 'rgb(255, 255, 255)';
    const black = 'rgb(0, 0, 0)';
    assert.deepEqual(withIsr, {
      initial: { theme: { attribute: 'light', stored: null, background: white }, options: ['System', 'Dark', 'Light'] },
      dark: { attribute: 'dark', stored: 'dark', background: black },
      forcedLight: { path: '/light', theme: { attribute: 'light', stored: 'dark', background: white } },
      home: { theme: { attribute: 'dark', stored: 'dark', background: black }, selected: 'dark' },
      navigations: 1,
      reloaded: { theme: { attribute: 'dark', stored: 'dark', background: black }, selected: 'dark' },
      errors: [],
    });
    assert.deepEqual(withIsr, withNext);
  });

  it('serves the pages as ISR HITs, each hydrating from its __NEXT_DATA__', async () => {
    for (const route of ['/', '/dark', '/light']) {
      const response = await fetch(servers.isr.url + route);
      assert.equal(response.status, 200, route);
      assert.equal(response.headers.get('x-isr-cache'), 'HIT', route);
      assert.match(await response.text(), /<script id="__NEXT_DATA__" type="application\/json">/, route);
    }
  });
});
