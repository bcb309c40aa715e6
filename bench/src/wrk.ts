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

/**
 * One wrk run. Resolves with its figures (latencies in microseconds); rejects when wrk is missing,
 * fails, or prints no report line.
 */
export function runWrk(options: WrkOptions): Promise<LoadRun> {
  const { url, connections, durationSec, pathsFile, threads = 1 } = options;
  const script = join(here, pathsFile === undefined ? 'wrk-report.lua' : 'wrk-zipf.lua');
  const args = ['-t', String(threads), '-c', String(connections), '-d', `${durationSec}s`, '--timeout', '10s', '-s', script, url];
  if (pathsFile !== undefined) args.push('--', pathsFile);
  return new Promise((resolve, reject) => {
    execFile('wrk', args, { timeout: (durationSec + 30) * 1000, maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`wrk ${args.join(' ')} failed: ${error.message}\n${stderr}`));
      const line = stdout.split('\n').find((l) => l.startsWith('WRK_JSON '));
      if (line === undefined) return reject(new Error(`wrk printed no report line:\n${stdout}\n${stderr}`));
      const r = JSON.parse(line.slice('WRK_JSON '.length)) as Record<string, number>;
      const durationMs = r.durationUs! / 1000;
      resolve({
        requestsPerSec: r.requests! / (durationMs / 1000),
        latencyUs: { p50: r.p50!, p90: r.p90!, p99: r.p99!, max: r.max! },
        errors: r.connectErrors! + r.readErrors! + r.writeErrors! + r.statusErrors! + r.timeouts!,
        requests: r.requests!,
        durationMs,
      });
    });
  });
}
