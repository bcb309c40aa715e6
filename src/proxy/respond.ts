/**
 * The proxy's answers from stored entries: the origin's stored fields, `Age` (RFC 9111 §5.1 and
 * §4.2.3: the response's age on arrival plus the seconds since the entry was stored), `ETag` (the origin's, else the entry's own strong one),
 * `Content-Length` and `x-isr-cache`; a 304 when `If-None-Match` matches (RFC 9110 §13.1.2); no
 * content for HEAD. The heads are computed once per entry and second (Age changes each second),
 * so a HIT from memory costs what it does under `isr start`.
 */

import { etagMatches } from '../http/etag.ts';
import type { MemoryAnswer } from '../serve/fast-path.ts';
import type { CacheEntry } from '../store/store.ts';
import type { Milliseconds } from '../units.ts';

/** The stored field holding an entry's stale-if-error window (seconds); never sent to clients. */
export const STALE_IF_ERROR_FIELD = 'x-isr-stale-if-error';

/** The stored field holding an entry's age on arrival (the origin's `Age`, seconds), when above 0; never sent to clients. */
export const INITIAL_AGE_FIELD = 'x-isr-initial-age';

/** The proxy's own stored fields, kept from clients. */
const INTERNAL_FIELDS: ReadonlySet<string> = new Set([STALE_IF_ERROR_FIELD, INITIAL_AGE_FIELD]);

type Head = Record<string, string>;

interface Heads {
  /** The whole second (ms since the epoch / 1000) the heads below were made in. */
  second: number;
  /** By `x-isr-cache` state: the full head, and the same without `Content-Length` for a 304. */
  byState: Map<string, { full: Head; notModified: Head }>;
}

export class EntryHeads {
  readonly #heads = new WeakMap<CacheEntry, Heads>();

  /**
   * The answer with `entry` for a request: `state` as `x-isr-cache`, `now` (ms since the epoch)
   * for `Age`.
   * @param method `GET` or `HEAD`.
   * @param ifNoneMatch the request's raw `If-None-Match`, if any.
   */
  answer(entry: CacheEntry, state: string, method: string, ifNoneMatch: string | undefined, now: Milliseconds): MemoryAnswer {
    const second = Math.floor(now / 1000);
    let heads = this.#heads.get(entry);
    if (heads === undefined || heads.second !== second) {
      heads = { second, byState: new Map() };
      this.#heads.set(entry, heads);
    }
    let head = heads.byState.get(state);
    if (head === undefined) {
      const full: Head = {};
      for (const [name, value] of Object.entries(entry.value.headers)) if (!INTERNAL_FIELDS.has(name)) full[name] = value;
      full.etag ??= entry.etag;
      // Rounded: the engine's clock runs a few microseconds ahead of the wall to keep its times in order.
      const resident = Math.max(0, Math.round((now - entry.lastModified) / 1000));
      full.age = String(Number(entry.value.headers[INITIAL_AGE_FIELD] ?? 0) + resident);
      full['x-isr-cache'] = state;
      const { ...notModified } = full;
      full['content-length'] = String(entry.value.body.byteLength);
      head = { full, notModified };
      heads.byState.set(state, head);
    }
    const etag = head.full.etag!;
    if (ifNoneMatch !== undefined && entry.value.status === 200 && etagMatches(ifNoneMatch, etag)) {
      return { status: 304, headers: head.notModified, body: undefined };
    }
    const bodyless = method === 'HEAD' || entry.value.status === 204 || entry.value.status === 304;
    return { status: entry.value.status, headers: head.full, body: bodyless ? undefined : entry.value.body };
  }
}
