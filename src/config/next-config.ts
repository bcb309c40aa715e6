/**
 * A site's Next.js configuration (`next.config.js`, `.mjs`, `.cjs` or `.ts`), read by `isr build`
 * as `next build` reads it (https://nextjs.org/docs/app/api-reference/config/next-config-js): a
 * config object, or a function of the phase returning one. What isr uses is kept in the build
 * manifest, so `isr start` never loads the file: `images` (next/image and its optimisation
 * endpoint), `redirects`, `rewrites` and `headers` (their functions called once, here), and `env`
 * (values inlined into the site's code). Settings isr does not implement fail
 * the build with a message naming them; settings that only tune Next's own tooling are ignored with
 * a warning, never silently.
 */

import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { transform } from 'esbuild';
import { REDIRECT_STATUSES } from '../http/response-head.ts';
import { BUILT_IN_PROFILES, type CacheLifeProfiles, resolveCacheLifeProfiles } from './cache-life.ts';
import { ConfigError } from './errors.ts';

/** The file names Next.js reads, in its order. */
export const NEXT_CONFIG_FILES = ['next.config.js', 'next.config.mjs', 'next.config.cjs', 'next.config.ts', 'next.config.mts'];

/** A `remotePatterns` entry (https://nextjs.org/docs/app/api-reference/components/image#remotepatterns). */
export interface RemotePattern {
  protocol?: 'http' | 'https';
  hostname: string;
  port?: string;
  pathname?: string;
  search?: string;
}

/** `images` of next.config, with Next.js 16's defaults filled in. */
export interface ImagesConfig {
  /** Widths (pixels) for `sizes`-based srcsets: the devices' viewport widths. */
  deviceSizes: number[];
  /** Widths (pixels) for images smaller than the viewport. */
  imageSizes: number[];
  /** Output formats tried in order against the request's `Accept` (`image/avif`, `image/webp`). */
  formats: string[];
  /** The `q` values the endpoint accepts. */
  qualities: number[];
  /** The least time an optimised image is cached, in seconds. */
  minimumCacheTTL: number;
  /** Remote images allowed: host patterns (`domains` become patterns too). */
  remotePatterns: RemotePattern[];
  /** Local paths allowed (`undefined`: any path of the site). */
  localPatterns: { pathname?: string; search?: string }[] | undefined;
  /** Serve every image as is (no endpoint). */
  unoptimized: boolean;
  /** SVG through the endpoint (off by default: an SVG can carry script). */
  dangerouslyAllowSVG: boolean;
  /** Redirects a remote image's fetch follows, each to an allowed URL again. */
  maximumRedirects: number;
  /** Remote images from private, loopback or link-local addresses (off by default). */
  dangerouslyAllowLocalIP: boolean;
  /** `Content-Disposition` of the endpoint's answers. */
  contentDispositionType: 'inline' | 'attachment';
  /** `Content-Security-Policy` of the endpoint's answers. */
  contentSecurityPolicy: string;
}

/** A `has` / `missing` condition of a redirect, rewrite or header rule. */
export interface RouteCondition {
  type: 'header' | 'cookie' | 'query' | 'host';
  key?: string;
  /** A regular expression the whole value must match (absent: present at all). */
  value?: string;
}

interface RuleBase {
  /**
   * A path pattern in Next.js's syntax (path-to-regexp 6: `/blog/:slug`, `/docs/:path*`), with
   * next.config's `basePath` in front unless the rule says `basePath: false`.
   */
  source: string;
  has?: RouteCondition[];
  missing?: RouteCondition[];
}

/** A `redirects()` entry (https://nextjs.org/docs/app/api-reference/config/next-config-js/redirects). */
export interface RedirectRule extends RuleBase {
  destination: string;
  statusCode: 301 | 302 | 303 | 307 | 308;
}

/** A `rewrites()` entry (https://nextjs.org/docs/app/api-reference/config/next-config-js/rewrites). */
export interface RewriteRule extends RuleBase {
  destination: string;
}

/** A `headers()` entry (https://nextjs.org/docs/app/api-reference/config/next-config-js/headers). */
export interface HeaderRule extends RuleBase {
  headers: { key: string; value: string }[];
}

