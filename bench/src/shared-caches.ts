/**
 * (Not named proxy.ts: Next.js 16 takes a `src/proxy.ts` under its Turbopack root, which is bench/,
 * for the site's request proxy — its new name for middleware — and `next build` fails on it.)
 *
 * The proxy comparison (bench/README.md, scenario 8): three shared caches in front of the SAME
 * origin (bench/src/origin.ts, in the benchmark's process, every answer delayed by
 * `originLatencyMs`), measured in one run, systems alternating:
 *   - `isr proxy` (this project's reverse-proxy shared cache; reported "not available" while this
 *     checkout does not have it);
 *   - nginx `proxy_cache`, one worker (bench/src/nginx.ts, `startNginxProxy`);
 *   - Varnish (bench/src/varnish.ts).
 *
 * Per system:
 *   1. HIT: wrk (one thread, same connections and duration for all) against a page the cache holds
 *      fresh (`s-maxage` of an hour): requests/s and p99.
 *   2. STALE herd: a page with a 1-second `s-maxage` and a minute of `stale-while-revalidate` is
 *      cached, its second passes, `herdConcurrency` requests arrive at once (each on its own
 *      connection); the origin's requests for that page are counted until the refresh settled.
 *      Goal: exactly 1 (one background refresh, every herd request answered from the cache).
 *   3. Purge effect: the page's content changes at the origin, the cache is told to purge its tag
 *      (isr: `POST /_isr/revalidate` `{"tags": [...]}`; Varnish: `BAN` with `Cache-Tag`), and from
 *      the moment that call answers the page is requested on one keep-alive connection, one
 *      request after another, until an answer has the new content: that time, which includes one
 *      origin fetch (`originLatencyMs`). nginx OSS has no purge.
 */
import { randomBytes } from 'node:crypto';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { type Answer, get, percentile, send } from './http.ts';
import { hasIsrProxy, startIsrProxy } from './isr.ts';
import { startNginxProxy } from './nginx.ts';
import { type Origin, type PagePolicy, startOrigin } from './origin.ts';
import { type Log, loadRuns, type Settings } from './scenarios.ts';
import type { LatencyFigures, ProxyFigures, ProxyName, ProxySystemFigures, RunningServer } from './types.ts';
import { startVarnish } from './varnish.ts';

export interface ProxyOptions {
  /** Ports on 127.0.0.1: the origin's and each cache's. */
  ports: { origin: number } & Record<ProxyName, number>;
  /** A folder for the caches' configuration, cache files and working folders. */
  workDir: string;
  settings: Settings;
  /** Delay of every origin answer, in milliseconds. */
  originLatencyMs: number;
  /** Size of the origin's pages, in bytes. */
  pageBytes: number;
  /** Measured HIT runs per system (alternating), in place of `settings.runs`. */
  hitRuns: number;
  /** Requests sent at once to the stale page, per run. */
  herdConcurrency: number;
  /** Measured purge trials per system, and discarded ones before them. */
  purgeTrials: number;
  purgeWarmupTrials: number;
  /** Registers a started server so the benchmark stops it on exit (main.ts's `start`). */
  start: (name: string, server: Promise<RunningServer>) => Promise<RunningServer>;
  /** Stops servers registered by `start`. */
  stop: (...names: string[]) => Promise<void>;
  log: Log;
}

/** The order systems run in, and the header each names its cache outcome in. */
const SYSTEMS: Array<{ name: ProxyName; cacheHeader: string }> = [
  { name: 'isr-proxy', cacheHeader: 'x-isr-cache' },
  { name: 'nginx-proxy', cacheHeader: 'x-cache-status' },
  { name: 'varnish', cacheHeader: 'x-cache' },
];
const HIT_POLICY: PagePolicy = { sMaxageSec: 3600, staleWhileRevalidateSec: 60 };
const HERD_POLICY: PagePolicy = { sMaxageSec: 1, staleWhileRevalidateSec: 60 };
/**
 * Waited beyond a herd page's `s-maxage` before the herd, in ms: nginx stores an expiry time in
 * whole seconds (its cached clock's second plus `s-maxage`) and treats the page as stale only once
 * the clock's second is past it, so a 1-second `s-maxage` ends 1 to 2 seconds after the fetch.
 */
const HERD_STALE_MARGIN_MS = 1_100;
/** How long to wait after a herd for the background refresh (and any second one) to reach the origin, in ms, beyond the origin's latency. */
const HERD_SETTLE_MS = 700;
/** Longest a purge trial may poll before the scenario fails, in milliseconds. */
const PURGE_TIMEOUT_MS = 5_000;

const policyText = (p: PagePolicy) => `public, s-maxage=${p.sMaxageSec}, stale-while-revalidate=${p.staleWhileRevalidateSec}`;

function latency(samples: number[]): LatencyFigures {
  return { samples: samples.length, p50Ms: percentile(samples, 50), p99Ms: percentile(samples, 99), maxMs: Math.max(...samples) };
}

function tally(into: Record<string, number>, key: string): void {
  into[key] = (into[key] ?? 0) + 1;
}

