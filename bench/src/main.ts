/**
 * `npm run bench` (from the repository root): isr, Next.js (`next start`), nginx and a bare
 * node:http server on the same blog, on this machine, in one run. Writes
 * bench/results/latest.{json,md,svg}; `--quick` (CI: proves the harness works, figures not
 * asserted) writes to bench/results/tmp/ instead.
 *
 * Flags: --quick, --runs N (default 3; quick 1), --keep-work (leave bench/.work for inspection),
 * --proxy-only (the proxy comparison alone, scenario 8; written to bench/results/tmp/ too).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';

import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { startContentApi } from '../../examples/blog/content-api/server.ts';
import { OPTIONS } from '../../src/config/options.ts';
import { clientComponents } from './client-components.ts';
import { get, getAll } from './http.ts';
import { buildIsr, startIsr } from './isr.ts';
import { buildNext, prepareNextProject, startNext } from './next.ts';
import { startNginx } from './nginx.ts';
import { machineInfo } from './proc.ts';
import { purgePropagation } from './purge.ts';
import { startRedis } from './redis.ts';
import { evaluateTargets, writeReport } from './report.ts';
import { builds, loadRuns, mib, missLatency, type Settings, servedEveryPost, staleHerd, syntheticEntries, tempFile } from './scenarios.ts';
import { proxyComparison } from './shared-caches.ts';
import { benchRoot, prepareSiteTree, repoRoot } from './site.ts';
import { startServer } from './spawn.ts';
import type { BenchResults, RunningServer, SystemName } from './types.ts';

const PORTS = {
  api: 4100,
  isr: 3100,
  isrSynthetic: 3101,
  isrHttp: 3102,
  isr2w: 3103,
  /** The purge scenario's three instances, on the benchmark's own Redis. */
  purge: [3110, 3111, 3112],
  redis: 3500,
  next: 3200,
  nginx1: 3300,
  nginx2: 3301,
  ceiling: 3400,
  /** The proxy comparison: its origin (in the bench process) and the three shared caches in front of it. */
  proxyOrigin: 4200,
  proxy: { 'isr-proxy': 3600, 'nginx-proxy': 3601, varnish: 3602 },
};
/** The HIT scenario's post: the prerendered post whose page is closest to this size, so the HIT figures are for a page of about 8 KiB. */
const HIT_PAGE_TARGET_BYTES = 8 * 1024;
const PRERENDERED = 100;

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    runs: { type: 'string' },
    'keep-work': { type: 'boolean', default: false },
    'proxy-only': { type: 'boolean', default: false },
  },
});
const quick = flags.quick === true;
const proxyOnly = flags['proxy-only'] === true;
const settings: Settings = {
  runs: flags.runs !== undefined ? Number(flags.runs) : quick ? 1 : 3,
  loadSec: quick ? 2 : 8,
  warmupSec: quick ? 1 : 2,
  connections: [64, 256],
  missPagesPerRun: quick ? 10 : 40,
  herdConcurrency: 200,
  herdRevalidateSec: 2,
  syntheticEntries: quick ? 2_000 : 100_000,
  buildPrerenderCount: quick ? '100' : 'all',
  purgeTrials: quick ? 20 : 100,
  purgeWarmupTrials: quick ? 3 : 6,
};
/** The proxy comparison's origin and scenarios (bench/src/shared-caches.ts). */
const proxySettings = {
  originLatencyMs: 50,
  pageBytes: 4096,
  herdConcurrency: 100,
  // Its p99 target is the narrowest of the benchmark, and one run's p99 moves 1–4 ms with the
  // machine's load: more runs for its median than the other scenarios' (never fewer than --runs).
  hitRuns: Math.max(settings.runs, quick ? 1 : 7),
  purgeTrials: quick ? 10 : 30,
  purgeWarmupTrials: quick ? 2 : 3,
};
if (!Number.isInteger(settings.runs) || settings.runs < 1) throw new Error(`--runs must be a positive integer, got ${flags.runs}`);

