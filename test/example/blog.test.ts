/**
 * The main job, end to end through the real CLI: `isr build` and `isr start` (compiled dist/, as
 * a user runs them) on the example blog with its real content API, then the headless-CMS flow —
 * through the App Router (`/blog`) and the Pages Router (`/archive`).
 */

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type ContentApi, startContentApi } from '../../examples/blog/content-api/server.ts';
import { freePort } from '../helpers/instances.ts';
import { escapeHtml as escaped } from '../helpers/server.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const TOKEN = 'example-token-0123456789';
const BROWSER = { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36' };
const GOOGLEBOT = { 'user-agent': 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)' };

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(root, 'bin', 'isr.js'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('close', (code) => resolve({ code, output }));
  });
}

let site: string;
let parent: string;
let api: ContentApi;
let server: ChildProcess | undefined;
let serverLog = '';
let url: string;
let env: NodeJS.ProcessEnv;
let buildId: string;
/** The content API's webhook settings, read by it on every edit (a test turns the call off for one edit). */
let webhook: { url: string; token: string };

before(async () => {
  parent = await mkdtemp(path.join(tmpdir(), 'isr-blog-'));
  site = path.join(parent, 'blog');
  // The site code only: the content lives with the content API, which reads it in place.
  for (const folder of ['app', 'pages', 'lib', 'styles']) {
    await cp(path.join(root, 'examples', 'blog', folder), path.join(site, folder), { recursive: true });
  }
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  webhook = { url: `${url}/_isr/revalidate`, token: TOKEN };
  api = await startContentApi({ port: 0, editsFile: null, revalidate: webhook, log: () => {} });
  env = {
    ...process.env,
    CONTENT_API_URL: api.url,
    ISR_REVALIDATE_TOKEN: TOKEN,
    MY_SECRET_TOKEN: TOKEN,
    ISR_DEBUG_CACHE: '1',
    NODE_ENV: 'production',
  };
  const built = await run(['build', site], env);
  assert.equal(built.code, 0, built.output);
  assert.match(built.output, /\/blog\/\[id\]\s+page\s+ISR, 100 prerendered/);
  assert.match(built.output, /\/archive\/\[id\]\s+page\s+ISR, 20 prerendered/);
  buildId = JSON.parse(await readFile(path.join(site, '.isr', 'build', 'manifest.json'), 'utf8')).buildId;

  server = spawn(process.execPath, [path.join(root, 'bin', 'isr.js'), 'start', site, '--port', String(port), '--hostname', '127.0.0.1'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stderr!.on('data', (chunk) => (serverLog += chunk));
  server.stdout!.on('data', (chunk) => (serverLog += chunk));
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/blog`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`isr start did not answer within 20 s:\n${serverLog}`);
    await new Promise((r) => setTimeout(r, 100));
  }
});

after(async () => {
  server?.kill('SIGTERM');
  await new Promise((r) => server?.once('exit', r) ?? r(undefined));
  await api?.close();
  await rm(parent, { recursive: true, force: true });
});

async function firstPrerenderedId(): Promise<{ id: string; title: string }> {
  return (await newestPosts(1))[0]!;
}

/** The `limit` newest posts, as the content API lists them now. */
async function newestPosts(limit: number): Promise<{ id: string; title: string }[]> {
  return (await (await fetch(`${api.url}/posts?limit=${limit}`)).json()) as { id: string; title: string }[];
}

/** `pathname` on the site with `headers`; the body read. */
async function get(pathname: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; text: string }> {
  const response = await fetch(`${url}${pathname}`, { headers });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** The data-route URL of the page at `pagePath` in this build. */
function dataRoute(pagePath: string): string {
  return `/_isr/data/${buildId}${pagePath}.json`;
}

/** Edits a post through the content API (`PUT /posts/:id`); its answer's `revalidated`. */
async function editPost(id: string, title: string, markdown: string): Promise<unknown> {
  const edit = await fetch(`${api.url}/posts/${id}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ title, markdown }),
  });
  assert.equal(edit.status, 200);
  return ((await edit.json()) as { revalidated: unknown }).revalidated;
}

// The tests run in order, and an edit revalidates the tag 'posts', which every post page and list
// carries: the Pages Router's read-only tests come first (a prerendered page is still a HIT), its
// edits last.

