/**
 * Next.js 16's caching model on a real built site (test/fixtures/cache-site, `cacheComponents:
 * true`): `'use cache'` at function, component and file level, `cacheLife` with every built-in
 * profile, next.config's own profiles, inline ones and the nesting rule, the page's
 * `Cache-Control` computed from them as Next.js computes it, each profile's windows on the
 * injected clock (HIT inside `revalidate`, STALE after it, MISS after `expire`), `cacheTag` with
 * `revalidateTag(tag, 'max')` (STALE then fresh) against `{ expire: 0 }` and the deprecated one-
 * argument form (MISS, fresh at once), `updateTag` read-your-own-writes in a Server Action,
 * `'use cache: private'`, and what fails with Next.js's messages.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type FixtureServer, request, startFixtureServer, TOKEN } from '../helpers/server.ts';

let f: FixtureServer;
const get = (path: string, init?: RequestInit) => request(f, path, init);
const flush = () => f.server.isr.engine.flush();
const text = (html: string) => /<p id="text">(.*?)<\/p>/.exec(html)?.[1]?.replace(/<!-- -->/g, '');
const NO_STORE = 'private, no-cache, no-store, max-age=0, must-revalidate';

const MINUTE = 60;
const HOUR = 3600;
const DAY = 86_400;
const YEAR = 31_536_000;

before(async () => {
  f = await startFixtureServer(
    {},
    { name: 'cache-site', items: { '1': 'one', '2': 'two', '3': 'three', posts: 'posts v1', remote: 'remote v1' } },
  );
});
after(async () => {
  await f?.close();
});

/** Each profile: its revalidate and expire (seconds), and the `Cache-Control` Next.js sends for a page holding only it. */
const PROFILES: readonly [string, number, number, string][] = [
  ['default', 15 * MINUTE, YEAR, 's-maxage=900, stale-while-revalidate=31535100'],
  ['minutes', MINUTE, HOUR, 's-maxage=60, stale-while-revalidate=3540'],
  ['hours', HOUR, DAY, 's-maxage=3600, stale-while-revalidate=82800'],
  ['days', DAY, 7 * DAY, 's-maxage=86400, stale-while-revalidate=518400'],
  ['weeks', 7 * DAY, 30 * DAY, 's-maxage=604800, stale-while-revalidate=1987200'],
  ['max', 30 * DAY, YEAR, 's-maxage=2592000, stale-while-revalidate=28944000'],
];

describe('cacheLife: the page’s Cache-Control follows its caches, as Next.js computes it', () => {
  it('a function without cacheLife lives by the default profile: s-maxage=900, the rest of the year stale', async () => {
    const home = await get('/');
    assert.equal(home.status, 200);
    assert.equal(home.headers.get('x-isr-cache'), 'HIT', 'prerendered');
    assert.equal(home.headers.get('cache-control'), 's-maxage=900, stale-while-revalidate=31535100');
    assert.equal(text(home.text), 'one');
  });

  for (const [profile, , , header] of PROFILES) {
    it(`cacheLife('${profile}') gives ${header}`, async () => {
      const page = await get(`/life/${profile}`);
      assert.equal(page.headers.get('cache-control'), header);
    });
  }

  it('next.config profiles: the lowest revalidate and expire of the page’s caches; a custom profile’s omitted values come from default', async () => {
    // editorial { revalidate: 3600, expire: 86400 } and halfHour { revalidate: 1800 } (expire: default's never).
    assert.equal((await get('/custom')).headers.get('cache-control'), 's-maxage=1800, stale-while-revalidate=84600');
  });

  it('nesting: an outer cache without cacheLife takes the shorter inner lifetime; one with cacheLife keeps its own', async () => {
    const nested = await get('/nested');
    assert.equal(text(nested.text), 'one (nested)');
    assert.equal(nested.headers.get('cache-control'), 's-maxage=60, stale-while-revalidate=3540', 'minutes, from the inner cache');
    const explicit = await get('/nested-explicit');
    assert.equal(text(explicit.text), 'one (explicit)');
    assert.equal(explicit.headers.get('cache-control'), 's-maxage=3600, stale-while-revalidate=82800', 'hours, its own');
  });

  it('a file-level directive caches the page component (weeks)', async () => {
    const page = await get('/file-level');
    assert.equal(text(page.text), 'three');
    assert.equal(page.headers.get('cache-control'), 's-maxage=604800, stale-while-revalidate=1987200');
  });

  it('a cached component returns JSX with a client component; its children (passed through, not part of the key) render inside it', async () => {
    const first = await get('/component');
    assert.match(first.text, /<h2 id="card">two<\/h2>/);
    assert.match(first.text, /<button id="counter" type="button">count <!-- -->3<\/button>/);
    assert.match(first.text, /<p id="child">child <!-- -->\d+<\/p>/);
    assert.equal(first.headers.get('cache-control'), 's-maxage=86400, stale-while-revalidate=518400');
  });

  it('a cache shorter than a prerender may hold (seconds: expire 60) makes the page dynamic, and says why', async () => {
    const page = await get('/short');
    assert.equal(page.headers.get('cache-control'), NO_STORE);
    assert.equal(text(page.text), 'one');
    assert.ok(
      f.logger.lines.some((line) => line.startsWith('warn route /short:') && line.includes('Partial Prerendering')),
      f.logger.lines.join('\n'),
    );
  });
});

