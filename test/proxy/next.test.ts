/**
 * `isr proxy` in front of a real Next.js 16 server (examples/next-proxy: App Router, `next start`)
 * with isr's cache handler (src/proxy/next-cache-handler.ts, loaded by Next from dist/): ISR pages
 * cached by the proxy, hydrated in Chromium through it, and purged from it when the app calls
 * `revalidatePath`, `revalidateTag` or `updateTag`.
 *
 * The example has its own package.json: this test installs it (`npm install --no-save`, from its
 * lock file) when its node_modules is missing and builds it (`next build`) when .next is missing or
 * older than its sources, so it runs from a clean clone once the repository is built (`npm run
 * build`: Next loads the handler from dist/). Run: node --import tsx --test test/proxy/next.test.ts
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { type RunningProxy, startProxy } from '../../src/proxy/index.ts';
import { launchChromium, recordPageErrors } from '../helpers/browser.ts';
import { newestMtime, waitFor } from '../helpers/examples.ts';
import { freePort, ROOT } from '../helpers/instances.ts';

const run = promisify(execFile);

const EXAMPLE = path.join(ROOT, 'examples', 'next-proxy');
const HANDLER = path.join(ROOT, 'dist', 'proxy', 'next-cache-handler.js');
const TOKEN = 'next-proxy-test-token';
const NEXT_ENV = { NEXT_TELEMETRY_DISABLED: '1' };

/**
 * Checks that dist/ has the handler, installs the example's packages when missing (`npm install
 * --no-save`: the locked versions, the lock file untouched; up to 5 min) and builds it when
 * .next/BUILD_ID is missing or older than its sources (up to 4 min).
 * @throws Error when dist/ lacks the handler, or with npm's or Next's output when either fails.
 */
async function prepareExample(): Promise<void> {
  if (!existsSync(HANDLER) || statSync(HANDLER).mtimeMs < statSync(path.join(ROOT, 'src', 'proxy', 'next-cache-handler.ts')).mtimeMs) {
    throw new Error(`${HANDLER} is missing or older than its source: run \`npm run build\` at the repository's root first`);
  }
  // npm writes node_modules/.package-lock.json last: without it, an install is missing or was cut short.
  const installed = ['.package-lock.json', 'next/package.json', 'react-dom/package.json'];
  if (!installed.every((file) => existsSync(path.join(EXAMPLE, 'node_modules', file)))) {
    await run('npm', ['install', '--include=dev', '--no-save', '--no-audit', '--no-fund'], {
      cwd: EXAMPLE,
      timeout: 300_000,
      maxBuffer: 16 << 20,
    });
  }
  const buildId = path.join(EXAMPLE, '.next', 'BUILD_ID');
  const sources = ['app', 'lib', 'content', 'next.config.mjs', 'tsconfig.json', 'package-lock.json'].map((name) =>
    path.join(EXAMPLE, name),
  );
  if (!existsSync(buildId) || Math.max(...sources.map(newestMtime)) > statSync(buildId).mtimeMs) {
    await run(process.execPath, [path.join(EXAMPLE, 'node_modules', 'next', 'dist', 'bin', 'next'), 'build'], {
      cwd: EXAMPLE,
      env: { ...process.env, ...NEXT_ENV },
      timeout: 240_000,
      maxBuffer: 16 << 20,
    });
  }
}

