/**
 * The benchmark's scenarios (bench/README.md, "What runs"). Each takes the systems it applies to and alternates between
 * them run by run (A B A B …) so the machine's drift affects them alike; figures are medians.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { ContentApi } from '../../examples/blog/content-api/server.ts';
import { get, getAll, median, percentile } from './http.ts';
import type { CommandResult } from './spawn.ts';
import type { BuildFigures, LatencyFigures, LoadFigures, LoadRun, RunningServer, SystemName } from './types.ts';
import { runWrk } from './wrk.ts';

export interface Settings {
  /** Measured runs per system and scenario (median reported). */
  runs: number;
  /** Seconds of each load run, and of the warm-up before a system's first run. */
  loadSec: number;
  warmupSec: number;
  connections: number[];
  /** Distinct not-prerendered posts requested per run in the MISS scenario. */
  missPagesPerRun: number;
  herdConcurrency: number;
  /** Seconds of the herd route's window (bench/site-extra/app/herd). */
  herdRevalidateSec: number;
  /** Pages pushed through the cache in the memory scenario, and where RSS is sampled. */
  syntheticEntries: number;
  /** `BLOG_PRERENDER_COUNT` for the build scenario (`all` in full mode). */
  buildPrerenderCount: string;
  /** Measured trials of the purge-propagation scenario (bench/src/purge.ts), and discarded ones before them. */
  purgeTrials: number;
  purgeWarmupTrials: number;
}

export type Log = (line: string) => void;

/** A map from system to its value, in the order systems were given. */
export type BySystem<T> = Partial<Record<SystemName, T>>;

function medianRun(runs: LoadRun[]): LoadRun {
  const pick = (f: (r: LoadRun) => number) => median(runs.map(f));
  return {
    requestsPerSec: pick((r) => r.requestsPerSec),
    latencyUs: {
      p50: pick((r) => r.latencyUs.p50),
      p90: pick((r) => r.latencyUs.p90),
      p99: pick((r) => r.latencyUs.p99),
      max: pick((r) => r.latencyUs.max),
    },
    errors: Math.max(...runs.map((r) => r.errors)),
    requests: pick((r) => r.requests),
    durationMs: pick((r) => r.durationMs),
  };
}

/**
 * Load runs with wrk: after one warm-up run per system (discarded: JIT, caches), `settings.runs`
 * rounds of one run per system, in the given order (any names: the benchmark's systems by default,
 * or the proxy comparison's). `target(system)` is the URL to load; with
 * `pathsFile` requests spread over its paths (Zipf-like) on that URL's origin.
 */
export async function loadRuns<S extends string = SystemName>(
  systems: S[],
  target: (system: S) => string,
  connections: number,
  settings: Settings,
  log: Log,
  pathsFile?: string,
): Promise<Partial<Record<S, LoadFigures>>> {
  const runs = new Map<S, LoadRun[]>(systems.map((s) => [s, []]));
  for (const system of systems) {
    await runWrk({ url: target(system), connections, durationSec: settings.warmupSec, pathsFile });
  }
  for (let round = 0; round < settings.runs; round++) {
    for (const system of systems) {
      const run = await runWrk({ url: target(system), connections, durationSec: settings.loadSec, pathsFile });
      runs.get(system)!.push(run);
      log(
        `  ${system.padEnd(9)} c=${connections} run ${round + 1}: ${Math.round(run.requestsPerSec)} req/s, ` +
          `p50 ${(run.latencyUs.p50 / 1000).toFixed(2)} ms, p99 ${(run.latencyUs.p99 / 1000).toFixed(2)} ms` +
          (run.errors > 0 ? `, ${run.errors} ERRORS` : ''),
      );
    }
  }
  const figures: Partial<Record<S, LoadFigures>> = {};
  for (const [system, list] of runs) figures[system] = { median: medianRun(list), runs: list };
  return figures;
}

/**
 * MISS: the first request of posts that were not prerendered, one at a time, alternating systems
 * request by request (both get the same posts). Every answer must be a 200.
 */
export async function missLatency(servers: Map<SystemName, RunningServer>, posts: string[], log: Log): Promise<BySystem<LatencyFigures>> {
  const samples = new Map<SystemName, number[]>([...servers.keys()].map((s) => [s, []]));
  for (const id of posts) {
    for (const [system, server] of servers) {
      const answer = await get(`${server.url}/blog/${encodeURIComponent(id)}`);
      if (answer.status !== 200) throw new Error(`MISS ${system} /blog/${id}: status ${answer.status}`);
      samples.get(system)!.push(answer.elapsedMs);
    }
  }
  const figures: BySystem<LatencyFigures> = {};
  for (const [system, list] of samples) {
    figures[system] = { samples: list.length, p50Ms: percentile(list, 50), p99Ms: percentile(list, 99), maxMs: Math.max(...list) };
    log(
      `  ${system.padEnd(9)} MISS p50 ${figures[system]!.p50Ms.toFixed(1)} ms, p99 ${figures[system]!.p99Ms.toFixed(1)} ms (${list.length} posts)`,
    );
  }
  return figures;
}

/**
 * STALE herd: `/herd/<id>` is cached, its window passes, then `concurrency` requests arrive at
 * once. Counts the content API's GETs of that post until the background regeneration is done.
 */
