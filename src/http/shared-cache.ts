/**
 * The HTTP semantics of a shared cache in front of any origin (the coming `isr proxy`; no server uses it yet): whether a
 * response to a GET or HEAD may be stored and for how long, which tags purge it, which header
 * fields a proxy drops and adds, and how a stored entry is revalidated.
 *
 * The RFC 9111 rules (storability, freshness from `s-maxage`, `max-age` and `Expires`, `Age`,
 * `Authorization`, conditional requests) are `http-cache-semantics`'s (`CachePolicy`, with
 * `shared: true`); this module parses none of them again. It adds what a CDN-style cache needs on
 * top: the targeted fields of RFC 9213 (`CDN-Cache-Control`, then `Surrogate-Control`), Varnish's
 * refusal of responses that set a cookie, `Vary: *` refused outright, the RFC 5861 windows with a
 * default `stale-if-error`, purge tags from the headers CDNs and Next.js use, and the forwarding
 * fields of RFC 9110 §7.6.
 * @see https://github.com/kornelski/http-cache-semantics
 * @see https://www.rfc-editor.org/rfc/rfc9111 (HTTP Caching)
 * @see https://www.rfc-editor.org/rfc/rfc9213 (Targeted HTTP Cache Control)
 * @see https://www.rfc-editor.org/rfc/rfc5861 (stale-while-revalidate, stale-if-error)
 */

import CachePolicy from 'http-cache-semantics';
import type { Seconds } from '../units.ts';

/**
 * Header fields by lower-case name, as `node:http` gives them (`IncomingHttpHeaders`): a field
 * sent more than once may be an array (`set-cookie` always is).
 */
export type HeaderRecord = Readonly<Record<string, string | readonly string[] | undefined>>;

/** A request as the cache sees it: `method` in upper case, `url` the request target. */
export interface CacheRequest {
  method: string;
  url: string;
  headers: HeaderRecord;
}

/** A response from the origin: its status code and header fields. */
export interface CacheResponse {
  status: number;
  headers: HeaderRecord;
}

/** Options of {@link storagePolicy}. */
export interface StoragePolicyOptions {
  /**
   * Seconds past freshness during which a stored response may be served when the origin fails,
   * for a response that sends no `stale-if-error` of its own (RFC 5861 §4). Default 0.
   */
  defaultStaleIfError?: Seconds;
}

/** A response a shared cache may store, and the windows of its use (all in seconds). */
export interface Storable {
  storable: true;
  /**
   * Seconds the response stays fresh from now: its freshness lifetime (RFC 9111 §4.2.1) minus
   * its current age (the origin's `Age`, RFC 9111 §5.1). 0 means revalidate before each use.
   */
  revalidate: Seconds;
  /**
   * The response's age on arrival, whole seconds: the origin's `Age` (a cache behind the origin
   * held it that long). A cache adds the time it holds the response to it in the `Age` it sends
   * (RFC 9111 §4.2.3, §5.1).
   */
  age: Seconds;
  /** Seconds past freshness it may be served while one revalidation runs (RFC 5861 §3). */
  staleWhileRevalidate: Seconds;
  /** Seconds past freshness it may be served when revalidation fails (RFC 5861 §4). */
  staleIfError: Seconds;
  /** Purge tags, from {@link responseTags}. */
  tags: string[];
  /** The lower-case request field names the response varies on (RFC 9110 §12.5.5). */
  vary: string[];
}

/** A response a shared cache must not store, and why (one line, for logs and debug headers). */
export interface NotStorable {
  storable: false;
  reason: string;
}

/** The field that names the request headers a response varies on (RFC 9110 §12.5.5). */
const VARY = 'vary';

/**
 * The targeted cache-control fields this cache obeys, in order (RFC 9213 §2.1: the first with a
 * non-empty value replaces `Cache-Control` and `Expires` for this cache): `CDN-Cache-Control`
 * (RFC 9213 §3), then `Surrogate-Control` (Edge Architecture 1.0, as Fastly and Akamai read it:
 * https://www.w3.org/TR/edge-arch/, https://www.fastly.com/documentation/reference/http/http-headers/Surrogate-Control/).
 */
const TARGETED_FIELDS = ['cdn-cache-control', 'surrogate-control'] as const;