/** `next start` on `port` of 127.0.0.1; resolves once it logs "Ready". Stopped by its process group (it forks `next-server`). */
async function startNext(port: number, env: Record<string, string>, timeoutMs = 30_000): Promise<{ child: ChildProcess; log(): string }> {
  const child = spawn(
    process.execPath,
    [path.join(EXAMPLE, 'node_modules', 'next', 'dist', 'bin', 'next'), 'start', '-p', String(port), '-H', '127.0.0.1'],
    {
      cwd: EXAMPLE,
      env: { ...process.env, ...NEXT_ENV, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    },
  );
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`next start did not get ready within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const poll = setInterval(() => {
      if (output.includes('Ready in')) {
        clearInterval(poll);
        clearTimeout(timer);
        resolve();
      }
    }, 50);
    child.once('exit', (code, signal) => {
      clearInterval(poll);
      clearTimeout(timer);
      reject(new Error(`next start exited with ${code ?? signal}:\n${output}`));
    });
  });
  return { child, log: () => output };
}

/** Stops `next start` and its `next-server` child (SIGTERM to the group, SIGKILL after 5 s). */
async function stopNext(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, name);
    } catch {
      // Already gone.
    }
  };
  signal('SIGTERM');
  const timer = setTimeout(() => signal('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
  signal('SIGKILL');
}

/** One purge the handler sent, as received. */
interface Received {
  authorization: string | undefined;
  body: { tags: string[]; paths: string[]; soft: boolean };
}

/**
 * A stand-in for the proxy's endpoint that records each POST and relays it to `forward()` (the
 * proxy's `/_isr/revalidate`, once it runs), answering with its answer; 200 when nothing to relay to.
 */
async function startRecorder(forward: () => string | undefined): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.on('end', async () => {
      received.push({ authorization: req.headers.authorization, body: JSON.parse(text) });
      const target = forward();
      if (target === undefined) {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"revalidated":true}');
        return;
      }
      try {
        const answer = await fetch(`${target}${req.url}`, {
          method: 'POST',
          headers: { authorization: req.headers.authorization ?? '', 'content-type': 'application/json' },
          body: text,
          signal: AbortSignal.timeout(5000),
        });
        res.writeHead(answer.status, { 'content-type': 'application/json' }).end(await answer.text());
      } catch (error) {
        res.writeHead(502).end(String(error));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received, server };
}

/** One answer, read whole. */
interface Answer {
  status: number;
  headers: Headers;
  text: string;
  cache: string | null;
  /** The content edition the page shows, or undefined. */
  edition: number | undefined;
}

async function fetchPage(url: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(15_000), ...init });
  const text = await response.text();
  const edition = /id="edition">(\d+)</.exec(text);
  return {
    status: response.status,
    headers: response.headers,
    text,
    cache: response.headers.get('x-isr-cache'),
    edition: edition ? Number(edition[1]) : undefined,
  };
}

let scratch: string;
let contentFile: string;
let nextUrl: string;
let next: { child: ChildProcess; log(): string };
let proxy: RunningProxy | undefined;
let recorder: Awaited<ReturnType<typeof startRecorder>>;

/**
 * The editions this run writes: above any a previous run left in Next's data cache (.next/cache
 * outlives a build).
 */
const EDITION = Date.now();

/** Writes the content file with `edition`. */
async function setEdition(edition: number): Promise<void> {
  const content = JSON.parse(await readFile(contentFile, 'utf8')) as { edition: number };
  content.edition = edition;
  await writeFile(contentFile, JSON.stringify(content));
}

before(
  async () => {
    await prepareExample();
    scratch = await mkdtemp(path.join(tmpdir(), 'isr-next-proxy-'));
    contentFile = path.join(scratch, 'posts.json');
    await copyFile(path.join(EXAMPLE, 'content', 'posts.json'), contentFile);
    recorder = await startRecorder(() => proxy?.url);
    const port = await freePort();
    nextUrl = `http://127.0.0.1:${port}`;
    next = await startNext(port, { ISR_PROXY_URL: recorder.url, ISR_REVALIDATE_TOKEN: TOKEN, EXAMPLE_CONTENT_FILE: contentFile });
    proxy = await startProxy({
      dir: scratch,
      config: { origin: nextUrl, cacheDir: path.join(scratch, 'proxy-cache'), revalidateToken: TOKEN },
      port: 0,
      hostname: '127.0.0.1',
    });
  },
  { timeout: 600_000 },
);