/**
 * Runs the comparison; every server it starts is stopped before it resolves.
 *
 * @throws Error if a system fails to start (isr proxy only when this checkout has it), does not
 *   answer a primed page with 200 and a HIT, or a purge does not show within 5 s.
 */
export async function proxyComparison(options: ProxyOptions): Promise<ProxyFigures> {
  const { ports, workDir, settings, log } = options;
  const hitPath = '/hot/page';
  const origin = await startOrigin({
    port: ports.origin,
    latencyMs: options.originLatencyMs,
    pageBytes: options.pageBytes,
    policy: (path) => (path.startsWith('/herd/') ? HERD_POLICY : HIT_POLICY),
  });
  const token = randomBytes(16).toString('hex');
  const figures: ProxyFigures = {
    origin: {
      latencyMs: options.originLatencyMs,
      pageBytes: options.pageBytes,
      hitPath,
      hitPolicy: policyText(HIT_POLICY),
      herdPolicy: policyText(HERD_POLICY),
    },
    herdConcurrency: options.herdConcurrency,
    connections: 64,
    systems: {},
  };
  const running = new Map<ProxyName, RunningServer>();
  try {
    for (const { name } of SYSTEMS) {
      if (name === 'isr-proxy' && !hasIsrProxy()) {
        figures.systems[name] = { notAvailable: 'not available (isr proxy is not on this branch yet: no src/proxy/index.ts)' };
        log(`  ${name.padEnd(11)} not available: no src/proxy/index.ts in this checkout`);
        continue;
      }
      const port = ports[name];
      const server =
        name === 'isr-proxy'
          ? startIsrProxy(origin.url, port, join(workDir, 'isr-proxy-cache'), token)
          : name === 'nginx-proxy'
            ? startNginxProxy(origin.url, port, join(workDir, 'nginx-proxy'))
            : startVarnish(origin.url, port, join(workDir, 'varnish'));
      running.set(name, await options.start(`proxy-${name}`, server));
      figures.systems[name] = {};
    }
    const systems = SYSTEMS.filter((s) => running.has(s.name));
    const url = (name: ProxyName) => running.get(name)!.url;

    // 1. HIT: the page primed (MISS, then a HIT checked), then wrk.
    for (const { name, cacheHeader } of systems) {
      await get(`${url(name)}${hitPath}`);
      const second = await get(`${url(name)}${hitPath}`);
      const state = String(second.headers[cacheHeader]);
      if (second.status !== 200 || state !== 'HIT')
        throw new Error(`proxy: ${name} answered ${second.status} (${cacheHeader}: ${state}) to the second GET ${hitPath}, not a 200 HIT`);
    }
    log(`proxy HIT ${hitPath} (${options.pageBytes} bytes), ${figures.connections} connections`);
    const hit = await loadRuns(
      systems.map((s) => s.name),
      (name) => `${url(name)}${hitPath}`,
      figures.connections,
      { ...settings, runs: options.hitRuns },
      log,
    );
    for (const { name } of systems) figures.systems[name]!.hit = hit[name];

    // 2. STALE herd, runs alternating between systems; a fresh page per system and run.
    log(`proxy STALE herd: ${options.herdConcurrency} requests at once to a page whose ${HERD_POLICY.sMaxageSec}-second s-maxage passed`);
    for (let round = 0; round < settings.runs; round++) {
      for (const { name, cacheHeader } of systems) {
        const run = await staleHerd(url(name), `/herd/${name}-${round}`, cacheHeader, origin, options);
        (figures.systems[name]!.herd ??= []).push(run);
        log(
          `  ${name.padEnd(11)} run ${round + 1}: ${run.originCalls} origin call(s) ${JSON.stringify(run.originStatuses)}; ` +
            `answers ${JSON.stringify(run.statuses)}, ${cacheHeader} ${JSON.stringify(run.cacheStates)}`,
        );
      }
    }

    // 3. Purge effect.
    log(`proxy purge effect: ${options.purgeTrials} trials (after ${options.purgeWarmupTrials} discarded) per system`);
    for (const { name, cacheHeader } of systems) {
      if (name === 'nginx-proxy') {
        figures.systems[name]!.purgeNotAvailable = 'n/a (no purge in nginx OSS)';
        continue;
      }
      const purge = await purgeEffect(name, cacheHeader, url(name), `/purge/${name}`, origin, token, options);
      figures.systems[name]!.purge = purge;
      log(
        `  ${name.padEnd(11)} purge effect p50 ${purge.p50Ms.toFixed(1)} ms, p99 ${purge.p99Ms.toFixed(1)} ms, max ${purge.maxMs.toFixed(1)} ms ` +
          `(${purge.oldAnswers} old answers after the call; the call itself p50 ${purge.callMs.p50Ms.toFixed(1)} ms)`,
      );
    }
  } finally {
    await options.stop(...[...running.keys()].map((name) => `proxy-${name}`));
    await origin.close();
  }
  return figures;
}

