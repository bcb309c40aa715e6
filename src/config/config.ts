import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ONE_YEAR_SECONDS } from '../http/cache-control.ts';

/**
 * Configuration of a site: `isr.config.mjs` (or `.js`, default export) in the site folder,
 * overridden by environment variables, overridden by explicit options (CLI flags, embedders).
 */
export interface IsrConfig {
  /** Durable cache folder. Default `<site>/.isr/cache`. Env `ISR_CACHE_DIR`. */
  cacheDir: string;
  /** Bytes of the in-memory LRU tier in front of the durable store; `0` disables it. Default 50 MiB. Env `ISR_MEMORY_CACHE_SIZE`. */
  memoryCacheSize: number;
  /**
   * Bound of the cache folder's entries (`<cacheDir>/<buildId>/entries`), in bytes, each file
   * counted as its size rounded up to 4 KiB; past it the least recently used entries (by last read
   * or write) are removed. `0`: unbounded. Default {@link DEFAULT_DISK_CACHE_SIZE} (1 GiB). The
   * build's prerendered pages and the tag record are not counted and never removed. Env
   * `ISR_DISK_CACHE_SIZE`. Not used with `redisUrl` (bound Redis with its own `maxmemory`).
   */
  diskCacheSize: number;
  /**
   * Seconds after which a cache folder entry that was neither read nor written is removed (and no
   * longer served: the page is generated again). `0`: never. Default
   * {@link DEFAULT_UNREAD_EXPIRE_TIME} (31 days, as Vercel keeps an unaccessed ISR page). Env
   * `ISR_UNREAD_EXPIRE_TIME`. Not used with `redisUrl`.
   */
  unreadExpireTime: number;
  /**
   * Seconds after generation beyond which a stale page is no longer served while it regenerates
   * (sent as `stale-while-revalidate=<expireTime - revalidate>`). Default one year. Env `ISR_EXPIRE_TIME`.
   */
  expireTime: number;
  /** Secret for `POST /_isr/revalidate`; the endpoint answers 401 while unset. Env `ISR_REVALIDATE_TOKEN`. */
  revalidateToken: string | undefined;
  /** Log every HIT/STALE/MISS, regeneration and data-cache fetch. Default false. Env `ISR_DEBUG_CACHE=1`. */
  debugCache: boolean;
  /** Pages prerendered in parallel by `isr build`. Default 8. Env `ISR_BUILD_CONCURRENCY`. */
  buildConcurrency: number;
  /**
   * `isr start` answers simple GET/HEAD requests for fresh in-memory pages on its TCP fast path
   * (docs/performance.md); `false` sends every request through `node:http`. Default true.
   * Env `ISR_FAST_PATH` (`1`/`true` or `0`/`false`).
   */
  fastPath: boolean;
  /**
   * `redis://[:password@]host:port[/db]` (or `rediss://`) of a Redis shared by every instance of
   * the site: the durable cache tier, synchronized purges and cache shielding (docs/deployment.md).
   * Unset: the filesystem store in `cacheDir`. Env `ISR_REDIS_URL`.
   */
  redisUrl: string | undefined;
  /**
   * Prefix of every Redis key and channel of this site; the build ID follows it, so builds never
   * share entries. Default `isr:<site>:` where `<site>` is the `name` in the site's package.json,
   * else its folder name. Env `ISR_REDIS_KEY_PREFIX`.
   */
  redisKeyPrefix: string;
  /**
   * Seconds a regeneration holds the cluster-wide lock of its page (it expires after that), and the
   * longest another instance waits for that result before rendering itself. Default 10.
   * Env `ISR_LOCK_TIMEOUT`.
   */
  lockTimeout: number;
  /**
   * Seconds a render (or a data-cache fetch inside it) may take. A render still running after that
   * fails like one that throws: the last good page keeps being served (a page never generated
   * answers 500), the next request may regenerate, and the late result is discarded. `isr build`
   * fails on a prerender that takes longer. Default 60. Env `ISR_RENDER_TIMEOUT`.
   */
  renderTimeout: number;
  /**
   * The site's public URL, whose origin cached generations see as their own: a cached route
   * handler's `request.url` is `<siteUrl><path>` (sitemaps, feeds and Open Graph tags built from it
   * are served to every visitor), never the client's `Host`. Dynamic route handlers and API routes
   * still see the real request. An absolute `http://` or `https://` URL with no path beyond `/`, no
   * query, fragment or credentials; stored as its origin (`https://www.example.com`). Unset: the
   * server's own address, `http://localhost:<port>` when it listens on every interface
   * (`0.0.0.0`, `::`), else `http://<hostname>:<port>`; `http://localhost` for `isr build` and
   * embedders (`createIsr`). Behind a reverse proxy, set it to the public URL (docs/deployment.md).
   * Env `ISR_SITE_URL`.
   */
  siteUrl: string | undefined;
}

