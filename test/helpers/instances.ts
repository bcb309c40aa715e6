/** Real `isr start` processes for the tests: one instance, or a `--workers` cluster, started as a user starts them. */

import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (the CLI is `bin/isr.js`, which runs the compiled `dist/`). */
export const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** One `isr start` process, as a user runs it. */
export interface Instance {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  port: number;
  child: ChildProcess;
  /** Everything it wrote to stdout and stderr so far. */
  log(): string;
  /** SIGTERM, then SIGKILL after 5 s; resolves when the process has exited. */
  stop(): Promise<void>;
}

/**
 * Starts `isr start <siteDir> --port 0 --hostname 127.0.0.1 [...args]` with `env` added to this
 * process's environment, and resolves once it logs the address it serves.
 * @throws Error with its output when it exits or has not started within `timeoutMs` (default 20 s).
 */
export async function startInstance(
  siteDir: string,
  env: Record<string, string>,
  args: string[] = [],
  timeoutMs = 20_000,
): Promise<Instance> {
  const child = spawn(
    process.execPath,
    [path.join(ROOT, 'bin', 'isr.js'), 'start', siteDir, '--port', '0', '--hostname', '127.0.0.1', ...args],
    {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`isr start did not report its address within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const check = () => {
      const match = / at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        child.stderr!.off('data', check);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`isr start exited with ${child.exitCode ?? child.signalCode}:\n${output}`));
    });
  });
  return {
    url,
    port: Number(new URL(url).port),
    child,
    log: () => output,
    stop: () => stopChild(child, exited),
  };
}

/** SIGTERM to `child`, then SIGKILL after 5 s; resolves with `exited` (its 'exit' event). At once when it has exited already. */
export async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** A GET on a new connection (no keep-alive), body as text. Never throws for a network error: status 0. */
export async function get(url: string): Promise<{ status: number; cache: string | null; text: string }> {
  try {
    const response = await fetch(url, { headers: { connection: 'close' }, redirect: 'manual' });
    return { status: response.status, cache: response.headers.get('x-isr-cache'), text: await response.text() };
  } catch (error) {
    return { status: 0, cache: null, text: String(error) };
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago (for a server that must be told its port). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Spawns `isr <command...> --workers 2` (the compiled CLI, `cli`; `command` like `['start', dir]`)
 * on 127.0.0.1:`port`, collecting every output line of the primary and its workers into
 * `into.lines` and the pids of the workers they name into `into.workerPids`. Resolves at once with
 * the primary; wait for "serving" lines yourself.
 */
export function spawnCluster(
  cli: string,
  command: string[],
  port: number,
  env: Record<string, string>,
  into: { lines: string[]; workerPids: Set<number> },
): ChildProcess {
  const primary = spawn(process.execPath, [cli, ...command, '--workers', '2', '--port', String(port), '--hostname', '127.0.0.1'], {
    env: { ...process.env, NODE_ENV: 'production', ISR_WORKERS: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [primary.stdout!, primary.stderr!]) {
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop()!;
      for (const line of parts) {
        into.lines.push(line);
        for (const match of line.matchAll(/worker (\d+)/g)) into.workerPids.add(Number(match[1]));
      }
    });
  }
  return primary;
}

/** Pids of the workers whose `worker <pid>: serving ...` line is among `lines` (output of {@link spawnCluster}). */
export function servingPids(lines: readonly string[]): number[] {
  return lines.flatMap((line) => {
    const match = /worker (\d+): serving /.exec(line);
    return match ? [Number(match[1])] : [];
  });
}

/**
 * Polls `check` every 25 ms until it returns a value other than undefined.
 * @throws after `timeoutMs` milliseconds, with `what` and the cluster's output `lines`.
 */
export async function pollUntil<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  options: { timeoutMs: number; lines: readonly string[] },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; output:\n${options.lines.join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
