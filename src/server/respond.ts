/**
 * Responding with a cache entry: the response head of a stored page (and of its data
 * representation and fallback page), computed once per entry and kept as long as the entry in ONE
 * `WeakMap`; conditional requests (`If-None-Match` → 304, RFC 9110 §13.1.2); HEAD (the head of a
 * GET without its content, RFC 9110 §9.3.2); and the plain-text answers the handler makes itself.
 *
 * Response headers of cached pages (RFC 9111 §5.2.2.10 `s-maxage`, RFC 5861 §3
 * `stale-while-revalidate`; the values Next.js sends, "Incremental Static Regeneration",
 * https://nextjs.org/docs/app/guides/incremental-static-regeneration):
 *
 *   Cache-Control: s-maxage=<revalidate>, stale-while-revalidate=<expire - revalidate>
 *   ETag, Content-Length, x-isr-cache: HIT | STALE | MISS (Next.js's `x-nextjs-cache`)
 *
 * A 404 entry and anything rendered per request get `Cache-Control: private, no-cache, no-store,
 * max-age=0, must-revalidate` (`NO_STORE`): a page created later must not hide behind a cached 404.
 */

import type { Served } from '../engine/engine.ts';
import { cacheControl, NO_STORE } from '../http/cache-control.ts';
import { etagMatches, representationEtag } from '../http/etag.ts';
import type { MemoryAnswer } from '../serve/fast-path.ts';
import { storedBodyResponse } from '../serve/stored-body.ts';
import type { CacheEntry, CacheValue } from '../store/store.ts';
import type { Seconds } from '../units.ts';

type Head = Record<string, string>;

/** The media type of each data representation: JSON, and React's RSC payload (`text/x-component`, as Next.js sends it). */
const DATA_TYPES = { json: 'application/json; charset=utf-8', rsc: 'text/x-component' } as const;

/**
 * The response heads of one entry, each made on first use. An entry is immutable, so they hold
 * as long as it does; `expireTime` is the only other input, fixed per {@link EntryResponses}.
 */
interface EntryHeads {
  /** The page: its stored headers, `Cache-Control`, `ETag`, `Content-Length`. */
  page?: Head;
  /** By state: `page` plus `x-isr-cache: HIT` or `STALE`, and the same without `Content-Length` for a 304 (the memory fast path). */
  memory?: Partial<Record<MemoryState, { full: Head; notModified: Head }>>;
  /** The data representation (a Pages Router page's JSON, an App Router page's RSC payload): the page's `Cache-Control`, an ETag of its own. */
  data?: Head & { etag: string };
  /** The entry as a fallback page (`fallback: true`): never kept downstream, `x-isr-cache: FALLBACK`. */
  fallback?: Head;
}

/** What an answer from memory says of its entry in `x-isr-cache`. */
export type MemoryState = 'HIT' | 'STALE';

/** A copy of `headers` without `content-length`: the head of a 304 (RFC 9110 §15.4.5). */
function notModifiedHead(headers: Head): Head {
  const { 'content-length': _length, ...notModified } = headers;
  return notModified;
}

/**
 * The answers made from stored entries, with their heads computed once per entry.
 */
export class EntryResponses {
  /** The one per-entry cache of response heads (a WeakMap: it goes when the entry goes). */
  private readonly heads = new WeakMap<CacheEntry, EntryHeads>();

  /**
   * @param expireTime seconds after generation during which a stale entry may still be served
   *   (`stale-while-revalidate` = expire − revalidate, expire the lower of this and the entry's
   *   own: a `cacheLife` expire, or the expireTime it was generated under).
   */
  constructor(private readonly expireTime: Seconds) {}

  private headsOf(entry: CacheEntry): EntryHeads {
    let heads = this.heads.get(entry);
    if (heads === undefined) {
      heads = {};
      this.heads.set(entry, heads);
    }
    return heads;
  }

  private cacheControlOf(entry: CacheEntry): string {
    // 404s stay out of downstream caches: a page created later must not be hidden behind one.
    return entry.value.status === 404 ? NO_STORE : cacheControl(entry.revalidate, Math.min(this.expireTime, entry.expire));
  }

  private pageHead(entry: CacheEntry): Head {
    const heads = this.headsOf(entry);
    heads.page ??= {
      ...entry.value.headers,
      'cache-control': this.cacheControlOf(entry),
      etag: entry.etag,
      'content-length': String(entry.value.body.byteLength),
    };
    return heads.page;
  }

