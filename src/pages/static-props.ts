/**
 * The Pages Router's data functions (Next.js Pages Router ISR guide,
 * https://nextjs.org/docs/pages/guides/incremental-static-regeneration;
 * `getStaticProps`, https://nextjs.org/docs/pages/api-reference/functions/get-static-props;
 * `getStaticPaths`, https://nextjs.org/docs/pages/api-reference/functions/get-static-paths): the
 * shapes a page module exports, and the checks that turn what
 * site code returned into something the engine can store — or into an error that names the page
 * and says what to change.
 */

import type { ComponentType } from 'react';
import { REDIRECT_STATUSES } from '../http/response-head.ts';
import type { Params } from '../render/routes.ts';
import type { Seconds } from '../units.ts';
import type { NextRouter } from './router.ts';

/** What `getStaticProps` receives. `params` is present for dynamic routes only. */
export interface StaticPropsContext {
  params?: Params;
  /** Why this generation runs: at build, a stale page's background regeneration, or `res.revalidate`. */
  revalidateReason: 'build' | 'stale' | 'on-demand';
  preview: false;
  draftMode: false;
}

/** A Pages Router page module (`pages/**` except `api/`). */
export interface PagesPageModule {
  default?: unknown;
  getStaticProps?: (context: StaticPropsContext) => unknown;
  getStaticPaths?: () => unknown;
  getServerSideProps?: unknown;
  getInitialProps?: unknown;
}

/** `pages/_app`: wraps every page, given Next.js's `AppProps` (the page, its props and the router). */
export interface PagesAppModule {
  default?: ComponentType<{ Component: ComponentType<Record<string, unknown>>; pageProps: Record<string, unknown>; router: NextRouter }>;
}

/** `getStaticPaths`' `fallback`: what a path it did not list gets. */
export type FallbackMode = false | true | 'blocking';

/** A checked `getStaticProps` result. Seconds for `revalidate`; `false` = until revalidated on demand. */
export type StaticPropsResult =
  | { type: 'props'; props: Record<string, unknown>; revalidate: Seconds | false }
  | { type: 'notFound'; revalidate: Seconds | false }
  | { type: 'redirect'; destination: string; status: 301 | 302 | 303 | 307 | 308; revalidate: Seconds | false; basePath?: false };

/**
 * Checks a `revalidate` returned by `getStaticProps`: a whole number of seconds ≥ 1, `false` or
 * absent (no time-based revalidation), or `true` (1 second, as Next.js reads it).
 * @throws TypeError naming the page otherwise (Next.js refuses 0, negative and fractional values:
 *   a page that must never be stale is not a static page).
 */
export function checkedStaticPropsRevalidate(value: unknown, pattern: string): number | false {
  if (value === undefined || value === false) return false;
  if (value === true) return 1;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TypeError(`${pattern}: getStaticProps returned revalidate ${JSON.stringify(value)}; use a whole number of seconds or false`);
  }
  if (value <= 0) {
    throw new TypeError(
      `${pattern}: getStaticProps returned revalidate ${value}; it must be at least 1 second ` +
        '(a page that must be rendered for every request is not a static page)',
    );
  }
  if (!Number.isInteger(value)) {
    throw new TypeError(`${pattern}: getStaticProps returned revalidate ${value}; use a whole number of seconds`);
  }
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Checks that `props` survive a JSON round trip unchanged, as the data route sends them: plain
 * objects, arrays, strings, finite numbers, booleans and null.
 * @throws TypeError naming the page and the path of the first value that does not (Next.js:
 *   "Error serializing `.post.date` returned from `getStaticProps`"), e.g. `undefined`, a Date,
 *   a function, NaN, a class instance.
 */
export function checkSerializable(props: Record<string, unknown>, pattern: string): void {
  const seen = new Set<object>();
  const walk = (value: unknown, where: string): void => {
    const fail = (reason: string): never => {
      throw new TypeError(`${pattern}: error serializing \`${where || '(props)'}\` returned from getStaticProps: ${reason}`);
    };
    if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) fail(`${value} cannot be serialized as JSON`);
      return;
    }
    if (value === undefined) fail('`undefined` cannot be serialized as JSON; use `null` or omit the value');
    if (typeof value !== 'object') fail(`a ${typeof value} cannot be serialized as JSON`);
    const object = value as object;
    if (seen.has(object)) fail('circular structure');
    seen.add(object);
    if (Array.isArray(object)) {
      for (const [index, item] of object.entries()) walk(item, `${where}[${index}]`);
    } else if (isPlainObject(object)) {
      for (const [key, item] of Object.entries(object)) walk(item, `${where}.${key}`);
    } else {
      fail(`a ${object.constructor?.name ?? 'non-plain'} object cannot be serialized as JSON; convert it (a Date with toISOString())`);
    }
    seen.delete(object);
  };
  walk(props, '');
}

