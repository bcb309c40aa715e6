/**
 * Child processes under test, the one place the benchmark spawns them: a command run to completion
 * with its wall time and peak RSS (a build), or a server started and stopped. Each child leads its
 * own process group, so workers it leaves behind are found (RSS) and killed with it; groups still
 * running when the benchmark process exits get SIGKILL.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { samplePeakRss, treeRssBytes } from './proc.ts';
import type { RunningServer } from './types.ts';

/** The outcome of a command run to completion. */
export interface CommandResult {
  /** The command exited with status 0. */
  ok: boolean;
  /** Wall-clock time from spawn to the exit of the command's process, in milliseconds. */
  wallMs: number;
  /** Highest sum of RSS over the command's process tree (sampled every 100 ms while it ran), in bytes. */
  peakRssBytes: number;
  /** The last 4 KB (4,096 bytes) of stdout and stderr, interleaved as received. */
  output: string;
}

export interface SpawnOptions {
  /** The child's working directory. */
  cwd: string;
  /** Merged over process.env. */
  env?: Record<string, string>;
}

export interface ServerOptions extends SpawnOptions {
  /**
   * Base URL the server will answer on, `http://<host>:<port>` (no trailing slash; another scheme
   * such as `redis://` with `ready`). Its port must be free before the spawn.
   */
  url: string;
  /** Polled until it gives any HTTP answer; default `url`. Ignored when `ready` is given. */
  readyUrl?: string;
  /**
   * Polled (every 100 ms) instead of the HTTP probe of `readyUrl` until it resolves true; gets the
   * last 4 KB of the server's output (e.g. to wait for every worker's start line, or a non-HTTP
   * server's own readiness check).
   */
  ready?: (output: string) => Promise<boolean>;
  /** How long the server has to answer `readyUrl`, in milliseconds; default 60,000. */
  timeoutMs?: number;
}

/** How much of a child's output is kept, in bytes. */
const OUTPUT_LIMIT_BYTES = 4096;
const RSS_SAMPLE_MS = 100;
const START_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5_000;
/** How long to wait for a child's pipes to close after it exited (a worker left behind may hold them). */
const DRAIN_MS = 1_000;
const ANSWER_TIMEOUT_MS = 2_000;
const POLL_MS = 100;

/** Process groups still running, killed if the benchmark exits without stopping them. */
const liveGroups = new Set<number>();
process.on('exit', () => {
  for (const pgid of liveGroups) killGroup(pgid, 'SIGKILL');
});

/**
 * Runs `command args` (no shell) to completion in its own process group; then kills (SIGKILL)
 * whatever of the group is left. Never rejects: a non-zero exit or a failed spawn gives `ok: false`.
 */
export async function runMeasured(command: string, args: string[], options: SpawnOptions): Promise<CommandResult> {
  const output = new OutputTail(OUTPUT_LIMIT_BYTES);
  const started = performance.now();
  let child: ChildProcess;
  try {
    child = spawnGroup(command, args, options, output);
  } catch (error) {
    return { ok: false, wallMs: performance.now() - started, peakRssBytes: 0, output: String(error) };
  }
  const pid = child.pid;
  const sampler = pid === undefined ? null : samplePeakRss(pid, RSS_SAMPLE_MS);
  // Taken when the process exits, not once its output is drained (a worker left behind may hold the pipes).
  let measured: { wallMs: number; peakRssBytes: number } | undefined;
  const measure = () => (measured ??= { wallMs: performance.now() - started, peakRssBytes: sampler ? sampler.stop() : 0 });
  child.once('exit', measure);
  const code = await exited(child, output);
  if (pid !== undefined) endGroup(pid);
  // measure() here too: a failed spawn emits no 'exit'.
  return { ok: code === 0, ...measure(), output: output.text() };
}

/**
 * Starts `command args` (no shell) as the leader of a new process group and resolves once
 * `readyUrl` gives any HTTP answer (or `ready` resolves true). `name` labels errors.
 *
 * @throws Error if the port of `url` on its host is already taken (checked before spawning, so
 *   nothing else answers in the server's place); Error with the last 4 KB of the server's output if
 *   it does not spawn, exits before answering, or does not answer within `timeoutMs` (it is stopped
 *   first).
 */