/**
 * One STALE herd on `path` through the cache at `base`: primed (two GETs), then the page's
 * `s-maxage` passes (plus {@link HERD_STALE_MARGIN_MS}), then
 * `herdConcurrency` GETs at once, each on a connection of its own. Counts the origin's requests
 * for `path` from just before the herd until `originLatencyMs` + 700 ms after its last answer.
 */
async function staleHerd(
  base: string,
  path: string,
  cacheHeader: string,
  origin: Origin,
  options: ProxyOptions,
): Promise<NonNullable<ProxySystemFigures['herd']>[number]> {
  for (let i = 0; i < 2; i++) {
    const answer = await get(`${base}${path}`);
    if (answer.status !== 200) throw new Error(`proxy herd: ${base}${path} answered ${answer.status}`);
  }
  await delay(HERD_POLICY.sMaxageSec * 1000 + HERD_STALE_MARGIN_MS);
  const before = origin.calls(path);
  const statusesBefore = origin.statuses(path);
  const herdAgent = new Agent({ keepAlive: false, maxSockets: options.herdConcurrency });
  let answers: Answer[];
  try {
    answers = await Promise.all(Array.from({ length: options.herdConcurrency }, () => get(`${base}${path}`, {}, herdAgent)));
  } finally {
    herdAgent.destroy();
  }
  await delay(options.originLatencyMs + HERD_SETTLE_MS);
  const originStatuses: Record<string, number> = {};
  for (const [status, n] of Object.entries(origin.statuses(path))) {
    const added = n - (statusesBefore[status] ?? 0);
    if (added > 0) originStatuses[status] = added;
  }
  const statuses: Record<string, number> = {};
  const cacheStates: Record<string, number> = {};
  for (const a of answers) {
    tally(statuses, String(a.status));
    tally(cacheStates, String(a.headers[cacheHeader] ?? 'none'));
  }
  return { path, originCalls: origin.calls(path) - before, originStatuses, statuses, cacheStates };
}

/**
 * Purge-effect trials on `path` through the cache at `base`: primed, then per trial the origin's
 * content of `path` changes, the cache is told to purge the page's own tag, and from the call's
 * answer `path` is polled on one keep-alive connection until the new content shows. Each trial
 * records its time, the origin's requests for `path` from the purge call to the new content, and
 * the cache status of the answer that had it.
 *
 * @throws Error if the purge call is not answered 200, a poll is not a 200, or the new content does
 *   not show within 5 s.
 */
async function purgeEffect(
  name: ProxyName,
  cacheHeader: string,
  base: string,
  path: string,
  origin: Origin,
  token: string,
  options: ProxyOptions,
): Promise<NonNullable<ProxySystemFigures['purge']>> {
  const tag = origin.tags(path)[0]!;
  const poller = new Agent({ keepAlive: true, maxSockets: 1 });
  const how =
    name === 'isr-proxy'
      ? `POST /_isr/revalidate {"tags": ["${tag}"]} (hard purge)`
      : `BAN with Cache-Tag: ${tag} (a ban on obj.http.Cache-Tag)`;
  const purge = async (): Promise<Answer> =>
    name === 'isr-proxy'
      ? send('POST', `${base}/_isr/revalidate`, {
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ tags: [tag] }),
          via: poller,
        })
      : send('BAN', `${base}/`, { headers: { 'cache-tag': tag }, via: poller });
  try {
    for (let i = 0; i < 2; i++) await get(`${base}${path}`, {}, poller);
    const samples: number[] = [];
    const callMs: number[] = [];
    const trials: Array<{ ms: number; originCalls: number; cacheState: string }> = [];
    let oldAnswers = 0;
    for (let trial = 0; trial < options.purgeWarmupTrials + options.purgeTrials; trial++) {
      const marker = origin.edit(path);
      const callsBefore = origin.calls(path);
      const call = await purge();
      if (call.status !== 200) throw new Error(`proxy purge: ${name} answered ${call.status}: ${call.body.toString('utf8').slice(0, 200)}`);
      const since = performance.now();
      let old = 0;
      let answer: Answer;
      for (;;) {
        answer = await get(`${base}${path}`, {}, poller);
        if (answer.status !== 200) throw new Error(`proxy purge: ${name} answered ${answer.status} for ${path}`);
        if (answer.body.includes(marker)) break;
        old++;
        if (performance.now() - since > PURGE_TIMEOUT_MS)
          throw new Error(`proxy purge: ${name} still served the old ${path} ${PURGE_TIMEOUT_MS} ms after the purge of tag ${tag}`);
      }
      if (trial >= options.purgeWarmupTrials) {
        const ms = performance.now() - since;
        samples.push(ms);
        callMs.push(call.elapsedMs);
        trials.push({ ms, originCalls: origin.calls(path) - callsBefore, cacheState: String(answer.headers[cacheHeader] ?? 'none') });
        oldAnswers += old;
      }
    }
    return { ...latency(samples), warmupTrials: options.purgeWarmupTrials, oldAnswers, callMs: latency(callMs), how, trials };
  } finally {
    poller.destroy();
  }
}