const work = join(benchRoot, '.work');
const outDir = quick || proxyOnly ? join(benchRoot, 'results/tmp') : join(benchRoot, 'results');
const started = Date.now();
const log = (line: string) => console.log(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);
const servers = new Map<string, RunningServer>();
// Debian installs nginx in /usr/sbin, which is not on every user's PATH.
process.env.PATH = `${process.env.PATH ?? ''}:/usr/sbin:/sbin`;
// Servers inherit this environment: a Redis or worker count of the user's must not reach the
// one-process, cache-folder systems (the scenarios that want them set them explicitly).
for (const name of ['ISR_REDIS_URL', 'ISR_REDIS_KEY_PREFIX', 'ISR_WORKERS']) delete process.env[name];

/** The first line a tool prints of its version (nginx and wrk print it on stderr, with a non-zero exit for wrk). */
function toolVersion(command: string, args: string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if ((result.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    throw new Error(`${command} is not installed: run \`bash bench/setup.sh\` (apt-get install -y nginx varnish wrk redis-server)`);
  }
  return `${result.stdout}${result.stderr}`.trim().split('\n')[0] ?? 'unknown';
}

async function packageVersion(dir: string, name: string): Promise<string> {
  return (JSON.parse(await readFile(join(dir, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
}

async function start(name: string, server: Promise<RunningServer>): Promise<RunningServer> {
  const running = await server;
  servers.set(name, running);
  return running;
}

async function stop(...names: string[]): Promise<void> {
  await Promise.all(
    names.map(async (name) => {
      await servers.get(name)?.stop();
      servers.delete(name);
    }),
  );
}

async function main(): Promise<void> {
  const versions: Record<string, string> = {
    node: process.version,
    isr: (JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version,
    next: await packageVersion(benchRoot, 'next'),
    react: await packageVersion(repoRoot, 'react'),
    nginx: toolVersion('nginx', ['-v']).replace(/^nginx version: nginx\//, ''),
    varnish: toolVersion('varnishd', ['-V']).replace(/^.*\bvarnish-([\d.]+).*$/, '$1'),
    wrk: toolVersion('wrk', ['-v']).replace(/^wrk (\S+).*$/, '$1'),
    redis: toolVersion('redis-server', ['--version']).replace(/^.*\bv=(\S+).*$/, '$1'),
  };
  log(
    `mode ${quick ? 'quick' : 'full'}${proxyOnly ? ', proxy comparison only' : ''}; ${settings.runs} run(s) per figure; ` +
      `next ${versions.next}; nginx ${versions.nginx}; varnish ${versions.varnish}`,
  );

  const results: BenchResults = {
    startedAt: new Date(started).toISOString(),
    finishedAt: '',
    mode: quick ? 'quick' : 'full',
    machine: {
      ...machineInfo(),
    },
    versions,
    settings: {
      ...settings,
      proxy: proxySettings,
      loadGenerator: 'wrk -t1 (one thread, loopback)',
      hitPageTargetBytes: HIT_PAGE_TARGET_BYTES,
    },
    scenarios: { hit: {}, hitMany: {}, miss: {}, staleHerd: {}, build: {}, memory: { afterEveryPost: {} } },
    targets: [],
    notes: [],
  };
  if (proxyOnly) {
    try {
      results.scenarios.proxy = await runProxyComparison();
    } finally {
      await stop(...servers.keys());
    }
    return finish(results);
  }
  const api = await startContentApi({ port: PORTS.api, editsFile: null, revalidate: null, log: () => {} });
  const env = { CONTENT_API_URL: api.url };
  try {
    const posts = ((await (await fetch(`${api.url}/posts`)).json()) as Array<{ id: string }>).map((p) => p.id);
    log(`${posts.length} posts in the content API`);

    // The same site for both systems.
    const siteDir = join(work, 'site');
    const isrDir = join(work, 'isr');
    const nextDir = join(work, 'next');
    await prepareSiteTree(siteDir);
    await rm(isrDir, { recursive: true, force: true });
    await cp(siteDir, isrDir, { recursive: true });
    await prepareNextProject(siteDir, nextDir);

    // 5. Build: prerender all posts.
    const buildCount = settings.buildPrerenderCount === 'all' ? posts.length : Number(settings.buildPrerenderCount);
    log(`build: ${buildCount} posts prerendered (BLOG_PRERENDER_COUNT=${settings.buildPrerenderCount})`);
    const buildEnv = { ...env, BLOG_PRERENDER_COUNT: settings.buildPrerenderCount };
    results.scenarios.build = await builds(
      [
        ['isr', () => buildIsr(isrDir, buildEnv)],
        ['next', () => buildNext(nextDir, buildEnv)],
      ],
      buildCount,
      settings,
      log,
    );

    // The serving builds: the example's default, the 100 newest posts prerendered.
    log(`serving builds: ${PRERENDERED} posts prerendered`);
    for (const [name, result] of [
      ['isr', await buildIsr(isrDir, env)],
      ['next', await buildNext(nextDir, env)],
    ] as const) {
      if (!result.ok) throw new Error(`${name} build failed:\n${result.output}`);
    }
    const isr = await start('isr', startIsr(isrDir, PORTS.isr, join(work, 'isr-cache'), env));
    const next = await start('next', startNext(nextDir, PORTS.next, env));
    const afterStart = new Map<SystemName, number>([
      ['isr', isr.rssBytes()],
      ['next', next.rssBytes()],
    ]);
    const appServers = new Map<SystemName, RunningServer>([
      ['isr', isr],
      ['next', next],
    ]);

    // 3. MISS: posts that were not prerendered, first request.
    const missPosts = posts.slice(PRERENDERED, PRERENDERED + settings.runs * settings.missPagesPerRun);
    log(`MISS: first request of ${missPosts.length} posts that were not prerendered`);
    results.scenarios.miss = await missLatency(appServers, missPosts, log);

    // 6a. Memory after serving every post once.
    log(`memory: every post served once`);
    results.scenarios.memory.afterEveryPost = await servedEveryPost(appServers, posts, afterStart);
    for (const [system, m] of Object.entries(results.scenarios.memory.afterEveryPost)) {
      log(`  ${system.padEnd(9)} RSS ${mib(m.rssAfterStartBytes)} after start, ${mib(m.rssBytes)} after every post`);
    }

    // nginx serves isr's bytes of every post as files; the ceiling answers one of them.
    const nginxRoot = join(work, 'nginx-root');
    await rm(nginxRoot, { recursive: true, force: true });
    await mkdir(join(nginxRoot, 'blog'), { recursive: true });
    let hit = { id: '', size: 0, headers: {} as Record<string, string> };
    for (const id of posts) {
      const answer = await get(`${isr.url}/blog/${encodeURIComponent(id)}`);
      await writeFile(join(nginxRoot, 'blog', id), answer.body);
      const prerendered = posts.indexOf(id) < PRERENDERED;
      if (
        prerendered &&
        (hit.id === '' || Math.abs(answer.body.length - HIT_PAGE_TARGET_BYTES) < Math.abs(hit.size - HIT_PAGE_TARGET_BYTES))
      ) {
        const headers: Record<string, string> = {};
        for (const name of ['content-type', 'cache-control', 'etag', 'x-isr-cache']) headers[name] = String(answer.headers[name]);
        hit = { id, size: answer.body.length, headers };
      }
    }
    const hitPath = `/blog/${encodeURIComponent(hit.id)}`;
    results.settings.hitPage = { path: hitPath, isrBytes: hit.size, nextBytes: (await get(`${next.url}${hitPath}`)).body.length };
    log(`HIT page ${hitPath}: ${hit.size} bytes from isr, ${(results.settings.hitPage as { nextBytes: number }).nextBytes} from next`);
    // The same build and cache folder, fast path off: what the TCP fast path adds over node:http.
    const isrHttp = await start('isr-http', startIsr(isrDir, PORTS.isrHttp, join(work, 'isr-cache'), { ...env, ISR_FAST_PATH: '0' }));
    await getAll(
      posts.map((id) => `${isrHttp.url}/blog/${encodeURIComponent(id)}`),
      4,
    );
    // The same build with two worker processes on one port (its own cache folder, shared by its
    // workers through the cluster's primary). Every post is requested twice: each worker has its
    // own memory tier, and connections are dealt to workers round-robin.
    await rm(join(work, 'isr-2w-cache'), { recursive: true, force: true });
    const isr2w = await start('isr-2w', startIsr(isrDir, PORTS.isr2w, join(work, 'isr-2w-cache'), env, 2));
    const isr2wAfterStart = isr2w.rssBytes();
    for (let pass = 0; pass < 2; pass++) {
      const answers = await getAll(
        posts.map((id) => `${isr2w.url}/blog/${encodeURIComponent(id)}`),
        4,
      );
      const bad = answers.findIndex((a) => a.status !== 200);
      if (bad !== -1) throw new Error(`isr-2w: /blog/${posts[bad]} answered ${answers[bad]!.status}`);
    }
    await delay(1000);
    results.scenarios.memory.afterEveryPost['isr-2w'] = {
      rssBytes: isr2w.rssBytes(),
      rssAfterStartBytes: isr2wAfterStart,
      posts: posts.length,
    };
    log(`  isr-2w    RSS ${mib(isr2wAfterStart)} after start, ${mib(isr2w.rssBytes())} after every post (twice)`);
    await start('nginx-1w', startNginx(nginxRoot, PORTS.nginx1, 1, join(work, 'nginx-1w')));
    await start('nginx-2w', startNginx(nginxRoot, PORTS.nginx2, 2, join(work, 'nginx-2w')));
    await start(
      'ceiling',
      startServer(
        'ceiling',
        process.execPath,
        [
          '--import',
          'tsx',
          join(benchRoot, 'src/ceiling.ts'),
          String(PORTS.ceiling),
          join(nginxRoot, 'blog', hit.id),
          JSON.stringify(hit.headers),
        ],
        {
          cwd: repoRoot,
          url: `http://127.0.0.1:${PORTS.ceiling}`,
        },
      ),
    );
    const origin = (system: SystemName) => servers.get(system)!.url;

    // 1. HIT: one prerendered post.
    const hitSystems: SystemName[] = ['isr', 'isr-2w', 'isr-http', 'next', 'nginx-1w', 'nginx-2w', 'ceiling'];
    for (const connections of settings.connections) {
      log(`HIT ${hitPath}, ${connections} connections`);
      results.scenarios.hit[String(connections)] = await loadRuns(hitSystems, (s) => `${origin(s)}${hitPath}`, connections, settings, log);
    }

    // 2. HIT across every post, Zipf-like (newest posts most popular).
    const paths = await tempFile(
      'paths.txt',
      posts.map((id) => `/blog/${encodeURIComponent(id)}`),
    );
    log(`HIT across ${posts.length} posts (Zipf-like), 64 connections`);
    results.scenarios.hitMany = await loadRuns(['isr', 'isr-2w', 'next', 'nginx-1w', 'nginx-2w'], origin, 64, settings, log, paths.path);
    await paths.remove();

    // 4. STALE herd on a page whose window just passed.
    log(`STALE herd: ${settings.herdConcurrency} concurrent requests to a page whose ${settings.herdRevalidateSec}-second window passed`);
    for (const [system, server] of appServers) {
      const calls: number[] = [];
      const statuses: Record<string, number> = {};
      for (let round = 0; round < settings.runs; round++) {
        const herd = await staleHerd(server, api, posts[posts.length - 1 - round]!, settings);
        calls.push(herd.calls);
        for (const [status, n] of Object.entries(herd.statuses)) statuses[status] = (statuses[status] ?? 0) + n;
        log(`  ${system.padEnd(9)} run ${round + 1}: ${herd.calls} content-API call(s); statuses ${JSON.stringify(herd.statuses)}`);
      }
      results.scenarios.staleHerd[system] = { contentApiCalls: calls, median: Math.max(...calls), statuses };
    }

    // 9. Client components: JavaScript per page, hydration time, HIT beside a server-only twin.
    log('client components: /interactive in headless Chromium (JavaScript bytes, time to interactive)');
    results.scenarios.clientComponents = await clientComponents(
      new Map([
        ['isr', isr],
        ['next', next],
      ]),
      settings,
      quick ? 3 : 10,
      log,
    );
    await stop(...servers.keys());

    // 7. Purge propagation: three isr instances on the benchmark's own Redis (fresh key prefix).
    log(`purge propagation: ${PORTS.purge.length} isr instances on one Redis, ${settings.purgeTrials} trials on ${hitPath}`);
    const redisDir = join(work, 'redis');
    await mkdir(redisDir, { recursive: true });
    const redis = await start('redis', startRedis(PORTS.redis, redisDir));
    const token = randomBytes(16).toString('hex');
    const purgeEnv = {
      ...env,
      ISR_REDIS_URL: redis.url,
      ISR_REDIS_KEY_PREFIX: `isr-bench-${started.toString(36)}-${randomBytes(3).toString('hex')}:`,
      ISR_REVALIDATE_TOKEN: token,
    };
    const purgeNames = PORTS.purge.map((_, i) => `isr-purge-${i}`);
    const instances = await Promise.all(
      PORTS.purge.map(async (port, i) => {
        const cacheDir = join(work, `${purgeNames[i]}-cache`);
        await rm(cacheDir, { recursive: true, force: true });
        return start(purgeNames[i]!, startIsr(isrDir, port, cacheDir, purgeEnv));
      }),
    );
    results.scenarios.purge = await purgePropagation({
      instances,
      apiUrl: api.url,
      postId: hit.id,
      token,
      trials: settings.purgeTrials,
      warmupTrials: settings.purgeWarmupTrials,
      timeoutMs: 5_000,
      log,
    });
    const purge = results.scenarios.purge;
    log(
      `  last instance p50 ${purge.lastInstanceMs.p50Ms.toFixed(1)} ms, p99 ${purge.lastInstanceMs.p99Ms.toFixed(1)} ms, max ${purge.lastInstanceMs.maxMs.toFixed(1)} ms; ` +
        `render p50 ${purge.render.p50Ms.toFixed(1)} ms`,
    );
    await stop(...purgeNames);
    await stop('redis');

    // 8. Proxy comparison: isr proxy, nginx proxy_cache and Varnish in front of one origin.
    results.scenarios.proxy = await runProxyComparison();

    // 6b. Memory with many entries: isr only (its memory tier's bound).
    log(`memory: ${settings.syntheticEntries} synthetic pages through a fresh isr server`);
    const synthetic = await start('isr-synthetic', startIsr(isrDir, PORTS.isrSynthetic, join(work, 'isr-synthetic-cache'), env));
    const figures = await syntheticEntries(synthetic, settings, log);
    await stop('isr-synthetic');
    results.scenarios.memory.synthetic = {
      entries: settings.syntheticEntries,
      memoryTierBoundBytes: OPTIONS.memoryCacheSize.default,
      ...figures,
      p50Ratio: figures.hitAtEnd.median.latencyUs.p50 / figures.hitAt1k.median.latencyUs.p50,
    };
  } finally {
    await stop(...servers.keys());
    await api.close();
    if (!flags['keep-work']) {
      await rm(join(work, 'isr-cache'), { recursive: true, force: true });
      await rm(join(work, 'isr-synthetic-cache'), { recursive: true, force: true });
      await rm(join(work, 'isr-2w-cache'), { recursive: true, force: true });
      await rm(join(work, 'redis'), { recursive: true, force: true });
      for (let i = 0; i < PORTS.purge.length; i++) await rm(join(work, `isr-purge-${i}-cache`), { recursive: true, force: true });
    }
  }
  await finish(results);
}

/** Scenario 8 (bench/src/shared-caches.ts) with the benchmark's ports and settings; its folders are removed afterwards unless --keep-work. */
async function runProxyComparison() {
  log(`proxy comparison: isr proxy, nginx proxy_cache, Varnish in front of one origin (${proxySettings.originLatencyMs} ms per answer)`);
  const proxyWork = join(work, 'proxy');
  await rm(proxyWork, { recursive: true, force: true });
  try {
    return await proxyComparison({
      ports: { origin: PORTS.proxyOrigin, ...PORTS.proxy },
      workDir: proxyWork,
      settings,
      ...proxySettings,
      start,
      stop,
      log,
    });
  } finally {
    if (!flags['keep-work']) await rm(proxyWork, { recursive: true, force: true });
  }
}

/** Checks the targets, writes the report files and logs which targets hold. */
async function finish(results: BenchResults): Promise<void> {
  results.finishedAt = new Date().toISOString();
  results.targets = evaluateTargets(results);
  await mkdir(outDir, { recursive: true });
  await writeReport(results, outDir);
  for (const t of results.targets)
    log(`${t.holds === true ? 'HOLDS ' : t.holds === false ? 'MISSED' : 'n/a   '} ${t.name}: ${t.measured} (goal ${t.goal})`);
  log(`done in ${((Date.now() - started) / 60000).toFixed(1)} min; results in ${outDir}`);
}

process.on('SIGINT', () => {
  void stop(...servers.keys()).finally(() => process.exit(130));
});

main().catch(async (error: unknown) => {
  console.error(error);
  await stop(...servers.keys());
  process.exit(1);
});