describe('fetch outside a cached function (Next.js 16: uncached data)', () => {
  it('a fetch without a cache option read by the page makes it dynamic (no-store, as next start answers it), and says why', async () => {
    f.api.items.set('1', 'one');
    const first = await get('/uncached');
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('cache-control'), NO_STORE);
    assert.equal(first.headers.get('x-isr-cache'), null);
    assert.equal(text(first.text), 'one');
    f.api.items.set('1', 'one, live');
    assert.equal(text((await get('/uncached')).text), 'one, live', 'read again on each request');
    f.api.items.set('1', 'one');
    const warning = f.logger.lines.find((line) => line.startsWith('warn route /uncached:'));
    assert.ok(warning, f.logger.lines.join('\n'));
    assert.match(warning, /fetch http:\/\/127\.0\.0\.1:\d+\/item\/1 without a cache option makes part of the page dynamic/);
    assert.match(warning, /fails `next build` \("Next\.js encountered uncached or runtime data during prerendering"\) when it is not/);
  });

  it('the same fetch inside unstable_cache is cached with its result: the page stays cached', async () => {
    const first = await get('/unstable');
    assert.equal(text(first.text), 'two');
    assert.notEqual(first.headers.get('cache-control'), NO_STORE);
    f.api.items.set('2', 'two, later');
    const second = await get('/unstable');
    assert.equal(second.headers.get('x-isr-cache'), 'HIT');
    assert.equal(text(second.text), 'two');
    f.api.items.set('2', 'two');
  });
});

describe('cacheLife windows on the injected clock', () => {
  for (const [profile, revalidate, expire] of PROFILES) {
    it(`${profile}: HIT until ${revalidate} s, STALE after (new content next), MISS after ${expire} s`, async () => {
      const path = `/life/${profile}`;
      f.api.items.set('1', 'one');
      // Start from a generation made now.
      await get(path);
      f.clock.advance(revalidate * 1000 + 1);
      await get(path);
      await flush();
      const start = f.clock.now();
      const base = await get(path);
      assert.equal(base.headers.get('x-isr-cache'), 'HIT');

      f.api.items.set('1', `one ${profile}`);
      f.clock.advance(start + revalidate * 1000 - 1000 - f.clock.now());
      const inside = await get(path);
      assert.equal(inside.headers.get('x-isr-cache'), 'HIT', 'inside revalidate');
      assert.equal(text(inside.text), text(base.text));

      f.clock.advance(start + revalidate * 1000 + 1 - f.clock.now());
      const stale = await get(path);
      assert.equal(stale.headers.get('x-isr-cache'), 'STALE', 'past revalidate: served at once');
      assert.equal(text(stale.text), text(base.text));
      await flush();
      const fresh = await get(path);
      assert.equal(fresh.headers.get('x-isr-cache'), 'HIT');
      assert.equal(text(fresh.text), `one ${profile}`, 'the regeneration read the function again');

      const regenerated = f.clock.now();
      f.clock.advance(regenerated + expire * 1000 + 1 - f.clock.now());
      const expired = await get(path);
      assert.equal(expired.headers.get('x-isr-cache'), 'MISS', 'past expire: the request waits for new content');
    });
  }
});

/** `POST /api/revalidate?mode=...`: the fixture's webhook calling revalidateTag('posts', ...). */
async function webhook(mode: string) {
  const answer = await get(`/api/revalidate?tag=posts&mode=${mode}`, { method: 'POST' });
  assert.equal(answer.status, 200, answer.text);
}