/** The routing rules of next.config, evaluated once at build. */
export interface RoutingRules {
  redirects: RedirectRule[];
  rewrites: { beforeFiles: RewriteRule[]; afterFiles: RewriteRule[]; fallback: RewriteRule[] };
  headers: HeaderRule[];
  /**
   * `trailingSlash`: page paths end in `/` (`/about/`; a path whose last segment has an extension,
   * `/file.txt`, does not), and the other spelling redirects to it with a 308
   * (https://nextjs.org/docs/app/api-reference/config/next-config-js/trailingSlash).
   */
  trailingSlash: boolean;
  /**
   * `basePath` (`/docs`, or `''` for none): the site is served under it; the rules above already
   * carry it on their sources and site destinations (Next.js's `load-custom-routes`)
   * (https://nextjs.org/docs/app/api-reference/config/next-config-js/basePath).
   */
  basePath: string;
}

export interface NextConfigUse {
  images: ImagesConfig;
  /** `redirects`, `rewrites` and `headers`, their functions called. */
  routing: RoutingRules;
  /** `env`: names and values inlined into the site's code (`process.env.NAME`). */
  env: Record<string, string>;
  /** The file read, relative to the site (undefined when there is none). */
  file: string | undefined;
  /** What the config sets that isr ignores (Next's own tooling), one line each. */
  warnings: string[];
  /**
   * Cache Components (`cacheComponents: true`): the `'use cache'` directive, `cacheLife` and
   * `cacheTag`, and the segment config they replace refused
   * (https://nextjs.org/docs/app/api-reference/config/next-config-js/cacheComponents).
   */
  cacheComponents: boolean;
  /** Whether the `'use cache'` directive is on: `cacheComponents`, or Next 15's `experimental.useCache` (which Next 16 still honours). */
  useCache: boolean;
  /** The cache profiles: the built-in ones and next.config's `cacheLife` (config/cache-life.ts). */
  cacheLife: CacheLifeProfiles;
  /**
   * The endings of page, route and special files (`.tsx`, `.page.tsx`, ...), from `pageExtensions`
   * (https://nextjs.org/docs/app/api-reference/config/next-config-js/pageExtensions); undefined
   * for the default (`.tsx`, `.ts`, `.jsx`, `.js`, and `.mjs`).
   */
  pageExtensions: string[] | undefined;
}

/**
 * `pageExtensions` as file endings: each a non-empty string of letters, digits, `-`, `_` and `.`
 * ending in a JavaScript or TypeScript extension (`page.tsx`, `api.ts`); Markdown (`md`, `mdx`)
 * needs `@next/mdx`, which isr does not support.
 * @throws ConfigError naming the file and the value.
 */
function pageExtensionsOf(value: unknown, where: string): string[] {
  if (!Array.isArray(value) || value.length === 0)
    throw new ConfigError(`${where}: pageExtensions must be a non-empty array of extensions`);
  return (
    value
      .map((item) => {
        if (typeof item !== 'string' || !/^[\w-]+(\.[\w-]+)*$/.test(item)) {
          throw new ConfigError(`${where}: pageExtensions holds ${JSON.stringify(item)}, which is not a file extension`);
        }
        if (/(^|\.)mdx?$/.test(item)) {
          throw new ConfigError(
            `${where}: pageExtensions "${item}": Markdown pages (@next/mdx) are not supported by isr; write the page in .tsx`,
          );
        }
        if (!/(^|\.)(tsx|ts|jsx|js|mjs)$/.test(item)) {
          throw new ConfigError(`${where}: pageExtensions "${item}" is not a JavaScript or TypeScript extension, which isr compiles`);
        }
        return `.${item}`;
      })
      // The longest ending first: `about.page.tsx` is the page `about` when both `page.tsx` and
      // `tsx` are listed, as Next.js's extension pattern finds it.
      .sort((a, b) => b.length - a.length)
  );
}

/** The defaults of Next.js 16 (https://nextjs.org/docs/app/api-reference/components/image#configuration-options). */
export const DEFAULT_IMAGES: ImagesConfig = {
  deviceSizes: [640, 750, 828, 1080, 1200, 1920, 2048, 3840],
  imageSizes: [32, 48, 64, 96, 128, 256, 384],
  formats: ['image/webp'],
  qualities: [75],
  minimumCacheTTL: 14_400,
  remotePatterns: [],
  localPatterns: undefined,
  unoptimized: false,
  dangerouslyAllowSVG: false,
  maximumRedirects: 3,
  dangerouslyAllowLocalIP: false,
  contentDispositionType: 'attachment',
  contentSecurityPolicy: "script-src 'none'; frame-src 'none'; sandbox;",
};

