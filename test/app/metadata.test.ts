/**
 * The App Router's Metadata API (src/app/metadata.ts) on the client-site fixture: a layout's
 * `metadata` (title template and default, description, Open Graph, robots, `metadataBase`) and
 * `viewport`, a page's `generateMetadata` from tagged fetched data; rendered into the head of the
 * cached page, and regenerated with it after a `revalidateTag`.
 * @see https://nextjs.org/docs/app/api-reference/functions/generate-metadata
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createElement, Fragment } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { metadataElements, resolveMetadata } from '../../src/app/metadata.ts';
import { type FixtureServer, request, startFixtureServer, TOKEN } from '../helpers/server.ts';

let f: FixtureServer;

before(async () => {
  f = await startFixtureServer({}, { name: 'client-site', items: { '1': 'one', 'nav-a': 'page A', 'nav-b': 'page B' } });
});
after(() => f?.close());

/** The `<head>` elements the Metadata API writes, in order. */
async function head(path: string): Promise<string[]> {
  const page = await request(f, path);
  assert.equal(page.status, 200);
  const inHead = /<head>(.*)<\/head>/s.exec(page.text)?.[1] ?? '';
  return inHead.match(/<title>[^<]*<\/title>|<meta [^>]*>|<link rel="(?:canonical|alternate|icon)"[^>]*>/g) ?? [];
}

