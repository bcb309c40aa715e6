import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startContentApi, type ContentApi } from '../../examples/blog/content-api/server.ts';
import { freePort } from '../helpers/instances.ts';

/**
 * The main job, end to end through the real CLI: `isr build` and `isr start` (compiled dist/, as
 * a user runs them) on the example blog with its real content API, then the headless-CMS flow.
 */

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const TOKEN = 'example-token-0123456789';


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

before(async () => {
  parent = await mkdtemp(path.join(tmpdir(), 'isr-blog-'));
  site = path.join(parent, 'blog');
  // The site code only: the content lives with the content API, which reads it in place.
  for (const folder of ['app', 'pages', 'lib']) {
    await cp(path.join(root, 'examples', 'blog', folder), path.join(site, folder), { recursive: true });
  }
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  api = await startContentApi({
    port: 0,
    editsFile: null,
    revalidate: { url: `${url}/_isr/revalidate`, token: TOKEN },
    log: () => {},
  });
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
  const posts = (await (await fetch(`${api.url}/posts?limit=1`)).json()) as { id: string; title: string }[];
  return posts[0]!;
}

describe('the example blog, built and served by the CLI', () => {
  test('a prerendered post is a HIT with its real text and the s-maxage Cache-Control header', async () => {
    const { id, title } = await firstPrerenderedId();
    const calls = api.stats.byPath.get(`/posts/${id}`) ?? 0;
    const response = await fetch(`${url}/blog/${id}`);
    const html = await response.text();
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-isr-cache'), 'HIT');
    assert.equal(response.headers.get('cache-control'), 's-maxage=60, stale-while-revalidate=31535940');
    assert.ok(html.includes(`<h1>${title.replace(/&/g, '&amp;')}</h1>`), 'the post title is in the page');
    assert.equal(api.stats.byPath.get(`/posts/${id}`) ?? 0, calls, 'served without asking the content API');
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
    const edit = await fetch(`${api.url}/posts/${id}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Edited through the CMS', markdown: 'A **fresh** paragraph written during the test.' }),
    });
    assert.equal(edit.status, 200);
    assert.equal(((await edit.json()) as { revalidated: unknown }).revalidated, 200);
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
