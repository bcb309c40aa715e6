/**
 * A real public App Router app, vercel/examples' app-directory/share-state (vendored unmodified in
 * test/fixtures/real-apps/share-state): a client layout holds a counter that client pages change,
 * and the state survives client navigation between them. Built and served by isr and by Next.js
 * (`next build` / `next start`), driven the same way in Chromium: what a person sees must match.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DESKTOP_CHROME, recordPageErrors } from '../helpers/browser.ts';
import { serveBothWays } from '../helpers/real-app.ts';

const servers = serveBothWays('share-state');

/** Plays a visitor: increments the counter twice, follows the "Nested" link, decrements, goes back, then home. */
async function visit(base: string) {
  const context = await servers.browser.newContext({ userAgent: DESKTOP_CHROME, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors = recordPageErrors(page);
  let documents = 0;
  const payloads: (string | undefined)[] = [];
  page.on('request', (r) => {
    if (r.resourceType() === 'document') documents++;
  });
  page.on('response', (r) => {
    if (r.url().endsWith('.rsc')) payloads.push(r.headers()['x-isr-cache']);
  });
  const counters = () => page.locator('.text-3xl').allInnerTexts();
  await page.goto(`${base}/demo`);
  await page.waitForLoadState('networkidle');
  // Styles read before the pointer is over a button (its hover colour fades in).
  const button = await page.getByRole('button', { name: 'Decrement' }).evaluate((element) => {
    const style = getComputedStyle(element);
    return { background: style.backgroundColor, color: style.color, radius: style.borderRadius, height: style.height };
  });
  const increment = page.getByRole('button', { name: 'Increment' });
  await increment.click();
  await increment.click();
  await page.locator('.text-3xl', { hasText: '2' }).first().waitFor();
  const afterIncrements = await counters();
  await page.getByRole('link', { name: 'Nested' }).click();
  await page.getByText('Nested page').waitFor();
  const nestedPath = new URL(page.url()).pathname;
  const onNested = await counters();
  await page.getByRole('button', { name: 'Decrement' }).click();
  await page.locator('.text-3xl', { hasText: '1' }).first().waitFor();
  const afterDecrement = await counters();
  await page.goBack();
  await page.getByText('Index page').waitFor();
  const back = { path: new URL(page.url()).pathname, counters: await counters() };
  await page.getByRole('link', { name: '← Back to example' }).click();
  await page.getByRole('heading', { name: 'Sharing State in Next.js' }).waitFor();
  const home = new URL(page.url()).pathname;
  await context.close();
  return { seen: { afterIncrements, button, nestedPath, onNested, afterDecrement, back, home, documents, errors }, payloads };
}

describe('share-state (vercel/examples, App Router): isr start and next start', () => {
  it('a client layout’s counter survives client navigation, with the same styles, under both', async () => {
    const withIsr = await visit(servers.isr.url);
    const withNext = await visit(servers.next.url);
    assert.deepEqual(withIsr.seen, {
      afterIncrements: ['2', '2'],
      button: withNext.seen.button,
      nestedPath: '/demo/nested',
      onNested: ['2', '2'],
      afterDecrement: ['1', '1'],
      back: { path: '/demo', counters: ['1', '1'] },
      home: '/',
      documents: 1,
      errors: [],
    });
    assert.deepEqual(withIsr.seen, withNext.seen);
    assert.equal(withIsr.seen.button.background, 'rgb(0, 112, 243)', "Tailwind's classes from @vercel/examples-ui apply");
    // isr answered the navigations' RSC payloads from its cache.
    assert.ok(
      withIsr.payloads.length > 0 && withIsr.payloads.every((state) => state === 'HIT'),
      `payloads: ${withIsr.payloads.join(', ')}`,
    );
  });

  it('serves the pages as ISR HITs', async () => {
    for (const route of ['/', '/demo', '/demo/nested']) {
      const response = await fetch(servers.isr.url + route);
      assert.equal(response.status, 200, route);
      assert.equal(response.headers.get('x-isr-cache'), 'HIT', route);
    }
  });

  it('renders the head its metadata gives (title template, description, viewport) as next start does', async () => {
    const head = async (base: string, route: string) => {
      const html = await (await fetch(base + route)).text();
      return html.match(/<title>[^<]*<\/title>|<meta (?:charSet|name|property)=[^>]*>/g);
    };
    for (const route of ['/', '/demo']) {
      const withIsr = await head(servers.isr.url, route);
      assert.ok(withIsr?.includes('<title>Sharing State in Next.js - Vercel Examples</title>'), route);
      assert.deepEqual(withIsr, await head(servers.next.url, route), route);
    }
  });
});
