/**
 * Every option of a site, defined once: its key (in `isr.config.mjs` and `createIsr({ config })`),
 * its environment variable, its unit, its default, its parser and its documentation. `IsrConfig`
 * is derived from this table; `loadConfig` (config.ts) reads the file, the environment and the
 * explicit options through it; `isr --help` lists its environment variables; the README's
 * "Configuration" table is checked against it (test/unit/options.test.ts). Each entry's doc
 * comment is the option's reference, as lru-cache documents `OptionsBase`: meaning, unit, default
 * and how it interacts with other options.
 * @see https://github.com/isaacs/node-lru-cache (OptionsBase: each option documented where it is defined)
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ONE_YEAR_SECONDS } from '../http/cache-control.ts';
import type { Bytes, Seconds } from '../units.ts';
import { ConfigError } from './errors.ts';
import { parseRouteRules, type RouteRule } from './routes.ts';

/**
 * One option. `parse` receives the value from the explicit options, the environment (a string) or
 * the config file, in that order of precedence, or else `default` (or `defaultFor(siteDir)`); an
 * option whose value and default are both absent is `undefined` and not parsed.
 */
export interface Option {
  /** The environment variable that sets it (an empty value counts as unset). */
  readonly env: `ISR_${string}`;
  /** What the value is and counts, as the README's "Unit" column says it. */
  readonly unit: string;
  /** The value when nothing sets it (`undefined`: unset). */
  readonly default: unknown;
  /** A default that depends on the site folder, in place of `default`. */
  readonly defaultFor?: (siteDir: string) => unknown;
  /**
   * How the README and `isr --help` describe the default: after the value, in parentheses
   * (`50 MiB`), or on its own when there is no fixed value (`unset`, `isr:<name>:`).
   */
  readonly defaultNote?: string;
  /**
   * The checked value. `siteDir` is the absolute site folder (paths are relative to it).
   * @throws ConfigError naming the option and its environment variable.
   */
  readonly parse: (value: unknown, siteDir: string) => unknown;
  /** One line for `isr --help`: what the option does. */
  readonly doc: string;
}

/**
 * Default `diskCacheSize`: 1 GiB. A fixed size rather than a share of the free space, so the bound
 * does not depend on what else is on the disk when the server starts; large enough for tens of
 * thousands of typical pages (10–100 KB each) and small next to any server disk, and it caps what a
 * flood of distinct URLs (e.g. requests for posts that do not exist, each a stored 404) can write.
 */
const ONE_GIB: Bytes = 1024 * 1024 * 1024;

/**
 * Default `unreadExpireTime`: 31 days (2,678,400 s). Vercel's rule for its ISR cache: "Only you or
 * your team can invalidate this cache—unless it goes unaccessed for 31 days." (Vercel docs,
 * "Incremental Static Regeneration usage and pricing",
 * https://vercel.com/docs/pricing/incremental-static-regeneration).
 */
const THIRTY_ONE_DAYS: Seconds = 31 * 24 * 60 * 60;

/** `true`/`'true'`/`'1'` or `false`/`'false'`/`'0'`. @throws ConfigError naming `name`. */
function boolean(name: string, value: unknown): boolean {
  if (value === true || value === 'true' || value === '1') return true;
  if (value === false || value === 'false' || value === '0') return false;
  throw new ConfigError(`${name} must be true or false (1 or 0), got ${JSON.stringify(value)}`);
}

/** An integer ≥ 1 (≥ 0 with `allowZero`), or a string of one. @throws ConfigError naming `name`. */
function positiveInteger(name: string, value: unknown, allowZero = false): number {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < (allowZero ? 0 : 1)) {
    throw new ConfigError(`${name} must be ${allowZero ? 'a non-negative' : 'a positive'} integer, got ${JSON.stringify(value)}`);
  }
  return number;
}

/** A number of seconds in (0, 3600], or a string of one. @throws ConfigError naming `name`. */
function secondsUpToAnHour(name: string, value: unknown): Seconds {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) {
    throw new ConfigError(`${name} must be a number of seconds above 0 and at most 3600, got ${JSON.stringify(value)}`);
  }
  return seconds;
}