/**
 * Status codes `http-cache-semantics` stores only with explicit freshness (RFC 9110 §15.1: not
 * heuristically cacheable): understood by it, but not cacheable by default.
 */
const UNDERSTOOD_NOT_HEURISTIC: ReadonlySet<number> = new Set([302, 303, 307]);

/** Status codes `http-cache-semantics` can store at all (206 and 5xx are not among them). */
const UNDERSTOOD: ReadonlySet<number> = new Set([200, 203, 204, 300, 301, 302, 303, 307, 308, 404, 405, 410, 414, 501]);

/**
 * Hop-by-hop fields a proxy never forwards (RFC 9110 §7.6.1), besides those `Connection` names.
 * `Proxy-Connection` and `Keep-Alive` are the pre-HTTP/1.1 ones RFC 9110 §7.6.1 still names.
 */
const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'transfer-encoding',
  'upgrade',
  'proxy-authenticate',
  'proxy-authorization',
  'trailer',
]);

/** This cache's `Via` entry: protocol version and pseudonym (RFC 9110 §7.6.3). */
export const VIA = '1.1 isr';

/** One field's value as one string: an array (a field sent more than once) joined with `, `. */
function fieldValue(value: string | readonly string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value.join(', ');
}

/** The headers as `http-cache-semantics` reads them: one string per field. */
function flatten(headers: HeaderRecord): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const text = fieldValue(value);
    if (text !== undefined) flat[name] = text;
  }
  return flat;
}

/**
 * The response headers with the first non-empty targeted field (RFC 9213 §2.1) in place of
 * `Cache-Control`, and no `Expires` (the targeted field replaces both); unchanged when none is sent.
 */
function targetedHeaders(headers: Record<string, string>): { headers: Record<string, string>; source: string } {
  for (const name of TARGETED_FIELDS) {
    const value = headers[name]?.trim();
    if (value) {
      const { expires: _expires, ...rest } = headers;
      return { headers: { ...rest, 'cache-control': value }, source: name };
    }
  }
  return { headers, source: 'cache-control' };
}

/** The shared-cache `CachePolicy` of a request and response, with RFC 9213's field substituted. */
function policyFor(request: CacheRequest, response: CacheResponse): { policy: CachePolicy; source: string } {
  const { headers, source } = targetedHeaders(flatten(response.headers));
  const policy = new CachePolicy(
    { method: request.method, url: request.url, headers: flatten(request.headers) },
    { status: response.status, headers },
    { shared: true },
  );
  return { policy, source };
}

/** A delta-seconds directive value as `http-cache-semantics` reads one (`parseInt`), 0 when invalid. */
function deltaSeconds(value: string | undefined): Seconds {
  const n = value === undefined ? Number.NaN : Number.parseInt(value, 10);
  return Number.isFinite(n) && n > 0 ? n : 0;
}

/**
 * Decides whether a shared cache may store the origin's response to a GET or HEAD, and for how
 * long.
 *
 * The effective cache directives are the first non-empty of `CDN-Cache-Control` and
 * `Surrogate-Control`, each replacing `Cache-Control` and `Expires` for this cache (RFC 9213 §2.1),
 * else `Cache-Control`. On them, `http-cache-semantics` applies RFC 9111 §3 as a shared cache:
 * not stored are responses to other methods, with `no-store` (in the request or the response) or
 * `private`, to a request with `Authorization` unless the response says `public`, `s-maxage` or
 * `must-revalidate` (RFC 9111 §3.5), and with a status it does not understand or one not
 * heuristically cacheable (RFC 9110 §15.1) without explicit freshness. Freshness is `s-maxage`,
 * then `max-age`, then `Expires` minus `Date` (RFC 9111 §4.2.1; heuristic for a cacheable status
 * with `Last-Modified`, §4.2.2). This function also refuses `Vary: *` (RFC 9110 §12.5.5: no later
 * request can match it) and any `Set-Cookie` (Varnish's default, and `isr start`'s: one
 * visitor's cookie must never reach another;
 * https://varnish-cache.org/docs/trunk/users-guide/increasing-your-hitrate.html#cookies).
 *
 * `staleWhileRevalidate` and `staleIfError` come from the effective directives (RFC 5861 §3, §4;
 * `options.defaultStaleIfError` when the latter is absent); both are 0 under `no-cache`,
 * `must-revalidate` or `proxy-revalidate`, which forbid serving a stale response (RFC 9111 §4.2.4).
 *
 * @param request the request the response answers (lower-case header names).
 * @param response the origin's status and headers (lower-case names).
 * @returns `{ storable: true, revalidate, staleWhileRevalidate, staleIfError, tags, vary }`
 *   (seconds), or `{ storable: false, reason }`. Never throws.
 */
