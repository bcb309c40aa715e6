/**
 * A real public Pages Router app, vercel/examples' solutions/image-offset (vendored in
 * test/fixtures/real-apps/image-offset): `next/image` with four statically imported JPEGs of
 * public/ (`import logo from '../public/logo.jpg'`), `priority` (preloaded), `loading="eager"`,
 * lazy images far down the page, and the legacy `onLoadingComplete` ticking a box as each lazy
 * image loads while the visitor scrolls; `@vercel/examples-ui`'s layout and Tailwind through
 * PostCSS. Built and served by isr and by Next.js (`next build` / `next start`), driven the same
 * way in Chromium, the optimised images fetched from both `/_next/image` endpoints.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { DESKTOP_CHROME, recordPageErrors } from '../helpers/browser.ts';
import { serveBothWays } from '../helpers/real-app.ts';

const servers = serveBothWays('image-offset');

const ACCEPT_CHROME = 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8';

/**
 * An `<img>`'s attributes with each build's own static-media URL (`/_next/static/media/logo.<hash>.jpg`,
 * `/_isr/static/media/logo.<hash>.jpg`) reduced to the file's name.
 */
function normalised(attributes: Record<string, string | null>) {
  const strip = (value: string | null) => value?.replace(/%2F_(next|isr)%2Fstatic%2Fmedia%2F([\w-]+)\.[\w-]+\.jpg/g, 'MEDIA:$2') ?? null;
  return Object.fromEntries(Object.entries(attributes).map(([name, value]) => [name, strip(value)]));
}

