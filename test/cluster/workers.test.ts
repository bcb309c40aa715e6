/**
 * `isr start --workers 2` through the real CLI (dist/, so `npm run build` first): two processes
 * on one port sharing the filesystem cache, coordinated by the primary.
 *
 * Every request uses a new connection (`agent: false`, `Connection: close`): node:cluster hands
 * out connections round-robin, so consecutive requests alternate between the workers.
 */

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from '../../src/build/build.ts';
import { createMemoryLogger } from '../../src/log.ts';
import { FileSystemStore } from '../../src/store/filesystem.ts';
import { type FixtureApi, startFixtureApi } from '../helpers/fixture-api.ts';
import { freePort, pollUntil, servingPids, spawnCluster } from '../helpers/instances.ts';
import { isAlive } from '../helpers/scratch.ts';
import { FIXTURE_ITEMS, pageText, TOKEN } from '../helpers/server.ts';
import { copyFixture } from '../helpers/site.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');

/** Bound of every wait in this file, ms. */
const WAIT_MS = 20_000;

let api: FixtureApi;
let dir: string;
let cleanup: (() => Promise<void>) | undefined;
let primary: ChildProcess | undefined;
let port: number;
/** Every output line of the primary and its workers (they share its stdio). */
const lines: string[] = [];
/** Every worker pid ever seen in the output, to kill leftovers in `after`. */
const workerPids = new Set<number>();