export function storagePolicy(request: CacheRequest, response: CacheResponse, options: StoragePolicyOptions = {}): Storable | NotStorable {
  const method = request.method.toUpperCase();
  if (method !== 'GET' && method !== 'HEAD') return refuse(`a response to ${method} is not stored`);
  const { policy, source } = policyFor(request, response);
  const { rescc, reqcc } = policy.toObject();
  if (!policy.storable()) {
    if (reqcc['no-store']) return refuse('the request says no-store');
    if (rescc['no-store']) return refuse(`${source} says no-store`);
    if (rescc.private) return refuse(`${source} says private`);
    if (request.headers.authorization !== undefined) {
      return refuse(`the request has Authorization and ${source} has none of public, s-maxage, must-revalidate`);
    }
    if (!UNDERSTOOD.has(response.status)) return refuse(`status ${response.status} is not stored by this cache`);
    if (UNDERSTOOD_NOT_HEURISTIC.has(response.status)) {
      return refuse(`status ${response.status} is not heuristically cacheable and the response has no explicit freshness`);
    }
    return refuse(`${source} does not allow a shared cache to store the response`);
  }
  if (response.headers['set-cookie'] !== undefined) return refuse('the response sets a cookie (Set-Cookie)');
  const vary = varyFields(response.headers);
  if (vary.includes('*')) return refuse('the response says Vary: *');

  const age = Math.max(0, Math.round(policy.age()));
  const revalidate = Math.max(0, Math.round(policy.maxAge() - policy.age()));
  const noStale = Boolean(rescc['no-cache'] || rescc['must-revalidate'] || rescc['proxy-revalidate']);
  const staleWhileRevalidate = noStale ? 0 : deltaSeconds(rescc['stale-while-revalidate']);
  const staleIfError = noStale
    ? 0
    : rescc['stale-if-error'] === undefined
      ? Math.max(0, options.defaultStaleIfError ?? 0)
      : deltaSeconds(rescc['stale-if-error']);
  return { storable: true, revalidate, age, staleWhileRevalidate, staleIfError, tags: responseTags(response.headers), vary };
}

function refuse(reason: string): NotStorable {
  return { storable: false, reason };
}

/** The lower-case field names of `Vary` (RFC 9110 §12.5.5), `*` included as sent. */
function varyFields(headers: HeaderRecord): string[] {
  const value = fieldValue(headers[VARY]);
  if (value === undefined) return [];
  return [
    ...new Set(
      value
        .split(',')
        .map((name) => name.trim().toLowerCase())
        .filter((name) => name !== ''),
    ),
  ];
}

/**
 * The purge tags a response carries: `Cache-Tag` (comma-separated, Cloudflare:
 * https://developers.cloudflare.com/cache/how-to/purge-cache/purge-by-tags/), `Surrogate-Key`
 * (space-separated, Fastly: https://www.fastly.com/documentation/reference/http/http-headers/Surrogate-Key/)
 * and `x-next-cache-tags` (comma-separated, what Next.js sends for a page's `fetch` and
 * `unstable_cache` tags). Each trimmed; empty ones dropped; each tag once, in order of appearance.
 * @param headers response headers by lower-case name.
 */
export function responseTags(headers: HeaderRecord): string[] {
  const tags = new Set<string>();
  const add = (name: string, separator: RegExp) => {
    const value = fieldValue(headers[name]);
    if (value === undefined) return;
    for (const tag of value.split(separator)) {
      const trimmed = tag.trim();
      if (trimmed !== '') tags.add(trimmed);
    }
  };
  add('cache-tag', /,/);
  add('surrogate-key', /\s+/);
  add('x-next-cache-tags', /,/);
  return [...tags];
}

