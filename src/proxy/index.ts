/**
 * `isr proxy`: ISR in front of any HTTP origin (docs/proxy.md). `startProxy` wires the stores
 * (memory tier → the cache folder or Redis), the engine, the origin's connection pool and the
 * proxy's listener behind the same TCP front and HIT fast path as `isr start`.
 */

import { createServer, type Server as HttpServer } from 'node:http';
import type { Server as NetServer } from 'node:net';
import path from 'node:path';
import { type IsrConfig, loadConfig } from '../config/config.ts';
import { ConfigError } from '../config/errors.ts';
import { OPTIONS } from '../config/options.ts';
import { type Clock, systemClock } from '../engine/clock.ts';
import { IsrEngine } from '../engine/engine.ts';
import { createConsoleLogger, type Logger } from '../log.ts';
import { createFrontServer } from '../serve/front.ts';
import { listen } from '../serve/listen.ts';
import { describeStatus, type IsrStatus } from '../serve/status-endpoint.ts';
import { cacheTiers } from '../serve/tiers.ts';
import type { FileSystemStore } from '../store/filesystem.ts';
import type { CacheStore } from '../store/store.ts';
import { TieredStore } from '../store/tiered.ts';
import { createProxyHandler, type ProxyHandler } from './handler.ts';
import { OriginClient } from './origin.ts';

/** The proxy's cache folder when none is configured, relative to the folder it runs in. */
export const PROXY_CACHE_DIR = '.isr/proxy-cache';

/** The name under which the proxy's entries are stored (in place of a site's build ID). */
export const PROXY_CACHE_NAME = 'proxy';

/** Idle time after which a client's keep-alive connection is closed, in milliseconds. */
const KEEP_ALIVE_TIMEOUT_MS = 5_000;

export interface ProxyOptions {
  /** The folder whose `isr.config.mjs` is read and under which the cache folder lies. Default the current folder. */
  dir?: string;
  /** Overrides of the configuration; `origin` is required here, in the environment or the file. */
  config?: Partial<IsrConfig>;
  logger?: Logger;
  /** Injected clock (tests); default wall time. */
  clock?: Clock;
  /**
   * The durable tier in place of the filesystem store of the cache folder, which it is given to
   * wrap or ignore (as `createIsr`'s `sharedStore`).
   */
  sharedStore?: (filesystem: FileSystemStore) => CacheStore;
  /** TCP port; `0` picks a free one. Default `PORT` or 3000. */
  port?: number;
  /** Interface to listen on. Default `HOSTNAME` or `0.0.0.0`. */
  hostname?: string;
}

export interface RunningProxy {
  /** `http://host:port` of the listening proxy. */
  url: string;
  port: number;
  config: IsrConfig;
  engine: IsrEngine;
  store: CacheStore;
  /** The listening TCP server (the front). */
  server: NetServer;
  http: HttpServer;
  handler: ProxyHandler;
  /** Stops accepting connections, waits for regenerations, closes the origin's pool and the stores. */
  close(): Promise<void>;
}

/**
 * Starts `isr proxy`.
 * @throws ConfigError when `origin` is missing or an option is invalid; Error when the port is taken.
 */
export async function startProxy(options: ProxyOptions = {}): Promise<RunningProxy> {
  const dir = path.resolve(options.dir ?? '.');
  const loaded = await loadConfig(dir, options.config);
  // The proxy's own default folder, unless something set one.
  const config: IsrConfig =
    loaded.cacheDir === path.resolve(dir, OPTIONS.cacheDir.default) ? { ...loaded, cacheDir: path.resolve(dir, PROXY_CACHE_DIR) } : loaded;
  if (config.origin === undefined) {
    throw new ConfigError('isr proxy needs an origin: --origin <url>, ISR_ORIGIN, or origin in isr.config.mjs');
  }
  const logger = options.logger ?? createConsoleLogger({ debug: config.debugCache });
  const clock = options.clock ?? systemClock;

  const { tiers, memory } = await cacheTiers({ config, name: PROXY_CACHE_NAME, logger, clock, sharedStore: options.sharedStore });
  const store = new TieredStore({ tiers, logger });
  const engine = new IsrEngine({
    store,
    logger,
    clock: options.clock,
    expireTime: config.expireTime,
    lockTimeout: config.lockTimeout,
    renderTimeout: config.renderTimeout,
    expirePerEntry: true,
  });
  await engine.init();
  const origin = new OriginClient({ origin: config.origin, connectTimeout: config.originConnectTimeout, timeout: config.originTimeout });
  const status = (): IsrStatus => describeStatus({ buildId: PROXY_CACHE_NAME, engine, store, memory });
  const handler = createProxyHandler({ engine, origin, config, logger, status });

  const http = createServer({ keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS });
  http.on('connect', (_req, socket) => {
    socket.on('error', () => {});
    socket.end(
      'HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS\r\nContent-Length: 0\r\nConnection: close\r\n\r\n',
    );
  });
  const front = createFrontServer(http, {
    fromMemory: memory !== undefined && config.fastPath ? handler.fromMemory : undefined,
    listener: handler.listener,
    keepAliveTimeoutMs: KEEP_ALIVE_TIMEOUT_MS,
    onError: (error, consequence) => logger.error(`unexpected error on the fast path (${consequence})`, error),
  });
  const { server } = front;
  let address: Awaited<ReturnType<typeof listen>>;
  try {
    address = await listen(server, options.port, options.hostname);
  } catch (error) {
    engine.close();
    await Promise.allSettled([origin.close(), store.close?.()]);
    throw error;
  }
  return {
    url: address.url,
    port: address.port,
    config,
    engine,
    store,
    server,
    http,
    handler,
    async close() {
      await front.close();
      await engine.flush();
      engine.close();
      await origin.close();
      await store.close?.();
    },
  };
}