describe('the Pages Router section (pages/archive), as built', () => {
  test('/archive lists every post, newest first, inside _app, with its title from next/head', async () => {
    const total = ((await (await fetch(`${api.url}/`)).json()) as { posts: number }).posts;
    const [newest, second] = await newestPosts(2);
    const page = await get('/archive');
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('x-isr-cache'), 'HIT');
    assert.equal(page.headers.get('cache-control'), 's-maxage=3600, stale-while-revalidate=31532400');
    const head = page.text.slice(0, page.text.indexOf('</head>'));
    assert.match(head, /<link rel="stylesheet" href="\/_isr\/static\/[^"]+\.css"\/>/, 'the stylesheet of _app');
    assert.match(head, /<title>Archive · Node\.js blog<\/title>/);
    assert.ok(page.text.includes('<header><a href="/">Node.js blog <span>· isr example</span></a></header>'), 'the header of _app');
    assert.ok(page.text.includes(`<p class="meta">${total}<!-- --> posts, newest first, through the Pages Router</p>`));
    const first = page.text.indexOf(`<a href="/archive/${newest!.id}">`);
    assert.ok(first > 0 && first < page.text.indexOf(`<a href="/archive/${second!.id}">`), 'newest first, linking to /archive/<id>');
    assert.equal(page.text.match(/<a href="\/archive\//g)?.length, total);
  });

  test('a post getStaticPaths listed is a prerendered HIT with its title', async () => {
    const { id, title } = (await newestPosts(20)).at(-1)!;
    const calls = api.stats.byPath.get(`/posts/${id}`) ?? 0;
    const page = await get(`/archive/${id}`, BROWSER);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('x-isr-cache'), 'HIT');
    assert.equal(page.headers.get('cache-control'), 's-maxage=60, stale-while-revalidate=31535940');
    assert.ok(page.text.includes(`<h1>${escaped(title)}</h1>`), 'the post title is in the page');
    assert.ok(page.text.includes(`<title>${escaped(title)} · Node.js blog</title>`), 'and in <title>');
    assert.ok(page.text.includes('<a href="/archive">← The archive</a>'));
    assert.match(page.text, /<script type="module" src="\/_isr\/static\/pages\/runtime-[\w-]+\.js"><\/script>/, 'hydrated in the browser');
    assert.equal(api.stats.byPath.get(`/posts/${id}`) ?? 0, calls, 'served without asking the content API');
  });

  test('an unlisted post: a browser gets the fallback skeleton at once, the data route waits for the page, then the page is cached', async () => {
    const { id, title } = (await newestPosts(30)).at(-1)!;
    const calls = api.stats.byPath.get(`/posts/${id}`) ?? 0;
    const fallback = await get(`/archive/${id}`, BROWSER);
    assert.equal(fallback.status, 200);
    assert.equal(fallback.headers.get('x-isr-cache'), 'FALLBACK');
    assert.equal(fallback.headers.get('cache-control'), 'private, no-cache, no-store, max-age=0, must-revalidate');
    assert.ok(fallback.text.includes('<main aria-busy="true"><article><h1>Loading…</h1>'), 'the skeleton');
    assert.ok(!fallback.text.includes(escaped(title)), 'no post yet');
    assert.ok(
      fallback.text.includes(`"buildId":"${buildId}","isFallback":true}</script>`),
      'the browser loads the data route, then renders the page',
    );

    const data = await get(dataRoute(`/archive/${id}`), BROWSER);
    assert.equal(data.status, 200);
    assert.match(data.headers.get('content-type') ?? '', /^application\/json/);
    const json = JSON.parse(data.text) as { pageProps: { post: { id: string; title: string; html: string } }; __N_SSG: boolean };
    assert.equal(json.__N_SSG, true);
    assert.equal(json.pageProps.post.id, id);
    assert.equal(json.pageProps.post.title, title);
    assert.ok(json.pageProps.post.html.length > 0);

    const page = await get(`/archive/${id}`, BROWSER);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('x-isr-cache'), 'HIT');
    assert.ok(page.text.includes(`<h1>${escaped(title)}</h1>`));
    assert.ok(!page.text.includes('Loading…') && page.text.includes('"isFallback":false}</script>'), 'the page itself, no fallback');
    assert.equal(api.stats.byPath.get(`/posts/${id}`), calls + 1, 'generated once for the fallback, the data route and the page');
  });

  test('an unlisted post: a crawler gets the full page at once, never the fallback', async () => {
    const { id, title } = (await newestPosts(31)).at(-1)!;
    const page = await get(`/archive/${id}`, GOOGLEBOT);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('x-isr-cache'), 'MISS');
    assert.ok(page.text.includes(`<h1>${escaped(title)}</h1>`));
    assert.ok(!page.text.includes('Loading…') && page.text.includes('"isFallback":false}</script>'));
    assert.equal((await get(`/archive/${id}`, BROWSER)).headers.get('x-isr-cache'), 'HIT', 'cached for browsers too');
  });

  test('an unknown id is a 404 (notFound), cached like a page; its data route says so', async () => {
    const crawled = await get('/archive/no-such-post', GOOGLEBOT);
    assert.equal(crawled.status, 404);
    assert.ok(crawled.text.includes('<h1>Page not found</h1>'));
    assert.equal((await get('/archive/no-such-post', GOOGLEBOT)).headers.get('x-isr-cache'), 'HIT');

    // A browser: the fallback, then what its script does (the data route answers 404: reload).
    const fallback = await get('/archive/no-such-post-either', BROWSER);
    assert.equal(fallback.headers.get('x-isr-cache'), 'FALLBACK');
    const data = await get(dataRoute('/archive/no-such-post-either'), BROWSER);
    assert.equal(data.status, 404);
    assert.deepEqual(JSON.parse(data.text), { notFound: true });
    const reloaded = await get('/archive/no-such-post-either', BROWSER);
    assert.equal(reloaded.status, 404);
    assert.ok(reloaded.text.includes('<h1>Page not found</h1>'));
  });
});

