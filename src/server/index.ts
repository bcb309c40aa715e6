/**
 * A built site wired to its cache and served: `createIsr` (the stores, the engine, the handler;
 * embeddable in any server), `startServer` (`isr start`: the TCP front, node:http, the fast path)
 * and `pruneOldBuilds` (cache folders of older builds). The package's `isr/server` entry.
 */

import { readdir, rm, stat } from 'node:fs/promises';
import { createServer, type Server as HttpServer } from 'node:http';
import type { Server as NetServer } from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { installFetch } from '../app/data-cache.ts';
import { type IsrConfig, loadConfig } from '../config/config.ts';
import { type Clock, systemClock } from '../engine/clock.ts';
import { IsrEngine } from '../engine/engine.ts';
import { createConsoleLogger, type Logger } from '../log.ts';
import { getRuntime, setRuntime } from '../render/context.ts';
import { createFrontServer } from '../serve/front.ts';
import { listen } from '../serve/listen.ts';
import { toNodeListener } from '../serve/node.ts';
import { describeStatus, type IsrStatus } from '../serve/status-endpoint.ts';
import { cacheTiers } from '../serve/tiers.ts';
import { buildDirOf, prerenderDirOf } from '../site/manifest.ts';
import { Site } from '../site/site.ts';
import { FileSystemStore } from '../store/filesystem.ts';
import type { CacheStore } from '../store/store.ts';
import { TieredStore } from '../store/tiered.ts';
import { createRequestHandler, type RequestHandler } from './handler.ts';

/** Idle time after which a keep-alive connection is closed, in milliseconds. */
const KEEP_ALIVE_TIMEOUT_MS = 5_000;

export { etagMatches } from '../http/etag.ts';
export { toNodeListener, toWebRequest, writeWebResponse } from '../serve/node.ts';
export { createRequestHandler, type RequestHandler } from './handler.ts';

/** How many build folders `<cacheDir>/<buildId>` are kept besides the current one (for rollbacks). */
export const KEPT_PREVIOUS_BUILDS = 2;

/**
 * Removes cache folders of builds older than the current one and the {@link KEPT_PREVIOUS_BUILDS}
 * most recent others (by modification time). Best effort: failures are logged, never thrown.
 */
export async function pruneOldBuilds(cacheDir: string, currentBuildId: string, logger: Logger): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(cacheDir);
  } catch {
    return [];
  }
  const others = await Promise.all(
    names
      .filter((name) => name !== currentBuildId && !name.startsWith('.'))
      .map(async (name) => ({ name, mtime: (await stat(path.join(cacheDir, name)).catch(() => undefined))?.mtimeMs ?? 0 })),
  );
  const removed: string[] = [];
  for (const { name } of others.sort((a, b) => b.mtime - a.mtime).slice(KEPT_PREVIOUS_BUILDS)) {
    try {
      await rm(path.join(cacheDir, name), { recursive: true, force: true });
      removed.push(name);
    } catch (error) {
      logger.warn(`could not remove the old build cache ${path.join(cacheDir, name)}: ${(error as Error).message}`);
    }
  }
  return removed;
}

export interface IsrOptions {
  /** The site folder (holds `app/` and, after `isr build`, `.isr/build/`). */
  siteDir: string;
  /** Overrides of the site's configuration (see config.ts). */
  config?: Partial<IsrConfig>;
  logger?: Logger;
  /** Injected clock (tests); default wall time. */
  clock?: Clock;
  /**
   * The durable tier to use in place of the filesystem store `<cacheDir>/<buildId>`, which it is
   * given to wrap or ignore (a store shared with other instances). Default: the filesystem store
   * itself. A worker of `isr start --workers N` passes that store coordinated through the cluster
   * primary (`clusterStoreFor` in `cluster/ipc.ts`).
   */
  sharedStore?: (filesystem: FileSystemStore) => CacheStore;
}

/** A built site wired to its cache: the handler, and the pieces behind it. */
export interface Isr {
  handler: RequestHandler;
  engine: IsrEngine;
  site: Site;
  config: IsrConfig;
  store: CacheStore;
  logger: Logger;
  /** The report of `GET /_isr/status` (tier health, memory tier size, generations). */
  status(): IsrStatus;
  /**
   * The canonical origin cached generations see (`request.url` of a cached route handler):
   * `config.siteUrl`, else `http://localhost` (under `startServer`, the server's own address).
   */
  readonly origin: string;
  /** Waits for background regenerations, stops listening to the store, closes the stores and unregisters the runtime. */
  close(): Promise<void>;
}

/**
 * Loads a built site and its cache: memory tier (LRU, `memoryCacheSize` bytes) → durable store →
 * the build's prerendered pages (read-only). The durable store is Redis (`redisUrl`, keys under
 * `<redisKeyPrefix><buildId>:`, shared by every instance) or else the filesystem store
 * (`<cacheDir>/<buildId>`, bounded by `diskCacheSize` and `unreadExpireTime` on the injected
 * clock; or `options.sharedStore`, which a worker of `isr start --workers` uses to be coordinated by the cluster primary).
 * Cache folders of older builds beyond the two most recent are removed, and, in the background,
 * temp files that dead processes left in the filesystem store (`FileSystemStore.sweepTempFiles`).
 * Registers the engine for `isr/cache` calls in this process.
 * @throws Error when the site has not been built, or the configuration is invalid.
 */
