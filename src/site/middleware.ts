/**
 * A site's middleware as the build records it and the server runs it: which export is the
 * function, and the paths its `config.matcher` covers. Next.js's rules
 * (https://nextjs.org/docs/app/api-reference/file-conventions/proxy#matcher): a matcher is a path
 * pattern in path-to-regexp 6 syntax (`/about/:path*`, `/((?!api|_next/static).*)`), a list of
 * them, or objects `{ source, has, missing }`; it is compiled as Next compiles it (not strict, so
 * a trailing slash is allowed; case-sensitive) and tested against the request's path. Without a
 * matcher the middleware runs for every path.
 */

import { pathToRegexp } from 'path-to-regexp-v6';
import { ConfigError } from '../config/errors.ts';
import { conditions, type RouteCondition } from '../config/next-config.ts';

/** The two file conventions: `proxy` (Next.js 16's name, preferred) and `middleware` (deprecated there, still run). */
export type MiddlewareConvention = 'proxy' | 'middleware';

/** One compiled matcher, as the manifest keeps it. */
export interface MiddlewareMatcher {
  /** The pattern as written (`/home/:path*`). */
  source: string;
  /** The regular expression it compiles to, tested against the request's path. */
  regexp: string;
  has?: RouteCondition[];
  missing?: RouteCondition[];
}

/** The manifest's record of a site's middleware. */
export interface ManifestMiddleware {
  /** Source file, relative to the site folder (`middleware.ts`, `proxy.ts`). */
  file: string;
  /** Compiled module, relative to the build folder. */
  module: string;
  /** The export that is the function: `default`, `middleware` or `proxy`. */
  export: string;
  matchers: MiddlewareMatcher[];
}

/** The matcher of a middleware without `config.matcher`: every path. */
const EVERY_PATH: MiddlewareMatcher = { source: '/:path*', regexp: '^/.*$' };

/** Longest matcher source Next.js accepts, in characters. */
const MAX_SOURCE_LENGTH = 4096;

/** The keys of `config` a middleware may export; `runtime`, `regions` and `unstable_allowDynamic` are checked by {@link checkMiddlewareModule}. */
const CONFIG_KEYS = new Set(['matcher', 'runtime', 'regions', 'unstable_allowDynamic']);

/**
 * Compiles `config.matcher` of `file`.
 * @throws ConfigError naming the file and the matcher for a wrong shape or a pattern
 *   path-to-regexp cannot parse.
 */
export function compileMatchers(matcher: unknown, file: string): MiddlewareMatcher[] {
  if (matcher === undefined) return [EVERY_PATH];
  const list = Array.isArray(matcher) ? matcher : [matcher];
  if (list.length === 0)
    throw new ConfigError(`${file}: config.matcher is an empty list (leave it out to run the middleware for every path)`);
  return list.map((item: unknown, index) => {
    const where = `${file}: config.matcher${Array.isArray(matcher) ? `[${index}]` : ''}`;
    const entry = typeof item === 'string' ? { source: item } : item;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw new ConfigError(`${where} must be a path pattern or { source, has, missing }`);
    }
    const { source, has, missing, locale, ...rest } = entry as Record<string, unknown>;
    if (typeof source !== 'string' || !source.startsWith('/')) throw new ConfigError(`${where}: the source must be a path starting with /`);
    if (source.length > MAX_SOURCE_LENGTH) throw new ConfigError(`${where}: the source is longer than ${MAX_SOURCE_LENGTH} characters`);
    if (locale !== undefined && locale !== false) throw new ConfigError(`${where}.locale: i18n routing is not supported by isr`);
    const unknown = Object.keys(rest);
    if (unknown.length > 0) throw new ConfigError(`${where}: unknown key ${unknown.join(', ')} (a matcher has source, has and missing)`);
    let regexp: string;
    try {
      regexp = pathToRegexp(source).source;
    } catch (error) {
      throw new ConfigError(`${where}: "${source}" is not a valid path pattern (${(error as Error).message})`);
    }
    return {
      source,
      regexp,
      ...(has === undefined ? {} : { has: conditions(has, `${where}.has`) }),
      ...(missing === undefined ? {} : { missing: conditions(missing, `${where}.missing`) }),
    };
  });
}

/** What the build learns from a middleware module: its function's export, matchers and warnings. */
export interface CheckedMiddleware {
  export: string;
  matchers: MiddlewareMatcher[];
  warnings: string[];
}

/**
 * Checks a loaded middleware module as `next build` does: `middleware.ts` exports a function as
 * `default` or `middleware`, `proxy.ts` as `default` or `proxy`; `config` holds only what isr
 * knows. `runtime: 'edge'` (the default of `middleware.ts` under Next.js) is a warning: isr runs
 * the middleware on Node.js, which has every Web API the Edge runtime has. `regions` (a
 * deployment setting of Vercel's) and `unstable_allowDynamic` (relaxes an Edge check) are ignored
 * with a warning.
 * @throws ConfigError naming the file for a missing function, a `runtime` other than `nodejs` or
 *   `edge`, `runtime` in `proxy.ts` (Next.js 16 refuses it), an unknown config key or a bad matcher.
 */
export function checkMiddlewareModule(module: Record<string, unknown>, file: string, convention: MiddlewareConvention): CheckedMiddleware {
  const name = typeof module.default === 'function' ? 'default' : typeof module[convention] === 'function' ? convention : undefined;
  if (name === undefined) {
    throw new ConfigError(`${file} must export a function named \`${convention}\` or a default function`);
  }
  const config = module.config;
  if (config === undefined) return { export: name, matchers: compileMatchers(undefined, file), warnings: [] };
  if (typeof config !== 'object' || config === null) throw new ConfigError(`${file}: config must be an object ({ matcher })`);
  const warnings: string[] = [];
  const settings = config as Record<string, unknown>;
  for (const key of Object.keys(settings)) {
    if (!CONFIG_KEYS.has(key))
      throw new ConfigError(`${file}: config.${key} is not a middleware setting (known: ${[...CONFIG_KEYS].join(', ')})`);
  }
  const { runtime } = settings;
  if (runtime !== undefined) {
    if (convention === 'proxy') {
      throw new ConfigError(`${file}: config.runtime is not allowed in proxy.ts (a proxy always runs on Node.js): remove it`);
    }
    if (runtime === 'edge' || runtime === 'experimental-edge') {
      warnings.push(
        `${file}: config.runtime '${runtime}': isr runs the middleware on Node.js (every Web API of the Edge runtime is there)`,
      );
    } else if (runtime !== 'nodejs') {
      throw new ConfigError(`${file}: config.runtime must be 'nodejs' or 'edge', not ${JSON.stringify(runtime)}`);
    }
  }
  for (const key of ['regions', 'unstable_allowDynamic'] as const) {
    if (settings[key] !== undefined) warnings.push(`${file}: config.${key} is ignored by isr (it applies to Vercel's Edge runtime)`);
  }
  return { export: name, matchers: compileMatchers(settings.matcher, file), warnings };
}