  /**
   * The answer for a served page or route-handler response: a `DYNAMIC` one as rendered
   * ({@link dynamicResponse}); otherwise the entry with its head and `x-isr-cache: <state>`, a 304
   * when the entry is a 200 and `If-None-Match` matches its ETag, no content for HEAD and for
   * stored 204 and 304 responses.
   */
  page(served: Served, request: Request): Response {
    const { entry, state } = served;
    if (state === 'DYNAMIC') return dynamicResponse(entry.value, request);
    const headers: Head = { ...this.pageHead(entry), 'x-isr-cache': state };
    if (entry.value.status === 200 && etagMatches(request.headers.get('if-none-match'), entry.etag)) {
      return new Response(null, { status: 304, headers: notModifiedHead(headers) });
    }
    const bodyless = request.method === 'HEAD' || entry.value.status === 304 || entry.value.status === 204;
    return storedBodyResponse(bodyless ? null : entry.value.body, { status: entry.value.status, headers });
  }

  /**
   * The answer from memory (`RequestHandler.fromMemory`) for a fresh entry (`HIT`) or a stale one
   * whose regeneration is running (`STALE`): what {@link page} answers then, its page head plus
   * `x-isr-cache: <state>`, the same objects for every request; a 304 when the entry is a 200 and
   * `ifNoneMatch` matches its ETag.
   * @param method `GET` or `HEAD` (HEAD: no body).
   * @param ifNoneMatch the raw `If-None-Match` field value, if any.
   */
  fromMemory(entry: CacheEntry, state: MemoryState, method: string, ifNoneMatch: string | undefined): MemoryAnswer {
    const memory = (this.headsOf(entry).memory ??= {});
    let head = memory[state];
    if (head === undefined) {
      const full: Head = { ...this.pageHead(entry), 'x-isr-cache': state };
      memory[state] = head = { full, notModified: notModifiedHead(full) };
    }
    if (ifNoneMatch !== undefined && entry.value.status === 200 && etagMatches(ifNoneMatch, entry.etag)) {
      return { status: 304, headers: head.notModified, body: undefined };
    }
    const bodyless = method === 'HEAD' || entry.value.status === 304 || entry.value.status === 204;
    return { status: entry.value.status, headers: head.full, body: bodyless ? undefined : entry.value.body };
  }

  /**
   * The answer for a data-route request from the page's entry: a Pages Router page's props
   * (`/_isr/data/<buildId>/<path>.json`, `format` `json`) or an App Router page's RSC payload
   * (`<path>.rsc`, `format` `rsc`, what client navigation fetches): 200 with `entry.value.data`
   * (empty if absent), or 404 for a page whose `getStaticProps` returned `notFound` (or that called
   * `notFound()`). The ETag is the page's with the format inside the quotes, so the two
   * representations never share one (RFC 9110 §8.8.3); 304 as for {@link page}.
   */
  data(served: Served, request: Request, format: 'json' | 'rsc' = 'json'): Response {
    const { entry, state } = served;
    const heads = this.headsOf(entry);
    heads.data ??= {
      'content-type': DATA_TYPES[format],
      'cache-control': this.cacheControlOf(entry),
      etag: representationEtag(entry.etag, format),
      'content-length': String(entry.value.data?.byteLength ?? 0),
    };
    const headers: Head = { ...heads.data, 'x-isr-cache': state };
    const status = entry.value.status === 404 ? 404 : 200;
    if (status === 200 && etagMatches(request.headers.get('if-none-match'), heads.data.etag)) {
      return new Response(null, { status: 304, headers: notModifiedHead(headers) });
    }
    return storedBodyResponse(request.method === 'HEAD' ? null : (entry.value.data ?? new Uint8Array(0)), { status, headers });
  }

  /**
   * The answer with a route's fallback page (`getStaticPaths` with `fallback: true`, "fallback:
   * true", https://nextjs.org/docs/pages/api-reference/functions/get-static-paths#fallback-true):
   * 200, `Cache-Control: no-store…` (it stands in for one request's page), `x-isr-cache: FALLBACK`.
   */
  fallback(entry: CacheEntry, request: Request): Response {
    const heads = this.headsOf(entry);
    heads.fallback ??= {
      ...entry.value.headers,
      'cache-control': NO_STORE,
      'x-isr-cache': 'FALLBACK',
      'content-length': String(entry.value.body.byteLength),
    };
    return storedBodyResponse(request.method === 'HEAD' ? null : entry.value.body, { status: 200, headers: heads.fallback });
  }
}

/** A response rendered for this request only: never stored, `Cache-Control: no-store…` (`NO_STORE`); no body for HEAD. */
export function dynamicResponse(value: CacheValue, request: Request): Response {
  return new Response(request.method === 'HEAD' ? null : (value.body as Uint8Array<ArrayBuffer>), {
    status: value.status,
    headers: { ...value.headers, 'cache-control': NO_STORE },
  });
}

/**
 * A plain-text answer the handler makes itself (400, 404, 405…): `<message>\n`,
 * `text/plain; charset=utf-8`, never stored; `headers` are added (e.g. `allow`, `connection`).
 */
export function textResponse(status: number, message: string, headers: Record<string, string> = {}): Response {
  return new Response(`${message}\n`, {
    status,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': NO_STORE, ...headers },
  });
}
