/**
 * A real public App Router app, vercel/examples' container-images/demo/apps/web (vendored
 * unmodified in test/fixtures/real-apps/container-demo-web): create-next-app's Tailwind 4 setup
 * (`postcss.config.mjs` naming `@tailwindcss/postcss` in an array, `@import "tailwindcss"` and an
 * `@theme` of colours), and the metadata image files `app/favicon.ico` (three sizes),
 * `app/icon.png` and `app/apple-icon.png` linked from the head. Built and served by isr and by
 * Next.js 16.2 (`next build` / `next start`): what Chromium shows and what a browser fetches for
 * the icons must match.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DESKTOP_CHROME, recordPageErrors } from '../helpers/browser.ts';
import { serveBothWays } from '../helpers/real-app.ts';

const servers = serveBothWays('container-demo-web');

/** Plays a visitor: reads the page, its styles and its icon links, then hovers the first card. */
async function visit(base: string) {
  const context = await servers.browser.newContext({ userAgent: DESKTOP_CHROME, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors = recordPageErrors(page);
  const response = await page.goto(`${base}/`);
  await page.waitForLoadState('networkidle');
  const cards = page.locator('main > a');
  const seen = {
    status: response?.status(),
    title: await page.title(),
    description: await page.locator('meta[name=description]').getAttribute('content'),
    heading: await page.locator('h1').textContent(),
    cards: await cards.evaluateAll((elements) =>
      elements.map((element) => ({
        href: element.getAttribute('href'),
        name: element.querySelector('h2')?.textContent,
        tags: [...element.querySelectorAll('span.rounded-md')].map((tag) => tag.textContent),
      })),
    ),
    // Tailwind 4's utilities and the app's @theme colours: what tells the stylesheet applied.
    styles: {
      body: await page.locator('body').evaluate((element) => {
        const style = getComputedStyle(element);
        return { background: style.backgroundColor, color: style.color, minHeight: style.minHeight, colorScheme: style.colorScheme };
      }),
      heading: await page.locator('h1').evaluate((element) => {
        const style = getComputedStyle(element);
        return { weight: style.fontWeight, color: style.color, clip: style.backgroundClip, image: style.backgroundImage };
      }),
      grid: await page.locator('main').evaluate((element) => {
        const style = getComputedStyle(element);
        return { display: style.display, columns: style.gridTemplateColumns, gap: style.gap };
      }),
      card: await cards.first().evaluate((element) => {
        const style = getComputedStyle(element);
        return { radius: style.borderRadius, border: style.borderColor, background: style.backgroundColor, padding: style.padding };
      }),
      code: await page.locator('header code').evaluate((element) => getComputedStyle(element).fontFamily),
    },
    icons: await page.locator('head link[rel=icon], head link[rel=apple-touch-icon]').evaluateAll((elements) =>
      elements.map((element) => ({
        rel: element.getAttribute('rel'),
        path: new URL(element.getAttribute('href')!, location.href).pathname,
        cacheBusted: new URL(element.getAttribute('href')!, location.href).search.length > 1,
        type: element.getAttribute('type'),
        sizes: element.getAttribute('sizes'),
      })),
    ),
  };
  await cards.first().hover();
  // The card's colours change on hover (`hover:bg-card-hover`, `hover:border-border-hover`) through
  // a transition: read once it has run.
  const hovered = await cards.first().evaluate(async (element) => {
    await Promise.all(element.getAnimations().map((animation) => animation.finished));
    const style = getComputedStyle(element);
    return { background: style.backgroundColor, border: style.borderColor };
  });
  await context.close();
  return { ...seen, hovered, errors };
}

/** An icon's status, type, cache policy and bytes, fetched as a browser does (with the head's query). */
async function icon(base: string, path: string) {
  const html = await (await fetch(`${base}/`)).text();
  const href = new RegExp(`href="(${path.replace('.', '\\.')}[^"]*)"`).exec(html)?.[1];
  assert.ok(href, `${path} is linked from the head`);
  const response = await fetch(base + href.replaceAll('&amp;', '&'));
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    cacheControl: response.headers.get('cache-control'),
    bytes: Buffer.from(await response.arrayBuffer()),
  };
}

describe('container-demo-web (vercel/examples, App Router, Tailwind 4, icon files): isr start and next start', () => {
  it('the page, its Tailwind 4 styles and a hovered card, in Chromium, as under next start', async () => {
    const withIsr = await visit(servers.isr.url);
    const withNext = await visit(servers.next.url);
    assert.equal(withIsr.status, 200);
    assert.equal(withIsr.title, 'Dockerfile Runtime - Services');
    assert.equal(withIsr.description, 'Multiple container services running on Vercel, routed via vercel.json.');
    assert.equal(withIsr.heading, 'Dockerfile Runtime');
    assert.equal(withIsr.cards.length, 8);
    assert.deepEqual(withIsr.cards[0], { href: '/rust', name: 'Rust', tags: ['axum', 'tokio', 'dynamic'] });
    assert.equal(withIsr.styles.body.background, 'rgb(9, 9, 11)', "the @theme's --color-bg");
    assert.equal(withIsr.styles.body.colorScheme, 'dark');
    assert.equal(withIsr.styles.heading.clip, 'text');
    assert.equal(withIsr.styles.grid.display, 'grid');
    assert.equal(withIsr.styles.card.radius, '12px');
    assert.deepEqual(withIsr.hovered, { background: 'rgb(19, 19, 22)', border: 'rgb(46, 46, 53)' }, "the @theme's hover colours");
    assert.deepEqual(withIsr.errors, []);
    assert.deepEqual(withIsr, withNext);
  });

  it('links favicon.ico, icon.png and apple-icon.png from the head with the rel, type and sizes next start gives', async () => {
    const withIsr = await visit(servers.isr.url);
    assert.deepEqual(withIsr.icons, [
      // The favicon's largest image (it holds 16, 32 and 48 pixel ones).
      { rel: 'icon', path: '/favicon.ico', cacheBusted: true, type: 'image/x-icon', sizes: '48x48' },
      { rel: 'icon', path: '/icon.png', cacheBusted: true, type: 'image/png', sizes: '192x192' },
      { rel: 'apple-touch-icon', path: '/apple-icon.png', cacheBusted: true, type: 'image/png', sizes: '180x180' },
    ]);
    assert.deepEqual(withIsr.icons, (await visit(servers.next.url)).icons);
  });

  it('answers each linked icon with the bytes, type and Cache-Control next start sends', async () => {
    for (const [path, type] of [
      ['/favicon.ico', 'image/x-icon'],
      ['/icon.png', 'image/png'],
      ['/apple-icon.png', 'image/png'],
    ] as const) {
      const withIsr = await icon(servers.isr.url, path);
      const withNext = await icon(servers.next.url, path);
      assert.equal(withIsr.status, 200, path);
      assert.equal(withIsr.type, type, path);
      assert.equal(withIsr.cacheControl, 'public, max-age=0, must-revalidate', path);
      assert.deepEqual(withIsr, withNext, path);
    }
  });

  it('an unknown path answers 404 under both', async () => {
    const withIsr = await fetch(`${servers.isr.url}/no-such-service`);
    const withNext = await fetch(`${servers.next.url}/no-such-service`);
    assert.equal(withIsr.status, 404);
    assert.equal(withIsr.status, withNext.status);
  });

  it('the default 404 page shows what next start’s shows', async () => {
    const title = async (base: string) => {
      const page = await servers.browser.newPage();
      // Once the page has settled: next start streams metadata after the body, and its client
      // sets the title when it is hydrated.
      await page.goto(`${base}/no-such-service`, { waitUntil: 'networkidle' });
      const seen = { title: await page.title(), text: await page.locator('h2').textContent() };
      await page.close();
      return seen;
    };
    assert.deepEqual(await title(servers.isr.url), await title(servers.next.url));
  });
});