describe('metadata', () => {
  it('renders the layout’s metadata and the page’s generateMetadata into the head, as Next.js writes them', async () => {
    // The fixture's root layout writes its own <meta charSet> and <title> (kept, as Next.js keeps them).
    const own = ['<title>client fixture</title>'];
    const written = [...new Set(await head('/meta/1'))].filter((element) => !own.includes(element));
    assert.deepEqual(written, [
      '<meta charSet="utf-8"/>',
      '<meta name="viewport" content="width=device-width, initial-scale=1"/>',
      '<title>one | Fixture</title>',
      '<meta name="description" content="The metadata fixture"/>',
      '<meta name="theme-color" content="#112233"/>',
      '<meta name="robots" content="noindex, follow"/>',
      '<link rel="canonical" href="https://fixture.example/meta/1"/>',
      '<meta property="og:title" content="one"/>',
      '<meta property="og:type" content="article"/>',
      ...written.filter((element) => element.startsWith('<link rel="icon"')),
    ]);
  });

  it('is regenerated with the page: a revalidateTag changes the title', async () => {
    f.api.items.set('1', 'one, renamed');
    const response = await fetch(`${f.url}/_isr/revalidate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tags: ['item-1'] }),
    });
    assert.equal(response.status, 200);
    assert.ok((await head('/meta/1')).includes('<title>one, renamed | Fixture</title>'));
    const again = await request(f, '/meta/1');
    assert.equal(again.headers.get('x-isr-cache'), 'HIT');
  });
});

describe('metadata files', () => {
  it('app/favicon.ico and app/icon.png are served and linked from every page’s head, as Next.js links them', async () => {
    const links = (await head('/meta/1')).filter((element) => element.startsWith('<link rel="icon"'));
    assert.equal(links.length, 2);
    // Both with a content hash, as Next.js 16's `next build` (Turbopack) links them.
    assert.match(links[0]!, /^<link rel="icon" href="\/favicon\.ico\?[0-9a-f]{16}" type="image\/x-icon" sizes="16x16"\/>$/);
    assert.match(links[1]!, /^<link rel="icon" href="\/icon\.png\?[0-9a-f]{16}" type="image\/png" sizes="32x32"\/>$/);
    const favicon = await fetch(`${f.url}/favicon.ico`);
    assert.equal(favicon.status, 200);
    assert.equal(favicon.headers.get('content-type'), 'image/x-icon', 'as Next.js sends it');
    assert.equal(favicon.headers.get('cache-control'), 'public, max-age=0, must-revalidate', 'as Next.js sends a static metadata file');
    assert.equal((await favicon.arrayBuffer()).byteLength, 129);
    assert.equal((await fetch(`${f.url}${/href="([^"]+)"/.exec(links[1]!)![1]}`)).status, 200);
  });

  it('image metadata below the root: a folder’s icon replaces the root’s icons, a generated og:image per post (next/og), a static twitter:image under a dynamic segment', async () => {
    const page = await request(f, '/og/first');
    assert.equal(page.status, 200);
    const inHead = /<head>(.*)<\/head>/s.exec(page.text)?.[1] ?? '';
    const tags = inHead.match(/<meta property="og:image[^>]*>|<meta name="twitter:(?:card|image)[^>]*>|<link rel="icon"[^>]*>/g) ?? [];
    const hash = '[0-9a-f]{16}';
    const expected = [
      `<meta property="og:image" content="/og/first/opengraph-image\\?${hash}"/>`,
      '<meta property="og:image:type" content="image/png"/>',
      '<meta property="og:image:width" content="600"/>',
      '<meta property="og:image:height" content="315"/>',
      '<meta property="og:image:alt" content="A post of the fixture"/>',
      '<meta name="twitter:card" content="summary_large_image"/>',
      `<meta name="twitter:image" content="/og/-/twitter-image\\.png\\?${hash}"/>`,
      `<link rel="icon" href="/og/icon\\.png\\?${hash}" type="image/png" sizes="48x48"/>`,
    ];
    assert.equal(tags.length, expected.length, tags.join('\n'));
    for (const [index, tag] of tags.entries()) assert.match(tag, new RegExp(`^${expected[index]}$`));

    // The generated image: the module's size, a PNG, cached; each post its own image.
    const png = async (url: string) => {
      const response = await fetch(f.url + url);
      assert.equal(response.status, 200, url);
      assert.equal(response.headers.get('content-type'), 'image/png');
      const body = Buffer.from(await response.arrayBuffer());
      assert.equal(body.subarray(1, 4).toString(), 'PNG');
      return { body, cache: response.headers.get('x-isr-cache'), width: body.readUInt32BE(16), height: body.readUInt32BE(20) };
    };
    const ogUrl = /og:image" content="([^"]+)"/.exec(inHead)![1]!;
    const first = await png(ogUrl);
    assert.deepEqual([first.width, first.height], [600, 315]);
    assert.equal((await png(ogUrl)).cache, 'HIT');
    const other = await png('/og/second/opengraph-image');
    assert.notDeepEqual(other.body, first.body, 'the image is drawn from the post’s params');
    const twitter = await png(/twitter:image" content="([^"]+)"/.exec(inHead)![1]!);
    assert.deepEqual([twitter.width, twitter.height], [120, 60]);

    // Pages outside app/og keep the root's favicon and icon.
    assert.equal((await head('/meta/1')).filter((element) => element.startsWith('<link rel="icon"')).length, 2);
  });

  it('robots.ts answers /robots.txt as Next.js writes it', async () => {
    const robots = await request(f, '/robots.txt');
    assert.equal(robots.status, 200);
    assert.equal(robots.headers.get('content-type'), 'text/plain');
    assert.equal(robots.headers.get('x-isr-cache'), 'HIT', 'prerendered');
    assert.equal(
      robots.text,
      'User-Agent: *\nAllow: /\nDisallow: /private/\n\nUser-Agent: Applebot\nUser-Agent: Bingbot\nDisallow: /\nCrawl-delay: 2\n\nSitemap: https://fixture.example/sitemap.xml\n',
    );
  });

  it('sitemap.ts answers /sitemap.xml as Next.js writes it (values as given), cached, and follows a revalidateTag of the data it read', async () => {
    const sitemap = await request(f, '/sitemap.xml');
    assert.equal(sitemap.status, 200);
    assert.equal(sitemap.headers.get('content-type'), 'application/xml');
    assert.equal(sitemap.headers.get('x-isr-cache'), 'HIT');
    assert.equal(
      sitemap.text,
      '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n' +
        '<url>\n<loc>https://fixture.example/</loc>\n<lastmod>2026-01-02T03:04:05.000Z</lastmod>\n<changefreq>daily</changefreq>\n<priority>1</priority>\n</url>\n' +
        '<url>\n<loc>https://fixture.example/nav/a?title=page%20A&x=1</loc>\n</url>\n</urlset>\n',
    );
    f.api.items.set('nav-a', 'page A, mapped');
    await fetch(`${f.url}/_isr/revalidate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tags: ['item-nav-a'] }),
    });
    assert.match((await request(f, '/sitemap.xml')).text, /title=page%20A%2C%20mapped&x=1/);
  });

  it('manifest.ts answers /manifest.webmanifest', async () => {
    const manifest = await request(f, '/manifest.webmanifest');
    assert.equal(manifest.headers.get('content-type'), 'application/manifest+json');
    assert.deepEqual(JSON.parse(manifest.text), { name: 'Client fixture', short_name: 'Fixture', start_url: '/', display: 'standalone' });
  });
});

describe('metadata resolution rules', () => {
  const props = { params: Promise.resolve({}), searchParams: Promise.resolve({}) };
  const title = async (items: Parameters<typeof resolveMetadata>[0]) => (await resolveMetadata(items, props)).metadata.title;
  const root = { metadata: { title: { template: '%s | Acme', default: 'Acme' } } };

  it('a title template applies below its segment, never to the page of its own segment', async () => {
    assert.equal(await title([root, { metadata: { title: 'Home' } }]), 'Home');
    assert.equal(await title([root, undefined, { metadata: { title: 'About' } }]), 'About | Acme');
    assert.equal(await title([root, undefined, { metadata: {} }]), 'Acme');
    assert.equal(await title([root, undefined, { metadata: { title: { absolute: 'Alone' } } }]), 'Alone');
  });

  it('a plain title in a middle segment ends the template above it', async () => {
    assert.equal(await title([root, { metadata: { title: 'A' } }, undefined, { metadata: { title: 'B' } }]), 'B');
  });

  it('robots with Next.js’s hyphenated keys', () => {
    const elements = metadataElements({
      metadata: { robots: { index: true, follow: true, googleBot: { index: true, 'max-image-preview': 'large', 'max-snippet': -1 } } },
      viewport: {},
    });
    const html = elements.map((element) => JSON.stringify((element as { props: unknown }).props)).join('\n');
    assert.match(html, /"name":"robots","content":"index, follow"/);
    assert.match(html, /"name":"googlebot","content":"index, max-image-preview:large, max-snippet:-1"/);
  });

  it('the less common keys, in Next.js’s order and words: abstract, archives, pagination, classification, itunes, facebook, pinterest, formatDetection, verification, appleWebApp, appLinks', () => {
    const elements = metadataElements({
      metadata: {
        abstract: 'An abstract',
        archives: ['https://a.example/2025'],
        assets: 'https://a.example/assets',
        bookmarks: ['https://a.example/b'],
        pagination: { previous: '/page/1', next: '/page/3' },
        category: 'tech',
        classification: 'blog',
        itunes: { appId: '123', appArgument: 'app://x' },
        facebook: { appId: '99' },
        pinterest: { richPin: false },
        formatDetection: { email: false, telephone: false, address: true },
        verification: { yandex: 'y1', google: 'g1', me: ['m1', 'm2'], yahoo: 'h1' },
        appleWebApp: {
          title: 'Acme',
          statusBarStyle: 'black-translucent',
          startupImage: ['/s.png', { url: '/l.png', media: '(orientation: landscape)' }],
        },
        appLinks: {
          ios: { url: 'https://a.example/ios', appStoreId: 'app_store_id' },
          web: { url: 'https://a.example', shouldFallback: true },
        },
      },
      viewport: {},
    });
    const html = renderToStaticMarkup(createElement(Fragment, null, ...elements));
    const tags = html.match(/<[^>]+>/g)?.slice(2) ?? [];
    assert.deepEqual(tags, [
      '<meta name="abstract" content="An abstract"/>',
      '<link rel="archives" href="https://a.example/2025"/>',
      '<link rel="assets" href="https://a.example/assets"/>',
      '<link rel="bookmarks" href="https://a.example/b"/>',
      '<link rel="prev" href="/page/1"/>',
      '<link rel="next" href="/page/3"/>',
      '<meta name="category" content="tech"/>',
      '<meta name="classification" content="blog"/>',
      '<meta name="apple-itunes-app" content="app-id=123, app-argument=app://x"/>',
      '<meta property="fb:app_id" content="99"/>',
      '<meta property="pinterest-rich-pin" content="false"/>',
      '<meta name="format-detection" content="telephone=no, email=no"/>',
      '<meta name="google-site-verification" content="g1"/>',
      '<meta name="y_key" content="h1"/>',
      '<meta name="yandex-verification" content="y1"/>',
      '<meta name="me" content="m1"/>',
      '<meta name="me" content="m2"/>',
      '<meta name="mobile-web-app-capable" content="yes"/>',
      '<meta name="apple-mobile-web-app-title" content="Acme"/>',
      '<link href="/s.png" rel="apple-touch-startup-image"/>',
      '<link href="/l.png" media="(orientation: landscape)" rel="apple-touch-startup-image"/>',
      '<meta name="apple-mobile-web-app-status-bar-style" content="black-translucent"/>',
      '<meta property="al:ios:url" content="https://a.example/ios"/>',
      '<meta property="al:ios:app_store_id" content="app_store_id"/>',
      '<meta property="al:web:url" content="https://a.example"/>',
      '<meta property="al:web:should_fallback" content="true"/>',
    ]);
  });
});
