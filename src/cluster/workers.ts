/**
 * `isr start --workers N` and `isr proxy --workers N`: N processes (node:cluster) serving on one
 * port, sharing one cache: Redis when `redisUrl` is set (each worker is then an instance like any
 * other), else the cache folder, with the primary as the coordination hub (ipc.ts).
 *
 * What a process serves is a {@link StartService} (the site of `isr start`, the proxy of
 * `isr proxy`); this module only runs it, in one process or in N. The primary loads no site code. It forks the workers (each re-runs the command that started
 * the primary, with `ISR_CLUSTER_WORKER=1` in its environment), answers their hub requests,
 * restarts a worker that dies (after a delay, a bounded number of times per window), and on
 * SIGTERM/SIGINT asks every worker to finish gracefully, then exits once they all have.
 */
import cluster, { type Worker } from 'node:cluster';
import { createConsoleLogger, errorMessage, type Logger } from '../log.ts';
import type { FileSystemStore } from '../store/filesystem.ts';
import type { CacheStore } from '../store/store.ts';
import type { Milliseconds } from '../units.ts';
import { CLUSTER_WORKER_ENV, clusterStoreFor, serveHubOverIpc } from './ipc.ts';

/** Set in each worker's environment: its slot, 0 to N-1 (a restarted worker takes its predecessor's). */
const WORKER_INDEX_ENV = 'ISR_WORKER_INDEX';

/** A server started by a {@link StartService}: what the log says it serves, and how to stop it. */
export interface RunningService {
  /** Completes the log line `serving <description>`, e.g. `site (build abc) at http://0.0.0.0:3000`. */
  description: string;
  /** Stops accepting connections and finishes what is in flight. */
  close(): Promise<void>;
}

/**
 * Starts what this process serves. `sharedStore` is the durable tier to use in place of the
 * filesystem store of the cache folder (as `startServer`'s and `startProxy`'s option of that
 * name): in a cluster worker it wraps that store in one coordinated by the primary, elsewhere it
 * returns it unchanged.
 * @throws what the server's start throws (not built, bad configuration, port taken).
 */
export type StartService = (context: {
  sharedStore: (filesystem: FileSystemStore) => CacheStore;
  logger: Logger;
}) => Promise<RunningService>;

export interface RunWorkersOptions {
  /** Number of worker processes, at least 1. */
  workers: number;
  /** What each worker serves. */
  start: StartService;
  /** Default: the console logger. */
  logger?: Logger;
  /** Wait before restarting a worker that died, ms. Default 1000. */
  restartDelayMs?: Milliseconds;
  /** Restarts allowed within `restartWindowMs`; one more stops the whole cluster (exit code 1). Default 10. */
  maxRestarts?: number;
  /** Default 60 000 ms. */
  restartWindowMs?: Milliseconds;
  /** How long workers get to finish on shutdown before they are killed, ms. Default 30 000. */
  shutdownTimeoutMs?: Milliseconds;
}

/** The message the primary sends a worker to have it shut down gracefully. */
const SHUTDOWN = { isr: 'workers', op: 'shutdown' } as const;

function isShutdownMessage(message: unknown): boolean {
  const m = message as { isr?: unknown; op?: unknown } | null;
  return typeof m === 'object' && m !== null && m.isr === SHUTDOWN.isr && m.op === SHUTDOWN.op;
}

/**
 * Serves `start`'s server in this process until SIGINT or SIGTERM (or, in a cluster worker, the
 * primary's shutdown request), then closes it: what `isr start` and `isr proxy` do.
 * @returns the exit code once stopped: 0, or 1 if closing failed.
 * @throws what `start` throws (site not built, bad config, port taken).
 */
export async function serveUntilStopped(start: StartService, logger: Logger = createConsoleLogger()): Promise<number> {
  // A site's stray promise must not take the server (and every cached page) down with it.
  process.on('unhandledRejection', (reason) => logger.error('unhandled promise rejection in site code', reason));
  const who = cluster.isWorker ? `worker ${process.pid}: ` : '';
  // Listening from the start: a stop asked for while the site loads takes effect once it has.
  let requested: string | undefined;
  let stop: ((reason: string) => void) | undefined;
  const request = (reason: string) => {
    if (stop) stop(reason);
    else requested ??= reason;
  };
  process.once('SIGINT', () => request('SIGINT'));
  process.once('SIGTERM', () => request('SIGTERM'));
  if (cluster.isWorker) {
    process.on('message', (message) => {
      if (isShutdownMessage(message)) request('asked by the primary');
    });
  }
  // In a worker, the durable tier is its filesystem store coordinated through the primary
  // (clusterStoreFor is undefined elsewhere, and the filesystem store stays as it is).
  const sharedStore = (filesystem: FileSystemStore) => clusterStoreFor(filesystem) ?? filesystem;
  const running = await start({ sharedStore, logger });
  logger.info(`${who}serving ${running.description}`);
  return new Promise<number>((resolve) => {
    let stopping = false;
    stop = (reason: string) => {
      if (stopping) return;
      stopping = true;
      logger.info(`${who}${reason}: shutting down`);
      running.close().then(
        () => resolve(0),
        (error: unknown) => {
          logger.error(`${who}shutdown failed`, error);
          resolve(1);
        },
      );
    };
    if (requested !== undefined) stop(requested);
  });
}

