/**
 * The {@link CoordinationHub} over node:cluster IPC.
 *
 * Messages are plain objects tagged `isr: 'hub'`, so a site's own IPC messages (and Node's
 * internal cluster messages) are never mistaken for them, and theirs are left alone:
 *
 * ```
 * worker → primary   { isr: 'hub', id, scope, op: 'lock', key, ttlMs }
 *                    { isr: 'hub', id, scope, op: 'release', key, token }
 *                    { isr: 'hub', id, scope, op: 'invalidate', tags, at }
 *                    { isr: 'hub', scope, op: 'publish', event }            (no answer)
 * primary → worker   { isr: 'hub', id, ok: true, result } | { isr: 'hub', id, ok: false, error }
 *                    { isr: 'hub', scope, event }                           (to every live worker)
 * ```
 *
 * `scope` is the absolute folder of the worker's filesystem store (`<cacheDir>/<buildId>`): the
 * primary keeps one hub per folder, whose tag store is its own FileSystemStore on that folder, so
 * a worker restarted on a newer build never shares locks or a tag record with the old build's ones.
 * Requests may carry `related`: the absolute folders whose entries that tag record also governs
 * (the build's prerender folder), used by the first request that creates the hub.
 *
 * The primary's tag store is the writer of the folder's tag record: it watches it
 * (`FileSystemStore.watchTagRecord`), and when it had to write the record back (the folder was
 * deleted, or the disk refused writes and accepts them again) the hub announces `resync`, so every
 * worker re-reads the record and records what it holds that the record lacks.
 */
import cluster, { type Worker } from 'node:cluster';
import path from 'node:path';
import { errorMessage, type Logger } from '../log.ts';
import { FileSystemStore } from '../store/filesystem.ts';
import type { CacheStore, StoreEvent } from '../store/store.ts';
import type { Milliseconds } from '../units.ts';
import { CoordinatedStore, type HubLink } from './coordinated-store.ts';
import { CoordinationHub } from './hub.ts';

/** Set to `1` in the environment of the workers that `runWorkers` forks. */
export const CLUSTER_WORKER_ENV = 'ISR_CLUSTER_WORKER';

/** How long a worker waits for the primary to answer a request, by default (ms). */
export const DEFAULT_HUB_TIMEOUT_MS = 5_000;

type Op = 'lock' | 'release' | 'invalidate' | 'publish';

interface HubRequest {
  isr: 'hub';
  id?: number;
  scope: string;
  op: Op;
  related?: unknown;
  key?: unknown;
  ttlMs?: unknown;
  token?: unknown;
  tags?: unknown;
  at?: unknown;
  event?: unknown;
}

type HubReply = { isr: 'hub'; id: number; ok: true; result?: unknown } | { isr: 'hub'; id: number; ok: false; error: string };

interface HubBroadcast {
  isr: 'hub';
  scope: string;
  event: StoreEvent;
}

function isHubMessage(message: unknown): message is { isr: 'hub' } & Record<string, unknown> {
  return typeof message === 'object' && message !== null && (message as { isr?: unknown }).isr === 'hub';
}

const EVENT_TYPES = new Set(['invalidate', 'set', 'delete', 'unlock', 'resync']);

function isStoreEvent(value: unknown): value is StoreEvent {
  return typeof value === 'object' && value !== null && EVENT_TYPES.has((value as { type?: unknown }).type as string);
}

// ---------------------------------------------------------------------------------------------
// Primary side

/** The subset of node:cluster the primary side uses (injectable for tests). */
export interface ClusterLike {
  on(event: 'message', listener: (worker: Worker, message: unknown) => void): unknown;
  off(event: 'message', listener: (worker: Worker, message: unknown) => void): unknown;
  readonly workers?: NodeJS.Dict<Worker>;
}

export interface HubServerOptions {
  /** Default: node:cluster. */
  cluster?: ClusterLike;
  /**
   * The hub of a store folder. Default: a CoordinationHub whose tag store is a FileSystemStore on
   * `scope` (governing `related` too) that watches its tag record and announces `resync` after
   * writing it back.
   */
  hubFor?: (scope: string, related: readonly string[]) => CoordinationHub;
  logger?: Logger;
}

export interface HubServer {
  /** The hubs created so far, by scope. */
  readonly hubs: ReadonlyMap<string, CoordinationHub>;
  /** Stops answering workers and closes the hubs (waiting for pending tags.json writes). */
  close(): Promise<void>;
}

/**
 * Answers the hub requests of every cluster worker and broadcasts each hub's events to every live
 * worker. Call it in the primary, before or after forking.
 */
