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