describe('cacheTag and revalidateTag: mark stale against expire now', () => {
  it("revalidateTag(tag, 'max'): the next request is STALE (old content at once), the one after fresh", async () => {
    await get('/tags');
    await flush();
    assert.equal(text((await get('/tags')).text), 'posts v1');
    f.api.items.set('posts', 'posts v2');
    await webhook('max');
    const stale = await get('/tags');
    assert.equal(stale.headers.get('x-isr-cache'), 'STALE');
    assert.equal(text(stale.text), 'posts v1');
    await flush();
    const fresh = await get('/tags');
    assert.equal(fresh.headers.get('x-isr-cache'), 'HIT');
    assert.equal(text(fresh.text), 'posts v2');
  });

  it('a named profile (hours) marks stale too', async () => {
    f.api.items.set('posts', 'posts v3');
    await webhook('hours');
    assert.equal((await get('/tags')).headers.get('x-isr-cache'), 'STALE');
    await flush();
    assert.equal(text((await get('/tags')).text), 'posts v3');
  });

  it('revalidateTag(tag, { expire: 0 }): the next request waits for new content (MISS)', async () => {
    f.api.items.set('posts', 'posts v4');
    await webhook('expire');
    const next = await get('/tags');
    assert.equal(next.headers.get('x-isr-cache'), 'MISS');
    assert.equal(text(next.text), 'posts v4');
  });

  it('revalidateTag(tag) still expires at once, with Next.js’s deprecation warning (once)', async () => {
    f.api.items.set('posts', 'posts v5');
    await webhook('legacy');
    await webhook('legacy');
    const next = await get('/tags');
    assert.equal(next.headers.get('x-isr-cache'), 'MISS');
    assert.equal(text(next.text), 'posts v5');
    const warnings = f.logger.lines.filter((line) => line.includes('"revalidateTag" without the second argument is now deprecated'));
    assert.equal(warnings.length, 1, f.logger.lines.join('\n'));
  });

  it('the revalidation endpoint has both modes: {"soft": true} marks stale, without it expires now', async () => {
    const revalidate = (body: unknown) =>
      get('/_isr/revalidate', {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    f.api.items.set('posts', 'posts v6');
    assert.equal((await revalidate({ tags: ['posts'], soft: true })).status, 200);
    const stale = await get('/tags');
    assert.equal(stale.headers.get('x-isr-cache'), 'STALE');
    assert.equal(text(stale.text), 'posts v5');
    await flush();
    assert.equal(text((await get('/tags')).text), 'posts v6');
    f.api.items.set('posts', 'posts v7');
    assert.equal((await revalidate({ tags: ['post-posts'] })).status, 200);
    const miss = await get('/tags');
    assert.equal(miss.headers.get('x-isr-cache'), 'MISS');
    assert.equal(text(miss.text), 'posts v7');
    // The same two modes in Next.js 16's terms.
    f.api.items.set('posts', 'posts v7b');
    assert.equal((await revalidate({ tags: ['posts'], profile: 'max' })).status, 200);
    assert.equal((await get('/tags')).headers.get('x-isr-cache'), 'STALE');
    await flush();
    assert.equal(text((await get('/tags')).text), 'posts v7b');
    f.api.items.set('posts', 'posts v7c');
    assert.equal((await revalidate({ tags: ['posts'], profile: { expire: 0 } })).status, 200);
    const expired = await get('/tags');
    assert.equal(expired.headers.get('x-isr-cache'), 'MISS');
    assert.equal(text(expired.text), 'posts v7c');
    const bad = await revalidate({ tags: ['posts'], profile: 7 });
    assert.equal(bad.status, 400);
    assert.match((JSON.parse(bad.text) as { error: string }).error, /"profile" must be a profile name/);
  });
});

describe('updateTag and refresh in Server Actions', () => {
  /** The hidden field naming a form's action in the page's HTML. */
  const actionFields = (html: string) => [...html.matchAll(/name="(\$ACTION_ID_[^"]+)"/g)].map((match) => match[1]!);

  it('updateTag: the page the action answers with shows the new data (read-your-own-writes), and so does the next GET', async () => {
    const page = await get('/notes');
    const before = text(page.text);
    f.api.items.set('posts', 'posts v8');
    assert.equal(text((await get('/notes')).text), before, 'cached until the action');
    const form = new FormData();
    form.append(actionFields(page.text)[0]!, '');
    const answer = await get('/notes', { method: 'POST', body: form, headers: { origin: f.url }, redirect: 'manual' });
    assert.equal(answer.status, 200);
    assert.equal(text(answer.text), 'posts v8');
    assert.equal(text((await get('/notes')).text), 'posts v8');
    assert.equal(text((await get('/tags')).text), 'posts v8', 'every page reading the tag');
  });

  it('refresh() runs inside an action and leaves the cache as it is', async () => {
    const page = await get('/notes');
    f.api.items.set('posts', 'posts v9');
    const form = new FormData();
    form.append(actionFields(page.text)[1]!, '');
    const answer = await get('/notes', { method: 'POST', body: form, headers: { origin: f.url }, redirect: 'manual' });
    assert.equal(answer.status, 200);
    assert.equal(text(answer.text), 'posts v8');
  });

  it('updateTag outside a Server Action (a route handler) throws Next.js’s error', async () => {
    const answer = await get('/api/update', { method: 'POST' });
    assert.equal(answer.status, 500);
    assert.match(answer.text, /updateTag can only be called from within a Server Action/);
  });
});

describe("'use cache: private'", () => {
  it('is shared by the calls of one request, never stored: each request renders it again', async () => {
    const first = await get('/private');
    assert.equal(first.headers.get('cache-control'), NO_STORE);
    assert.match(first.text, /<p id="same">true<\/p>/);
    const second = await get('/private');
    const nonce = (html: string) => /<p id="nonce">(.*?)<\/p>/.exec(html)?.[1];
    assert.notEqual(nonce(first.text), nonce(second.text));
  });
});