/** Plays a visitor: reads the page, then scrolls to each lazy image and reads the ticks. */
async function visit(base: string) {
  const context = await servers.browser.newContext({ userAgent: DESKTOP_CHROME, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors = recordPageErrors(page);
  const response = await page.goto(`${base}/`);
  await page.waitForLoadState('networkidle');
  const ticks = () => page.locator('article.sticky p').allTextContents();
  const images = await page
    .locator('main img')
    .evaluateAll((elements) =>
      elements.map((element) => Object.fromEntries(element.getAttributeNames().map((name) => [name, element.getAttribute(name)]))),
    );
  const loadedAtFirst = await page.locator('main img').evaluateAll((elements) =>
    // The priority and the eager image (the lazy ones load as Chromium sees fit).
    elements.slice(0, 2).map((element) => (element as HTMLImageElement).complete && (element as HTMLImageElement).naturalWidth),
  );
  // The farthest lazy image, before any scrolling (the nearer ones may load ahead, how far varies).
  const before = (await ticks()).at(-1);
  const box = await page
    .locator('main img')
    .first()
    .evaluate((element) => {
      const parent = getComputedStyle(element.parentElement!);
      const image = element.getBoundingClientRect();
      return {
        width: parent.width,
        height: parent.height,
        background: parent.backgroundColor,
        radius: parent.borderRadius,
        shadow: parent.boxShadow,
        image: [Math.round(image.width), Math.round(image.height)],
      };
    });
  const heading = {
    text: await page.locator('h1').textContent(),
    style: await page.locator('h1').evaluate((element) => {
      const style = getComputedStyle(element);
      return { fontSize: style.fontSize, fontWeight: style.fontWeight };
    }),
  };
  // Scroll each lazy image into view; its onLoadingComplete ticks its line. (How far ahead
  // Chromium starts a lazy load varies, so only the end state is compared.)
  for (const index of [3, 4, 5]) {
    await page.locator('main img').nth(index).scrollIntoViewIfNeeded();
    await page.waitForFunction((n) => document.querySelectorAll('article.sticky p')[n - 3]?.textContent?.includes('✅'), index);
  }
  const after = await ticks();
  const title = await page.title();
  const preloads = await page
    .locator('link[rel=preload][as=image]')
    .evaluateAll((elements) => [...new Set(elements.map((element) => element.getAttribute('imagesrcset')))]);
  await context.close();
  return {
    status: response?.status(),
    title,
    heading,
    images: images.map(normalised),
    loadedAtFirst,
    before,
    after,
    box,
    preloads: preloads.map((value) => normalised({ value }).value),
    errors,
  };
}

describe('image-offset (vercel/examples, Pages Router next/image): isr start and next start', () => {
  it('the images load as the visitor scrolls and onLoadingComplete ticks each, as under next start', async () => {
    const withIsr = await visit(servers.isr.url);
    const withNext = await visit(servers.next.url);
    assert.equal(withIsr.status, 200);
    assert.equal(withIsr.title, 'next/image offset loading - Vercel Examples');
    assert.equal(withIsr.heading.text, 'next/image offset loading');
    assert.equal(withIsr.images.length, 6);
    assert.deepEqual(
      withIsr.images.map((image) => [image.loading ?? null, image.width, image.height, image.src]),
      [
        [null, '1000', '1000', '/_next/image?url=MEDIA:logo&w=2048&q=75'],
        ['eager', '1000', '1000', '/_next/image?url=MEDIA:logo&w=2048&q=75'],
        ['lazy', '1000', '1000', '/_next/image?url=MEDIA:logo&w=2048&q=75'],
        ['lazy', '1000', '1000', '/_next/image?url=MEDIA:logo-blue&w=2048&q=75'],
        ['lazy', '1000', '1000', '/_next/image?url=MEDIA:logo-pink&w=2048&q=75'],
        ['lazy', '1000', '1000', '/_next/image?url=MEDIA:logo-green&w=2048&q=75'],
      ],
    );
    assert.deepEqual(withIsr.preloads, ['/_next/image?url=MEDIA:logo&w=1080&q=75 1x, /_next/image?url=MEDIA:logo&w=2048&q=75 2x']);
    assert.deepEqual(withIsr.loadedAtFirst, [1000, 1000], 'the priority and the eager image have loaded');
    assert.equal(withIsr.before, 'Green logo:(20px offset)🕓', 'the last lazy image, far below, has not loaded');
    assert.deepEqual(withIsr.after, ['Blue logo:(200px offset)✅', 'Pink logo:(100px offset)✅', 'Green logo:(20px offset)✅']);
    assert.deepEqual(withIsr.box, {
      width: '256px',
      height: '256px',
      background: 'rgb(255, 255, 255)',
      radius: withNext.box.radius,
      shadow: withNext.box.shadow,
      image: [256, 256],
    });
    assert.deepEqual(withIsr.errors, []);
    assert.deepEqual(withIsr, withNext);
  });

  it('the title and description are next start’s', async () => {
    const head = async (base: string) => {
      const html = await (await fetch(`${base}/`)).text();
      return {
        title: /<title[^>]*>([^<]*)<\/title>/.exec(html)?.[1],
        description: /<meta name="description" content="([^"]*)"/.exec(html)?.[1],
      };
    };
    const withIsr = await head(servers.isr.url);
    assert.deepEqual(withIsr, {
      title: 'next/image offset loading - Vercel Examples',
      description: 'Understanding next/image offset loading',
    });
    assert.deepEqual(withIsr, await head(servers.next.url));
  });

  it('/_next/image answers each width of a static import with the type, size and headers of next start', async () => {
    const srcOf = async (base: string) => {
      const html = await (await fetch(`${base}/`)).text();
      return [...html.matchAll(/url=(%2F_(?:next|isr)%2Fstatic%2Fmedia%2Flogo-blue\.[^&]+)&/g)][0]![1]!;
    };
    const isrSrc = await srcOf(servers.isr.url);
    const nextSrc = await srcOf(servers.next.url);
    for (const [width, accept] of [
      [1080, ACCEPT_CHROME],
      [2048, ACCEPT_CHROME],
      [640, 'image/*'],
    ] as const) {
      const answer = async (base: string, src: string) => {
        const response = await fetch(`${base}/_next/image?url=${src}&w=${width}&q=75`, { headers: { accept } });
        const meta = await sharp(Buffer.from(await response.arrayBuffer())).metadata();
        return {
          status: response.status,
          type: response.headers.get('content-type'),
          cacheControl: response.headers.get('cache-control'),
          vary: response.headers.get('vary'),
          disposition: response.headers.get('content-disposition'),
          format: meta.format,
          width: meta.width,
        };
      };
      const withIsr = await answer(servers.isr.url, isrSrc);
      assert.equal(withIsr.status, 200, `${width}w`);
      assert.equal(withIsr.type, accept === 'image/*' ? 'image/jpeg' : 'image/webp', `${width}w`);
      assert.equal(withIsr.width, Math.min(width, 1000), `${width}w: never enlarged`);
      assert.deepEqual(withIsr, await answer(servers.next.url, nextSrc), `${width}w`);
    }
  });

  it('serves the static imports themselves as immutable JPEGs, as next start does', async () => {
    const fileOf = async (base: string) => {
      const html = await (await fetch(`${base}/`)).text();
      const src = decodeURIComponent(/url=(%2F_(?:next|isr)%2Fstatic%2Fmedia%2Flogo-pink\.[^&]+)&/.exec(html)![1]!);
      const response = await fetch(base + src);
      return {
        status: response.status,
        type: response.headers.get('content-type'),
        cacheControl: response.headers.get('cache-control'),
        bytes: Buffer.from(await response.arrayBuffer()).byteLength,
      };
    };
    const withIsr = await fileOf(servers.isr.url);
    assert.deepEqual(withIsr, {
      status: 200,
      type: 'image/jpeg',
      cacheControl: 'public, max-age=31536000, immutable',
      bytes: withIsr.bytes,
    });
    assert.deepEqual(withIsr, await fileOf(servers.next.url));
  });
});
