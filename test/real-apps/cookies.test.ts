/**
 * A real public Pages Router app with middleware, vercel/examples' edge-middleware/cookies (vendored
 * in test/fixtures/real-apps/cookies): `middleware.ts`, matched on `/` only, rewrites it to `/beta`
 * or `/non-beta` by the `beta` cookie, which the pages' buttons set (js-cookie) before reloading.
 * Built and served by isr and by Next.js (`next build` / `next start`), driven the same way in
 * Chromium; a cookie the middleware cannot parse fails it, a 500 under both.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DESKTOP_CHROME, recordPageErrors } from '../helpers/browser.ts';
import { serveBothWays } from '../helpers/real-app.ts';

const servers = serveBothWays('cookies');

/** Plays a visitor: opens /, opts in (cookie, reload), then opts out again. */
async function visit(base: string) {
  const context = await servers.browser.newContext({ userAgent: DESKTOP_CHROME, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors = recordPageErrors(page);
  const seen = async () => ({
    path: new URL(page.url()).pathname,
    title: await page.title(),
    heading: await page.locator('h1').first().textContent(),
    text: await page.getByText(/You are currently/).textContent(),
    cookie: (await context.cookies()).find((cookie) => cookie.name === 'beta')?.value ?? null,
  });
  const response = await page.goto(`${base}/`);
  await page.waitForLoadState('networkidle');
  const first = { status: response?.status(), ...(await seen()) };
  // The stylesheet (Tailwind through the app's PostCSS config) is applied.
  const headingStyle = await page
    .locator('h1')
    .first()
    .evaluate((element) => {
      const style = getComputedStyle(element);
      return { fontSize: style.fontSize, fontWeight: style.fontWeight, marginBottom: style.marginBottom };
    });
  await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name: 'Opt in' }).click()]);
  await page.waitForLoadState('networkidle');
  const optedIn = await seen();
  await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name: 'Opt out' }).click()]);
  await page.waitForLoadState('networkidle');
  const optedOut = await seen();
  await context.close();
  return { first, headingStyle, optedIn, optedOut, errors };
}

describe('cookies (vercel/examples, middleware): isr start and next start', () => {
  it('/ is the beta or the non-beta page by the cookie the buttons set, as under next start', async () => {
    const withIsr = await visit(servers.isr.url);
    const withNext = await visit(servers.next.url);
    assert.deepEqual(withIsr.first, {
      status: 200,
      path: '/',
      title: 'Cookies - Vercel Examples',
      heading: 'Cookies example',
      text: 'You are currently not in beta!',
      cookie: null,
    });
    assert.equal(withIsr.optedIn.text, 'You are currently in beta!');
    assert.equal(withIsr.optedIn.cookie, 'true');
    assert.equal(withIsr.optedOut.text, 'You are currently not in beta!');
    assert.deepEqual(withIsr.errors, []);
    assert.deepEqual(withIsr, withNext);
  });

  it('answers the same statuses as next start, path by path and cookie by cookie (a cookie the middleware cannot parse is a 500)', async () => {
    const answer = async (base: string, path: string, cookie?: string) => {
      const response = await fetch(`${base}${path}`, { redirect: 'manual', headers: cookie === undefined ? {} : { cookie } });
      const html = await response.text();
      return { status: response.status, text: /You are currently[^<]*/.exec(html)?.[0] ?? null };
    };
    for (const [path, cookie] of [
      ['/', undefined],
      ['/', 'beta=true'],
      ['/', 'beta=false'],
      ['/', 'beta=%7Bnot json'],
      ['/beta', undefined],
      ['/non-beta', 'beta=true'],
    ] as const) {
      assert.deepEqual(await answer(servers.isr.url, path, cookie), await answer(servers.next.url, path, cookie), `${path} with ${cookie}`);
    }
    assert.equal((await answer(servers.isr.url, '/', 'beta=%7Bnot json')).status, 500);
  });

  it('the two pages are cached apart: / is a HIT of the page the cookie picks', async () => {
    const home = (cookie: string) => fetch(`${servers.isr.url}/`, { headers: { cookie } });
    const beta = await home('beta=true');
    assert.equal(beta.headers.get('x-isr-cache'), 'HIT');
    assert.match(await beta.text(), /You are currently in beta!/);
    const nonBeta = await home('beta=false');
    assert.equal(nonBeta.headers.get('x-isr-cache'), 'HIT');
    assert.match(await nonBeta.text(), /You are currently not in beta!/);
  });
});
