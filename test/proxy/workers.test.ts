/**
 * `isr proxy --workers 2` through the real CLI (dist/, so `npm run build` first): two processes on
 * one port in front of one plain node:http origin, sharing the cache folder through the primary.
 * Every request uses a new connection (`Connection: close`): node:cluster hands connections out
 * round-robin, so consecutive requests alternate between the workers. Time is wall time here (the
 * clock of another process cannot be injected), so the windows are a second long.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { freePort, pollUntil, ROOT, servingPids, spawnCluster } from '../helpers/instances.ts';
import { startOrigin, type TestOrigin } from '../helpers/origin.ts';
import { isAlive } from '../helpers/scratch.ts';

const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');
const TOKEN = 'proxy-workers-token';
/** Bound of every wait in this file, ms. */
const WAIT_MS = 20_000;

let origin: TestOrigin;
let dir: string;
let port: number;
let primary: ChildProcess | undefined;
const lines: string[] = [];
const workerPids = new Set<number>();

/** Polls `check` until it gives a value; fails after WAIT_MS showing the cluster's output. */
const waitFor = <T>(what: string, check: () => T | undefined | Promise<T | undefined>) =>
  pollUntil(what, check, { timeoutMs: WAIT_MS, lines });

interface Answer {
  status: number;
  cache: string | undefined;
  body: string;
}

/** One request on a new connection (so node:cluster may give it to either worker). */
async function get(
  pathname: string,
  init: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  const response = await request(`http://127.0.0.1:${port}${pathname}`, {
    method: init.method ?? 'GET',
    headers: { connection: 'close', host: 'site.test', ...init.headers },
    body: init.body,
    reset: true,
    signal: AbortSignal.timeout(WAIT_MS),
  });
  const cache = response.headers['x-isr-cache'];
  return { status: response.statusCode, cache: typeof cache === 'string' ? cache : undefined, body: await response.body.text() };
}

function purge(body: unknown): Promise<Answer> {
  return get('/_isr/revalidate', {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function pidOfAnswer(): Promise<number> {
  const answer = await get('/_isr/status', { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(answer.status, 200, answer.body);
  return (JSON.parse(answer.body) as { pid: number }).pid;
}

/** Every answer of `count` requests for `pathname`, made one after another on new connections. */
async function several(pathname: string, count: number): Promise<Answer[]> {
  const answers: Answer[] = [];
  for (let i = 0; i < count; i++) answers.push(await get(pathname));
  return answers;
}

before(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
  origin = await startOrigin();
  dir = await mkdtemp(path.join(tmpdir(), 'isr-proxy-workers-'));
  port = await freePort();
  primary = spawnCluster(CLI, ['proxy', dir, '--origin', origin.url], port, { ISR_REVALIDATE_TOKEN: TOKEN }, { lines, workerPids });
  await waitFor('two workers serving', () => (servingPids(lines).length >= 2 ? true : undefined));
});

after(async () => {
  if (primary && primary.exitCode === null && primary.signalCode === null) primary.kill('SIGKILL');
  for (const pid of workerPids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  await origin?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('isr proxy --workers 2', () => {
  test('both workers answer on the one port, the primary none', async () => {
    const pids = new Set<number>();
    for (let i = 0; i < 10; i++) pids.add(await pidOfAnswer());
    assert.equal(pids.size, 2, `answered by ${[...pids].join(', ')}`);
    assert.deepEqual([...pids].sort(), servingPids(lines).sort());
    assert.ok(!pids.has(primary!.pid!));
    assert.ok(
      lines.some((line) => line.includes(`serving a proxy of ${origin.url} at http://127.0.0.1:${port}`)),
      lines.join('\n'),
    );
  });

  test('a page one worker stored is a HIT in the other, without an origin call', async () => {
    const answers = await several('/shared', 6);
    assert.deepEqual(
      answers.map((answer) => answer.cache),
      ['MISS', 'HIT', 'HIT', 'HIT', 'HIT', 'HIT'],
    );
    for (const answer of answers) assert.equal(answer.body, '/shared #1');
    assert.equal(origin.count('/shared'), 1);
  });

  test('a tag purge answered by one worker makes both serve the new page', async () => {
    origin.route('/tagged', { headers: { 'cache-control': 'public, s-maxage=600', 'cache-tag': 'news' } });
    for (const answer of await several('/tagged', 4)) assert.equal(answer.body, '/tagged #1');
    const purged = await purge({ tags: ['news'] });
    assert.equal(purged.status, 200, purged.body);
    const after = await several('/tagged', 6);
    for (const answer of after) assert.equal(answer.body, '/tagged #2', `after the purge: ${answer.cache}`);
    assert.equal(origin.count('/tagged'), 2);
  });

  test('100 concurrent requests for a stale page across the workers make one origin call', async () => {
    origin.route('/herd', { headers: { 'cache-control': 'public, s-maxage=1, stale-while-revalidate=60' }, delayMs: 200 });
    for (const answer of await several('/herd', 4)) assert.equal(answer.body, '/herd #1');
    await sleep(1_200);
    const answers = await Promise.all(Array.from({ length: 100 }, () => get('/herd')));
    for (const answer of answers) {
      assert.equal(answer.status, 200);
      assert.ok(answer.cache === 'STALE' || answer.body === '/herd #2', `${answer.cache} ${answer.body}`);
    }
    assert.ok(answers.some((answer) => answer.cache === 'STALE'));
    await waitFor('the regeneration', async () => ((await get('/herd')).body === '/herd #2' ? true : undefined));
    await sleep(300);
    assert.equal(origin.count('/herd'), 2, 'one origin call for the first request, one for the regeneration');
  });

  test('SIGTERM on the primary: both workers finish, the primary exits 0', async () => {
    const live = [...workerPids].filter(isAlive);
    assert.equal(live.length, 2, `live workers: ${live.join(', ')}`);
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      primary!.once('exit', (code, signal) => resolve({ code, signal })),
    );
    primary!.kill('SIGTERM');
    const result = await Promise.race([exited, sleep(WAIT_MS, undefined, { ref: false })]);
    assert.deepEqual(result, { code: 0, signal: null }, lines.join('\n'));
    await waitFor('every worker to be gone', () => (live.every((pid) => !isAlive(pid)) ? true : undefined));
  });
});