/**
 * The origin of a `siteUrl` value (`https://www.example.com`).
 * @throws TypeError unless `value` is an absolute http(s) URL with no path beyond `/`, no query,
 *   fragment or credentials (the value is echoed only when it holds no `@`).
 */
export function siteOrigin(value: unknown): string {
  const shown = typeof value === 'string' && !value.includes('@') ? `, got ${JSON.stringify(value)}` : '';
  const fail = (why: string): never => {
    throw new TypeError(`siteUrl (ISR_SITE_URL) must be an absolute http:// or https:// URL like https://www.example.com (${why})${shown}`);
  };
  if (typeof value !== 'string' || !URL.canParse(value)) return fail('not a URL');
  if (/[\s]/.test(value)) return fail('it holds white space');
  const url = new URL(value);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return fail(`the scheme is ${url.protocol}`);
  if (url.username !== '' || url.password !== '') return fail('credentials are not allowed');
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '' || value.includes('?') || value.includes('#')) {
    return fail('no path, query or fragment: only an origin');
  }
  return url.origin;
}

export const CONFIG_FILES = ['isr.config.mjs', 'isr.config.js'];

/**
 * Default `diskCacheSize`: 1 GiB. A fixed size rather than a share of the free space, so the bound
 * does not depend on what else is on the disk when the server starts; large enough for tens of
 * thousands of typical pages (10–100 KB each) and small next to any server disk, and it caps what a
 * flood of distinct URLs (e.g. requests for posts that do not exist, each a stored 404) can write.
 */
/** Default byte bound of a MemoryStore: 50 MiB. */
export const DEFAULT_MEMORY_MAX_BYTES = 50 * 1024 * 1024;

export const DEFAULT_DISK_CACHE_SIZE = 1024 * 1024 * 1024;

/**
 * Default `unreadExpireTime`: 31 days (2,678,400 s). Vercel's rule for its ISR cache: "Only you or
 * your team can invalidate this cache—unless it goes unaccessed for 31 days." (Vercel docs,
 * "Incremental Static Regeneration usage and pricing",
 * https://vercel.com/docs/pricing/incremental-static-regeneration).
 */
export const DEFAULT_UNREAD_EXPIRE_TIME = 31 * 24 * 60 * 60;

function boolean(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (value === true || value === 'true' || value === '1') return true;
  if (value === false || value === 'false' || value === '0') return false;
  throw new TypeError(`${name} must be true or false (1 or 0), got ${JSON.stringify(value)}`);
}

function positiveInteger(name: string, value: unknown, allowZero = false): number {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < (allowZero ? 0 : 1)) {
    throw new TypeError(`${name} must be ${allowZero ? 'a non-negative' : 'a positive'} integer, got ${JSON.stringify(value)}`);
  }
  return number;
}

/**
 * Loads the configuration of the site in `siteDir`.
 * @param overrides explicit values (highest precedence).
 * @param env environment (default `process.env`).
 * @throws TypeError naming the option (and the config file) for an unknown option or a bad value;
 *   Error when the config file fails to load.
 */
