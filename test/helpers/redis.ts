/**
 * A throwaway `redis-server` for tests: its own process on a free 127.0.0.1 port, nothing
 * persisted (`--save '' --appendonly no`), which a test can stop and start again on the same port
 * to simulate an outage.
 *
 * The binary is `redis-server` on the PATH, or `$REDIS_SERVER`. Every wait is bounded: a missing
 * binary, a server that exits early or one that does not answer PING within `startTimeoutMs`
 * rejects with an error saying so, never hangs.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { type AddressInfo, createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';

export interface RedisServer {
  /** `redis://127.0.0.1:<port>`, with `:<password>@` when started with a password. */
  url: string;
  port: number;
  /** Whether the process is running (started and not stopped). */
  readonly running: boolean;
  /** Stops the server (SIGTERM, then SIGKILL after 2 s) and waits for it to exit. No-op when stopped. */
  stop(): Promise<void>;
  /** Starts it again on the same port and waits until it answers PING. No-op when running. */
  start(): Promise<void>;
  /** Kills the server at once (SIGKILL: no shutdown, connections reset) and waits for it to exit. No-op when stopped. */
  kill(): Promise<void>;
  /** Freezes the process (SIGSTOP): connections stay open but nothing is answered. */
  pause(): void;
  /** Thaws a paused process (SIGCONT). */
  resume(): void;
  /** `stop()`; the server cannot be started again afterwards. */
  close(): Promise<void>;
}

export interface StartRedisOptions {
  /** `--requirepass`; the url then carries it. */
  password?: string;
  /** How long to wait for PING after spawning, in ms. Default 5000. */
  startTimeoutMs?: number;
}

const BINARY = process.env.REDIS_SERVER ?? 'redis-server';

/** A port that was free a moment ago on 127.0.0.1. */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** One PING over a fresh TCP connection: true if the server answered (PONG, or NOAUTH with a password). */
function ping(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG') || reply.startsWith('-NOAUTH'));
    });
    socket.on('error', () => done(false));
    socket.on('close', () => done(false));
  });
}

/** Spawns `redis-server` on a free port and waits until it answers PING. */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const port = await freePort();
  const startTimeoutMs = options.startTimeoutMs ?? 5000;
  const password = options.password;
  let child: ChildProcess | undefined;
  let closed = false;

  const killOnExit = () => child?.kill('SIGKILL');
  process.on('exit', killOnExit);

  const start = async (): Promise<void> => {
    if (closed) throw new Error('startRedis: this server was closed');
    if (child) return;
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', tmpdir()];
    if (password !== undefined) args.push('--requirepass', password);
    const proc = spawn(BINARY, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    let output = '';
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-2000);
    };
    proc.stdout?.on('data', collect);
    proc.stderr?.on('data', collect);
    let failure: Error | undefined;
    proc.once('error', (error: NodeJS.ErrnoException) => {
      failure =
        error.code === 'ENOENT'
          ? new Error(`startRedis: ${BINARY} not found on the PATH (install redis-server or set $REDIS_SERVER)`)
          : new Error(`startRedis: cannot spawn ${BINARY}: ${error.message}`);
    });
    proc.once('exit', (code, signal) => {
      if (child === proc) child = undefined;
      failure ??= new Error(
        `startRedis: ${BINARY} on port ${port} exited (${signal ?? `code ${code}`}) before answering PING:\n${output.trim()}`,
      );
    });

    const deadline = Date.now() + startTimeoutMs;
    for (;;) {
      if (failure) {
        if (child === proc) child = undefined;
        throw failure;
      }
      if (await ping(port, 250)) return;
      if (Date.now() >= deadline) {
        await stopProcess(proc);
        if (child === proc) child = undefined;
        throw new Error(`startRedis: ${BINARY} on port ${port} did not answer PING within ${startTimeoutMs} ms:\n${output.trim()}`);
      }
      await delay(25);
    }
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    if (!proc) return;
    child = undefined;
    await stopProcess(proc);
  };

  await start();
  const auth = password === undefined ? '' : `:${encodeURIComponent(password)}@`;
  return {
    url: `redis://${auth}127.0.0.1:${port}`,
    port,
    get running() {
      return child !== undefined;
    },
    stop,
    start,
    kill: async () => {
      const proc = child;
      if (!proc) return;
      child = undefined;
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = once(proc, 'exit');
      proc.kill('SIGKILL');
      await exited;
    },
    pause: () => {
      child?.kill('SIGSTOP');
    },
    resume: () => {
      child?.kill('SIGCONT');
    },
    close: async () => {
      closed = true;
      await stop();
      process.off('exit', killOnExit);
    },
  };
}

/** SIGTERM (+ SIGCONT), SIGKILL after 2 s, and wait for the exit (bounded: gives up waiting after 5 s). */
async function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  /** Whether the process exited within `ms`. */
  const exitsWithin = async (ms: number): Promise<boolean> => {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    const result = await Promise.race([exited.then(() => true), timedOut]);
    clearTimeout(timer);
    return result;
  };
  proc.kill('SIGTERM');
  proc.kill('SIGCONT'); // a paused server handles SIGTERM only once thawed
  if (await exitsWithin(2000)) return;
  proc.kill('SIGKILL');
  await exitsWithin(3000);
}