describe('the example blog, built and served by the CLI', () => {
  test('a prerendered post is a HIT with its real text and the s-maxage Cache-Control header', async () => {
    const { id, title } = await firstPrerenderedId();
    const calls = api.stats.byPath.get(`/posts/${id}`) ?? 0;
    const response = await fetch(`${url}/blog/${id}`);
    const html = await response.text();
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-isr-cache'), 'HIT');
    assert.equal(response.headers.get('cache-control'), 's-maxage=60, stale-while-revalidate=31535940');
    assert.ok(html.includes(`<h1>${escaped(title)}</h1>`), 'the post title is in the page');
    assert.equal(api.stats.byPath.get(`/posts/${id}`) ?? 0, calls, 'served without asking the content API');
  });

  test('each post has its own <title> and Open Graph tags (generateMetadata), and its styles from a CSS file', async () => {
    const calls = api.stats.byPath.get('/posts/v8.0.0') ?? 0;
    const html = await (await fetch(`${url}/blog/v8.0.0`)).text();
    const head = html.slice(0, html.indexOf('</head>'));
    assert.match(head, /<title>Node\.js 8\.0\.0 \(Current\) · Node\.js blog<\/title>/);
    assert.match(head, /<meta property="og:title" content="Node\.js 8\.0\.0 \(Current\)"\/>/);
    assert.match(head, /<meta property="og:type" content="article"\/>/);
    assert.ok(!html.includes('<style'), 'no inline stylesheet');
    const href = /<link rel="stylesheet"[^>]* href="(\/_isr\/static\/[^"]+\.css)"/.exec(head)?.[1];
    assert.ok(href !== undefined, 'the page links its stylesheet');
    const css = await fetch(url + href);
    assert.equal(css.status, 200);
    assert.match(css.headers.get('content-type') ?? '', /^text\/css/);
    assert.match(await css.text(), /header a span\s*\{\s*color:\s*var\(--accent\)/);
    // generateMetadata and the page fetch the post once per render (request memoization); a
    // prerendered post was served from the cache without fetching it at all.
    assert.ok((api.stats.byPath.get('/posts/v8.0.0') ?? 0) - calls <= 1);
    const other = await (await fetch(`${url}/blog/v14-to-v16`)).text();
    assert.doesNotMatch(other, /<title>Node\.js 8\.0\.0/, 'another post, another title');
  });

  test('a real post body from the vendored corpus is rendered from Markdown', async () => {
    const response = await fetch(`${url}/blog/v8.0.0`);
    const html = await response.text();
    assert.equal(response.status, 200);
    assert.match(html, /<h1>Node\.js 8\.0\.0 \(Current\)<\/h1>/);
    assert.ok(html.includes('The next major release of Node.js brings a range of significant changes'));
    assert.match(html, /<h3[^>]*>Say hello to npm version 5\.0\.0<\/h3>/, 'Markdown headings became HTML');
  });

  test('the list page is cached with its own window', async () => {
    const response = await fetch(`${url}/blog`);
    assert.equal(response.headers.get('cache-control'), 's-maxage=3600, stale-while-revalidate=31532400');
    assert.ok((await response.text()).includes('href="/blog/v8.0.0"'));
  });

  test('editing a post through the content API shows the new text on the next request, without a rebuild', async () => {
    const { id } = await firstPrerenderedId();
    assert.equal(await editPost(id, 'Edited through the CMS', 'A **fresh** paragraph written during the test.'), 200);
    const page = await fetch(`${url}/blog/${id}`);
    const html = await page.text();
    assert.ok(html.includes('<h1>Edited through the CMS</h1>'), 'new title');
    assert.ok(html.includes('<strong>fresh</strong> paragraph written during the test.'), 'new body');
    assert.equal(page.headers.get('x-isr-cache'), 'MISS');
    const list = await (await fetch(`${url}/blog`)).text();
    assert.ok(list.includes('Edited through the CMS'), 'the list page was revalidated too');
  });

  test('a post outside the first batch renders on first request, then is cached; an unknown id is a 404', async () => {
    const all = (await (await fetch(`${api.url}/posts`)).json()) as { id: string }[];
    const old = all.at(-1)!.id;
    const first = await fetch(`${url}/blog/${old}`);
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('x-isr-cache'), 'MISS');
    assert.equal((await fetch(`${url}/blog/${old}`)).headers.get('x-isr-cache'), 'HIT');
    const missing = await fetch(`${url}/blog/no-such-post`);
    assert.equal(missing.status, 404);
  });

  test('ISR_DEBUG_CACHE=1 logs cache decisions with path and duration in ms', () => {
    assert.match(serverLog, /\[isr\] HIT \/blog\/[^ ]+ \(route \/blog\/\[id\]\) [\d.]+ ms/);
    assert.match(serverLog, /\[isr\] MISS \/blog\/[^ ]+ .* [\d.]+ ms/);
    assert.ok(!serverLog.includes(TOKEN), 'the revalidation token never appears in the logs');
  });
});

