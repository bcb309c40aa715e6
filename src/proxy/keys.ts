/**
 * The proxy's cache keys. A key is the request's `Host` (lower case), path and query — the query
 * kept whole, or only the keys a route rule's `allowQuery` names (Vercel's `allowQuery`) — plus,
 * for a resource whose responses vary (RFC 9110 §12.5.5 `Vary`, or a rule's `vary`), the values
 * of those request fields. A response is stored only under a key built with every field it
 * varies on: RFC 9111 §4.1 (a stored response is used only for requests whose nominated fields
 * match).
 *
 * What a resource varies on is learned from its responses and remembered here, per process (an
 * LRU of {@link MAX_LEARNED} resources); a response that varies on a field the key did not hold
 * is answered to its own client and not stored, and the next request is keyed right.
 * `Accept-Encoding` never splits a key: the proxy asks the origin for `identity` on every cache
 * fill.
 *
 * Also kept here: the resources recently found not storable ("hit-for-pass", as Varnish calls
 * it): their requests go to the origin directly for {@link PASS_TTL_MS}, each on its own, rather
 * than queueing behind one another's cache fill.
 */

import { parse as parseCookie } from 'cookie';
import { LRUCache } from 'lru-cache';
import type { RouteRule } from '../config/routes.ts';
import type { HeaderRecord } from '../http/shared-cache.ts';
import type { Milliseconds } from '../units.ts';

/** Resources whose `Vary` fields are remembered. */
export const MAX_LEARNED = 10_000;

/** How long a resource found not storable is passed to the origin directly, in milliseconds (Varnish's hit-for-miss default, 120 s). */
export const PASS_TTL_MS: Milliseconds = 120_000;

/** Fields that never split a key (see the module comment). */
const NOT_SPLITTING: ReadonlySet<string> = new Set(['accept-encoding']);

/** A request's resource: its base key and the target to request from the origin. */
export interface Resource {
  /** `host` + path + kept query: the key when nothing varies. */
  base: string;
  /** The origin-form target sent to the origin on a cache fill (the query filtered by `allowQuery`). */
  target: string;
}

/** Whether `text` holds an ASCII upper-case letter (host names are mostly sent in lower case). */
function hasUpperCase(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) return true;
  }
  return false;
}

/** One header's value as one string. */
function fieldValue(value: string | readonly string[] | undefined): string {
  if (value === undefined) return '';
  return typeof value === 'string' ? value : value.join(', ');
}

export class CacheKeys {
  readonly #varyOf = new LRUCache<string, readonly string[]>({ max: MAX_LEARNED });
  readonly #passing = new LRUCache<string, true>({ max: MAX_LEARNED, ttl: PASS_TTL_MS });

  /**
   * The resource of a request for `path` and `query` (the raw query string without `?`, or
   * empty) at `host`.
   */
  resource(host: string, path: string, query: string, rule: RouteRule | undefined): Resource {
    let kept = query;
    if (rule?.allowQuery !== undefined && query !== '') {
      const allowed = new Set(rule.allowQuery);
      kept = query
        .split('&')
        .filter((pair) => {
          const equals = pair.indexOf('=');
          const name = equals === -1 ? pair : pair.slice(0, equals);
          try {
            return allowed.has(decodeURIComponent(name.replaceAll('+', ' ')));
          } catch {
            return false;
          }
        })
        .join('&');
    }
    const target = kept === '' ? path : `${path}?${kept}`;
    return { base: this.plainBase(host, target), target };
  }

  /**
   * The base key of a request for the origin-form `target` (path and whole query) at `host`, when
   * no rule filters the query: what {@link resource} gives as `base` then, without the object.
   */
  plainBase(host: string, target: string): string {
    return `${hasUpperCase(host) ? host.toLowerCase() : host}${target}`;
  }

  /** The request fields a resource's key holds: the rule's `vary` and what its responses said. */
  varyOf(base: string, rule: RouteRule | undefined): readonly string[] {
    const learned = this.#varyOf.get(base);
    if (rule === undefined || rule.vary.length === 0) return learned ?? [];
    return learned === undefined ? rule.vary : [...new Set([...rule.vary, ...learned])];
  }

  /** Whether the fast path may answer `base` by its base key alone (nothing varies). */
  isPlain(base: string): boolean {
    return !this.#varyOf.has(base);
  }

  /**
   * The key of a request with `headers` for `base`: the base, then each field of `vary` with its
   * value (`cookie:<name>` the value of that cookie).
   */
  key(base: string, vary: readonly string[], headers: HeaderRecord): string {
    if (vary.length === 0) return base;
    let cookies: Record<string, string | undefined> | undefined;
    let key = base;
    for (const name of vary) {
      let value: string;
      if (name.startsWith('cookie:')) {
        cookies ??= parseCookie(fieldValue(headers.cookie));
        value = cookies[name.slice(7)] ?? '';
      } else {
        value = fieldValue(headers[name]).trim();
      }
      key += `\n${name}:${value}`;
    }
    return key;
  }

  /**
   * Whether a response varying on `fields` may be stored under a key that holds `held`; when not,
   * the fields are learned for `base`, so the next request is keyed on them.
   */
  covers(base: string, held: readonly string[], fields: readonly string[]): boolean {
    const missing = fields.filter((name) => !NOT_SPLITTING.has(name) && !held.includes(name));
    if (missing.length === 0) return true;
    const learned = this.#varyOf.get(base) ?? [];
    this.#varyOf.set(base, [...new Set([...learned, ...missing])].sort());
    return false;
  }

  /** Remembers that `base` was found not storable (hit-for-pass, {@link PASS_TTL_MS}). */
  markPassing(base: string): void {
    this.#passing.set(base, true);
  }

  /** Whether `base` was found not storable in the last {@link PASS_TTL_MS}. */
  isPassing(base: string): boolean {
    return this.#passing.has(base);
  }
}