/** No redirects, rewrites or headers. */
export const NO_ROUTING_RULES: RoutingRules = {
  redirects: [],
  rewrites: { beforeFiles: [], afterFiles: [], fallback: [] },
  headers: [],
  trailingSlash: false,
  basePath: '',
};

/** Settings of Next's own tooling (bundler, linter, type checker, dev server): no effect on what isr serves. */
const TOOLING = new Set([
  'reactStrictMode',
  'poweredByHeader',
  'eslint',
  'typescript',
  'swcMinify',
  'productionBrowserSourceMaps',
  'compiler',
  'devIndicators',
  'output',
  'outputFileTracingRoot',
  'outputFileTracingIncludes',
  'outputFileTracingExcludes',
  'distDir',
  'generateBuildId',
  'transpilePackages',
  'serverExternalPackages',
  'staticPageGenerationTimeout',
  'onDemandEntries',
  'logging',
  'turbopack',
  'webpack',
  'experimental',
  'compress',
  'bundlePagesRouterDependencies',
  'allowedDevOrigins',
  'crossOrigin',
  'htmlLimitedBots',
  'sassOptions',
]);

/** Settings isr does not implement: the build stops rather than serve something else than Next would. */
const UNSUPPORTED: Readonly<Record<string, string>> = {
  assetPrefix: 'serve the assets from the site itself',
  i18n: 'use one path segment per locale ([lang]) instead of i18n routing',
  cacheHandler: "isr's own stores hold the cache (ISR_REDIS_URL for a shared one)",
  cacheHandlers: "isr's own stores hold the cache (ISR_REDIS_URL for a shared one)",
  cacheMaxMemorySize: 'use ISR_MEMORY_CACHE_SIZE',
  skipTrailingSlashRedirect: 'remove it',
  skipMiddlewareUrlNormalize: 'remove it',
};

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function positiveIntegers(value: unknown, name: string, where: string): number[] {
  if (!Array.isArray(value) || value.length === 0 || !value.every((item) => Number.isInteger(item) && item > 0)) {
    throw new ConfigError(`${where}: images.${name} must be a non-empty array of whole numbers of pixels`);
  }
  return [...(value as number[])].sort((a, b) => a - b);
}

/**
 * Checks `images` and fills in the defaults.
 * @throws ConfigError naming the setting for a bad value or one isr does not implement (`loader`,
 *   `path`: isr has one endpoint, at `/_next/image`).
 */
