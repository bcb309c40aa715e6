/**
 * No exception kills the process: `isr start --workers 2` (the real CLI, dist/: `npm run build`
 * first) is hammered for a minute (`HAMMER_SECONDS`, default 60) with the requests that used to
 * kill a worker — a cached `redirect()` to a non-Latin-1 path and a cached route-handler header
 * with a control character, asked with `Connection: close` so node:http answers them from memory
 * — plus a CMS redirect target with CR/LF, the fast path on keep-alive connections, a
 * `Host: evil.example`, and a plain page in a loop of its own. Before the fix, the first such
 * request killed a worker; the primary gave up after ten restarts.
 *
 * Passes when: the primary never exits, no worker exits (no restart in the log), every answer is
 * a well-formed HTTP/1.1 response with the expected status and no injected header, and the plain
 * page answers 200 every time.
 */

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { build } from '../../src/build/build.ts';
import { createMemoryLogger } from '../../src/log.ts';
import { type FixtureApi, startFixtureApi } from '../helpers/fixture-api.ts';
import { freePort, spawnCluster } from '../helpers/instances.ts';
import { header, headProblem, type RawRequest, type RawResponse, rawExchange } from '../helpers/raw-http.ts';
import { isAlive } from '../helpers/scratch.ts';
import { TOKEN } from '../helpers/server.ts';
import { copyFixture } from '../helpers/site.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');
const SECONDS = Number(process.env.HAMMER_SECONDS ?? 60);
const CAFE = '/blog/caf%C3%A9-%E6%97%A5%E6%9C%AC';

let api: FixtureApi;
let site: { dir: string; cleanup: () => Promise<void> } | undefined;
let primary: ChildProcess | undefined;
let port: number;
/** When the primary exited, ms since the hammering began (undefined while it runs). */
let primaryExitedAfter: number | undefined;
let began = 0;
const lines: string[] = [];
const workerPids = new Set<number>();

/** What an answer to each request kind must be. */
interface Kind {
  name: string;
  requests: RawRequest[];
  check(response: RawResponse, index: number): string | undefined;
}

const close = { connection: 'close' };
const KINDS: Kind[] = [
  {
    name: 'non-Latin-1 redirect, Connection: close',
    requests: [{ path: '/go/cafe', headers: close }],
    check: (r) => (r.status === 307 && header(r, 'location') === CAFE ? undefined : `${r.status} location ${header(r, 'location')}`),
  },
  {
    name: 'control character in a cached route handler header, Connection: close',
    requests: [{ path: '/hdr/ctl', headers: close }],
    check: (r) => (r.status === 500 ? undefined : `status ${r.status}`),
  },
  {
    name: 'CR/LF in a CMS redirect target, keep-alive then Connection: close',
    requests: [{ path: '/go/cms/evil' }, { path: '/go/cms/evil', headers: close }],
    check: (r) =>
      r.status === 500 && header(r, 'set-cookie') === undefined ? undefined : `status ${r.status}, set-cookie ${header(r, 'set-cookie')}`,
  },
  {
    name: 'fast path, keep-alive',
    requests: [{ path: '/go/cafe' }, { path: '/hdr/note' }, { path: '/' }, { path: '/go/cafe', headers: close }],
    check: (r, i) => {
      const expected = [307, 200, 200, 307][i];
      return r.status === expected ? undefined : `request ${i}: status ${r.status}, expected ${expected}`;
    },
  },
  {
    name: 'Host: evil.example on a cached feed',
    requests: [{ path: '/feeds/x', host: 'evil.example', headers: close }],
    check: (r) =>
      r.status === 200 && !r.body.toString('utf8').includes('evil.example') ? undefined : `status ${r.status}: ${r.body.toString('utf8')}`,
  },
  {
    name: 'plain page',
    requests: [{ path: '/', headers: close }],
    check: (r) => (r.status === 200 ? undefined : `status ${r.status}`),
  },
];

before(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
  api = await startFixtureApi({ evil: '/x\r\nSet-Cookie: evil=1', ctl: 'a\x01b', note: 'fine' });
  process.env.FIXTURE_API_URL = api.url;
  site = await copyFixture('headers-site');
  await build({ siteDir: site.dir, logger: createMemoryLogger() });
  port = await freePort();
  primary = spawnCluster(CLI, ['start', site.dir], port, { FIXTURE_API_URL: api.url, ISR_REVALIDATE_TOKEN: TOKEN }, { lines, workerPids });
  primary.once('exit', () => (primaryExitedAfter = performance.now() - began));
  const deadline = Date.now() + 20_000;
  while (lines.filter((line) => /worker \d+: serving /.test(line)).length < 2) {
    if (Date.now() > deadline || primary.exitCode !== null) throw new Error(`the workers did not start:\n${lines.join('\n')}`);
    await sleep(25);
  }
});

after(async () => {
  if (primary && primary.exitCode === null && primary.signalCode === null) {
    primary.kill('SIGTERM');
    await Promise.race([new Promise((resolve) => primary!.once('exit', resolve)), sleep(10_000)]);
  }
  if (primary && primary.exitCode === null && primary.signalCode === null) primary.kill('SIGKILL');
  for (const pid of workerPids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  await api?.close();
  await site?.cleanup();
});

describe(`isr start --workers 2 hammered for ${SECONDS} s with the requests that used to kill it`, () => {
  test('the primary never exits, no worker restarts, every answer is well-formed and the plain page always answers 200', async (t) => {
    began = performance.now();
    const stopAt = began + SECONDS * 1000;
    const counts = new Map<string, number>();
    const failures: string[] = [];
    let failed = 0;
    const fail = (text: string) => {
      if (failed++ < 20) failures.push(text);
    };
    await Promise.all(
      KINDS.map(async (kind) => {
        while (performance.now() < stopAt && primaryExitedAfter === undefined) {
          let answers: RawResponse[];
          try {
            answers = await rawExchange(port, kind.requests, 10_000);
          } catch (error) {
            fail(`${kind.name} at ${((performance.now() - began) / 1000).toFixed(1)} s: ${(error as Error).message}`);
            await sleep(100);
            continue;
          }
          for (const [index, answer] of answers.entries()) {
            const problem = headProblem(answer.head) ?? kind.check(answer, index);
            if (problem !== undefined) fail(`${kind.name}: ${problem}\n${JSON.stringify(answer.head)}`);
          }
          counts.set(kind.name, (counts.get(kind.name) ?? 0) + answers.length);
          await sleep(1);
        }
      }),
    );
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    t.diagnostic(`${total} answers in ${((performance.now() - began) / 1000).toFixed(1)} s: ${JSON.stringify(Object.fromEntries(counts))}`);
    if (primaryExitedAfter !== undefined) t.diagnostic(`the primary exited ${(primaryExitedAfter / 1000).toFixed(1)} s into the run`);
    const restarts = lines.filter((line) => /exited unexpectedly|giving up|before it started serving/.test(line));
    t.diagnostic(`worker restarts: ${restarts.length}; failed answers: ${failed}`);
    assert.deepEqual(
      failures,
      [],
      `${failed} failures (the first 20):\n${failures.join('\n')}\n\nlast output:\n${lines.slice(-30).join('\n')}`,
    );
    assert.equal(primary!.exitCode, null, `the primary exited:\n${lines.slice(-30).join('\n')}`);
    assert.deepEqual(restarts, []);
    assert.ok(!lines.some((line) => /ERR_INVALID_CHAR|uncaught/i.test(line)), 'no uncaught error in the output');
    for (const kind of KINDS) assert.ok((counts.get(kind.name) ?? 0) > 0, `${kind.name} was asked`);
  });
});
