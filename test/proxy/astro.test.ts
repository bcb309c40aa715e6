/**
 * `isr proxy` in front of a real Astro server (examples/astro-proxy: Astro 5, @astrojs/node
 * standalone, `output: 'server'`): ISR from response headers alone. The example has its own
 * package.json; this test installs it (`npm install`) when its node_modules is missing and builds it
 * (`astro build`) when dist/ is missing or older than its sources, so it runs from a clean clone.
 * Run: node --import tsx --test test/proxy/astro.test.ts
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { type RunningProxy, startProxy } from '../../src/proxy/index.ts';
import { newestMtime, waitFor } from '../helpers/examples.ts';
import { freePort, ROOT, stopChild } from '../helpers/instances.ts';

const run = promisify(execFile);

/** The example's folder. */
const EXAMPLE = path.join(ROOT, 'examples', 'astro-proxy');
/** What the origin's posts send: s-maxage and stale-while-revalidate short enough to wait out. */
const S_MAXAGE = 3;
const SWR = 4;
const TOKEN = 'astro-proxy-test-token';

/**
 * Installs the example's dependencies when missing (`npm install`, idempotent; up to 5 min) and
 * builds it when dist/server/entry.mjs is missing or older than the sources (up to 3 min).
 * @throws Error with npm's or Astro's output when either fails or times out.
 */
async function prepareExample(): Promise<void> {
  const env = { ...process.env, ASTRO_TELEMETRY_DISABLED: '1' };
  // npm writes node_modules/.package-lock.json last: without it, an install is missing or was cut short.
  const installed = ['.package-lock.json', 'astro/package.json', '@astrojs/node/package.json'];
  if (!installed.every((file) => existsSync(path.join(EXAMPLE, 'node_modules', file)))) {
    await run('npm', ['install', '--include=dev', '--no-audit', '--no-fund'], { cwd: EXAMPLE, env, timeout: 300_000, maxBuffer: 16 << 20 });
  }
  const entry = path.join(EXAMPLE, 'dist', 'server', 'entry.mjs');
  const sources = ['src', 'content', 'public', 'astro.config.mjs', 'package-lock.json'].map((name) => path.join(EXAMPLE, name));
  if (!existsSync(entry) || Math.max(...sources.map(newestMtime)) > statSync(entry).mtimeMs) {
    await run(process.execPath, [path.join(EXAMPLE, 'node_modules', 'astro', 'astro.js'), 'build'], {
      cwd: EXAMPLE,
      env,
      timeout: 180_000,
      maxBuffer: 16 << 20,
    });
  }
}

/** The Astro server: its address, its output so far, and how to stop it. */
interface Origin {
  url: string;
  child: ChildProcess;
  log(): string;
  stop(): Promise<void>;
}

/**
 * Starts `node dist/server/entry.mjs` on a free port of 127.0.0.1 with `env` added, and resolves
 * once it logs "Server listening on".
 * @throws Error with its output when it exits or has not started within `timeoutMs`.
 */