export async function startServer(name: string, command: string, args: string[], options: ServerOptions): Promise<RunningServer> {
  const { hostname, port } = new URL(options.url);
  await assertPortFree(name, hostname, Number(port || 80));
  const output = new OutputTail(OUTPUT_LIMIT_BYTES);
  const child = spawnGroup(command, args, options, output);
  const exit = exited(child, output);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${name} did not spawn (exit ${await exit}):\n${output.text()}`);
  let done = false;
  void exit.then(() => {
    done = true;
  });

  const stop = async (): Promise<void> => {
    if (!done) {
      killGroup(pid, 'SIGTERM');
      const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), STOP_GRACE_MS);
      await exit;
      clearTimeout(timer);
    }
    endGroup(pid);
  };

  const readyUrl = options.readyUrl ?? options.url;
  const isReady = options.ready ?? (() => answers(readyUrl));
  const what = options.ready === undefined ? `answer GET ${readyUrl}` : 'become ready';
  const before = options.ready === undefined ? `answering GET ${readyUrl}` : 'it was ready';
  const timeoutMs = options.timeoutMs ?? START_TIMEOUT_MS;
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (done) {
      endGroup(pid);
      throw new Error(`${name} exited (${describeExit(child)}) before ${before}:\n${output.text()}`);
    }
    if (await isReady(output.text())) break;
    if (performance.now() > deadline) {
      await stop();
      throw new Error(`${name} did not ${what} within ${timeoutMs / 1000} s:\n${output.text()}`);
    }
    await delay(POLL_MS);
  }
  return { pid, url: options.url, rssBytes: () => treeRssBytes(pid), stop };
}

/** Keeps the last `limit` bytes of what is appended. */
class OutputTail {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly limit: number) {}
  append(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.chunks.length > 1 && this.size - this.chunks[0]!.length >= this.limit) {
      this.size -= this.chunks.shift()!.length;
    }
  }
  text(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - this.limit)).toString('utf8');
  }
}

/** Spawns `command args` (no shell) as the leader of a new process group, recorded in `liveGroups`. */
function spawnGroup(command: string, args: string[], options: SpawnOptions, output: OutputTail): ChildProcess {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  if (child.pid !== undefined) liveGroups.add(child.pid);
  child.stdout?.on('data', (chunk: Buffer) => output.append(chunk));
  child.stderr?.on('data', (chunk: Buffer) => output.append(chunk));
  return child;
}

/**
 * Resolves with the exit status (null if killed by a signal, -1 if it could not be spawned) once the
 * process has exited and its output is drained (at most `DRAIN_MS` more).
 */
function exited(child: ChildProcess, output: OutputTail): Promise<number | null> {
  return new Promise((resolveExit) => {
    let closed = false;
    child.once('close', () => {
      closed = true;
    });
    const onExit = (code: number | null): void => {
      if (closed) return resolveExit(code);
      const timer = setTimeout(() => resolveExit(code), DRAIN_MS);
      child.once('close', () => {
        clearTimeout(timer);
        resolveExit(code);
      });
    };
    if (child.exitCode !== null || child.signalCode !== null) return onExit(child.exitCode);
    child.once('exit', onExit);
    child.once('error', (error) => {
      output.append(Buffer.from(`\n[bench] ${error.message}\n`));
      if (child.pid === undefined) resolveExit(-1);
    });
  });
}

/** `status N` or `signal SIG` of an exited child. */
function describeExit(child: ChildProcess): string {
  return child.signalCode !== null ? `signal ${child.signalCode}` : `status ${child.exitCode}`;
}

/** Sends `signal` to the process group `pgid`; ignores a group that is already gone. */
function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: nothing left in the group
  }
}

/** Once a group's leader has exited: SIGKILL to anything of the group still alive, and forget it. */
function endGroup(pgid: number): void {
  killGroup(pgid, 'SIGKILL');
  liveGroups.delete(pgid);
}

/** Whether `url` gives any HTTP answer within `ANSWER_TIMEOUT_MS`. */
export function answers(url: string): Promise<boolean> {
  return new Promise((resolveAnswer) => {
    const req = request(url, { method: 'GET', agent: false, timeout: ANSWER_TIMEOUT_MS }, (res) => {
      res.resume();
      resolveAnswer(true);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolveAnswer(false));
    req.end();
  });
}

/** Throws if something already listens on `host`:`port` (it would answer in the server's place). */
function assertPortFree(name: string, host: string, port: number): Promise<void> {
  return new Promise((resolveFree, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(new Error(`${name}: port ${port} on ${host} is not free (${error.code ?? error.message})`));
    });
    server.listen(port, host, () => server.close(() => resolveFree()));
  });
}
