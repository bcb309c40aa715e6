/**
 * What the proxy does with one origin response to a GET: store it (for how long, with which tags,
 * varying on which request fields) or pass it to its client only. The HTTP rules are
 * `storagePolicy`'s (http/shared-cache.ts: RFC 9111, RFC 9213, RFC 5861); a route rule
 * (config/routes.ts) fills in what the origin left unsaid, or overrides it.
 */

import type { RouteRule } from '../config/routes.ts';
import { type HeaderRecord, responseTags, storagePolicy } from '../http/shared-cache.ts';
import type { Seconds } from '../units.ts';

/** A response to store. */
export interface Store {
  storable: true;
  /** Seconds fresh from now; `false`: until purged. */
  revalidate: Seconds | false;
  /** Its age on arrival (the origin's `Age`), whole seconds: the `Age` sent adds the time stored (RFC 9111 §4.2.3). */
  age: Seconds;
  /** Seconds past `revalidate` it is served while one regeneration runs (RFC 5861 §3). */
  staleWhileRevalidate: Seconds;
  /** Seconds past `revalidate` it is served when the origin fails (RFC 5861 §4). */
  staleIfError: Seconds;
  /** Purge tags: the origin's, then the rule's. */
  tags: string[];
  /** Lower-case request field names it varies on (`Vary`, and the rule's `vary`). */
  vary: string[];
}

/** A response to pass to its own client only, and why. */
export interface Pass {
  storable: false;
  reason: string;
}

/** The fields that say something about caching: without any, a route rule fills in. */
const CACHING_FIELDS = ['cache-control', 'cdn-cache-control', 'surrogate-control', 'expires'];

/**
 * Decides whether to store the origin's `response` to `request` (a GET), under `rule` if one
 * matches the path.
 *
 * Without a rule: `storagePolicy` with `defaultStaleIfError`. With a rule whose `override` is
 * true, or when the response has none of `Cache-Control`, `CDN-Cache-Control`,
 * `Surrogate-Control` and `Expires`: the rule's `revalidate` (`0` stores nothing), windows and
 * tags, provided nothing else forbids storing (`Set-Cookie`, `Vary: *`, `Authorization` of the
 * request, a status other than 2xx, 301, 308, 404 and 410). The rule's tags and `vary` are
 * always added.
 * @param defaultStaleIfError seconds of stale-if-error for responses that name none.
 */
export function decide(
  request: { url: string; headers: HeaderRecord },
  response: { status: number; headers: HeaderRecord },
  rule: RouteRule | undefined,
  defaultStaleIfError: Seconds,
): Store | Pass {
  const said = CACHING_FIELDS.some((name) => response.headers[name] !== undefined);
  if (rule?.revalidate !== undefined && (rule.override || !said)) {
    if (rule.revalidate === 0) return { storable: false, reason: `route rule ${rule.source} says revalidate: 0` };
    // What forbids storing whatever the freshness: decided by storagePolicy on a long-lived copy.
    const probe = storagePolicy(
      { method: 'GET', url: request.url, headers: request.headers },
      { status: RULE_STATUSES.has(response.status) ? 200 : response.status, headers: ruleHeaders(response.headers) },
    );
    if (!probe.storable) return probe;
    if (!RULE_STATUSES.has(response.status)) return { storable: false, reason: `status ${response.status} is not stored by a route rule` };
    return {
      storable: true,
      revalidate: rule.revalidate,
      age: probe.age,
      staleWhileRevalidate: rule.staleWhileRevalidate ?? 0,
      staleIfError: rule.staleIfError ?? defaultStaleIfError,
      tags: [...new Set([...responseTags(response.headers), ...rule.tags])],
      vary: [...new Set([...probe.vary, ...rule.vary])],
    };
  }
  const policy = storagePolicy(
    { method: 'GET', url: request.url, headers: request.headers },
    { status: response.status, headers: response.headers },
    { defaultStaleIfError },
  );
  if (!policy.storable) return policy;
  if (policy.revalidate === 0 && policy.staleWhileRevalidate === 0) {
    // Fresh for no time and never served stale: storing it would only ever cost a write.
    return { storable: false, reason: 'the response is stale on arrival (max-age=0 or no-cache) and has no stale-while-revalidate' };
  }
  return {
    storable: true,
    revalidate: policy.revalidate,
    age: policy.age,
    staleWhileRevalidate: policy.staleWhileRevalidate,
    staleIfError: policy.staleIfError,
    tags: rule === undefined ? policy.tags : [...new Set([...policy.tags, ...rule.tags])],
    vary: rule === undefined ? policy.vary : [...new Set([...policy.vary, ...rule.vary])],
  };
}

/** Statuses a route rule stores (RFC 9110 §15.1 heuristically cacheable, and the 2xx a page answers). */
const RULE_STATUSES: ReadonlySet<number> = new Set([200, 203, 204, 300, 301, 308, 404, 410]);

/** The response's headers with its caching fields replaced by a long-lived `public` one (the rule decides the lifetime). */
function ruleHeaders(headers: HeaderRecord): HeaderRecord {
  const copy: Record<string, string | readonly string[] | undefined> = { ...headers };
  for (const name of CACHING_FIELDS) delete copy[name];
  copy['cache-control'] = 'public, max-age=31536000';
  return copy;
}