async function startOrigin(env: Record<string, string>, timeoutMs = 20_000): Promise<Origin> {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(EXAMPLE, 'dist', 'server', 'entry.mjs')], {
    cwd: EXAMPLE,
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the Astro server did not start within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const collect = (chunk: Buffer) => {
      output += chunk;
      if (output.includes('Server listening on')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`the Astro server exited with ${child.exitCode ?? child.signalCode}:\n${output}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    log: () => output,
    stop: () => stopChild(child, exited),
  };
}

/** One answer, read whole: status, headers and body text. */
interface Answer {
  status: number;
  headers: Headers;
  text: string;
  /** `x-isr-cache`, or null. */
  cache: string | null;
  /** The page's render stamp (`data-render` of the footer), or undefined for a body without one. */
  render: number | undefined;
}

/** GET (or `init.method`) `url` with a 10 s timeout, body read as text. */
async function fetchPage(url: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(10_000), ...init });
  const text = await response.text();
  const stamp = /data-render="(\d+)"/.exec(text);
  return {
    status: response.status,
    headers: response.headers,
    text,
    cache: response.headers.get('x-isr-cache'),
    render: stamp ? Number(stamp[1]) : undefined,
  };
}

/** Requests that reached the origin for `pathname` so far (its /origin/stats.json, asked directly). */
async function originRequests(origin: Origin, pathname: string): Promise<number> {
  const { text } = await fetchPage(`${origin.url}/origin/stats.json`);
  return (JSON.parse(text) as { requests: Record<string, number> }).requests[pathname] ?? 0;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The visitor id of a `Set-Cookie: visitor=<id>; ...`, or undefined. */
function visitorCookie(answer: Answer): string | undefined {
  return answer.headers
    .getSetCookie()
    .map((cookie) => /^visitor=([^;]+)/.exec(cookie)?.[1])
    .find((id) => id !== undefined);
}

let origin: Origin;
let scratch: string;
let failFlag: string;
let slowFlag: string;

before(
  async () => {
    await prepareExample();
    scratch = await mkdtemp(path.join(tmpdir(), 'isr-astro-proxy-'));
    failFlag = path.join(scratch, 'fail');
    slowFlag = path.join(scratch, 'slow');
    origin = await startOrigin({
      POST_S_MAXAGE: String(S_MAXAGE),
      POST_STALE_WHILE_REVALIDATE: String(SWR),
      FAIL_FLAG_FILE: failFlag,
      SLOW_FLAG_FILE: slowFlag,
    });
  },
  { timeout: 600_000 },
);

after(async () => {
  await origin?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('the Astro origin, asked directly: the headers the proxy works from', { timeout: 30_000 }, () => {
  test('/ is public for a minute, stale for five more, tagged posts; streamed, no validators, no compression', async () => {
    const answer = await fetchPage(`${origin.url}/`, { headers: { 'accept-encoding': 'gzip, br' } });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get('cache-control'), 'public, s-maxage=60, stale-while-revalidate=300');
    assert.equal(answer.headers.get('cache-tag'), 'posts');
    assert.equal(answer.headers.get('surrogate-key'), 'posts');
    assert.equal(answer.headers.get('content-type'), 'text/html');
    assert.equal(answer.headers.get('transfer-encoding'), 'chunked');
    for (const absent of ['content-length', 'content-encoding', 'etag', 'last-modified', 'vary', 'set-cookie']) {
      assert.equal(answer.headers.get(absent), null, absent);
    }
    assert.equal(answer.text.match(/<li>/g)?.length, 20);
  });

  test('/blog/<slug> has s-maxage, stale-while-revalidate, stale-if-error and the tags posts, post:<slug>', async () => {
    const answer = await fetchPage(`${origin.url}/blog/nodejs16-eol`);
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get('cache-control'), `public, s-maxage=${S_MAXAGE}, stale-while-revalidate=${SWR}, stale-if-error=86400`);
    assert.equal(answer.headers.get('cache-tag'), 'posts, post:nodejs16-eol');
    assert.equal(answer.headers.get('surrogate-key'), 'posts post:nodejs16-eol');
    assert.match(answer.text, /<h1>Bringing forward the End-of-Life Date for Node.js 16<\/h1>/);
    assert.match(answer.text, /<time id="rendered-at" datetime="\d{4}-\d\d-\d\dT[\d:.]+Z"/);
    assert.equal(typeof answer.render, 'number');
    assert.equal((await fetchPage(`${origin.url}/blog/nodejs16-eol`)).render, answer.render! + 1, 'every request renders anew');
    const missing = await fetchPage(`${origin.url}/blog/no-such-post`);
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get('cache-control'), 'public, s-maxage=10');
  });

  test('/welcome sets a cookie under a public Cache-Control; /me is private', async () => {
    const welcome = await fetchPage(`${origin.url}/welcome`);
    assert.equal(welcome.headers.get('cache-control'), 'public, s-maxage=60');
    assert.match(welcome.headers.get('set-cookie') ?? '', /^visitor=[0-9a-f-]{36}; Max-Age=31536000; Path=\/; HttpOnly; SameSite=Lax$/);
    const me = await fetchPage(`${origin.url}/me`);
    assert.equal(me.headers.get('cache-control'), 'private, max-age=0');
    const stats = await fetchPage(`${origin.url}/origin/stats.json`);
    assert.equal(stats.headers.get('cache-control'), 'no-store');
  });

  test('while the failure flag exists, pages answer 500 with an empty body and no Cache-Control', async () => {
    await writeFile(failFlag, '');
    try {
      const failed = await fetchPage(`${origin.url}/blog/nodejs16-eol`);
      assert.equal(failed.status, 500);
      assert.equal(failed.text, '');
      assert.equal(failed.headers.get('cache-control'), null);
    } finally {
      await rm(failFlag, { force: true });
    }
    assert.equal((await fetchPage(`${origin.url}/blog/nodejs16-eol`)).status, 200);
  });
});

describe('behind isr proxy', { timeout: 60_000 }, () => {
  let proxy: RunningProxy;
  const purge = (body: unknown) =>
    fetchPage(`${proxy.url}/_isr/revalidate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  before(async () => {
    proxy = await startProxy({
      dir: scratch,
      config: { origin: origin.url, cacheDir: path.join(scratch, 'proxy-cache'), revalidateToken: TOKEN },
      port: 0,
      hostname: '127.0.0.1',
    });
  });
  after(() => proxy?.close());

  test('a post is a MISS, then a HIT from the cache: the origin renders it once', async () => {
    const pathname = '/blog/welcome-google';
    const before = await originRequests(origin, pathname);
    const first = await fetchPage(proxy.url + pathname);
    assert.equal(first.status, 200);
    assert.equal(first.cache, 'MISS');
    assert.match(first.text, /<h1>Welcome Google Cloud Platform!<\/h1>/);
    for (let i = 0; i < 3; i++) {
      const again = await fetchPage(proxy.url + pathname);
      assert.equal(again.cache, 'HIT');
      assert.equal(again.render, first.render, 'the cached render');
      assert.equal(again.text, first.text);
    }
    assert.equal((await originRequests(origin, pathname)) - before, 1);
  });

  test('after s-maxage a post is STALE, served at once while one slow background request regenerates it', async () => {
    const pathname = '/blog/update-v8-5.4';
    const before = await originRequests(origin, pathname);
    const first = await fetchPage(proxy.url + pathname);
    assert.equal(first.cache, 'MISS');
    await sleep(S_MAXAGE * 1000 + 500);
    // The regeneration takes 1.5 s: every request meanwhile gets the old page, without waiting.
    await writeFile(slowFlag, '1500');
    try {
      const started = Date.now();
      const stale = await Promise.all(Array.from({ length: 5 }, () => fetchPage(proxy.url + pathname)));
      assert.ok(Date.now() - started < 1000, `answered in ${Date.now() - started} ms, not after the regeneration`);
      for (const answer of stale) {
        assert.equal(answer.status, 200);
        assert.equal(answer.cache, 'STALE');
        assert.equal(answer.render, first.render, 'the old render, served stale');
      }
      assert.equal((await fetchPage(proxy.url + pathname)).cache, 'STALE', 'still the old page while the regeneration runs');
    } finally {
      await rm(slowFlag, { force: true });
    }
    await waitFor('the background regeneration', async () => {
      const answer = await fetchPage(proxy.url + pathname);
      return answer.cache === 'HIT' && answer.render! > first.render!;
    });
    assert.equal((await originRequests(origin, pathname)) - before, 2, 'one regeneration for six stale requests');
  });

  test('purging the tag post:<slug> drops that post only: its next request is a MISS with a new render', async () => {
    const pathname = '/blog/nodejs-trademarks-transferred-to-openjs-foundation';
    const other = '/blog/v0.4.4';
    const first = await fetchPage(proxy.url + pathname);
    const otherFirst = await fetchPage(proxy.url + other);
    assert.equal((await fetchPage(proxy.url + pathname)).cache, 'HIT');
    assert.equal((await fetchPage(proxy.url + other)).cache, 'HIT');

    const purged = await purge({ tags: ['post:nodejs-trademarks-transferred-to-openjs-foundation'] });
    assert.equal(purged.status, 200, purged.text);
    assert.equal(JSON.parse(purged.text).revalidated, true);

    const after = await fetchPage(proxy.url + pathname);
    assert.equal(after.cache, 'MISS');
    assert.ok(after.render! > first.render!, `a new render: ${after.render} after ${first.render}`);
    assert.equal((await fetchPage(proxy.url + pathname)).cache, 'HIT');
    const otherAfter = await fetchPage(proxy.url + other);
    assert.equal(otherAfter.cache, 'HIT');
    assert.equal(otherAfter.render, otherFirst.render);
  });

  test('purging the tag posts drops the list and every post', async () => {
    const list = await fetchPage(`${proxy.url}/`);
    const post = await fetchPage(`${proxy.url}/blog/2025-pride`);
    assert.equal((await fetchPage(`${proxy.url}/`)).cache, 'HIT');
    assert.equal((await fetchPage(`${proxy.url}/blog/2025-pride`)).cache, 'HIT');
    const purged = await purge({ tags: ['posts'] });
    assert.equal(purged.status, 200, purged.text);
    const listAfter = await fetchPage(`${proxy.url}/`);
    const postAfter = await fetchPage(`${proxy.url}/blog/2025-pride`);
    assert.equal(listAfter.cache, 'MISS');
    assert.equal(postAfter.cache, 'MISS');
    assert.ok(listAfter.render! > list.render!);
    assert.ok(postAfter.render! > post.render!);
  });

  test('a purge without the token is refused', async () => {
    const refused = await fetchPage(`${proxy.url}/_isr/revalidate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tags: ['posts'] }),
    });
    assert.equal(refused.status, 401);
  });

  test('the Set-Cookie page is a BYPASS: each visitor gets their own cookie, never another one', async () => {
    const before = await originRequests(origin, '/welcome');
    const alice = await fetchPage(`${proxy.url}/welcome`);
    const bob = await fetchPage(`${proxy.url}/welcome`);
    assert.equal(alice.cache, 'BYPASS');
    assert.equal(bob.cache, 'BYPASS');
    const aliceId = visitorCookie(alice);
    const bobId = visitorCookie(bob);
    assert.ok(aliceId && bobId, 'both got a cookie');
    assert.notEqual(aliceId, bobId);
    assert.ok(!bob.text.includes(aliceId) && !bob.headers.getSetCookie().join().includes(aliceId), "bob never sees alice's id");
    assert.match(alice.text, new RegExp(`<code id="visitor"[^>]*>${aliceId}</code>`));

    const aliceAgain = await fetchPage(`${proxy.url}/welcome`, { headers: { cookie: `visitor=${aliceId}` } });
    assert.equal(aliceAgain.cache, 'BYPASS');
    assert.equal(visitorCookie(aliceAgain), aliceId);
    assert.equal((await originRequests(origin, '/welcome')) - before, 3, 'every request reached the origin');
  });

  test('the private page is a BYPASS: each visitor sees their own', async () => {
    const before = await originRequests(origin, '/me');
    const alice = await fetchPage(`${proxy.url}/me`, { headers: { cookie: 'visitor=alice' } });
    const bob = await fetchPage(`${proxy.url}/me`, { headers: { cookie: 'visitor=bob' } });
    const anonymous = await fetchPage(`${proxy.url}/me`);
    for (const answer of [alice, bob, anonymous]) {
      assert.equal(answer.cache, 'BYPASS');
      assert.equal(answer.headers.get('cache-control'), 'private, max-age=0');
    }
    assert.match(alice.text, /<code id="visitor"[^>]*>alice<\/code>/);
    assert.match(bob.text, /<code id="visitor"[^>]*>bob<\/code>/);
    assert.match(anonymous.text, /No visitor cookie yet/);
    assert.equal((await originRequests(origin, '/me')) - before, 3);
  });

  test('stale-if-error: while the origin answers 500, the last good post keeps being served', async () => {
    const pathname = '/blog/march-2025-ci-incident';
    const good = await fetchPage(proxy.url + pathname);
    assert.equal(good.status, 200);
    await writeFile(failFlag, '');
    try {
      assert.equal((await fetchPage(origin.url + pathname)).status, 500, 'the origin fails');
      // Past s-maxage and stale-while-revalidate: only stale-if-error allows the old copy now.
      await sleep((S_MAXAGE + SWR) * 1000 + 1500);
      const before = await originRequests(origin, pathname);
      for (let i = 0; i < 3; i++) {
        const answer = await fetchPage(proxy.url + pathname);
        assert.equal(answer.status, 200, `request ${i}: the last good page, not the 500`);
        assert.equal(answer.cache, 'STALE');
        assert.equal(answer.render, good.render);
      }
      assert.ok((await originRequests(origin, pathname)) > before, 'the proxy did try the origin');
      const neverCached = await fetchPage(`${proxy.url}/blog/v14.15.0`);
      assert.equal(neverCached.status, 500, 'nothing to fall back on: the 500 passes through');
    } finally {
      await rm(failFlag, { force: true });
    }
    let recovered: Answer | undefined;
    await waitFor('a fresh render once the origin recovers', async () => {
      recovered = await fetchPage(proxy.url + pathname);
      return recovered.status === 200 && recovered.render! > good.render!;
    });
    assert.notEqual(recovered!.cache, 'BYPASS');
  });
});