export async function createIsr(options: IsrOptions): Promise<Isr> {
  const siteDir = path.resolve(options.siteDir);
  const config = await loadConfig(siteDir, options.config);
  const logger = options.logger ?? createConsoleLogger({ debug: config.debugCache });
  const proxyOnly = (['origin', 'routes'] as const).filter((name) => config[name] !== undefined);
  if (proxyOnly.length > 0) {
    logger.warn(`${proxyOnly.join(' and ')}: option(s) of isr proxy, ignored here (the site in ${siteDir} is served from its build)`);
  }
  const buildDir = buildDirOf(siteDir);
  const site = await Site.load(buildDir);
  await pruneOldBuilds(config.cacheDir, site.buildId, logger);
  const clock = options.clock ?? systemClock;
  const { tiers, memory } = await cacheTiers({
    config,
    name: site.buildId,
    logger,
    clock,
    // The tag record also governs the prerendered pages behind this folder (its compaction).
    related: [prerenderDirOf(buildDir)],
    sharedStore: options.sharedStore,
  });
  const store = new TieredStore({
    tiers: [...tiers, { store: new FileSystemStore({ dir: prerenderDirOf(buildDir), logger, readOnly: true }), readOnly: true }],
    logger,
  });
  const engine = new IsrEngine({
    store,
    logger,
    clock: options.clock,
    expireTime: config.expireTime,
    lockTimeout: config.lockTimeout,
    renderTimeout: config.renderTimeout,
  });
  await engine.init();
  installFetch();
  const runtime = { engine, logger };
  setRuntime(runtime);
  const status = () => describeStatus({ buildId: site.buildId, engine, store, memory });
  let origin = config.siteUrl ?? DEFAULT_ORIGIN;
  const handler = createRequestHandler({ site, engine, config, logger, siteDir, status, origin: () => origin });
  const isr: Isr = {
    handler,
    engine,
    site,
    config,
    store,
    logger,
    status,
    get origin() {
      return origin;
    },
    async close() {
      await engine.flush();
      engine.close();
      await store.close?.();
      if (getRuntime() === runtime) setRuntime(undefined);
    },
  };
  originSetters.set(isr, (value) => {
    if (config.siteUrl === undefined) origin = value;
  });
  return isr;
}

/** The origin of cached generations when `siteUrl` is unset and no server address is known. */
const DEFAULT_ORIGIN = 'http://localhost';

/** How `startServer` gives an Isr without `siteUrl` its own address once it listens. */
const originSetters = new WeakMap<Isr, (origin: string) => void>();

/**
 * The default canonical origin of a server listening on `hostname`:`port`: `http://localhost:<port>`
 * for every interface (`0.0.0.0`, `::`), else `http://<hostname>:<port>` (an IPv6 address in brackets).
 */
export function serverOrigin(hostname: string, port: number): string {
  const host = hostname === '0.0.0.0' || hostname === '::' ? 'localhost' : hostname.includes(':') ? `[${hostname}]` : hostname;
  return `http://${host}:${port}`;
}

export interface StartOptions extends IsrOptions {
  /** TCP port; `0` picks a free one. Default `PORT` or 3000. */
  port?: number;
  /** Interface to listen on. Default `HOSTNAME` or `0.0.0.0`. */
  hostname?: string;
}

export interface RunningServer {
  isr: Isr;
  /** The listening server: the front's TCP server (serve/front.ts). */
  server: NetServer;
  /** Node's HTTP server, which serves every request the fast path does not answer. */
  http: HttpServer;
  /** `http://host:port` of the listening server. */
  url: string;
  port: number;
  /** Stops accepting connections, then closes the cache. */
  close(): Promise<void>;
}

/**
 * Serves a built site over HTTP (`isr start`).
 * @throws Error when the site has not been built, the config is invalid or the port is taken.
 */
export async function startServer(options: StartOptions): Promise<RunningServer> {
  const isr = await createIsr(options);
  // node:http answers what the front (serve/front.ts) does not; it gets its request listener
  // from the front, which runs one request per connection at a time.
  const http = createServer({ keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS });
  // Bad input gets a clear 4xx: without a listener node:http drops a CONNECT without an answer.
  // This server is no proxy: 405, and the connection is closed.
  http.on('connect', (_req, socket: Duplex) => {
    socket.on('error', () => {});
    socket.end('HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  });
  // With a memory tier (and unless turned off), simple requests for fresh pages are answered on the fast path.
  const fromMemory = isr.config.memoryCacheSize > 0 && isr.config.fastPath ? isr.handler.fromMemory : undefined;
  const front = createFrontServer(http, {
    fromMemory,
    listener: toNodeListener(isr.handler, isr.logger),
    keepAliveTimeoutMs: KEEP_ALIVE_TIMEOUT_MS,
    onError: (error, consequence) => isr.logger.error(`unexpected error on the fast path (${consequence})`, error),
  });
  const { server } = front;
  const address = await listen(server, options.port, options.hostname);
  originSetters.get(isr)?.(serverOrigin(address.hostname, address.port));
  return {
    isr,
    server,
    http,
    url: address.url,
    port: address.port,
    async close() {
      await front.close();
      await isr.close();
    },
  };
}