export function resolveImagesConfig(value: unknown, where: string): ImagesConfig {
  if (value === undefined) return { ...DEFAULT_IMAGES };
  if (!isPlainObject(value)) throw new ConfigError(`${where}: images must be an object`);
  const images = { ...DEFAULT_IMAGES };
  for (const [key, item] of Object.entries(value)) {
    switch (key) {
      case 'deviceSizes':
      case 'imageSizes':
        images[key] = positiveIntegers(item, key, where);
        break;
      case 'qualities':
        images.qualities = positiveIntegers(item, key, where);
        if (images.qualities.some((q) => q > 100)) throw new ConfigError(`${where}: images.qualities must be between 1 and 100`);
        break;
      case 'formats':
        if (!Array.isArray(item) || !item.every((format) => format === 'image/avif' || format === 'image/webp')) {
          throw new ConfigError(`${where}: images.formats accepts 'image/avif' and 'image/webp'`);
        }
        images.formats = item as string[];
        break;
      case 'minimumCacheTTL':
        if (!Number.isInteger(item) || (item as number) < 0)
          throw new ConfigError(`${where}: images.minimumCacheTTL must be a whole number of seconds`);
        images.minimumCacheTTL = item as number;
        break;
      case 'domains':
        if (!Array.isArray(item) || !item.every((host) => typeof host === 'string'))
          throw new ConfigError(`${where}: images.domains must list host names`);
        images.remotePatterns = [...images.remotePatterns, ...(item as string[]).map((hostname) => ({ hostname }))];
        break;
      case 'remotePatterns':
        if (!Array.isArray(item)) throw new ConfigError(`${where}: images.remotePatterns must be an array`);
        images.remotePatterns = [
          ...images.remotePatterns,
          ...item.map((pattern: unknown) => {
            if (pattern instanceof URL)
              return {
                protocol: pattern.protocol.slice(0, -1) as 'http' | 'https',
                hostname: pattern.hostname,
                port: pattern.port,
                pathname: pattern.pathname,
                search: pattern.search,
              };
            if (!isPlainObject(pattern) || typeof pattern.hostname !== 'string') {
              throw new ConfigError(`${where}: each images.remotePatterns entry needs a hostname`);
            }
            return pattern as unknown as RemotePattern;
          }),
        ];
        break;
      case 'localPatterns':
        if (!Array.isArray(item)) throw new ConfigError(`${where}: images.localPatterns must be an array`);
        images.localPatterns = item as ImagesConfig['localPatterns'];
        break;
      case 'unoptimized':
      case 'dangerouslyAllowSVG':
      case 'dangerouslyAllowLocalIP':
        images[key] = item === true;
        break;
      case 'maximumRedirects':
        if (!Number.isInteger(item) || (item as number) < 0)
          throw new ConfigError(`${where}: images.maximumRedirects must be a whole number`);
        images.maximumRedirects = item as number;
        break;
      case 'contentDispositionType':
        if (item !== 'inline' && item !== 'attachment')
          throw new ConfigError(`${where}: images.contentDispositionType is 'inline' or 'attachment'`);
        images.contentDispositionType = item;
        break;
      case 'contentSecurityPolicy':
        if (typeof item !== 'string') throw new ConfigError(`${where}: images.contentSecurityPolicy must be a string`);
        images.contentSecurityPolicy = item;
        break;
      case 'disableStaticImages':
        if (item === true)
          throw new ConfigError(
            `${where}: images.disableStaticImages is not supported by isr (static image imports give { src, width, height })`,
          );
        break;
      default:
        throw new ConfigError(`${where}: images.${key} is not supported by isr (it serves images from /_next/image with sharp)`);
    }
  }
  return images;
}

/**
 * Checks a `has` or `missing` list of a routing rule or a middleware matcher, `where` naming it.
 * @throws ConfigError for a wrong shape.
 */
export function conditions(value: unknown, where: string): RouteCondition[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw new ConfigError(`${where} must be an array of { type, key, value }`);
  return value.map((item: unknown) => {
    if (!isPlainObject(item) || !['header', 'cookie', 'query', 'host'].includes(item.type as string)) {
      throw new ConfigError(`${where}: each condition needs a type of header, cookie, query or host`);
    }
    if (item.type !== 'host' && typeof item.key !== 'string') throw new ConfigError(`${where}: a ${item.type} condition needs a key`);
    if (item.value !== undefined && typeof item.value !== 'string') throw new ConfigError(`${where}: a condition's value must be a string`);
    return { type: item.type as RouteCondition['type'], key: item.key as string | undefined, value: item.value as string | undefined };
  });
}

/** Checks the common fields of a routing rule, `at` naming it (`next.config.js: redirects[2]`). */
function ruleBase(item: unknown, at: string): RuleBase & Record<string, unknown> {
  if (!isPlainObject(item)) throw new ConfigError(`${at} must be an object`);
  if (typeof item.source !== 'string' || !item.source.startsWith('/')) throw new ConfigError(`${at}.source must be a path starting with /`);
  if (item.locale !== undefined && item.locale !== false) throw new ConfigError(`${at}.locale: i18n routing is not supported by isr`);
  if (item.basePath !== undefined && item.basePath !== false) throw new ConfigError(`${at}.basePath must be undefined or false`);
  return { ...item, source: item.source, has: conditions(item.has, `${at}.has`), missing: conditions(item.missing, `${at}.missing`) };
}

/** A rule list as next.config gives it: the (async) function's result, or none. */
async function listOf(value: unknown): Promise<unknown> {
  const resolved = typeof value === 'function' ? await (value as () => unknown)() : value;
  return resolved ?? [];
}

function destinationOf(item: Record<string, unknown>, at: string): string {
  if (typeof item.destination !== 'string' || item.destination === '') throw new ConfigError(`${at}.destination must be a path or URL`);
  return item.destination;
}

/**
 * `basePath` checked as Next.js checks it (`config.js`): a string starting with `/`, not ending
 * with `/`, not `/` alone; `''` when unset.
 * @throws ConfigError naming the file and the value.
 */
