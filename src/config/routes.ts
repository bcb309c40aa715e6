/**
 * Route rules of `isr proxy` (the `routes` option): per path pattern, how to cache what an origin
 * sends when its headers say too little, or say it wrong. Checked once, when the configuration
 * loads; a rule that cannot be understood is refused with its index and field.
 *
 *   routes: [
 *     { source: '/blog/:slug', revalidate: 60, tags: ['posts'], allowQuery: ['page'] },
 *     { source: '/account/*rest', revalidate: false, bypass: { cookies: ['session'] } },
 *   ]
 *
 * `source` is a path pattern in `path-to-regexp`'s syntax (Express's and Next.js's `source`:
 * `:name` one segment, `*name` the rest, `{...}` optional). The first rule whose `source` matches
 * the request path applies; no rule, no change.
 * @see https://github.com/pillarjs/path-to-regexp
 * @see https://vercel.com/docs/incremental-static-regeneration (`allowQuery`, the bypass token)
 */

import { match } from 'path-to-regexp';
import type { Seconds } from '../units.ts';
import { ConfigError } from './errors.ts';

/** A checked route rule. */
export interface RouteRule {
  /** The pattern, as written. */
  source: string;
  /** Whether `path` (decoded, without query) matches `source`. */
  matches: (path: string) => boolean;
  /**
   * Seconds a response stays fresh; `false`: until purged; undefined: as the origin says.
   * `0` stores nothing (every request goes to the origin).
   */
  revalidate?: Seconds | false;
  /** Seconds past `revalidate` a stale response is served while one regeneration runs (RFC 5861 §3). */
  staleWhileRevalidate?: Seconds;
  /** Seconds past `revalidate` a stale response is served when the origin fails (RFC 5861 §4). */
  staleIfError?: Seconds;
  /** Purge tags added to every response of the route. */
  tags: string[];
  /**
   * The query keys that are part of the cache key; others are ignored (and not sent to the origin
   * on a regeneration), like Vercel's `allowQuery`. Undefined: the whole query is part of the key.
   */
  allowQuery?: string[];
  /**
   * Request header names (lower case) and cookies (`cookie:<name>`) whose values split the cache
   * key, for origins that vary on them without saying so in `Vary`.
   */
  vary: string[];
  /** A request with one of these cookies or headers skips the cache (passed to the origin as is). */
  bypass: { cookies: string[]; headers: string[] };
  /**
   * `true`: the rule's `revalidate`, windows and tags replace what the origin's headers say.
   * `false` (default): they apply only to a response whose headers say nothing about caching (no
   * `Cache-Control`, `CDN-Cache-Control`, `Surrogate-Control` or `Expires`); tags are always added.
   */
  override: boolean;
}

const FIELDS = ['source', 'revalidate', 'staleWhileRevalidate', 'staleIfError', 'tags', 'allowQuery', 'vary', 'bypass', 'override'];

/** A field name of a request header (RFC 9110 §5.1 token). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Checks the `routes` option: an array of rules as in the module comment (or its JSON text, from
 * `ISR_ROUTES`).
 * @returns the checked rules, in order.
 * @throws ConfigError naming the rule's index and the field at fault.
 */
export function parseRouteRules(value: unknown): RouteRule[] {
  let rules = value;
  if (typeof rules === 'string') {
    try {
      rules = JSON.parse(rules);
    } catch {
      throw new ConfigError('routes (ISR_ROUTES) must be an array of route rules (ISR_ROUTES: its JSON text)');
    }
  }
  if (!Array.isArray(rules)) throw new ConfigError('routes (ISR_ROUTES) must be an array of route rules');
  return rules.map((rule, index) => parseRule(rule, `routes[${index}]`));
}

function parseRule(value: unknown, where: string): RouteRule {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError(`${where} must be an object`);
  const raw = value as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (!FIELDS.includes(key)) throw new ConfigError(`${where}: unknown field "${key}" (known: ${FIELDS.join(', ')})`);
  }
  const { source } = raw;
  if (typeof source !== 'string' || !source.startsWith('/'))
    throw new ConfigError(`${where}.source must be a path pattern starting with "/"`);
  let matcher: (path: string) => unknown;
  try {
    matcher = match(source, { decode: false });
  } catch (error) {
    throw new ConfigError(`${where}.source ${JSON.stringify(source)} is not a valid pattern: ${(error as Error).message}`);
  }
  const rule: RouteRule = {
    source,
    matches: (path) => matcher(path) !== false,
    tags: strings(raw.tags, `${where}.tags`),
    vary: strings(raw.vary, `${where}.vary`).map((name) => varyName(name, `${where}.vary`)),
    bypass: bypassOf(raw.bypass, `${where}.bypass`),
    override: raw.override === undefined ? false : booleanOf(raw.override, `${where}.override`),
  };
  if (raw.revalidate === undefined) {
    // The windows and `override` qualify a rule's own revalidate: alone they would do nothing.
    for (const field of ['staleWhileRevalidate', 'staleIfError', 'override']) {
      if (raw[field] !== undefined) throw new ConfigError(`${where}.${field} needs ${where}.revalidate`);
    }
  }
  if (raw.revalidate !== undefined) rule.revalidate = raw.revalidate === false ? false : seconds(raw.revalidate, `${where}.revalidate`);
  if (raw.staleWhileRevalidate !== undefined)
    rule.staleWhileRevalidate = seconds(raw.staleWhileRevalidate, `${where}.staleWhileRevalidate`);
  if (raw.staleIfError !== undefined) rule.staleIfError = seconds(raw.staleIfError, `${where}.staleIfError`);
  if (raw.allowQuery !== undefined) rule.allowQuery = strings(raw.allowQuery, `${where}.allowQuery`);
  return rule;
}

function seconds(value: unknown, where: string): Seconds {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ConfigError(`${where} must be a non-negative number of seconds, got ${JSON.stringify(value)}`);
  }
  return value;
}

function booleanOf(value: unknown, where: string): boolean {
  if (typeof value !== 'boolean') throw new ConfigError(`${where} must be true or false`);
  return value;
}

function strings(value: unknown, where: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string' && item !== '')) {
    throw new ConfigError(`${where} must be an array of non-empty strings`);
  }
  return value as string[];
}

/** `accept-language` or `cookie:<name>`, lower-cased header names. */
function varyName(name: string, where: string): string {
  if (name.toLowerCase().startsWith('cookie:')) {
    if (name.length === 7) throw new ConfigError(`${where}: "${name}" names no cookie`);
    return `cookie:${name.slice(7)}`;
  }
  if (!TOKEN.test(name)) throw new ConfigError(`${where}: "${name}" is not a header name`);
  return name.toLowerCase();
}

function bypassOf(value: unknown, where: string): RouteRule['bypass'] {
  if (value === undefined) return { cookies: [], headers: [] };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(`${where} must be an object like {"cookies": ["__prerender_bypass"], "headers": ["x-bypass-token"]}`);
  }
  const raw = value as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (key !== 'cookies' && key !== 'headers') throw new ConfigError(`${where}: unknown field "${key}" (known: cookies, headers)`);
  }
  const headers = strings(raw.headers, `${where}.headers`);
  for (const name of headers) if (!TOKEN.test(name)) throw new ConfigError(`${where}.headers: "${name}" is not a header name`);
  return { cookies: strings(raw.cookies, `${where}.cookies`), headers: headers.map((name) => name.toLowerCase()) };
}