/** Polls `check` until it gives a value; fails after WAIT_MS showing the cluster's output. */
const waitFor = <T>(what: string, check: () => T | undefined | Promise<T | undefined>) =>
  pollUntil(what, check, { timeoutMs: WAIT_MS, lines });

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request on a new connection. */
function get(pathname: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path: pathname,
        method: init.method ?? 'GET',
        agent: false,
        headers: { connection: 'close', ...init.headers },
        timeout: WAIT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer to ${pathname} within ${WAIT_MS} ms`)));
    req.on('error', reject);
    req.end(init.body);
  });
}

function revalidate(body: unknown): Promise<Answer> {
  return get('/_isr/revalidate', {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function pidOfAnswer(): Promise<number> {
  const answer = await get('/pid');
  assert.equal(answer.status, 200, answer.body);
  return (JSON.parse(answer.body) as { pid: number }).pid;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

before(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
  // What the fixture site's prerendered pages read (as test/helpers/server.ts), plus this file's items.
  api = await startFixtureApi({
    ...FIXTURE_ITEMS,
    '7': 'seven',
    s1: 'short v1',
  });
  process.env.FIXTURE_API_URL = api.url;
  ({ dir, cleanup } = await copyFixture('site'));
  // Two pages only this test needs: which process answered, and a page that goes stale after 1 s.
  await mkdir(path.join(dir, 'app', 'pid'), { recursive: true });
  await writeFile(
    path.join(dir, 'app', 'pid', 'route.ts'),
    "export const dynamic = 'force-dynamic';\nexport function GET() {\n  return Response.json({ pid: process.pid });\n}\n",
  );
  await mkdir(path.join(dir, 'app', 'short', '[id]'), { recursive: true });
  await writeFile(
    path.join(dir, 'app', 'short', '[id]', 'page.tsx'),
    `import { API } from '../../../api';
export const revalidate = 1;
export default async function Short({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const res = await fetch(\`\${API()}/item/\${id}\`, { next: { tags: [\`item-\${id}\`] } });
  const item = (await res.json()) as { text: string };
  return <p id="text">{item.text}</p>;
}
`,
  );
  await build({ siteDir: dir, logger: createMemoryLogger() });

  port = await freePort();
  primary = spawnCluster(CLI, ['start', dir], port, { FIXTURE_API_URL: api.url, ISR_REVALIDATE_TOKEN: TOKEN }, { lines, workerPids });
  await waitFor('two workers serving', () => (servingPids(lines).length >= 2 ? true : undefined));
});

after(async () => {
  // Whatever happened: no process of this test may outlive it.
  if (primary && primary.exitCode === null && primary.signalCode === null) primary.kill('SIGKILL');
  for (const pid of workerPids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  await api?.close();
  await cleanup?.();
});

describe('isr start --workers 2', () => {
  test('both workers answer on the one port', async () => {
    const pids = new Set<number>();
    for (let i = 0; i < 10; i++) pids.add(await pidOfAnswer());
    assert.equal(pids.size, 2, `answered by ${[...pids].join(', ')}`);
    assert.deepEqual([...pids].sort(), servingPids(lines).sort());
    assert.ok(!pids.has(primary!.pid!), 'the primary serves nothing itself');
  });

  // Needs the engine to apply `invalidate` events from the store (lead's engine change).
  test('a revalidation answered by one worker makes every worker serve the new content', async () => {
    for (let i = 0; i < 6; i++) assert.equal(pageText((await get('/items/7')).body), 'seven'); // cached in both workers
    api.items.set('7', 'seven v2');
    const answer = await revalidate({ tags: ['item-7'] });
    assert.equal(answer.status, 200, answer.body);
    for (let i = 0; i < 6; i++) {
      const page = await get('/items/7');
      assert.equal(pageText(page.body), 'seven v2', `request ${i} (${String(page.headers['x-isr-cache'])})`);
    }
  });

  test('the tag record holds every tag after many concurrent revalidations spread over the workers', async () => {
    const tags = Array.from({ length: 40 }, (_, i) => `concurrent-${i}`);
    const answers = await Promise.all(tags.map((tag) => revalidate({ tags: [tag] })));
    for (const answer of answers) assert.equal(answer.status, 200, answer.body);
    const cacheDir = path.join(dir, '.isr', 'cache');
    const builds = await readdir(cacheDir);
    assert.equal(builds.length, 1);
    const recorded = Object.fromEntries(
      await new FileSystemStore({ dir: path.join(cacheDir, builds[0]!), readOnly: true }).getTagManifest(),
    );
    for (const tag of [...tags, 'item-7']) assert.equal(typeof recorded[tag], 'number', `${tag} missing from the tag record`);
  });

  // Needs the engine to take the store's `lock` before regenerating (lead's engine change).
  test('100 concurrent requests for a stale page across the workers make one call to the content API', async () => {
    const first = await get('/short/s1');
    assert.equal(pageText(first.body), 'short v1');
    for (let i = 0; i < 4; i++) await get('/short/s1'); // both workers have read it
    await sleep(1_200); // revalidate = 1
    const before = api.callsFor('s1');
    api.delays.set('s1', 200); // a slow origin: the regeneration is still running while requests arrive
    const answers = await Promise.all(Array.from({ length: 100 }, () => get('/short/s1')));
    for (const answer of answers) assert.equal(answer.status, 200);
    // Let the background regeneration(s) finish before counting.
    await waitFor('the regeneration to be stored', async () =>
      pageText((await get('/short/s1')).body) === 'short v1' && api.callsFor('s1') > before ? true : undefined,
    );
    await sleep(500);
    assert.equal(api.callsFor('s1') - before, 1, `the content API was called ${api.callsFor('s1') - before} times`);
  });

  test('a worker killed with SIGKILL is restarted, and the site keeps answering meanwhile', async () => {
    const victim = servingPids(lines)[0]!;
    const servingBefore = servingPids(lines).length;
    process.kill(victim, 'SIGKILL');
    await waitFor('the primary to notice', () =>
      lines.some((line) => line.includes(`worker ${victim} exited unexpectedly (signal SIGKILL)`)) ? true : undefined,
    );
    for (let i = 0; i < 6; i++) assert.notEqual(await pidOfAnswer(), victim);
    await waitFor('a replacement worker serving', () => (servingPids(lines).length > servingBefore ? true : undefined));
    const replacement = servingPids(lines).at(-1)!;
    assert.ok(isAlive(replacement));
    const pids = new Set<number>();
    for (let i = 0; i < 10; i++) pids.add(await pidOfAnswer());
    assert.ok(pids.has(replacement), `the replacement ${replacement} answers (got ${[...pids].join(', ')})`);
    assert.equal(pids.size, 2);
  });

  test('SIGTERM on the primary: every worker finishes, the primary exits 0, no worker is left', async () => {
    const live = [...workerPids].filter(isAlive);
    assert.equal(live.length, 2, `live workers: ${live.join(', ')}`);
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      primary!.once('exit', (code, signal) => resolve({ code, signal })),
    );
    primary!.kill('SIGTERM');
    let timer: ReturnType<typeof setTimeout> | undefined;
    const result = await Promise.race([
      exited,
      new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), WAIT_MS))),
    ]);
    clearTimeout(timer);
    assert.deepEqual(result, { code: 0, signal: null }, lines.join('\n'));
    await waitFor('every worker to be gone', () => (live.every((pid) => !isAlive(pid)) ? true : undefined));
    for (const pid of live) {
      assert.ok(
        lines.some((line) => line.includes(`worker ${pid}: asked by the primary: shutting down`)),
        `worker ${pid} shut down gracefully`,
      );
    }
  });
});