export async function staleHerd(
  server: RunningServer,
  api: ContentApi,
  id: string,
  settings: Settings,
): Promise<{ calls: number; statuses: Record<string, number> }> {
  const path = `/herd/${encodeURIComponent(id)}`;
  const apiPath = `/posts/${id}`;
  const first = await get(`${server.url}${path}`);
  if (first.status !== 200) throw new Error(`herd: ${path} answered ${first.status}`);
  await get(`${server.url}${path}`); // now cached on both systems
  await delay(settings.herdRevalidateSec * 1000 + 500);
  const before = api.stats.byPath.get(apiPath) ?? 0;
  const answers = await Promise.all(Array.from({ length: settings.herdConcurrency }, () => get(`${server.url}${path}`)));
  // Let the background regeneration finish (and any second one start) before counting.
  await delay(Math.min(settings.herdRevalidateSec * 1000, 1500));
  const calls = (api.stats.byPath.get(apiPath) ?? 0) - before;
  const statuses: Record<string, number> = {};
  for (const a of answers) statuses[String(a.status)] = (statuses[String(a.status)] ?? 0) + 1;
  return { calls, statuses };
}

/** Builds of the same site, alternating systems; figures are medians of wall time and peak RSS. */
export async function builds(
  systems: Array<[SystemName, () => Promise<CommandResult>]>,
  pages: number,
  settings: Settings,
  log: Log,
): Promise<BySystem<BuildFigures>> {
  const runs = new Map<SystemName, Array<{ wallMs: number; peakRssBytes: number }>>(systems.map(([s]) => [s, []]));
  for (let round = 0; round < settings.runs; round++) {
    for (const [system, build] of systems) {
      const result = await build();
      if (!result.ok) throw new Error(`${system} build failed:\n${result.output}`);
      runs.get(system)!.push({ wallMs: result.wallMs, peakRssBytes: result.peakRssBytes });
      log(`  ${system.padEnd(9)} build run ${round + 1}: ${(result.wallMs / 1000).toFixed(1)} s, peak RSS ${mib(result.peakRssBytes)}`);
    }
  }
  const figures: BySystem<BuildFigures> = {};
  for (const [system, list] of runs) {
    figures[system] = {
      pages,
      wallMs: median(list.map((r) => r.wallMs)),
      peakRssBytes: median(list.map((r) => r.peakRssBytes)),
      runs: list,
    };
  }
  return figures;
}

/** Requests every post once per system (4 at a time); resolves with each server's RSS afterwards. */
export async function servedEveryPost(
  servers: Map<SystemName, RunningServer>,
  posts: string[],
  rssAfterStart: Map<SystemName, number>,
): Promise<BySystem<{ rssBytes: number; rssAfterStartBytes: number; posts: number }>> {
  const figures: BySystem<{ rssBytes: number; rssAfterStartBytes: number; posts: number }> = {};
  for (const [system, server] of servers) {
    const answers = await getAll(
      posts.map((id) => `${server.url}/blog/${encodeURIComponent(id)}`),
      4,
    );
    const bad = answers.findIndex((a) => a.status !== 200);
    if (bad !== -1) throw new Error(`${system}: /blog/${posts[bad]} answered ${answers[bad]!.status}`);
    await delay(1000);
    figures[system] = { rssBytes: server.rssBytes(), rssAfterStartBytes: rssAfterStart.get(system) ?? 0, posts: posts.length };
  }
  return figures;
}

/**
 * Pushes `/synthetic/0 … /synthetic/<entries-1>` through a fresh isr server (16 at a time),
 * sampling its RSS at 1,000, 10,000 … entries; measures HIT load on `/synthetic/0` at 1,000
 * entries and again at the end.
 */
export async function syntheticEntries(
  server: RunningServer,
  settings: Settings,
  log: Log,
): Promise<{ rssBytesAt: Array<{ entries: number; rssBytes: number }>; hitAt1k: LoadFigures; hitAtEnd: LoadFigures }> {
  const checkpoints = [1_000, 10_000, 25_000, 50_000, 75_000, 100_000].filter((n) => n < settings.syntheticEntries);
  checkpoints.push(settings.syntheticEntries);
  const rssBytesAt: Array<{ entries: number; rssBytes: number }> = [];
  const hitUrl = `${server.url}/synthetic/0`;
  let hitAt1k: LoadFigures | undefined;
  let done = 0;
  for (const checkpoint of checkpoints) {
    const urls: string[] = [];
    for (let n = done; n < checkpoint; n++) urls.push(`${server.url}/synthetic/${n}`);
    for (let i = 0; i < urls.length; i += 2000) {
      const answers = await getAll(urls.slice(i, i + 2000), 16);
      const bad = answers.find((a) => a.status !== 200);
      if (bad !== undefined) throw new Error(`synthetic: a page answered ${bad.status}`);
    }
    done = checkpoint;
    rssBytesAt.push({ entries: done, rssBytes: server.rssBytes() });
    log(`  isr       ${done} entries: RSS ${mib(server.rssBytes())}`);
    if (hitAt1k === undefined) {
      hitAt1k = (await loadRuns(['isr'], () => hitUrl, 64, settings, log)).isr!;
    }
  }
  const hitAtEnd = (await loadRuns(['isr'], () => hitUrl, 64, settings, log)).isr!;
  return { rssBytesAt, hitAt1k: hitAt1k!, hitAtEnd };
}

/** Writes `lines` to a new temporary file; resolves with its path and a cleanup. */
export async function tempFile(name: string, lines: string[]): Promise<{ path: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'isr-bench-'));
  const path = join(dir, name);
  await writeFile(path, `${lines.join('\n')}\n`);
  return { path, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Bytes as MiB with one decimal. */
export function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
