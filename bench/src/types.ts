/**
 * Shapes shared by the benchmark's parts. Units are in the names: `Ms` milliseconds, `Us`
 * microseconds, `Bytes` bytes; request rates are requests per second.
 */

/**
 * The systems compared. `isr` is this project (one process); `isr-2w` the same with
 * `--workers 2` (node:cluster, two processes on one port); `isr-http` the one-process server with
 * its TCP fast path off (ISR_FAST_PATH=0: every request through node:http); `ceiling` a bare
 * node:http server answering one constant Buffer.
 */
export type SystemName = 'isr' | 'isr-2w' | 'isr-http' | 'next' | 'nginx-1w' | 'nginx-2w' | 'ceiling';

/**
 * The shared caches of the proxy comparison (bench/src/shared-caches.ts), each in front of the same origin:
 * `isr proxy`, nginx's `proxy_cache` (one worker) and Varnish.
 */
export type ProxyName = 'isr-proxy' | 'nginx-proxy' | 'varnish';

/** One load-generator run (wrk) against one URL or URL mix. */
export interface LoadRun {
  requestsPerSec: number;
  latencyUs: { p50: number; p90: number; p99: number; max: number };
  /** Socket errors plus non-2xx/3xx answers; any non-zero value fails the run. */
  errors: number;
  requests: number;
  durationMs: number;
}

/** The median run of several, with every run kept for the record. */
export interface LoadFigures {
  median: LoadRun;
  runs: LoadRun[];
}

/** A measured latency distribution of sequential requests, in milliseconds. */
export interface LatencyFigures {
  samples: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** `next build` / `isr build` of the same site. */
export interface BuildFigures {
  pages: number;
  wallMs: number;
  peakRssBytes: number;
  runs: Array<{ wallMs: number; peakRssBytes: number }>;
}

/** A server under test, started by `startServer` (spawn.ts). */
export interface RunningServer {
  /** Pid of the server's main process (also its process group id). */
  pid: number;
  /** Base URL, e.g. `http://127.0.0.1:3100` (no trailing slash). */
  url: string;
  /** Current sum of RSS over the server's process tree (descendants and process group), in bytes; 0 once stopped. */
  rssBytes(): number;
  /**
   * SIGTERM to the process group, SIGKILL after 5 s; resolves once the main process has exited (and
   * its output is drained, at most 1 s more), after SIGKILL to anything of the group still alive.
   */
  stop(): Promise<void>;
}

/**
 * Purge propagation: several `isr start` processes on one Redis; see bench/src/purge.ts.
 * Every time is in milliseconds from the return of the revalidation call.
 */
export interface PurgeFigures {
  instances: number;
  /** The page edited and revalidated. */
  path: string;
  warmupTrials: number;
  /** Until the last instance served the new content: the trial's figure. */
  lastInstanceMs: LatencyFigures;
  /** Until the first instance did (the one that rendered the page, or adopted its render first). */
  firstInstanceMs: LatencyFigures;
  /** The page's render, alone: one request (no other client) to the instance just asked to revalidate it. */
  render: LatencyFigures;
  /** `x-isr-cache` of those render requests (MISS: rendered before answering). */
  renderCacheStates: Record<string, number>;
  /** The revalidation call itself (answered once Redis recorded the invalidation). */
  revalidateCallMs: LatencyFigures;
  /**
   * Every trial: the instance asked, both times, and the answers with the old content the pollers
   * got after the call returned (summed over instances; 0 when the purge had reached every instance
   * before its poller's first request arrived).
   */
  trials: Array<{ revalidatedOn: number; lastMs: number; firstMs: number; oldAnswers: number }>;
}

/** One shared cache's figures in the proxy comparison; see bench/src/shared-caches.ts. */
export interface ProxySystemFigures {
  /** Why the system was not measured (e.g. `isr proxy` not on this branch yet); absent when it was. */
  notAvailable?: string;
  /** wrk against one page the cache holds fresh, every answer a HIT. */
  hit?: LoadFigures;
  /**
   * STALE herd, one entry per run: the origin's requests for the page (any status: 200 or 304)
   * from the herd's start until the refresh settled, and the herd's answers by status and by the
   * system's cache-status header.
   */
  herd?: Array<{
    path: string;
    originCalls: number;
    originStatuses: Record<string, number>;
    statuses: Record<string, number>;
    cacheStates: Record<string, number>;
  }>;
  /**
   * Purge effect: ms from the purge call's answer to the first answer with the new content; absent
   * with `purgeNotAvailable`. `trials`: each measured trial's time, the origin's requests for the
   * page from the purge call to that answer, and that answer's cache status.
   */
  purge?: LatencyFigures & {
    warmupTrials: number;
    oldAnswers: number;
    callMs: LatencyFigures;
    how: string;
    trials: Array<{ ms: number; originCalls: number; cacheState: string }>;
  };
  /** Why purge was not measured (nginx OSS has none). */
  purgeNotAvailable?: string;
}

/** The proxy comparison: three shared caches in front of one origin (bench/src/shared-caches.ts). */
export interface ProxyFigures {
  origin: { latencyMs: number; pageBytes: number; hitPath: string; hitPolicy: string; herdPolicy: string };
  herdConcurrency: number;
  connections: number;
  systems: Partial<Record<ProxyName, ProxySystemFigures>>;
}

/** A performance target (docs/performance.md) and whether this run met it (`holds: null`: not measured, or reported without a goal). */
/** Scenario 9 (bench/src/client-components.ts): a page with one client component, isr and next start. */
export interface ClientComponentFigures {
  /** Page loads per system (fresh browser context each). */
  loads: number;
  /** Medians over the loads: JavaScript decoded (bytes), script files, ms from navigation start to interactive. */
  systems: Partial<Record<'isr' | 'next', { scriptBytes: number; scripts: number; hydratedMs: number }>>;
  /** isr HIT load: the page with the client component, and its server-only twin of about the same size. */
  isrHit?: { interactive: LoadFigures; twin: LoadFigures };
  /** The two pages' sizes on isr, bytes. */
  isrPageBytes?: { interactive: number; twin: number };
}

export interface TargetCheck {
  name: string;
  goal: string;
  measured: string;
  holds: boolean | null;
}

/** Everything one `npm run bench` writes to bench/results/latest.json. */
export interface BenchResults {
  startedAt: string;
  finishedAt: string;
  mode: 'full' | 'quick';
  machine: { cpus: number; cpuModel: string; memoryBytes: number; os: string; node: string };
  versions: Record<string, string>;
  settings: Record<string, unknown>;
  scenarios: {
    hit: Record<string, Partial<Record<SystemName, LoadFigures>>>;
    hitMany: Partial<Record<SystemName, LoadFigures>>;
    miss: Partial<Record<SystemName, LatencyFigures>>;
    purge?: PurgeFigures;
    proxy?: ProxyFigures;
    clientComponents?: ClientComponentFigures;
    staleHerd: Partial<Record<SystemName, { contentApiCalls: number[]; median: number; statuses: Record<string, number> }>>;
    build: Partial<Record<SystemName, BuildFigures>>;
    memory: {
      afterEveryPost: Partial<Record<SystemName, { rssBytes: number; rssAfterStartBytes: number; posts: number }>>;
      synthetic?: {
        entries: number;
        memoryTierBoundBytes: number;
        rssBytesAt: Array<{ entries: number; rssBytes: number }>;
        hitAt1k: LoadFigures;
        hitAtEnd: LoadFigures;
        p50Ratio: number;
      };
    };
  };
  targets: TargetCheck[];
  notes: string[];
}