function basePathOf(value: unknown, where: string): string {
  if (value === undefined || value === '') return '';
  if (typeof value !== 'string') throw new ConfigError(`${where}: basePath must be a string (a path such as "/docs")`);
  if (value === '/') throw new ConfigError(`${where}: basePath "/" is not allowed; leave it unset to serve the site at the root`);
  if (!value.startsWith('/')) throw new ConfigError(`${where}: basePath ${JSON.stringify(value)} must start with /`);
  if (value.endsWith('/')) throw new ConfigError(`${where}: basePath ${JSON.stringify(value)} must not end with /`);
  return value;
}

/**
 * Calls and checks `redirects`, `rewrites` and `headers` of next.config, with `basePath` put in.
 * @throws ConfigError naming the rule for a wrong shape.
 */
async function routingRules(config: Record<string, unknown>, where: string): Promise<RoutingRules> {
  const basePath = basePathOf(config.basePath, where);
  const rules: RoutingRules = {
    redirects: [],
    rewrites: { beforeFiles: [], afterFiles: [], fallback: [] },
    headers: [],
    trailingSlash: config.trailingSlash === true,
    basePath,
  };
  // Next.js's load-custom-routes: `basePath` in front of the source, and of a destination on the
  // site, unless the rule says `basePath: false` (`/` becomes `/docs`, not `/docs/`).
  const prefixed = <Rule extends { source: string; destination?: string }>(rule: Rule, own: Record<string, unknown>): Rule => {
    if (basePath === '' || own.basePath === false) return rule;
    const under = (path: string) => `${basePath}${path === '/' ? '' : path}`;
    const out = { ...rule, source: under(rule.source) };
    if (rule.destination?.startsWith('/')) out.destination = under(rule.destination);
    return out;
  };
  const redirects = await listOf(config.redirects);
  if (!Array.isArray(redirects)) throw new ConfigError(`${where}: redirects() must return an array`);
  rules.redirects = redirects.map((item, index) => {
    const at = `${where}: redirects[${index}]`;
    const base = ruleBase(item, at);
    const statusCode = base.statusCode ?? (base.permanent === true ? 308 : base.permanent === false ? 307 : undefined);
    if (!REDIRECT_STATUSES.has(statusCode as number)) throw new ConfigError(`${at} needs permanent: true or false (or a statusCode)`);
    const rule: RedirectRule = {
      source: base.source,
      destination: destinationOf(base, at),
      statusCode: statusCode as RedirectRule['statusCode'],
      has: base.has,
      missing: base.missing,
    };
    return prefixed(rule, base);
  });
  const rewrites = await listOf(config.rewrites);
  const phases = Array.isArray(rewrites) ? { afterFiles: rewrites } : isPlainObject(rewrites) ? rewrites : undefined;
  if (phases === undefined) throw new ConfigError(`${where}: rewrites() must return an array, or { beforeFiles, afterFiles, fallback }`);
  for (const phase of ['beforeFiles', 'afterFiles', 'fallback'] as const) {
    const list = phases[phase] ?? [];
    if (!Array.isArray(list)) throw new ConfigError(`${where}: rewrites().${phase} must be an array`);
    rules.rewrites[phase] = list.map((item, index) => {
      const at = `${where}: rewrites.${phase}[${index}]`;
      const base = ruleBase(item, at);
      const destination = destinationOf(base, at);
      if (basePath !== '' && base.basePath === false && !/^https?:\/\//.test(destination)) {
        throw new ConfigError(
          `${at} has basePath: false, so its destination must be another origin (http:// or https://), as Next.js requires`,
        );
      }
      return prefixed({ source: base.source, destination, has: base.has, missing: base.missing }, base);
    });
  }
  const headers = await listOf(config.headers);
  if (!Array.isArray(headers)) throw new ConfigError(`${where}: headers() must return an array`);
  rules.headers = headers.map((item, index) => {
    const at = `${where}: headers[${index}]`;
    const base = ruleBase(item, at);
    if (
      !Array.isArray(base.headers) ||
      !base.headers.every((h: unknown) => isPlainObject(h) && typeof h.key === 'string' && typeof h.value === 'string')
    ) {
      throw new ConfigError(`${at}.headers must be an array of { key, value } strings`);
    }
    return prefixed({ source: base.source, headers: base.headers as HeaderRule['headers'], has: base.has, missing: base.missing }, base);
  });
  return rules;
}

/**
 * Imports a config file; a TypeScript one is compiled first to a module beside it (so its relative
 * imports and packages resolve as from the original), removed afterwards.
 */
