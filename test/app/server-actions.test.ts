/**
 * Server Actions in the App Router: the seeds' two `createPost` examples (`app/actions.ts` with
 * `revalidatePath('/posts')`, and with `revalidateTag('posts')`), run unchanged from
 * `<form action={createPost}>`, over plain HTTP (a form post, no JavaScript) and in headless
 * Chromium with and without JavaScript; an inline action closing over a render's value (sent
 * encrypted) that revalidates and redirects; `useActionState` with `useFormStatus`; and what is
 * refused (a cross-site POST, an action the build does not know).
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { DESKTOP_CHROME, launchChromium, recordPageErrors } from '../helpers/browser.ts';
import { type FixtureServer, request, startFixtureServer } from '../helpers/server.ts';

let f: FixtureServer;
let browser: Browser;

/** The hidden field naming the form's action in a page's HTML (`$ACTION_ID_<id>`). */
function actionField(html: string): string {
  const match = /name="(\$ACTION_ID_[^"]+)"/.exec(html);
  assert.ok(match, `no action field in ${html}`);
  return match[1]!;
}

/** Posts the form of `path` as a browser without JavaScript does (multipart, the action's field, the site's Origin). */
async function postForm(path: string, field: string, origin = f.url) {
  const form = new FormData();
  form.append(field, '');
  return request(f, path, { method: 'POST', body: form, headers: { origin }, redirect: 'manual' });
}

before(async () => {
  f = await startFixtureServer({}, { name: 'client-site', items: { '1': 'one', posts: 'posts v1', closure: 'closure v1' } });
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await f?.close();
});

describe('the seeds’ createPost over plain HTTP (no JavaScript)', () => {
  it('revalidatePath: the POST runs the action and answers /posts rendered fresh; the next GET is that page', async () => {
    const before = await request(f, '/posts');
    assert.equal(before.headers.get('x-isr-cache'), 'HIT');
    assert.match(before.text, /<p id="posts">posts v1<\/p>/);
    f.api.items.set('posts', 'posts v2');
    assert.match((await request(f, '/posts')).text, /posts v1/, 'cached until revalidated');
    const answer = await postForm('/posts', actionField(before.text));
    assert.equal(answer.status, 200);
    assert.match(answer.text, /<p id="posts">posts v2<\/p>/);
    const next = await request(f, '/posts');
    assert.equal(next.headers.get('x-isr-cache'), 'HIT');
    assert.match(next.text, /posts v2/);
  });

  it('revalidateTag: the same through the tag of the page’s fetch', async () => {
    const before = await request(f, '/tagged');
    assert.match(before.text, /posts v[12]/);
    f.api.items.set('posts', 'posts v3');
    const answer = await postForm('/tagged', actionField(before.text));
    assert.equal(answer.status, 200);
    assert.match(answer.text, /<p id="posts">posts v3<\/p>/);
    assert.match((await request(f, '/tagged')).text, /posts v3/);
  });

  it('a cross-site POST is refused (403) and runs nothing; an unknown action is a 404', async () => {
    const before = await request(f, '/tagged');
    f.api.items.set('posts', 'posts v4');
    const crossSite = await postForm('/tagged', actionField(before.text), 'https://evil.example');
    assert.equal(crossSite.status, 403);
    assert.match((await request(f, '/tagged')).text, /posts v3/, 'the tag was not revalidated');
    const unknown = await postForm('/tagged', '$ACTION_ID_0123456789abcdef0123456789abcdef01234567');
    assert.equal(unknown.status, 404);
    const scripted = await request(f, '/tagged', { method: 'POST', headers: { 'x-rsc-action': 'nope', origin: f.url }, body: '[]' });
    assert.equal(scripted.status, 404);
  });

  it('a value an inline action closes over reaches the browser encrypted only', async () => {
    const page = await request(f, '/closure');
    assert.equal(page.status, 200);
    assert.doesNotMatch(page.text, /closed-over-secret-42/);
  });
});

describe('Server Actions in headless Chromium', () => {
  it('with JavaScript: the form calls the action and the page’s fresh payload renders in place', async () => {
    const context = await browser.newContext({ userAgent: DESKTOP_CHROME });
    const page = await context.newPage();
    await page.goto(`${f.url}/tagged`);
    await page.waitForFunction(() => (window as unknown as { __FLIGHT_DATA?: unknown }).__FLIGHT_DATA !== undefined);
    await page.evaluate(() => {
      (window as unknown as { marker: number }).marker = 1;
    });
    f.api.items.set('posts', 'posts v5');
    const posts = page.waitForResponse(
      (response) => response.request().method() === 'POST' && new URL(response.url()).pathname === '/tagged',
    );
    await page.click('#create');
    const response = await posts;
    assert.equal(response.headers()['content-type'], 'text/x-component');
    await page.locator('#posts', { hasText: 'posts v5' }).waitFor({ timeout: 15_000 });
    assert.equal(await page.evaluate(() => (window as unknown as { marker?: number }).marker), 1, 'no full page load');
    assert.match((await request(f, '/tagged')).text, /posts v5/, 'the next request gets it too');
    await context.close();
  });

  it('without JavaScript: the form posts, and the answer is the page rendered fresh', async () => {
    const context = await browser.newContext({ userAgent: DESKTOP_CHROME, javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${f.url}/posts`);
    f.api.items.set('posts', 'posts v6');
    await page.click('#create');
    await page.locator('#posts', { hasText: 'posts v6' }).waitFor({ timeout: 15_000 });
    assert.equal(new URL(page.url()).pathname, '/posts');
    await context.close();
  });

  it('an inline action with a closed-over value revalidates and redirects; useActionState and useFormStatus work', async () => {
    const context = await browser.newContext({ userAgent: DESKTOP_CHROME });
    const page = await context.newPage();
    const errors = recordPageErrors(page);
    await page.goto(`${f.url}/closure`);
    await page.locator('#closure', { hasText: 'closure v1' }).waitFor();
    await page.waitForFunction(() => (window as unknown as { __FLIGHT_DATA?: unknown }).__FLIGHT_DATA !== undefined);
    await page.click('#greet');
    await page.locator('#message', { hasText: 'said: hello ada' }).waitFor({ timeout: 15_000 });
    f.api.items.set('closure', 'closure v2');
    await page.click('#go');
    await page.waitForURL(`${f.url}/closure?done=1`, { timeout: 15_000 });
    await page.locator('#closure', { hasText: 'closure v2' }).waitFor({ timeout: 15_000 });
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('useActionState without JavaScript: the answer renders the action’s new state', async () => {
    const context = await browser.newContext({ userAgent: DESKTOP_CHROME, javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${f.url}/closure`);
    await page.fill('input[name="name"]', 'grace');
    await page.click('#greet');
    await page.locator('#message', { hasText: 'said: hello grace' }).waitFor({ timeout: 15_000 });
    await context.close();
  });
});
