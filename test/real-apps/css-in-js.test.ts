/**
 * A real public App Router app, vercel/examples' app-directory/css-in-js (vendored unmodified in
 * test/fixtures/real-apps/css-in-js): Chakra UI's client components (Emotion styles, Framer
 * Motion) inside a client provider. Built and served by isr and by Next.js (`next build` / `next
 * start`), driven the same way in Chromium: what a person sees must match.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DESKTOP_CHROME, recordPageErrors } from '../helpers/browser.ts';
import { serveBothWays } from '../helpers/real-app.ts';

const servers = serveBothWays('css-in-js');

/** Plays a visitor: from the home page's link to the demo, then through its tabs. */
async function visit(base: string) {
  const context = await servers.browser.newContext({ userAgent: DESKTOP_CHROME, viewport: { width: 1280, height: 1000 } });
  const page = await context.newPage();
  const errors = recordPageErrors(page);
  await page.goto(`${base}/`);
  await page.waitForLoadState('networkidle');
  await page.getByRole('link', { name: 'Click here to see a working demo' }).click();
  await page.getByRole('tab', { name: 'One' }).waitFor();
  const path = new URL(page.url()).pathname;
  const panel = () => page.locator('[role=tabpanel]:not([hidden])').textContent();
  const first = { selected: await page.getByRole('tab', { selected: true }).textContent(), panel: await panel() };
  await page.getByRole('tab', { name: 'Three' }).click();
  await page.getByText('three!').waitFor();
  const third = { selected: await page.getByRole('tab', { selected: true }).textContent(), panel: await panel() };
  const buttons = await page.getByRole('button', { name: 'Button' }).evaluateAll((elements) =>
    elements.map((element) => {
      const style = getComputedStyle(element);
      return {
        border: style.borderTopColor,
        radius: style.borderRadius,
        height: style.height,
        weight: style.fontWeight,
        color: style.color,
      };
    }),
  );
  const skeletons = await page.locator('.chakra-skeleton').count();
  await context.close();
  return { path, first, third, buttons, skeletons, errors };
}

describe('css-in-js (vercel/examples, Chakra UI in the App Router): isr start and next start', () => {
  it('the tabs switch and Chakra’s styles apply, as under next start', async () => {
    const withIsr = await visit(servers.isr.url);
    const withNext = await visit(servers.next.url);
    assert.equal(withIsr.path, '/demo');
    assert.deepEqual(withIsr.first, { selected: 'One', panel: 'one!' });
    assert.deepEqual(withIsr.third, { selected: 'Three', panel: 'three!' });
    assert.equal(withIsr.buttons.length, 3);
    assert.equal(withIsr.buttons[0]!.radius, '6px', "Emotion's styles apply");
    assert.ok(withIsr.skeletons >= 4);
    assert.deepEqual(withIsr.errors, []);
    assert.deepEqual(withIsr, withNext);
  });

  it('serves the pages as ISR HITs', async () => {
    for (const route of ['/', '/demo']) {
      const response = await fetch(servers.isr.url + route);
      assert.equal(response.status, 200, route);
      assert.equal(response.headers.get('x-isr-cache'), 'HIT', route);
    }
  });
});