export async function loadConfig(
  siteDir: string,
  overrides: Partial<IsrConfig> = {},
  env: NodeJS.ProcessEnv = process.env,
): Promise<IsrConfig> {
  let fileConfig: Record<string, unknown> = {};
  let source = 'options';
  for (const name of CONFIG_FILES) {
    const file = path.join(siteDir, name);
    if (!existsSync(file)) continue;
    const loaded = (await import(pathToFileURL(file).href)) as { default?: unknown };
    if (typeof loaded.default !== 'object' || loaded.default === null) {
      throw new TypeError(`${file} must export a configuration object as its default export`);
    }
    fileConfig = loaded.default as Record<string, unknown>;
    source = file;
    break;
  }
  const known = new Set([
    'cacheDir',
    'memoryCacheSize',
    'diskCacheSize',
    'unreadExpireTime',
    'expireTime',
    'revalidateToken',
    'debugCache',
    'buildConcurrency',
    'fastPath',
    'redisUrl',
    'redisKeyPrefix',
    'lockTimeout',
    'renderTimeout',
    'siteUrl',
  ]);
  for (const key of Object.keys(fileConfig)) {
    if (!known.has(key)) throw new TypeError(`${source}: unknown option "${key}" (known: ${[...known].join(', ')})`);
  }
  const pick = (key: keyof IsrConfig, envName: string): unknown =>
    overrides[key] !== undefined ? overrides[key] : env[envName] !== undefined && env[envName] !== '' ? env[envName] : fileConfig[key];

  const cacheDir = pick('cacheDir', 'ISR_CACHE_DIR');
  if (cacheDir !== undefined && typeof cacheDir !== 'string') throw new TypeError(`cacheDir must be a path string`);
  const token = pick('revalidateToken', 'ISR_REVALIDATE_TOKEN');
  if (token !== undefined && (typeof token !== 'string' || token.length < 8)) {
    throw new TypeError('revalidateToken (ISR_REVALIDATE_TOKEN) must be a string of at least 8 characters');
  }
  const debug = pick('debugCache', 'ISR_DEBUG_CACHE');
  const redisUrl = pick('redisUrl', 'ISR_REDIS_URL');
  if (redisUrl !== undefined && (typeof redisUrl !== 'string' || !/^rediss?:\/\/[^\s]+$/.test(redisUrl) || !URL.canParse(redisUrl))) {
    // Never echo the value: it may hold a password.
    throw new TypeError('redisUrl (ISR_REDIS_URL) must be a redis:// or rediss:// URL, like redis://127.0.0.1:6379');
  }
  const keyPrefix = pick('redisKeyPrefix', 'ISR_REDIS_KEY_PREFIX') ?? `isr:${siteName(siteDir)}:`;
  if (typeof keyPrefix !== 'string' || keyPrefix === '' || keyPrefix.length > 200 || /[\s]/.test(keyPrefix)) {
    throw new TypeError(`redisKeyPrefix (ISR_REDIS_KEY_PREFIX) must be 1 to 200 characters without spaces, got ${JSON.stringify(keyPrefix)}`);
  }
  const lockTimeout = Number(pick('lockTimeout', 'ISR_LOCK_TIMEOUT') ?? 10);
  if (!Number.isFinite(lockTimeout) || lockTimeout <= 0 || lockTimeout > 3600) {
    throw new TypeError(`lockTimeout (ISR_LOCK_TIMEOUT) must be a number of seconds above 0 and at most 3600, got ${JSON.stringify(pick('lockTimeout', 'ISR_LOCK_TIMEOUT'))}`);
  }
  const renderTimeout = Number(pick('renderTimeout', 'ISR_RENDER_TIMEOUT') ?? 60);
  if (!Number.isFinite(renderTimeout) || renderTimeout <= 0 || renderTimeout > 3600) {
    throw new TypeError(`renderTimeout (ISR_RENDER_TIMEOUT) must be a number of seconds above 0 and at most 3600, got ${JSON.stringify(pick('renderTimeout', 'ISR_RENDER_TIMEOUT'))}`);
  }
  const siteUrl = pick('siteUrl', 'ISR_SITE_URL');
  return {
    cacheDir: path.resolve(siteDir, (cacheDir as string | undefined) ?? path.join('.isr', 'cache')),
    memoryCacheSize: positiveInteger('memoryCacheSize', pick('memoryCacheSize', 'ISR_MEMORY_CACHE_SIZE') ?? DEFAULT_MEMORY_MAX_BYTES, true),
    diskCacheSize: positiveInteger('diskCacheSize (ISR_DISK_CACHE_SIZE)', pick('diskCacheSize', 'ISR_DISK_CACHE_SIZE') ?? DEFAULT_DISK_CACHE_SIZE, true),
    unreadExpireTime: positiveInteger('unreadExpireTime (ISR_UNREAD_EXPIRE_TIME)', pick('unreadExpireTime', 'ISR_UNREAD_EXPIRE_TIME') ?? DEFAULT_UNREAD_EXPIRE_TIME, true),
    expireTime: positiveInteger('expireTime', pick('expireTime', 'ISR_EXPIRE_TIME') ?? ONE_YEAR_SECONDS),
    revalidateToken: token as string | undefined,
    debugCache: debug === true || debug === '1' || debug === 'true',
    buildConcurrency: positiveInteger('buildConcurrency', pick('buildConcurrency', 'ISR_BUILD_CONCURRENCY') ?? 8),
    fastPath: boolean('fastPath (ISR_FAST_PATH)', pick('fastPath', 'ISR_FAST_PATH'), true),
    redisUrl: redisUrl as string | undefined,
    redisKeyPrefix: keyPrefix,
    lockTimeout,
    renderTimeout,
    siteUrl: siteUrl === undefined ? undefined : siteOrigin(siteUrl),
  };
}

/** The site's name for key prefixes: `name` in its package.json, else its folder name. */
function siteName(siteDir: string): string {
  try {
    const name = (JSON.parse(readFileSync(path.join(siteDir, 'package.json'), 'utf8')) as { name?: unknown }).name;
    if (typeof name === 'string' && name !== '') return name;
  } catch {
    // no package.json (or not JSON): the folder name
  }
  return path.basename(path.resolve(siteDir));
}