after(async () => {
  await proxy?.close();
  if (next) await stopNext(next.child);
  recorder?.server.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('next start, asked directly: what Next.js 16 sends', { timeout: 30_000 }, () => {
  test('an ISR page (revalidate = 60): s-maxage and stale-while-revalidate up to a year, Vary on the router headers, no x-next-cache-tags', async () => {
    const page = await fetchPage(`${nextUrl}/`);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('cache-control'), 's-maxage=60, stale-while-revalidate=31535940');
    assert.equal(
      page.headers.get('vary'),
      'rsc, next-router-state-tree, next-router-prefetch, next-router-segment-prefetch, Accept-Encoding',
    );
    assert.match(page.headers.get('x-nextjs-cache') ?? '', /^(HIT|STALE|MISS)$/);
    assert.equal(page.headers.get('x-next-cache-tags'), null, 'next start strips it (only its minimal mode sends it)');
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
  });

  test('a static page: s-maxage of a year', async () => {
    assert.equal((await fetchPage(`${nextUrl}/about`)).headers.get('cache-control'), 's-maxage=31536000');
  });

  test('an RSC request without its _rsc hash is redirected (307, nothing to store); with it, the RSC payload under the same Vary', async () => {
    const redirect = await fetchPage(`${nextUrl}/`, { headers: { rsc: '1' } });
    assert.equal(redirect.status, 307);
    assert.match(redirect.headers.get('location') ?? '', /^\/\?_rsc/);
    assert.equal(redirect.headers.get('cache-control'), null);
    const payload = await fetchPage(`${nextUrl}${redirect.headers.get('location')}`, { headers: { rsc: '1' } });
    assert.equal(payload.status, 200);
    assert.equal(payload.headers.get('content-type'), 'text/x-component');
    assert.match(payload.headers.get('vary') ?? '', /^rsc, next-router-state-tree/);
  });
});

describe('behind isr proxy', { timeout: 90_000 }, () => {
  test('the ISR page is a MISS, then a HIT from the proxy (the first answer teaches it the Vary)', async () => {
    const first = await fetchPage(`${proxy!.url}/about`);
    assert.equal(first.status, 200);
    assert.equal(first.cache, 'MISS');
    const answers = [await fetchPage(`${proxy!.url}/about`), await fetchPage(`${proxy!.url}/about`)];
    assert.equal(answers[1]!.cache, 'HIT', `then ${answers.map((answer) => answer.cache).join(', ')}`);

    const home = await fetchPage(`${proxy!.url}/`);
    assert.equal(home.cache, 'MISS');
    await fetchPage(`${proxy!.url}/`);
    const hit = await fetchPage(`${proxy!.url}/`);
    assert.equal(hit.cache, 'HIT');
    assert.equal(typeof hit.edition, 'number');
    assert.equal(hit.headers.get('cache-control'), 's-maxage=60, stale-while-revalidate=31535940');
  });

  test('revalidatePath in a route handler: the handler purges the proxy with Next’s implicit tags, and the next request has the new content', async () => {
    assert.equal((await fetchPage(`${proxy!.url}/`)).cache, 'HIT');
    await setEdition(EDITION + 2);
    const before = recorder.received.length;
    const answer = await fetchPage(`${proxy!.url}/api/revalidate?path=/`, { method: 'POST' });
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.cache, 'BYPASS');
    // Next runs the revalidation after the route handler's answer (waitUntil).
    await waitFor('the purge', () => recorder.received.length > before);
    const purge = recorder.received[before]!;
    assert.equal(purge.authorization, `Bearer ${TOKEN}`);
    assert.deepEqual(purge.body, { tags: ['_N_T_/', '_N_T_/index'], paths: [], soft: false });
    const fresh = await fetchPage(`${proxy!.url}/`);
    assert.equal(fresh.cache, 'MISS');
    assert.equal(fresh.edition, EDITION + 2);
    assert.equal((await fetchPage(`${proxy!.url}/`)).cache, 'HIT');
  });

  test('revalidateTag("posts") in a route handler: the purge names the tag and the paths of the pages carrying it', async () => {
    await setEdition(EDITION + 3);
    assert.equal((await fetchPage(`${proxy!.url}/`)).edition, EDITION + 2, 'still cached');
    const before = recorder.received.length;
    const answer = await fetchPage(`${proxy!.url}/api/revalidate?tag=posts`, { method: 'POST' });
    assert.equal(answer.status, 200, answer.text);
    await waitFor('the purge', () => recorder.received.length > before);
    assert.deepEqual(recorder.received[before]!.body, { tags: ['posts'], paths: ['/'], soft: false });
    const fresh = await fetchPage(`${proxy!.url}/`);
    assert.equal(fresh.cache, 'MISS');
    assert.equal(fresh.edition, EDITION + 3);
    const about = await fetchPage(`${proxy!.url}/about`);
    assert.equal(about.cache, 'HIT', 'a page without the tag stays cached');
  });
});

describe('in Chromium, through the proxy', { timeout: 90_000 }, () => {
  let browser: Browser;

  before(async () => {
    browser = await launchChromium();
  });
  after(() => browser?.close());

  test('the page hydrates (the client counter counts), navigates client-side, and its Server Action purges the proxy', async () => {
    const page = await browser.newPage();
    const errors = recordPageErrors(page);
    const response = await page.goto(`${proxy!.url}/`, { timeout: 20_000 });
    assert.equal(response?.status(), 200);
    assert.match((await response?.headerValue('x-isr-cache')) ?? '', /^(HIT|MISS)$/);

    await page.click('#counter', { timeout: 10_000 });
    await page.waitForFunction(() => document.querySelector('#counter')?.textContent === 'Clicked 1 times', null, { timeout: 10_000 });
    await page.click('#counter');
    await page.waitForFunction(() => document.querySelector('#counter')?.textContent === 'Clicked 2 times', null, { timeout: 10_000 });

    // A client-side navigation (RSC requests through the proxy): the window survives it.
    await page.evaluate(() => Object.assign(window, { sameDocument: true }));
    await page.click('#about-link');
    await page.waitForSelector('#about', { timeout: 10_000 });
    assert.equal(await page.evaluate(() => (window as { sameDocument?: boolean }).sameDocument), true, 'no full reload');
    await page.click('#home-link');
    await page.waitForSelector('#refresh-posts', { timeout: 10_000 });

    // The Server Action (a POST through the proxy) calls updateTag('posts').
    await setEdition(EDITION + 4);
    const before = recorder.received.length;
    await page.click('#refresh-posts');
    await waitFor('the purge', () => recorder.received.length > before);
    assert.deepEqual(recorder.received[before]!.body, { tags: ['posts'], paths: ['/'], soft: false });
    await page.waitForFunction((edition) => document.querySelector('#edition')?.textContent === edition, String(EDITION + 4), {
      timeout: 10_000,
    });
    assert.equal((await fetchPage(`${proxy!.url}/`)).edition, EDITION + 4, 'the proxy has the new page');
    assert.deepEqual(errors, []);
    await page.close();
  });
});