export function serveHubOverIpc(options: HubServerOptions = {}): HubServer {
  const clusterLike: ClusterLike = options.cluster ?? cluster;
  const logger = options.logger;
  const hubs = new Map<string, CoordinationHub>();
  const unsubscribes: (() => void)[] = [];
  const hubFor =
    options.hubFor ??
    ((scope: string, related: readonly string[]) => {
      const tagStore = new FileSystemStore({ dir: scope, logger, related });
      const hub = new CoordinationHub({ tagStore, logger });
      tagStore.watchTagRecord(() => hub.publish({ type: 'resync' }));
      return hub;
    });

  const send = (worker: Worker, message: HubReply | HubBroadcast) => {
    if (!worker.isConnected()) return;
    try {
      worker.send(message, undefined, () => {}); // a worker that just died is not an error here
    } catch {
      // The channel closed between the check and the send: the worker is going away.
    }
  };

  const hubOf = (scope: string, related: readonly string[]): CoordinationHub => {
    let hub = hubs.get(scope);
    if (hub === undefined) {
      hub = hubFor(scope, related);
      hubs.set(scope, hub);
      unsubscribes.push(
        hub.subscribe((event) => {
          for (const worker of Object.values(clusterLike.workers ?? {})) if (worker) send(worker, { isr: 'hub', scope, event });
        }),
      );
    }
    return hub;
  };

  const answer = async (request: HubRequest): Promise<unknown> => {
    const related = Array.isArray(request.related)
      ? request.related.filter((dir): dir is string => typeof dir === 'string' && path.isAbsolute(dir))
      : [];
    const hub = hubOf(request.scope, related);
    switch (request.op) {
      case 'lock':
        if (typeof request.key !== 'string') throw new TypeError('lock: key must be a string');
        return hub.tryLock(request.key, request.ttlMs as number);
      case 'release':
        if (typeof request.key !== 'string' || typeof request.token !== 'string')
          throw new TypeError('release: key and token must be strings');
        return hub.release(request.key, request.token);
      case 'invalidate':
        if (!Array.isArray(request.tags)) throw new TypeError('invalidate: tags must be an array');
        await hub.invalidate(request.tags as string[], request.at as number);
        return undefined;
      case 'publish':
        if (!isStoreEvent(request.event)) throw new TypeError('publish: not a store event');
        hub.publish(request.event);
        return undefined;
      default:
        throw new TypeError(`unknown hub operation ${JSON.stringify(request.op)}`);
    }
  };

  const onMessage = (worker: Worker, message: unknown) => {
    if (!isHubMessage(message) || typeof message.op !== 'string') return;
    const request = message as unknown as HubRequest;
    const id = typeof request.id === 'number' ? request.id : undefined;
    Promise.resolve()
      .then(() => {
        if (typeof request.scope !== 'string' || !path.isAbsolute(request.scope)) {
          throw new TypeError('scope must be an absolute store folder');
        }
        return answer(request);
      })
      .then(
        (result) => {
          if (id !== undefined) send(worker, { isr: 'hub', id, ok: true, ...(result === undefined ? {} : { result }) });
        },
        (error: unknown) => {
          if (id !== undefined) send(worker, { isr: 'hub', id, ok: false, error: errorMessage(error) });
          else logger?.warn(`cluster hub: ${request.op} from worker ${worker.process.pid} failed: ${errorMessage(error)}`);
        },
      );
  };
  clusterLike.on('message', onMessage);

  // Expired locks are forgotten lazily on tryLock; this keeps keys nobody asks again from piling up.
  const sweeper = setInterval(() => {
    for (const hub of hubs.values()) hub.sweep();
  }, 60_000);
  sweeper.unref();

  return {
    hubs,
    async close() {
      clusterLike.off('message', onMessage);
      clearInterval(sweeper);
      for (const unsubscribe of unsubscribes.splice(0)) unsubscribe();
      await Promise.allSettled([...hubs.values()].map((hub) => hub.close()));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Worker side

/** The subset of `process` (a worker's IPC channel) the worker side uses (injectable for tests). */
export interface IpcChannel {
  send?(message: unknown, sendHandle?: undefined, options?: undefined, callback?: (error: Error | null) => void): boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
}

export interface IpcHubLinkOptions {
  /** The absolute folder of the worker's filesystem store (the hub's scope). */
  scope: string;
  /** Absolute folders whose entries the scope's tag record also governs (sent with each request). */
  related?: readonly string[];
  /** Default: `process` (the cluster worker's channel to the primary). */
  channel?: IpcChannel;
  /** How long to wait for the primary's answer before rejecting, ms. Default {@link DEFAULT_HUB_TIMEOUT_MS}. */
  timeoutMs?: Milliseconds;
}

interface Pending {
  op: Op;
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/** Thrown (as a rejection) when the primary does not answer, or cannot be reached. */
export class HubUnavailableError extends Error {
  override readonly name = 'HubUnavailableError';
}

/** A worker's {@link HubLink} to the primary's hub, over the cluster IPC channel. */
export class IpcHubLink implements HubLink {
  readonly scope: string;
  readonly related: readonly string[];
  readonly timeoutMs: Milliseconds;
  readonly #channel: IpcChannel;
  readonly #pending = new Map<number, Pending>();
  readonly #listeners = new Set<(event: StoreEvent) => void>();
  #nextId = 1;
  #attached = false;

  constructor(options: IpcHubLinkOptions) {
    if (typeof options?.scope !== 'string' || !path.isAbsolute(options.scope)) {
      throw new TypeError('IpcHubLink needs the absolute folder of the store as scope');
    }
    this.scope = options.scope;
    this.related = [...(options.related ?? [])];
    this.#channel = options.channel ?? process;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_HUB_TIMEOUT_MS;
    if (!(this.timeoutMs > 0)) throw new TypeError(`timeoutMs must be positive, got ${this.timeoutMs}`);
  }

  lock(key: string, ttlMs: Milliseconds): Promise<string | undefined> {
    return this.#request('lock', { key, ttlMs }) as Promise<string | undefined>;
  }

  async release(key: string, token: string): Promise<void> {
    await this.#request('release', { key, token });
  }

  async invalidate(tags: readonly string[], at: number): Promise<void> {
    await this.#request('invalidate', { tags: [...tags], at });
  }

  publish(event: StoreEvent): void {
    try {
      this.#send({ isr: 'hub', scope: this.scope, related: this.related, op: 'publish', event }, () => {});
    } catch {
      // Fire and forget: without a primary there is nobody to tell.
    }
  }

  subscribe(listener: (event: StoreEvent) => void): () => void {
    const wrapper = (event: StoreEvent) => listener(event);
    this.#listeners.add(wrapper);
    this.#attach();
    return () => {
      this.#listeners.delete(wrapper);
      this.#detachIfIdle();
    };
  }

  /** Rejects the requests still waiting and stops listening to the channel. */
  close(): void {
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      this.#pending.delete(id);
      pending.reject(new HubUnavailableError(`cluster hub: link closed before the primary answered ${pending.op}`));
    }
    this.#listeners.clear();
    this.#detachIfIdle();
  }

  #request(op: Op, fields: Record<string, unknown>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const id = this.#nextId++;
      const timer = setTimeout(() => {
        if (this.#pending.delete(id)) {
          this.#detachIfIdle();
          reject(new HubUnavailableError(`cluster hub: the primary did not answer ${op} within ${this.timeoutMs} ms`));
        }
      }, this.timeoutMs); // not unref'd: a pending request keeps the process up until answered or timed out
      this.#pending.set(id, { op, resolve, reject, timer });
      this.#attach();
      const fail = (error: unknown) => {
        const pending = this.#pending.get(id);
        if (pending === undefined) return;
        this.#pending.delete(id);
        clearTimeout(pending.timer);
        this.#detachIfIdle();
        reject(new HubUnavailableError(`cluster hub: cannot reach the primary for ${op}: ${errorMessage(error)}`));
      };
      try {
        this.#send({ isr: 'hub', id, scope: this.scope, related: this.related, op, ...fields }, (error) => {
          if (error) fail(error);
        });
      } catch (error) {
        fail(error);
      }
    });
  }

  #send(message: HubRequest, callback: (error: Error | null) => void): void {
    if (typeof this.#channel.send !== 'function') throw new Error('this process has no IPC channel (not a cluster worker)');
    this.#channel.send(message, undefined, undefined, callback);
  }

  readonly #onMessage = (message: unknown): void => {
    if (!isHubMessage(message)) return;
    if (typeof message.id === 'number') {
      const pending = this.#pending.get(message.id);
      if (pending === undefined) return; // answered after its timeout
      this.#pending.delete(message.id);
      clearTimeout(pending.timer);
      const reply = message as unknown as HubReply;
      if (reply.ok) pending.resolve(reply.result);
      else pending.reject(new Error(`cluster hub: ${pending.op} failed in the primary: ${reply.error}`));
      this.#detachIfIdle();
      return;
    }
    if (message.scope !== this.scope || !isStoreEvent(message.event)) return;
    for (const listener of [...this.#listeners]) {
      try {
        listener(message.event);
      } catch {
        // Listeners must not throw; one that does must not starve the others.
      }
    }
  };

  #attach(): void {
    if (this.#attached) return;
    this.#attached = true;
    this.#channel.on('message', this.#onMessage);
  }

  #detachIfIdle(): void {
    if (!this.#attached || this.#pending.size > 0 || this.#listeners.size > 0) return;
    this.#attached = false;
    this.#channel.off('message', this.#onMessage);
  }
}

/** Whether this process is a worker forked by `runWorkers` (`isr start --workers N`). */
export function isClusterWorker(): boolean {
  return cluster.isWorker && process.env[CLUSTER_WORKER_ENV] === '1';
}

/**
 * In a worker forked by `runWorkers`: `filesystem` wrapped in a CoordinatedStore linked to the
 * primary over IPC. Anywhere else: undefined (the caller keeps its store as is).
 */
export function clusterStoreFor(filesystem: FileSystemStore, options: { timeoutMs?: Milliseconds } = {}): CacheStore | undefined {
  if (!isClusterWorker()) return undefined;
  return new CoordinatedStore({
    inner: filesystem,
    link: new IpcHubLink({ scope: filesystem.dir, related: filesystem.related, timeoutMs: options.timeoutMs }),
  });
}
