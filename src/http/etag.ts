/**
 * Entity tags (RFC 9110 §8.8.3) and conditional requests (RFC 9110 §13.1.2): the tag isr gives a
 * body, and whether an `If-None-Match` matches it, with `fresh`.
 */

import { createHash } from 'node:crypto';
import fresh from 'fresh';

/**
 * The entity tag of a body (and of the data representation stored with it, if any): a quoted
 * base64url SHA-1 digest (RFC 9110 §8.8.3, strong).
 */
export function entityTag(body: Uint8Array, data?: Uint8Array): string {
  const hash = createHash('sha1').update(body);
  if (data !== undefined) hash.update('\0data\0').update(data);
  return `"${hash.digest('base64url')}"`;
}

/**
 * Whether an `If-None-Match` header value matches `etag`: `*`, or a comma-separated list holding
 * an entity tag equal to `etag` by the weak comparison (RFC 9110 §13.1.2: "A recipient MUST use
 * the weak comparison function when comparing entity tags for If-None-Match"; §8.8.3.2: the
 * opaque tags are equal, either or both may be weak, `W/"a"` matches `"a"`).
 *
 * The comparison is the `fresh` package's, the one Next.js uses (`sendEtagResponse`), given the
 * `If-None-Match` header alone: the request's `Cache-Control: no-cache` and `If-Modified-Since`,
 * which `fresh` also weighs, are the caller's business. An HTAB around a list element is optional
 * whitespace (RFC 9110 §5.6.1) that `fresh` does not skip, so it is read as a space first (no
 * entity tag holds one: `etagc` excludes it, §8.8.3).
 * @param header the `If-None-Match` value, or null when the request has none (no match).
 * @param etag the response's entity tag, quoted, e.g. `"abc"` or `W/"abc"`.
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-13.1.2
 */
export function etagMatches(header: string | null, etag: string): boolean {
  if (header === null) return false;
  // fresh: If-None-Match list parsing and weak comparison (RFC 9110 §13.1.2, §8.8.3.2).
  return fresh({ 'if-none-match': header.replaceAll('\t', ' ').trim() }, { etag });
}

/**
 * The entity tag of another representation of the same entry (the Pages Router's data route: the
 * page's props as JSON beside its HTML): the entry's tag with `.<suffix>` inside the quotes, so the
 * two representations never share one (RFC 9110 §8.8.3: an entity tag identifies a representation).
 * @param etag the entry's strong entity tag, e.g. `"abc"`.
 * @returns e.g. `"abc.json"`.
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-8.8.3
 */
export function representationEtag(etag: string, suffix: string): string {
  return `${etag.slice(0, -1)}.${suffix}"`;
}

/**
 * Whether a request's cached copy is still fresh for a response with `etag`, as Next.js's API
 * routes decide it (`sendEtagResponse`, with the `fresh` package): `If-None-Match` matches by weak
 * comparison (RFC 9110 §13.1.2, HTAB read as a space as in {@link etagMatches}), else
 * `If-Modified-Since` is weighed, and never when the request says `Cache-Control: no-cache`
 * (RFC 9111 §5.2.1.4).
 * @param headers the request's headers.
 * @see https://github.com/jshttp/fresh
 */
export function requestIsFresh(headers: Headers, etag: string): boolean {
  // fresh: the conditional-request check of Next.js's API routes (send-payload's sendEtagResponse).
  return fresh(
    {
      'if-none-match': headers.get('if-none-match')?.replaceAll('\t', ' ') ?? undefined,
      'if-modified-since': headers.get('if-modified-since') ?? undefined,
      'cache-control': headers.get('cache-control') ?? undefined,
    },
    { etag },
  );
}