/**
 * The headers without hop-by-hop fields (RFC 9110 §7.6.1): those {@link HOP_BY_HOP} lists and every
 * field the `Connection` header names.
 */
function withoutHopByHop(headers: HeaderRecord): Record<string, string | readonly string[]> {
  const named = new Set(
    (fieldValue(headers.connection) ?? '')
      .split(',')
      .map((name) => name.trim().toLowerCase())
      .filter((name) => name !== ''),
  );
  const kept: Record<string, string | readonly string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || named.has(name)) continue;
    kept[name] = value;
  }
  return kept;
}

/** `Via` with this cache's entry appended (RFC 9110 §7.6.3: each intermediary appends its own). */
function appendVia(headers: Record<string, string | readonly string[]>): void {
  const via = fieldValue(headers.via);
  headers.via = via ? `${via}, ${VIA}` : VIA;
}

/** Where a forwarded request came from, for the `X-Forwarded-*` fields. */
export interface ForwardedFrom {
  /** The client's IP address (the socket's `remoteAddress`). */
  clientAddress: string;
  /** The scheme the client used: `http` or `https`. */
  proto: string;
  /** The `Host` the client sent. */
  host: string;
}

/**
 * The request headers to send to the origin: hop-by-hop fields dropped (RFC 9110 §7.6.1:
 * `Connection` and the fields it names, `Keep-Alive`, `Proxy-Connection`, `TE`,
 * `Transfer-Encoding`, `Upgrade`, `Proxy-Authenticate`, `Proxy-Authorization`, `Trailer`), the
 * client's address appended to `X-Forwarded-For`, `X-Forwarded-Host` and `X-Forwarded-Proto` set
 * (replacing any the client sent), and `Via: 1.1 isr` appended (RFC 9110 §7.6.3). The `X-Forwarded-*`
 * fields are the de facto ones (https://developer.mozilla.org/en-US/docs/Web/HTTP/Reference/Headers/X-Forwarded-For);
 * an origin should trust only the last `X-Forwarded-For` entry, the one this proxy added.
 * @param headers the client's request headers by lower-case name; not modified.
 */
export function forwardRequestHeaders(headers: HeaderRecord, from: ForwardedFrom): Record<string, string | readonly string[]> {
  const forwarded = withoutHopByHop(headers);
  const prior = fieldValue(forwarded['x-forwarded-for']);
  forwarded['x-forwarded-for'] = prior ? `${prior}, ${from.clientAddress}` : from.clientAddress;
  forwarded['x-forwarded-host'] = from.host;
  forwarded['x-forwarded-proto'] = from.proto;
  appendVia(forwarded);
  return forwarded;
}

/**
 * The response headers to send to the client: hop-by-hop fields dropped as in
 * {@link forwardRequestHeaders} (RFC 9110 §7.6.1) and `Via: 1.1 isr` appended (RFC 9110 §7.6.3).
 * @param headers the origin's response headers by lower-case name; not modified.
 */
export function forwardResponseHeaders(headers: HeaderRecord): Record<string, string | readonly string[]> {
  const forwarded = withoutHopByHop(headers);
  appendVia(forwarded);
  return forwarded;
}

/**
 * The request headers for revalidating a stored entry (RFC 9111 §4.3.1): the new request's headers
 * without hop-by-hop fields, with `If-None-Match` from the stored `ETag` and `If-Modified-Since`
 * from its `Last-Modified` (only a strong ETag and no `If-Modified-Since` for other than a plain
 * GET), from `http-cache-semantics`' `revalidationHeaders`. No validator is added when the new
 * request is for another URL or host, or when the stored response was not storable.
 * @param storedRequest the request the stored response answered.
 * @param storedResponse the stored response's status and headers.
 * @param newRequest the request that found the entry stale.
 */
export function revalidationHeaders(
  storedRequest: CacheRequest,
  storedResponse: CacheResponse,
  newRequest: CacheRequest,
): Record<string, string> {
  const { policy } = policyFor(storedRequest, storedResponse);
  const headers = policy.revalidationHeaders({ method: newRequest.method, url: newRequest.url, headers: flatten(newRequest.headers) });
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const text = fieldValue(value);
    if (text !== undefined) result[name] = text;
  }
  return result;
}