describe('the Pages Router section after edits', () => {
  test('editing a post through the content API shows on its /archive page, its data route and the list (tag posts)', async () => {
    const { id } = (await newestPosts(3)).at(-1)!;
    await get(`/archive/${id}`, BROWSER);
    assert.equal((await get(`/archive/${id}`, BROWSER)).headers.get('x-isr-cache'), 'HIT');

    assert.equal(await editPost(id, 'Edited for the archive', 'An *archived* paragraph written during the test.'), 200);
    const page = await get(`/archive/${id}`, BROWSER);
    assert.equal(page.headers.get('x-isr-cache'), 'MISS', 'the tag posts invalidated it; regenerated for this request');
    assert.ok(page.text.includes('<h1>Edited for the archive</h1>'), 'new title');
    assert.ok(page.text.includes('An <em>archived</em> paragraph written during the test.'), 'new body');
    const data = JSON.parse((await get(dataRoute(`/archive/${id}`))).text) as { pageProps: { post: { title: string } } };
    assert.equal(data.pageProps.post.title, 'Edited for the archive', 'the data route is the same entry');
    assert.ok((await get('/archive')).text.includes('>Edited for the archive</a>'), 'the list was revalidated too');
  });

  test('POST /api/archive/revalidate checks its secret, method and id, then regenerates the page before it answers', async () => {
    const { id } = (await newestPosts(4)).at(-1)!;
    const revalidate = (query: string, method = 'POST') => fetch(`${url}/api/archive/revalidate${query}`, { method });

    const refused = await revalidate(`?secret=wrong&id=${id}`);
    assert.equal(refused.status, 401);
    assert.deepEqual(await refused.json(), { message: 'Invalid token' });
    const get405 = await revalidate(`?secret=${TOKEN}&id=${id}`, 'GET');
    assert.equal(get405.status, 405);
    assert.equal(get405.headers.get('allow'), 'POST');
    assert.equal((await revalidate(`?secret=${TOKEN}`)).status, 400);

    // Edit the post without telling the ISR server: its cached page stays as it was.
    await get(`/archive/${id}`, BROWSER);
    webhook.token = '';
    try {
      assert.equal(await editPost(id, 'Revalidated by hand', 'Changed behind the cache.'), false);
    } finally {
      webhook.token = TOKEN;
    }
    const stale = await get(`/archive/${id}`, BROWSER);
    assert.equal(stale.headers.get('x-isr-cache'), 'HIT');
    assert.ok(!stale.text.includes('Revalidated by hand'), 'the server was not told');

    const response = await revalidate(`?secret=${TOKEN}&id=${id}`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { revalidated: true });
    const page = await get(`/archive/${id}`, BROWSER);
    assert.equal(page.headers.get('x-isr-cache'), 'HIT', 'regenerated before the answer');
    assert.ok(page.text.includes('<h1>Revalidated by hand</h1>'));
  });
});