/**
 * Checks what `getStaticProps` resolved to: exactly one of `{ props }`, `{ notFound: true }` or
 * `{ redirect: { destination, permanent | statusCode } }`, each with an optional `revalidate`.
 * @throws TypeError naming the page for any other shape, extra keys, props that are not
 *   JSON-serializable, or an invalid redirect or revalidate.
 */
export function checkStaticPropsResult(result: unknown, pattern: string): StaticPropsResult {
  if (!isPlainObject(result)) {
    throw new TypeError(
      `${pattern}: getStaticProps must return an object with props, notFound or redirect, got ${result === null ? 'null' : typeof result}`,
    );
  }
  const extra = Object.keys(result).filter((key) => !['props', 'notFound', 'redirect', 'revalidate'].includes(key));
  if (extra.length > 0) {
    throw new TypeError(
      `${pattern}: getStaticProps returned additional keys (${extra.join(', ')}); props for the page must be nested under \`props\``,
    );
  }
  const revalidate = checkedStaticPropsRevalidate(result.revalidate, pattern);
  const has = (key: string) => result[key] !== undefined;
  if ([has('props'), result.notFound === true, has('redirect')].filter(Boolean).length > 1) {
    throw new TypeError(`${pattern}: getStaticProps must return only one of props, notFound and redirect`);
  }
  if (result.notFound === true) return { type: 'notFound', revalidate };
  if (has('redirect')) {
    const redirect = result.redirect;
    if (!isPlainObject(redirect) || typeof redirect.destination !== 'string' || redirect.destination.length === 0) {
      throw new TypeError(`${pattern}: getStaticProps returned a redirect without a destination string`);
    }
    let status: number;
    if (typeof redirect.statusCode === 'number') status = redirect.statusCode;
    else if (typeof redirect.permanent === 'boolean') status = redirect.permanent ? 308 : 307;
    else throw new TypeError(`${pattern}: getStaticProps returned a redirect without \`permanent\` (true or false) or \`statusCode\``);
    if (!REDIRECT_STATUSES.has(status)) {
      throw new TypeError(`${pattern}: redirect statusCode must be one of ${[...REDIRECT_STATUSES].join(', ')}, got ${status}`);
    }
    // `basePath: false`: the destination is written as given, without next.config's basePath.
    const unprefixed = redirect.basePath === false ? { basePath: false as const } : {};
    return {
      type: 'redirect',
      destination: redirect.destination,
      status: status as 301 | 302 | 303 | 307 | 308,
      revalidate,
      ...unprefixed,
    };
  }
  const props = result.props ?? {};
  if (!isPlainObject(props)) throw new TypeError(`${pattern}: getStaticProps must return props as a plain object`);
  checkSerializable(props, pattern);
  return { type: 'props', props, revalidate };
}

/**
 * Checks what `getStaticPaths` resolved to: `{ paths, fallback }`, where each path is a URL path
 * string (`'/blog/1'`) or `{ params }` with a string per `[id]` and an array per catch-all.
 * @returns the listed params or paths and the fallback mode.
 * @throws TypeError naming the page for another shape or a `fallback` other than `false`, `true`
 *   or `'blocking'`.
 */
export function checkStaticPathsResult(result: unknown, pattern: string): { paths: Array<string | Params>; fallback: FallbackMode } {
  if (!isPlainObject(result) || !Array.isArray(result.paths)) {
    throw new TypeError(`${pattern}: getStaticPaths must return { paths: [...], fallback }`);
  }
  const fallback = result.fallback;
  if (fallback !== false && fallback !== true && fallback !== 'blocking') {
    throw new TypeError(`${pattern}: getStaticPaths returned fallback ${JSON.stringify(fallback)}; use false, true or 'blocking'`);
  }
  const paths = result.paths.map((item: unknown, index: number): string | Params => {
    if (typeof item === 'string') return item;
    if (isPlainObject(item) && isPlainObject(item.params)) return item.params as Params;
    throw new TypeError(`${pattern}: getStaticPaths paths[${index}] must be a path string or { params: { ... } }`);
  });
  return { paths, fallback };
}

/** The data route's JSON for a result (the shape Next.js's `/_next/data/` answers carry). */
export function dataJson(result: StaticPropsResult): string {
  switch (result.type) {
    case 'props':
      return JSON.stringify({ pageProps: result.props, __N_SSG: true });
    case 'notFound':
      return JSON.stringify({ notFound: true });
    case 'redirect':
      return JSON.stringify({
        pageProps: {
          __N_REDIRECT: result.destination,
          __N_REDIRECT_STATUS: result.status,
          ...(result.basePath === false ? { __N_REDIRECT_BASE_PATH: false } : {}),
        },
        __N_SSG: true,
      });
  }
}
