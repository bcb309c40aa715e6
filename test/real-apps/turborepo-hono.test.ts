/**
 * A real public App Router app whose fonts are `next/font/local`: the web app of Vercel's
 * turborepo-with-hono starter (vercel/examples starter/turborepo-with-hono/apps/web, vendored in
 * test/fixtures/real-apps/turborepo-hono), create-next-app's layout loading Geist and Geist Mono
 * from the variable font files in `app/fonts/`, each exposed as a CSS variable on `<body>` that
 * the page's CSS Module uses. Built and served by isr and by Next.js (`next build` / `next start`,
 * the version its lock file installs), the page is compared as Chromium shows it: status, title,
 * text, the font files preloaded, the faces loaded, and the computed font of the elements.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DESKTOP_CHROME, recordPageErrors } from '../helpers/browser.ts';
import { serveBothWays } from '../helpers/real-app.ts';

const servers = serveBothWays('turborepo-hono/apps/web');

/** What a visitor's Chromium shows of `/`. */
async function visit(base: string) {
  const context = await servers.browser.newContext({ userAgent: DESKTOP_CHROME, viewport: { width: 1000, height: 800 } });
  const page = await context.newPage();
  const errors = recordPageErrors(page);
  const response = await page.goto(`${base}/`);
  await page.waitForLoadState('networkidle');
  const seen = await page.evaluate(async () => {
    await document.fonts.ready;
    // (No named functions in here: the page would not have tsx's helper for their names.)
    const fonts = Object.fromEntries(
      ['main', 'code', 'main a'].map((selector) => {
        const style = getComputedStyle(document.querySelector(selector)!);
        return [selector, { fontFamily: style.fontFamily, fontWeight: style.fontWeight, fontSize: style.fontSize }];
      }),
    );
    return {
      title: document.title,
      text: document.querySelector('main ol')?.textContent,
      preloadedFonts: [...document.querySelectorAll('link[rel="preload"][as="font"]')].map((link) => ({
        type: link.getAttribute('type'),
        crossOrigin: link.getAttribute('crossorigin'),
      })),
      loadedFaces: [...document.fonts]
        .filter((face) => face.status === 'loaded')
        .map((face) => `${face.family} ${face.weight} ${face.style}`)
        .sort(),
      variables: ['--font-geist-sans', '--font-geist-mono'].map((name) => getComputedStyle(document.body).getPropertyValue(name)),
      fonts,
      geistRenders: document.fonts.check('16px geistSans'),
    };
  });
  await context.close();
  return { status: response?.status(), ...seen, errors };
}

describe('turborepo-with-hono web app (App Router, next/font/local): isr start and next start', () => {
  it('loads Geist and Geist Mono from the vendored files and sets them through the CSS variables, as under next start', async () => {
    const withIsr = await visit(servers.isr.url);
    const withNext = await visit(servers.next.url);
    assert.equal(withIsr.status, 200);
    assert.equal(withIsr.title, 'Create Next App');
    assert.match(withIsr.text ?? '', /Get started by editing apps\/web\/app\/page\.tsx/);
    assert.deepEqual(withIsr.preloadedFonts, [
      { type: 'font/woff', crossOrigin: '' },
      { type: 'font/woff', crossOrigin: '' },
    ]);
    assert.ok(withIsr.loadedFaces.includes('geistSans normal normal'), withIsr.loadedFaces.join(', '));
    assert.ok(withIsr.geistRenders);
    assert.match(withIsr.fonts['main a']!.fontFamily, /^geistSans, "geistSans Fallback"/);
    assert.match(withIsr.fonts.code!.fontFamily, /^geistMono, "geistMono Fallback"/);
    assert.deepEqual(withIsr.errors, []);
    assert.deepEqual(withIsr, withNext);
  });

  it('serves the page as an ISR HIT with its fonts preloaded in the head', async () => {
    const response = await fetch(`${servers.isr.url}/`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-isr-cache'), 'HIT');
    const head = /<head>.*<\/head>/s.exec(await response.text())?.[0] ?? '';
    assert.match(
      head,
      /<link rel="preload" href="\/_isr\/static\/media\/GeistVF\.[0-9a-f]{8}\.woff" as="font" crossorigin="" type="font\/woff"\/>/,
    );
    assert.match(
      head,
      /<link rel="preload" href="\/_isr\/static\/media\/GeistMonoVF\.[0-9a-f]{8}\.woff" as="font" crossorigin="" type="font\/woff"\/>/,
    );
  });
});