async function importConfig(file: string): Promise<unknown> {
  if (!/\.m?ts$/.test(file)) return ((await import(pathToFileURL(file).href)) as { default?: unknown }).default;
  const { readFile } = await import('node:fs/promises');
  const { code } = await transform(await readFile(file, 'utf8'), {
    loader: 'ts',
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcefile: file,
  });
  const compiled = path.join(path.dirname(file), `.next.config.isr-${process.pid}-${Date.now()}.mjs`);
  try {
    await writeFile(compiled, code);
    return ((await import(pathToFileURL(compiled).href)) as { default?: unknown }).default;
  } finally {
    await rm(compiled, { force: true });
  }
}

/**
 * Reads the site's next.config (if any) for `phase` (`phase-production-build`, as `next build`).
 * @throws ConfigError naming the file and the setting for a value isr does not implement or a bad
 *   one; Error when the file fails to load.
 */
export async function loadNextConfig(siteDir: string, phase = 'phase-production-build'): Promise<NextConfigUse> {
  const found = NEXT_CONFIG_FILES.find((name) => existsSync(path.join(siteDir, name)));
  if (found === undefined) {
    return {
      images: { ...DEFAULT_IMAGES },
      routing: NO_ROUTING_RULES,
      env: {},
      file: undefined,
      warnings: [],
      cacheComponents: false,
      useCache: false,
      cacheLife: BUILT_IN_PROFILES as CacheLifeProfiles,
      pageExtensions: undefined,
    };
  }
  let config = await importConfig(path.join(siteDir, found));
  if (typeof config === 'function') config = await (config as (phase: string, context: object) => unknown)(phase, { defaultConfig: {} });
  if (config === undefined || config === null) config = {};
  if (!isPlainObject(config)) throw new ConfigError(`${found} must export a configuration object (or a function returning one)`);
  const warnings: string[] = [];
  let images = { ...DEFAULT_IMAGES };
  const env: Record<string, string> = {};
  let cacheComponents = false;
  let pageExtensions: string[] | undefined;
  let useCache = false;
  let cacheLife = BUILT_IN_PROFILES as CacheLifeProfiles;
  for (const [key, value] of Object.entries(config)) {
    if (value === undefined) continue;
    if (key === 'images') images = resolveImagesConfig(value, found);
    else if (key === 'cacheComponents') {
      if (typeof value !== 'boolean') throw new ConfigError(`${found}: cacheComponents must be true or false`);
      cacheComponents = value;
    } else if (key === 'cacheLife') {
      try {
        cacheLife = resolveCacheLifeProfiles(value, found);
      } catch (error) {
        throw new ConfigError((error as Error).message);
      }
    } else if (key === 'redirects' || key === 'rewrites' || key === 'headers') {
      // Read below, all three together.
    } else if (key === 'env') {
      if (!isPlainObject(value)) throw new ConfigError(`${found}: env must map names to strings`);
      for (const [name, item] of Object.entries(value)) env[name] = String(item);
    } else if (key === 'pageExtensions') {
      pageExtensions = pageExtensionsOf(value, found);
    } else if (key === 'basePath') {
      // Read (and checked) by routingRules.
    } else if (key === 'trailingSlash') {
      if (typeof value !== 'boolean') throw new ConfigError(`${found}: trailingSlash must be true or false`);
      // Read by routingRules.
    } else if (Object.hasOwn(UNSUPPORTED, key)) {
      throw new ConfigError(`${found}: ${key} is not supported by isr; ${UNSUPPORTED[key]}`);
    } else if (TOOLING.has(key)) {
      // Next 15's flag for the 'use cache' directive, which Next 16 still honours.
      if (key === 'experimental' && isPlainObject(value) && value.useCache === true) useCache = true;
      const keys = key === 'experimental' && isPlainObject(value) ? Object.keys(value).map((name) => `experimental.${name}`) : [key];
      for (const name of keys) warnings.push(`${found}: ${name} tunes Next's own tooling; isr ignores it`);
    } else {
      warnings.push(`${found}: unknown setting ${key}; isr ignores it`);
    }
  }
  return {
    images,
    routing: await routingRules(config, found),
    env,
    file: found,
    warnings,
    cacheComponents,
    useCache: useCache || cacheComponents,
    cacheLife,
    pageExtensions,
  };
}