/**
 * In the cluster primary: forks `options.workers` workers and supervises them (see the module
 * comment); resolves with the exit code once every worker has exited after SIGINT/SIGTERM (0), or
 * after a worker failed to start or workers kept dying (1). In a worker (this same call, re-run by
 * the forked process): serves `options.start` like {@link serveUntilStopped}.
 *
 * The workers re-run the primary's script with its arguments (node:cluster's default), so that
 * script must reach `runWorkers` again in them (the `isr` CLI does).
 */
export async function runWorkers(options: RunWorkersOptions): Promise<number> {
  const logger = options.logger ?? createConsoleLogger();
  if (cluster.isWorker) return serveUntilStopped(options.start, logger);

  const count = options.workers;
  if (!Number.isInteger(count) || count < 1) throw new TypeError(`workers must be a positive integer, got ${String(count)}`);
  const restartDelayMs = options.restartDelayMs ?? 1_000;
  const maxRestarts = options.maxRestarts ?? 10;
  const restartWindowMs = options.restartWindowMs ?? 60_000;
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? 30_000;

  const hub = serveHubOverIpc({ logger });
  const live = new Map<Worker, { slot: number; listening: boolean }>();
  const restartTimers = new Set<NodeJS.Timeout>();
  const restarts: number[] = [];
  let stopping = false;
  let exitCode = 0;
  let forceTimer: NodeJS.Timeout | undefined;
  let finish!: (code: number) => void;
  const done = new Promise<number>((resolve) => (finish = resolve));

  const fork = (slot: number) => {
    const worker = cluster.fork({ [CLUSTER_WORKER_ENV]: '1', [WORKER_INDEX_ENV]: String(slot) });
    live.set(worker, { slot, listening: false });
    worker.on('listening', () => {
      const state = live.get(worker);
      if (state) state.listening = true;
    });
    worker.on('error', (error) => logger.warn(`worker ${worker.process.pid}: ${errorMessage(error)}`));
    logger.info(`primary ${process.pid}: started worker ${worker.process.pid} (slot ${slot})`);
  };

  const finishIfDone = () => {
    if (!stopping || live.size > 0) return;
    clearTimeout(forceTimer);
    hub.close().then(
      () => finish(exitCode),
      () => finish(exitCode),
    );
  };

  const stop = (reason: string, code: number) => {
    if (stopping) return;
    stopping = true;
    exitCode = code;
    for (const timer of restartTimers) clearTimeout(timer);
    restartTimers.clear();
    logger.info(`primary ${process.pid}: ${reason}: stopping ${live.size} worker(s)`);
    for (const worker of live.keys()) {
      try {
        if (worker.isConnected()) worker.send(SHUTDOWN, undefined, () => {});
        else worker.process.kill('SIGTERM');
      } catch {
        worker.process.kill('SIGTERM');
      }
    }
    forceTimer = setTimeout(() => {
      if (live.size === 0) return;
      logger.warn(`primary ${process.pid}: ${live.size} worker(s) still running after ${shutdownTimeoutMs} ms; killing them`);
      exitCode = 1;
      for (const worker of live.keys()) worker.process.kill('SIGKILL');
    }, shutdownTimeoutMs);
    finishIfDone();
  };

  const onExit = (worker: Worker, code: number | null, signal: string | null) => {
    const state = live.get(worker);
    if (state === undefined) return;
    live.delete(worker);
    const how = signal ? `signal ${signal}` : `code ${code}`;
    if (stopping) {
      finishIfDone();
      return;
    }
    if (!state.listening) {
      logger.error(`primary ${process.pid}: worker ${worker.process.pid} exited (${how}) before it started serving`);
      stop('a worker failed to start', 1);
      return;
    }
    const now = Date.now();
    while (restarts.length > 0 && restarts[0]! <= now - restartWindowMs) restarts.shift();
    if (restarts.length >= maxRestarts) {
      logger.error(
        `primary ${process.pid}: worker ${worker.process.pid} exited (${how}); ${restarts.length} restarts within ` +
          `${restartWindowMs} ms already, giving up`,
      );
      stop('workers keep dying', 1);
      return;
    }
    restarts.push(now);
    logger.warn(`primary ${process.pid}: worker ${worker.process.pid} exited unexpectedly (${how}); restarting it in ${restartDelayMs} ms`);
    const timer = setTimeout(() => {
      restartTimers.delete(timer);
      if (!stopping) fork(state.slot);
    }, restartDelayMs);
    restartTimers.add(timer);
  };
  cluster.on('exit', onExit);

  process.once('SIGINT', () => stop('SIGINT', 0));
  process.once('SIGTERM', () => stop('SIGTERM', 0));

  logger.info(`primary ${process.pid}: starting ${count} worker(s)`);
  for (let slot = 0; slot < count; slot++) fork(slot);

  const code = await done;
  cluster.off('exit', onExit);
  return code;
}
