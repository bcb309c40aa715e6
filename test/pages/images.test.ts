/**
 * `next/image` and the image optimisation endpoint (`/_next/image`, src/server/image.ts) on the
 * pages-client-site fixture: a statically imported PNG (size and blur placeholder from the file,
 * copied content-hashed under /_isr/static/media/), a file of public/ with `priority`, and `fill`
 * with `sizes`; the endpoint resizes with sharp, negotiates WebP by `Accept`, caches each variant
 * in the ISR cache, sends the types Next.js bypasses (ICO, BMP: public/favicon.ico, public/tile.bmp,
 * made for this test) as they are, and refuses what the config does not allow without fetching it.
 * @see https://nextjs.org/docs/app/api-reference/components/image
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { type FixtureServer, request, startFixtureServer } from '../helpers/server.ts';

let f: FixtureServer;
let html: string;

before(async () => {
  f = await startFixtureServer({}, { name: 'pages-client-site', items: { '1': 'one' } });
  html = (await request(f, '/gallery')).text;
});
after(() => f?.close());

/** The attributes of the `<img>` with `id`, as the server rendered them. */
function img(id: string): Record<string, string> {
  const tag = new RegExp(`<img [^>]*id="${id}"[^>]*>`).exec(html)?.[0];
  assert.ok(tag, `no <img id="${id}">`);
  return Object.fromEntries([...tag.matchAll(/([\w-]+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!.replace(/&amp;/g, '&')]));
}

const ACCEPT_WEBP = { accept: 'image/avif,image/webp,image/apng,image/*,*/*;q=0.8' };

describe('next/image', () => {
  it('a static import gets its size, a hashed immutable URL and a blur placeholder', async () => {
    const image = img('imported');
    assert.equal(image.width, '200');
    assert.equal(image.height, '125');
    assert.equal(image.loading, 'lazy');
    assert.equal(image.decoding, 'async');
    assert.equal(image['data-nimg'], '1');
    const src = /url=([^&]+)/.exec(image.src!)?.[1];
    assert.match(decodeURIComponent(src ?? ''), /^\/_isr\/static\/media\/gradient\.[0-9a-f]{8}\.png$/);
    assert.equal(image.srcSet, `/_next/image?url=${src}&w=256&q=75 1x, /_next/image?url=${src}&w=640&q=75 2x`);
    assert.match(image.style!, /background-image:url\(&quot;data:image\/svg\+xml;charset=utf-8,.*data:image\/png;base64,/);
    const file = await fetch(f.url + decodeURIComponent(src!));
    assert.equal(file.status, 200);
    assert.equal(file.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(file.headers.get('content-type'), 'image/png');
  });

  it('priority loads eagerly and is preloaded, with no fetchPriority unless given (Next.js 16); fill uses sizes', () => {
    const image = img('public');
    assert.equal(image.loading, undefined);
    assert.equal(image.fetchPriority, undefined);
    assert.match(
      html,
      /<link rel="preload" as="image" imageSrcSet="\/_next\/image\?url=%2Fbanner\.jpg&amp;w=384&amp;q=75 1x, \/_next\/image\?url=%2Fbanner\.jpg&amp;w=640&amp;q=75 2x"\/>/,
    );
    const filled = img('filled');
    assert.equal(filled['data-nimg'], 'fill');
    assert.equal(filled.sizes, '50vw');
    assert.equal(filled.width, undefined);
    assert.match(filled.style!, /^position:absolute;height:100%;width:100%;left:0;top:0;right:0;bottom:0;color:transparent$/);
    // sizes 50vw: the widths from half the smallest device size (640) up.
    assert.match(filled.srcSet!, /^\/_next\/image\?url=%2Fbanner\.jpg&w=384&q=75 384w, .*&w=3840&q=75 3840w$/);
  });
});

describe('the image endpoint', () => {
  it('resizes to the asked width, in WebP when accepted, cached in the ISR cache', async () => {
    const url = '/_next/image?url=%2Fbanner.jpg&w=256&q=75';
    const first = await fetch(f.url + url, { headers: ACCEPT_WEBP });
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('content-type'), 'image/webp');
    assert.equal(first.headers.get('x-isr-cache'), 'MISS');
    assert.equal(first.headers.get('cache-control'), 'public, max-age=14400, must-revalidate');
    assert.equal(first.headers.get('vary'), 'Accept');
    assert.equal(first.headers.get('content-disposition'), 'attachment; filename="banner.webp"');
    const meta = await sharp(Buffer.from(await first.arrayBuffer())).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['webp', 256, 160]);
    const second = await fetch(f.url + url, { headers: ACCEPT_WEBP });
    assert.equal(second.headers.get('x-isr-cache'), 'HIT');
  });

  it('a static import is sent immutable and named without its hash, as Next.js sends /_next/static/media/', async () => {
    const src = /url=([^&]+)/.exec(img('imported').src!)![1]!;
    const response = await fetch(`${f.url}/_next/image?url=${src}&w=256&q=75`, { headers: ACCEPT_WEBP });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('cache-control'), 'public, max-age=315360000, immutable');
    assert.equal(response.headers.get('content-disposition'), 'attachment; filename="gradient.webp"');
    const jpeg = await fetch(`${f.url}/_next/image?url=%2Fbanner.jpg&w=256&q=75`, { headers: { accept: 'image/*' } });
    assert.equal(jpeg.headers.get('content-disposition'), 'attachment; filename="banner.jpeg"', 'the extension Next.js gives image/jpeg');
  });

  it('keeps the source format for a client that takes no WebP, and never enlarges', async () => {
    const response = await fetch(`${f.url}/_next/image?url=%2Fbanner.jpg&w=640&q=75`, { headers: { accept: 'image/*' } });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'image/jpeg');
    const meta = await sharp(Buffer.from(await response.arrayBuffer())).metadata();
    assert.deepEqual([meta.format, meta.width], ['jpeg', 320]);
  });

  it('sends an icon and a BMP as they are, with their own types, as Next.js bypasses them (sharp reads neither)', async () => {
    for (const [file, type, name] of [
      ['favicon.ico', 'image/x-icon', 'favicon.ico'],
      ['tile.bmp', 'image/bmp', 'tile.bmp'],
    ] as const) {
      const response = await fetch(`${f.url}/_next/image?url=%2F${file}&w=256&q=75`, { headers: ACCEPT_WEBP });
      assert.equal(response.status, 200, file);
      assert.equal(response.headers.get('content-type'), type, file);
      assert.equal(response.headers.get('content-disposition'), `attachment; filename="${name}"`, file);
      const original = await fetch(`${f.url}/${file}`);
      assert.deepEqual(
        Buffer.from(await response.arrayBuffer()),
        Buffer.from(await original.arrayBuffer()),
        `${file}: the bytes as they are`,
      );
    }
  });

  it('refuses a bad query, a width or quality not configured, a remote host not allowed, and a path with no file', async () => {
    const cases: [string, number, string][] = [
      ['/_next/image?w=256&q=75', 400, '"url" parameter is required'],
      ['/_next/image?url=%2Fbanner.jpg&w=255&q=75', 400, '"w" parameter (width) of 255 is not allowed'],
      ['/_next/image?url=%2Fbanner.jpg&w=256&q=80', 400, '"q" parameter (quality) of 80 is not allowed'],
      [`/_next/image?url=${encodeURIComponent('http://127.0.0.1:9/a.png')}&w=256&q=75`, 400, '"url" parameter is not allowed'],
      ['/_next/image?url=%2F%2Fevil.example%2Fa.png&w=256&q=75', 400, '"url" parameter cannot be a protocol-relative URL (//)'],
      ['/_next/image?url=%2Fmissing.png&w=256&q=75', 404, '"url" parameter /missing.png names no file of the site'],
    ];
    for (const [url, status, message] of cases) {
      const response = await request(f, url);
      assert.equal(response.status, status, url);
      assert.equal(response.text, message, url);
    }
  });
});