/**
 * The origin of a `siteUrl` value (`https://www.example.com`).
 * @throws ConfigError unless `value` is an absolute http(s) URL with no path beyond `/`, no query,
 *   fragment or credentials (the value is echoed only when it holds no `@`).
 * @see https://url.spec.whatwg.org/#origin
 */
export function siteOrigin(value: unknown): string {
  const shown = typeof value === 'string' && !value.includes('@') ? `, got ${JSON.stringify(value)}` : '';
  const fail = (why: string): never => {
    throw new ConfigError(
      `siteUrl (ISR_SITE_URL) must be an absolute http:// or https:// URL like https://www.example.com (${why})${shown}`,
    );
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

/** The options, in the order the README and `isr --help` list them. */
export const OPTIONS = {
  /**
   * Durable cache folder, relative to the site folder (stored absolute). Entries go under
   * `<cacheDir>/<buildId>/`. Default `<site>/.isr/cache`. Env `ISR_CACHE_DIR`. Not used with
   * `redisUrl`.
   */
  cacheDir: {
    env: 'ISR_CACHE_DIR',
    unit: 'path, relative to the site folder',
    default: '.isr/cache',
    parse: (value, siteDir): string => {
      if (typeof value !== 'string') throw new ConfigError('cacheDir (ISR_CACHE_DIR) must be a path string');
      return path.resolve(siteDir, value);
    },
    doc: 'the durable cache folder',
  },
  /**
   * Bytes of the in-memory LRU tier in front of the durable store, using estimated entry sizes;
   * `0` disables it (and with it `fastPath`). Default 50 MiB. Env `ISR_MEMORY_CACHE_SIZE`.
   */
  memoryCacheSize: {
    env: 'ISR_MEMORY_CACHE_SIZE',
    unit: 'bytes, integer ≥ 0',
    default: 50 * 1024 * 1024,
    defaultNote: '50 MiB',
    parse: (value): Bytes => positiveInteger('memoryCacheSize (ISR_MEMORY_CACHE_SIZE)', value, true),
    doc: 'bound of the in-memory LRU tier; 0 disables it',
  },
  /**
   * Bound of the cache folder's entries (`<cacheDir>/<buildId>/entries`), in bytes, each file
   * counted as its size rounded up to 4 KiB; past it the least recently used entries (by last read
   * or write) are removed. `0`: unbounded. Default 1 GiB ({@link ONE_GIB}). The build's
   * prerendered pages and the tag record are not counted and never removed. Env
   * `ISR_DISK_CACHE_SIZE`. Not used with `redisUrl` (bound Redis with its own `maxmemory`).
   */
  diskCacheSize: {
    env: 'ISR_DISK_CACHE_SIZE',
    unit: 'bytes, integer ≥ 0',
    default: ONE_GIB,
    defaultNote: '1 GiB',
    parse: (value): Bytes => positiveInteger('diskCacheSize (ISR_DISK_CACHE_SIZE)', value, true),
    doc: "bound of the cache folder's entries; 0: unbounded",
  },
  /**
   * Seconds after which a cache folder entry that was neither read nor written is removed (and no
   * longer served: the page is generated again). `0`: never. Default 31 days
   * ({@link THIRTY_ONE_DAYS}, as Vercel keeps an unaccessed ISR page). Env
   * `ISR_UNREAD_EXPIRE_TIME`. Not used with `redisUrl`.
   */
  unreadExpireTime: {
    env: 'ISR_UNREAD_EXPIRE_TIME',
    unit: 'seconds, integer ≥ 0',
    default: THIRTY_ONE_DAYS,
    defaultNote: '31 days',
    parse: (value): Seconds => positiveInteger('unreadExpireTime (ISR_UNREAD_EXPIRE_TIME)', value, true),
    doc: 'a cache folder entry unread this long is removed; 0: never',
  },
  /**
   * Seconds after generation beyond which a stale page is no longer served while it regenerates
   * (sent as `stale-while-revalidate=<expireTime - revalidate>`; Next.js `expireTime`). Applies
   * when serving, so a change also covers entries generated before it. Default one year. Env
   * `ISR_EXPIRE_TIME`.
   */
  expireTime: {
    env: 'ISR_EXPIRE_TIME',
    unit: 'seconds, integer ≥ 1',
    default: ONE_YEAR_SECONDS,
    defaultNote: 'one year',
    parse: (value): Seconds => positiveInteger('expireTime (ISR_EXPIRE_TIME)', value),
    doc: 'how long after generation a stale page may still be served',
  },
  /**
   * Secret (at least 8 characters) of `POST /_isr/revalidate` and `GET /_isr/status`; the
   * endpoints answer 401 while it is unset. Env `ISR_REVALIDATE_TOKEN`.
   */
  revalidateToken: {
    env: 'ISR_REVALIDATE_TOKEN',
    unit: 'string, ≥ 8 characters',
    default: undefined,
    defaultNote: 'unset',
    parse: (value): string => {
      if (typeof value !== 'string' || value.length < 8) {
        throw new ConfigError('revalidateToken (ISR_REVALIDATE_TOKEN) must be a string of at least 8 characters');
      }
      return value;
    },
    doc: 'bearer token of POST /_isr/revalidate (401 while unset)',
  },
  /**
   * Log every HIT/STALE/MISS, regeneration and data-cache fetch. Any value but `true`, `'1'` or
   * `'true'` is false. Default false. Env `ISR_DEBUG_CACHE=1`. `isr build` reads only the
   * environment variable (src/log.ts), not the config file.
   */
  debugCache: {
    env: 'ISR_DEBUG_CACHE',
    unit: '`1` or `true`',
    default: false,
    parse: (value): boolean => value === true || value === '1' || value === 'true',
    doc: 'log every HIT/STALE/MISS, generation and data-cache fetch',
  },
  /** Pages prerendered in parallel by `isr build`. Default 8. Env `ISR_BUILD_CONCURRENCY`. */
  buildConcurrency: {
    env: 'ISR_BUILD_CONCURRENCY',
    unit: 'pages, integer ≥ 1',
    default: 8,
    parse: (value): number => positiveInteger('buildConcurrency (ISR_BUILD_CONCURRENCY)', value),
    doc: 'pages that isr build prerenders in parallel',
  },
  /**
   * `isr start` answers simple GET/HEAD requests for fresh in-memory pages on its TCP fast path
   * (docs/performance.md); `false` sends every request through `node:http`. No effect without a
   * memory tier (`memoryCacheSize: 0`). Default true. Env `ISR_FAST_PATH` (`1`/`true` or
   * `0`/`false`).
   */
  fastPath: {
    env: 'ISR_FAST_PATH',
    unit: '`true`/`1` or `false`/`0`',
    default: true,
    parse: (value): boolean => boolean('fastPath (ISR_FAST_PATH)', value),
    doc: 'answer fresh in-memory pages on the TCP fast path; 0 turns it off',
  },
  /**
   * `redis://[:password@]host:port[/db]` (or `rediss://`) of a Redis shared by every instance of
   * the site: the durable cache tier, synchronized purges and cache shielding (docs/deployment.md).
   * Unset: the filesystem store in `cacheDir` (and `diskCacheSize`, `unreadExpireTime`). The
   * value is never logged nor echoed in an error (it may hold a password). Env `ISR_REDIS_URL`.
   */
  redisUrl: {
    env: 'ISR_REDIS_URL',
    unit: '`redis://` or `rediss://` URL',
    default: undefined,
    defaultNote: 'unset',
    parse: (value): string => {
      if (typeof value !== 'string' || !/^rediss?:\/\/[^\s]+$/.test(value) || !URL.canParse(value)) {
        // Never echo the value: it may hold a password.
        throw new ConfigError('redisUrl (ISR_REDIS_URL) must be a redis:// or rediss:// URL, like redis://127.0.0.1:6379');
      }
      return value;
    },
    doc: 'a Redis shared by every instance (unset: the cache folder)',
  },
  /**
   * Prefix (1 to 200 characters, no white space) of every Redis key and channel of this site; the
   * build ID follows it, so builds never share entries. Default `isr:<site>:` where `<site>` is
   * the `name` in the site's package.json, else its folder name. Env `ISR_REDIS_KEY_PREFIX`.
   */
  redisKeyPrefix: {
    env: 'ISR_REDIS_KEY_PREFIX',
    unit: 'string',
    default: undefined,
    defaultFor: (siteDir: string) => `isr:${siteName(siteDir)}:`,
    defaultNote: '`isr:<name>:`',
    parse: (value): string => {
      if (typeof value !== 'string' || value === '' || value.length > 200 || /[\s]/.test(value)) {
        throw new ConfigError(
          `redisKeyPrefix (ISR_REDIS_KEY_PREFIX) must be 1 to 200 characters without spaces, got ${JSON.stringify(value)}`,
        );
      }
      return value;
    },
    doc: "prefix of the site's Redis keys (<name>: package.json name or folder)",
  },
  /**
   * Seconds (above 0, at most 3600) a regeneration holds the shielding lock of its page (shared by all instances) (it
   * expires after that), and the longest another instance waits for that result before rendering
   * itself. Used with `redisUrl` or `isr start --workers`. Default 10. Env `ISR_LOCK_TIMEOUT`.
   */
  lockTimeout: {
    env: 'ISR_LOCK_TIMEOUT',
    unit: 'seconds, > 0',
    default: 10,
    parse: (value): Seconds => secondsUpToAnHour('lockTimeout (ISR_LOCK_TIMEOUT)', value),
    doc: "with Redis or --workers: how long a regeneration holds its page's lock",
  },
  /**
   * Seconds (above 0, at most 3600) a render (or a data-cache fetch inside it) may take. A render
   * still running after that fails like one that throws: the last good page keeps being served (a
   * page never generated answers 500), the next request may regenerate, and the late result is
   * discarded. `isr build` fails on a prerender that takes longer. Default 60. Env
   * `ISR_RENDER_TIMEOUT`.
   */
  renderTimeout: {
    env: 'ISR_RENDER_TIMEOUT',
    unit: 'seconds, > 0, at most 3600',
    default: 60,
    parse: (value): Seconds => secondsUpToAnHour('renderTimeout (ISR_RENDER_TIMEOUT)', value),
    doc: 'how long a render may run before it fails',
  },
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
  siteUrl: {
    env: 'ISR_SITE_URL',
    unit: 'absolute `http://` or `https://` URL, no path',
    default: undefined,
    defaultNote: "the server's own address",
    parse: (value): string => siteOrigin(value),
    doc: "the site's public URL, the origin cached route handlers see",
  },
  /**
   * `isr proxy` only: the origin server the proxy caches, an absolute `http://` or `https://` URL
   * with no path, query or credentials (`http://127.0.0.1:3001`). Required by `isr proxy` (or its
   * `--origin` flag); ignored by `isr start`. Env `ISR_ORIGIN`.
   */
  origin: {
    env: 'ISR_ORIGIN',
    unit: 'absolute `http://` or `https://` URL, no path',
    default: undefined,
    defaultNote: 'unset',
    parse: (value): string => originUrl(value),
    doc: 'isr proxy: the origin server it caches',
  },
  /**
   * `isr proxy` only: seconds (above 0, at most 3600) to open a connection to the origin before
   * the request fails (502, or the last good page). Default 5. Env `ISR_ORIGIN_CONNECT_TIMEOUT`.
   */
  originConnectTimeout: {
    env: 'ISR_ORIGIN_CONNECT_TIMEOUT',
    unit: 'seconds, > 0, at most 3600',
    default: 5,
    parse: (value): Seconds => secondsUpToAnHour('originConnectTimeout (ISR_ORIGIN_CONNECT_TIMEOUT)', value),
    doc: 'isr proxy: how long to wait for a connection to the origin',
  },
  /**
   * `isr proxy` only: seconds (above 0, at most 3600) the origin may take to send a response's
   * head, and then between two reads of its body. A request that must wait for the origin gets
   * 504 after that (or the last good page, stale-if-error); a regeneration fails and the stale
   * page stays. Default 30. Env `ISR_ORIGIN_TIMEOUT`.
   */
  originTimeout: {
    env: 'ISR_ORIGIN_TIMEOUT',
    unit: 'seconds, > 0, at most 3600',
    default: 30,
    parse: (value): Seconds => secondsUpToAnHour('originTimeout (ISR_ORIGIN_TIMEOUT)', value),
    doc: 'isr proxy: how long the origin may take to answer',
  },
  /**
   * `isr proxy` only: seconds past freshness a stored response may be served when the origin
   * fails (5xx, timeout, refused connection), for responses that send no `stale-if-error` of their
   * own (RFC 5861 §4); `0` turns it off. `no-cache`, `must-revalidate` and `proxy-revalidate`
   * always forbid it. Default one year: the last good page stays, as under `isr start`. Env
   * `ISR_STALE_IF_ERROR`.
   */
  staleIfError: {
    env: 'ISR_STALE_IF_ERROR',
    unit: 'seconds, integer ≥ 0',
    default: ONE_YEAR_SECONDS,
    defaultNote: 'one year',
    parse: (value): Seconds => positiveInteger('staleIfError (ISR_STALE_IF_ERROR)', value, true),
    doc: 'isr proxy: how long past freshness the last good page answers when the origin fails',
  },
  /**
   * `isr proxy` only: route rules for origins whose caching headers say too little or say it
   * wrong (per path pattern: `revalidate`, `tags`, `allowQuery`, `vary`, `bypass`, `override`;
   * config/routes.ts, docs/proxy.md). Default none. Env `ISR_ROUTES` (their JSON text).
   */
  routes: {
    env: 'ISR_ROUTES',
    unit: 'array of route rules (docs/proxy.md)',
    default: undefined,
    defaultNote: 'none',
    parse: (value): RouteRule[] => parseRouteRules(value),
    doc: 'isr proxy: route rules (revalidate, tags, allowQuery, vary, bypass per path)',
  },
} as const satisfies Record<string, Option>;

/**
 * An `origin` value: the origin of an absolute http(s) URL.
 * @throws ConfigError unless `value` is an absolute http(s) URL with no path beyond `/`, no query,
 *   fragment or credentials.
 */
function originUrl(value: unknown): string {
  try {
    return siteOrigin(value);
  } catch (error) {
    throw new ConfigError((error as Error).message.replace('siteUrl (ISR_SITE_URL)', 'origin (ISR_ORIGIN, --origin)'));
  }
}

/** An option's name: a key of {@link OPTIONS}. */
export type OptionName = keyof typeof OPTIONS;

/**
 * Configuration of a site: `isr.config.mjs` (or `.js`, default export) in the site folder,
 * overridden by environment variables, overridden by explicit options (CLI flags, embedders).
 * Each field is documented at its entry of {@link OPTIONS}; its type is what that entry's `parse`
 * returns.
 */
export type IsrConfig = { -readonly [Name in keyof typeof OPTIONS]: OptionValue<(typeof OPTIONS)[Name]> };

/** What `parse` returns, or `undefined` when the option has no default. */
type OptionValue<O extends Option> =
  | ReturnType<O['parse']>
  | (O['default'] extends undefined ? (O['defaultFor'] extends (siteDir: string) => unknown ? never : undefined) : never);

/** The option names, in table order. */
export const OPTION_NAMES = Object.keys(OPTIONS) as OptionName[];

/**
 * How the README's "Default" column and `isr --help` describe an option's default: the value in
 * backticks, then its note in parentheses (`` `52428800` (50 MiB) ``), or the note alone when the
 * default is unset or depends on the site.
 */
export function defaultText(name: OptionName): string {
  const option: Option = OPTIONS[name];
  if (option.default === undefined) return option.defaultNote ?? 'unset';
  const value = `\`${String(option.default)}\``;
  return option.defaultNote === undefined ? value : `${value} (${option.defaultNote})`;
}
