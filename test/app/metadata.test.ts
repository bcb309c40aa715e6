/**
 * The App Router's Metadata API (src/app/metadata.ts) on the client-site fixture: a layout's
 * `metadata` (title template and default, description, Open Graph, robots, `metadataBase`) and
 * `viewport`, a page's `generateMetadata` from tagged fetched data; rendered into the head of the
 * cached page, and regenerated with it after a `revalidateTag`.
 * @see https://nextjs.org/docs/app/api-reference/functions/generate-metadata
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
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
