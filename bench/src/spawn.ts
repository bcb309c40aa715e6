/**
 * Child processes under test: a command run to completion with its wall time and peak RSS (a
 * build), or a server started in its own process group and stopped with it.
 */
import { spawn } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { samplePeakRss, treeRssBytes } from './proc.ts';
import type { RunningServer } from './types.ts';

export interface CommandResult {
  ok: boolean;
  wallMs: number;
  /** Highest RSS of the process tree seen while it ran, sampled every 100 ms, in bytes. */
  peakRssBytes: number;
  /** The last 4 KB of stdout and stderr. */
  output: string;
}

export interface SpawnOptions {
  cwd: string;
  /** Merged over process.env. */
  env?: Record<string, string>;
}

const OUTPUT_TAIL = 4096;

function tail(chunks: string[]): string {
  return chunks.join('').slice(-OUTPUT_TAIL);
}

/** Runs `command args` to completion; never rejects for a non-zero exit (see `ok`). */
export function runMeasured(command: string, args: string[], options: SpawnOptions): Promise<CommandResult> {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const output: string[] = [];
    child.stdout.on('data', (d: Buffer) => output.push(d.toString()));
    child.stderr.on('data', (d: Buffer) => output.push(d.toString()));
    const sampler = child.pid === undefined ? undefined : samplePeakRss(child.pid, 100);
    const finish = (ok: boolean, note = '') => {
      const peakRssBytes = sampler?.stop() ?? 0;
      resolve({ ok, wallMs: performance.now() - started, peakRssBytes, output: tail(output) + note });
    };
    child.on('error', (err) => finish(false, `\n${err.message}`));
    child.on('exit', (code) => finish(code === 0));
  });
}

/**
 * Starts a server in its own process group and resolves once `readyUrl` answers (any status)
 * within `timeoutMs` (default 60 s); otherwise kills it and rejects with its output.
 */
export async function startServer(
  name: string,
  command: string,
  args: string[],
  options: SpawnOptions & { url: string; readyUrl?: string; timeoutMs?: number },
): Promise<RunningServer> {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const output: string[] = [];
  const keep = (d: Buffer) => {
    output.push(d.toString());
    if (output.length > 200) output.splice(0, 100);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const pid = child.pid;
  const stop = async () => {
    if (exited || pid === undefined) return;
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      return;
    }
    const killed = await Promise.race([exit.then(() => true), delay(5000).then(() => false)]);
    if (!killed) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
      await exit;
    }
  };
  const readyUrl = options.readyUrl ?? options.url;
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  let last = 'no answer';
  while (!exited && pid !== undefined && Date.now() < deadline) {
    try {
      const res = await fetch(readyUrl, { signal: AbortSignal.timeout(5000) });
      await res.arrayBuffer();
      return { pid, url: options.url, rssBytes: () => treeRssBytes(pid), stop };
    } catch (err) {
      last = (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message;
    }
    await delay(100);
  }
  await stop();
  throw new Error(`${name} did not answer ${readyUrl} (${exited ? 'it exited' : last}):\n${tail(output)}`);
}
