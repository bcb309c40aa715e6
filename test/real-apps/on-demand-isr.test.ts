/**
 * A real public Pages Router app, vercel/examples' solutions/on-demand-isr (vendored in
 * test/fixtures/real-apps/on-demand-isr): a "Revalidate" button calls an API route that runs
 * `res.revalidate('/')` and reloads, so the page shows a new generation time; product cards use
 * `next/image` with Next 12's `layout="responsive"`. Built and served by isr and by Next.js (`next
 * build` / `next start`), driven the same way in Chromium.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DESKTOP_CHROME, recordPageErrors } from '../helpers/browser.ts';
import { serveBothWays } from '../helpers/real-app.ts';

const servers = serveBothWays('on-demand-isr');

/** Plays a visitor: reads the generation time, clicks "Revalidate", reads it again after the reload. */
async function visit(base: string) {
  const context = await servers.browser.newContext({ userAgent: DESKTOP_CHROME, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  // The remote product images cannot be fetched here (no internet): their failed loads are expected.
  const errors = recordPageErrors(page);
  await page.goto(`${base}/`);
  await page.waitForLoadState('networkidle');
  const generated = page.locator('code').filter({ hasText: /GMT/ });
  const before = await generated.textContent();
  const cards = await page.locator('article > div').count();
  const image = await page
    .locator('article img')
    .first()
    .evaluate((element) => Object.fromEntries(element.getAttributeNames().map((name) => [name, element.getAttribute(name)])));
  // Generation times are shown to the second.
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name: 'Revalidate' }).click()]);
  await page.waitForLoadState('networkidle');
  const after = await generated.textContent();
  await context.close();
  return {
    changed: before !== after && after !== null,
    cards,
    image,
    errors: errors.filter((error) => !error.includes('Failed to load resource')),
  };
}

describe('on-demand-isr (vercel/examples, Pages Router): isr start and next start', () => {
  it('the Revalidate button regenerates the page through the API route, as under next start', async () => {
    const withIsr = await visit(servers.isr.url);
    const withNext = await visit(servers.next.url);
    assert.equal(withIsr.changed, true, 'a new generation time after Revalidate');
    assert.equal(withIsr.cards, 4);
    assert.equal(withIsr.image.sizes, '100vw');
    assert.equal(withIsr.image.style, 'color:transparent;width:100%;height:auto');
    assert.match(withIsr.image.srcset ?? '', /^\/_next\/image\?url=https%3A%2F%2Fimages\.unsplash\.com%2F.*&w=640&q=75 640w, .* 3840w$/);
    assert.deepEqual(withIsr.errors, []);
    assert.deepEqual(withIsr, withNext);
  });

  it('renders next/image with the markup next start renders, byte for byte', async () => {
    const image = async (base: string) => /<img [^>]*>/.exec(await (await fetch(`${base}/`)).text())?.[0];
    assert.equal(await image(servers.isr.url), await image(servers.next.url));
  });

  it('serves the page as an ISR HIT, and the revalidation through the API route stores a new one', async () => {
    const first = await fetch(`${servers.isr.url}/`);
    assert.equal(first.headers.get('x-isr-cache'), 'HIT');
    const body = await first.text();
    const revalidated = await fetch(`${servers.isr.url}/api/revalidate`);
    assert.deepEqual(await revalidated.json(), { revalidated: true });
    const next = await fetch(`${servers.isr.url}/`);
    assert.equal(next.headers.get('x-isr-cache'), 'HIT');
    assert.notEqual(await next.text(), body);
  });

  it('refuses a remote image the config does not allow, without fetching it', async () => {
    const response = await fetch(`${servers.isr.url}/_next/image?url=${encodeURIComponent('https://example.com/a.png')}&w=640&q=75`);
    assert.equal(response.status, 400);
    assert.equal(await response.text(), '"url" parameter is not allowed');
  });
});
