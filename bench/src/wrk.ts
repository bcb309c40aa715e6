/**
 * Runs wrk (Debian's `wrk`, a C load generator) against 127.0.0.1 and parses the report line of
 * wrk-report.lua. One thread: on a 2-core machine wrk takes one core and the server under test the other.
 */
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadRun } from './types.ts';

const here = dirname(fileURLToPath(import.meta.url));

export interface WrkOptions {
  url: string;
  connections: number;
  durationSec: number;
  /** A file of paths (one per line, most popular first) for a Zipf-like mix; otherwise every request asks for `url`. */
  pathsFile?: string;
  threads?: number;
}

/** Options of {@link runWrkReport}: those of {@link runWrk}, a script of bench/src, and a way to stop wrk. */
export interface WrkReportOptions extends WrkOptions {
  /**
   * File name of the Lua script in bench/src; default wrk-zipf.lua with `pathsFile`, else
   * wrk-report.lua. It must print wrk-report.lua's `WRK_JSON` line.
   */
  script?: string;
  /** Aborting it kills wrk (SIGTERM) and rejects. */
  signal?: AbortSignal;
}

/**
 * wrk's figures as wrk-report.lua prints them: `requests`, `durationUs`, `bytes`, `connectErrors`,
 * `readErrors`, `writeErrors`, `statusErrors` (answers with a status >= 400), `timeouts`, and the
 * latency percentiles `p50`, `p90`, `p99`, `max` in microseconds.
 */
export type WrkFigures = Record<string, number>;

/**
 * One wrk run. Resolves with the `WRK_JSON` figures and wrk's whole stdout (for lines a script adds);
 * rejects when wrk is missing, fails, is aborted, or prints no report line.
 */
export function runWrkReport(options: WrkReportOptions): Promise<{ figures: WrkFigures; stdout: string }> {
  const { url, connections, durationSec, pathsFile, threads = 1 } = options;
  const script = join(here, options.script ?? (pathsFile === undefined ? 'wrk-report.lua' : 'wrk-zipf.lua'));
  const args = ['-t', String(threads), '-c', String(connections), '-d', `${durationSec}s`, '--timeout', '10s', '-s', script, url];
  if (pathsFile !== undefined) args.push('--', pathsFile);
  return new Promise((resolve, reject) => {
    execFile('wrk', args, { timeout: (durationSec + 30) * 1000, maxBuffer: 1 << 20, signal: options.signal }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`wrk ${args.join(' ')} failed: ${error.message}\n${stderr}`));
      const line = stdout.split('\n').find((l) => l.startsWith('WRK_JSON '));
      if (line === undefined) return reject(new Error(`wrk printed no report line:\n${stdout}\n${stderr}`));
      resolve({ figures: JSON.parse(line.slice('WRK_JSON '.length)) as WrkFigures, stdout });
    });
  });
}

/**
 * One wrk run. Resolves with its figures (latencies in microseconds); rejects when wrk is missing,
 * fails, or prints no report line.
 */
export async function runWrk(options: WrkOptions): Promise<LoadRun> {
  const { figures: r } = await runWrkReport(options);
  const durationMs = r.durationUs! / 1000;
  return {
    requestsPerSec: r.requests! / (durationMs / 1000),
    latencyUs: { p50: r.p50!, p90: r.p90!, p99: r.p99!, max: r.max! },
    errors: r.connectErrors! + r.readErrors! + r.writeErrors! + r.statusErrors! + r.timeouts!,
    requests: r.requests!,
    durationMs,
  };
}
