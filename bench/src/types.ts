/**
 * Shapes shared by the benchmark's parts. Units are in the names: `Ms` milliseconds, `Us`
 * microseconds, `Bytes` bytes; request rates are requests per second.
 */

/**
 * The systems compared. `isr` is this project; `isr-http` the same server with its TCP fast path
 * off (ISR_FAST_PATH=0: every request through node:http); `ceiling` a bare node:http server
 * answering one constant Buffer.
 */
export type SystemName = 'isr' | 'isr-http' | 'next' | 'nginx-1w' | 'nginx-2w' | 'ceiling';

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

/** A target from issue 3 and whether this run met it. */
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
