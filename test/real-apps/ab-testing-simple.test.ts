/**
 * A real public Pages Router app with middleware, vercel/examples' edge-middleware/ab-testing-simple
 * (vendored in test/fixtures/real-apps/ab-testing-simple): `middleware.ts` rewrites `/home` and
 * `/marketing` to a variant page chosen by a bucket cookie, assigning a random bucket (and setting
 * its cookie) to a visitor without one; the variants are static pages (`getStaticProps`), buttons
 * set the cookie with js-cookie and reload. Built and served by isr and by Next.js (`next build` /
 * `next start`), driven the same way in Chromium.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DESKTOP_CHROME, recordPageErrors } from '../helpers/browser.ts';
import { serveBothWays } from '../helpers/real-app.ts';

const servers = serveBothWays('ab-testing-simple');

/**
 * Plays a visitor: opens /home (a bucket is assigned), reloads (it stays), picks bucket B with its
 * button, then opens /marketing with the cookie of its original page.
 */
async function visit(base: string) {
  const context = await servers.browser.newContext({ userAgent: DESKTOP_CHROME, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors = recordPageErrors(page);
  const bucketShown = async () => (await page.locator('b').first().textContent())?.replace(/^bucket /, '');
  const response = await page.goto(`${base}/home`);
  await page.waitForLoadState('networkidle');
  const status = response?.status();
  const url = new URL(page.url()).pathname;
  const title = await page.title();
  const heading = await page.locator('h2').first().textContent();
  const assigned = await bucketShown();
  const cookie = (await context.cookies()).find((c) => c.name === 'bucket-home')?.value;
  // The stylesheet (Tailwind, @vercel/examples-ui's globals) is applied: the heading's computed style.
  const headingStyle = await page
    .locator('h2')
    .first()
    .evaluate((element) => {
      const style = getComputedStyle(element);
      return { fontWeight: style.fontWeight, fontSize: style.fontSize };
    });
  await page.reload();
  await page.waitForLoadState('networkidle');
  const afterReload = await bucketShown();
  await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name: 'Bucket B' }).click()]);
  await page.waitForLoadState('networkidle');
  const picked = await bucketShown();
  await context.addCookies([{ name: 'bucket-marketing', value: 'original', url: base }]);
  await page.goto(`${base}/marketing`);
  await page.waitForLoadState('networkidle');
  const marketing = { heading: await page.locator('h2').first().textContent(), text: await page.locator('b').first().textContent() };
  await context.close();
  return {
    home: {
      status,
      url,
      title,
      heading,
      bucketIsOneOfThree: /^[ABC]$/.test(assigned ?? ''),
      cookieMatches: cookie === assigned?.toLowerCase(),
    },
    headingStyle,
    kept: afterReload === assigned,
    picked,
    marketing,
    errors,
  };
}

describe('ab-testing-simple (vercel/examples, middleware): isr start and next start', () => {
  it('a visitor is given a bucket, keeps it, and switches it with the buttons, as under next start', async () => {
    const withIsr = await visit(servers.isr.url);
    const withNext = await visit(servers.next.url);
    assert.deepEqual(withIsr.home, {
      status: 200,
      url: '/home',
      title: 'AB Testing with buckets - Vercel Examples',
      heading: 'Home page variant',
      bucketIsOneOfThree: true,
      cookieMatches: true,
    });
    assert.equal(withIsr.kept, true);
    assert.equal(withIsr.picked, 'B');
    assert.deepEqual(withIsr.marketing, { heading: 'Marketing page', text: '/marketing/original' });
    assert.deepEqual(withIsr.errors, []);
    assert.deepEqual(withIsr, withNext);
  });

  it('answers the same statuses, Set-Cookie and redirects as next start, path by path', async () => {
    const answer = async (base: string, path: string, cookie?: string) => {
      const response = await fetch(`${base}${path}`, { redirect: 'manual', headers: cookie === undefined ? {} : { cookie } });
      const html = await response.text();
      return {
        status: response.status,
        setCookie: response.headers.get('set-cookie')?.replace(/=[a-z]+;/, '=<bucket>;') ?? null,
        heading: /<h2[^>]*>([^<]*)</.exec(html)?.[1] ?? null,
        bucket: /bucket <!-- -->([A-Z]+)/.exec(html)?.[1] ?? null,
      };
    };
    for (const [path, cookie] of [
      ['/home', undefined],
      ['/home', 'bucket-home=c'],
      ['/home', 'bucket-home=zzz'],
      ['/marketing', 'bucket-marketing=b'],
      ['/marketing/original', undefined],
      ['/home/a', undefined],
      ['/home/d', undefined],
      ['/marketing/a', 'bucket-marketing=b'],
      ['/', undefined],
    ] as const) {
      const withIsr = await answer(servers.isr.url, path, cookie);
      const withNext = await answer(servers.next.url, path, cookie);
      // The app has no pages/404: each server answers its own default 404 page.
      if (withIsr.status === 404) [withIsr.heading, withNext.heading] = [null, null];
      if (withIsr.bucket !== null && withIsr.setCookie !== null) {
        // A bucket assigned at random: only its shape is compared.
        assert.match(withIsr.bucket, /^[ABC]$/);
        withIsr.bucket = withNext.bucket;
      }
      assert.deepEqual(withIsr, withNext, `${path} with ${cookie ?? 'no cookie'}`);
    }
  });

  it('each variant is its own cache entry: a HIT on the second visit, and no visitor’s cookie stored in it', async () => {
    const home = (cookie: string) => fetch(`${servers.isr.url}/home`, { headers: { cookie } });
    await home('bucket-home=a');
    const a = await home('bucket-home=a');
    const b = await home('bucket-home=b');
    assert.equal(a.headers.get('x-isr-cache'), 'HIT');
    assert.equal(b.headers.get('x-isr-cache'), 'HIT');
    assert.match(await a.text(), /bucket <!-- -->A/);
    assert.match(await b.text(), /bucket <!-- -->B/);
    const assigned = await fetch(`${servers.isr.url}/home`);
    assert.match(assigned.headers.get('set-cookie') ?? '', /^bucket-home=[abc]; Path=\/$/);
    const direct = await fetch(`${servers.isr.url}/home/a`);
    assert.equal(direct.headers.get('set-cookie'), null);
    assert.equal(direct.headers.get('x-isr-cache'), 'HIT');
  });
});
