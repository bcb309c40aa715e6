/**
 * Which response headers a cache entry keeps, and the check that makes every stored response head
 * valid by construction (the rule itself: `http/fields.ts`).
 *
 * Stored bodies are decoded bytes served to many clients, so the entry drops: `set-cookie` (one
 * visitor's cookie must never reach the others), hop-by-hop headers (RFC 9110 §7.6.1), and
 * `content-length` / `content-encoding` (the body is stored decoded; the server sets its own length).
 */

import { domainToASCII } from 'node:url';
import { describeCharAt, responseHeadProblem, UNSTORABLE_HEADERS } from './fields.ts';

/** Headers of a rendered HTML page. */

/** The redirect statuses (RFC 9110 §15.4: 301, 302, 303, 307, 308); a `Location` with another status is an ordinary field. */
export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

export const HTML_HEADERS = Object.freeze({ 'content-type': 'text/html; charset=utf-8' });

/** The headers of `response` worth storing with its body, lower-case names. */
export function storableHeaders(headers: Headers): Record<string, string> {
  const kept: Record<string, string> = {};
  headers.forEach((value, name) => {
    if (!UNSTORABLE_HEADERS.has(name)) kept[name] = value;
  });
  return kept;
}

/**
 * A generated response head that cannot be sent as is: a header value with CR, LF, NUL or another
 * control character, a character above U+00FF, a bad name, or a status outside 200–599. Thrown by
 * the generation, so it fails like a render error: the last good entry stays, a first generation
 * answers the plain 500 page, `isr build` fails naming the page. The message names the header and
 * the first bad character, never the whole value.
 */
export class InvalidResponseHeadError extends Error {
  override readonly name = 'InvalidResponseHeadError';
  constructor(
    /** The header's name (lower case), or `status`. */
    readonly header: string,
    message: string,
  ) {
    super(message);
  }
}

/** Characters of a redirect target left as they are: visible ASCII except those below. */
const PLAIN_TARGET = /^[\x21-\x7e]*$/;

/** A target with a scheme (RFC 3986 §3.1), e.g. `https:`. */
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;

const utf8 = new TextEncoder();

/** `char` as UTF-8 percent-encoded bytes (WHATWG URL "percent-encode after encoding", UTF-8). */
function percentEncode(char: string): string {
  let out = '';
  for (const byte of utf8.encode(char)) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

/**
 * The `Location` value for a `redirect()` / `permanentRedirect()` target (App Router) or a
 * `getStaticProps` `redirect.destination` (Pages Router): the target as a URL serialiser writes it
 * (WHATWG URL Standard, https://url.spec.whatwg.org/#url-serializing). A target of visible ASCII is
 * kept byte for byte (`%XX` escapes included). Otherwise each space and non-ASCII character is
 * percent-encoded as its UTF-8 bytes (`/blog/café-日本` → `/blog/caf%C3%A9-%E6%97%A5%E6%9C%AC`),
 * and a non-ASCII host of an absolute (`https://bücher.example/`) or scheme-relative target is
 * written in its ASCII (IDNA) form, as `new URL()` does.
 *
 * Next.js writes the target unchanged into `Location` (app-render's `setHeader('location', ...)`),
 * so a target node:http refuses fails its response (vercel/next.js#73965, #80210); isr encodes it.
 *
 * @throws InvalidResponseHeadError for a target holding CR, LF, NUL, HTAB, DEL or another control
 *   character (a CMS value like `/x\r\nSet-Cookie: a=1`, which would split the response: RFC 9112
 *   §2.2), or a host that has no ASCII form. A URL parser would silently drop CR, LF and HTAB
 *   and redirect somewhere else; refusing is the only safe reading.
 */
export function redirectLocation(target: string): string {
  if (PLAIN_TARGET.test(target)) return target;
  const control = /[\x00-\x1f\x7f]/.exec(target);
  if (control !== null) {
    throw new InvalidResponseHeadError(
      'location',
      `the redirect target (location header) holds ${describeCharAt(target, control.index)}; it is never sent`,
    );
  }
  let rest = target;
  let prefix = '';
  // The authority of `scheme://host...` or `//host...`: only its host may need another form.
  const authority = /^((?:[A-Za-z][A-Za-z0-9+.-]*:)?\/\/)([^/?#]*)/.exec(target);
  if (authority !== null && (SCHEME.test(target) || target.startsWith('//'))) {
    const [whole, start, hostPort] = authority as unknown as [string, string, string];
    const at = hostPort.lastIndexOf('@');
    const userinfo = at === -1 ? '' : hostPort.slice(0, at + 1);
    const hostAndPort = hostPort.slice(at + 1);
    const portMatch = /:\d*$/.exec(hostAndPort);
    const host = portMatch === null ? hostAndPort : hostAndPort.slice(0, portMatch.index);
    let asciiHost = host;
    if (!PLAIN_TARGET.test(host)) {
      asciiHost = domainToASCII(host);
      if (asciiHost === '')
        throw new InvalidResponseHeadError('location', `the redirect target's host has no ASCII (IDNA) form; it is never sent`);
    }
    prefix = `${start}${userinfo.replace(/[^\x21-\x7e]/gu, percentEncode)}${asciiHost}${portMatch?.[0] ?? ''}`;
    rest = target.slice(whole.length);
  }
  return prefix + rest.replace(/[^\x21-\x7e]/gu, percentEncode);
}

/** What {@link checkedResponseHead} checks: the head of a stored entry (`CacheValue` in `store/store.ts`). */
export interface ResponseHead {
  kind: string;
  status: number;
  headers: Record<string, string>;
}

/**
 * `value` (a generated page or route-handler response) checked before it is stored or sent:
 * header names lower-cased, a page's `location` (which only `redirect()` and a `getStaticProps`
 * redirect produce) written by {@link redirectLocation}, then every name, value and the status
 * checked against `http/fields.ts`. Route-handler header values are byte strings (Fetch
 * `Headers`), sent as they are.
 * @returns `value` itself when nothing changed, else a copy with the new headers.
 * @throws InvalidResponseHeadError naming the header and the first bad character.
 */
export function checkedResponseHead<T extends ResponseHead>(value: T): T {
  let headers = value.headers;
  let changed = false;
  const entries = Object.entries(headers);
  if (entries.some(([name]) => name !== name.toLowerCase()) || (value.kind === 'page' && headers.location !== undefined)) {
    headers = {};
    for (const [name, header] of entries) headers[name.toLowerCase()] = header;
    if (value.kind === 'page' && headers.location !== undefined) headers.location = redirectLocation(headers.location);
    changed = true;
  }
  const problem = responseHeadProblem(value.status, headers);
  if (problem !== undefined) {
    const field = problem.field === 'status' ? 'status' : (JSON.parse(problem.field) as string);
    throw new InvalidResponseHeadError(field, `the response cannot be sent: ${problem.reason}; it is never stored or sent`);
  }
  return changed ? { ...value, headers } : value;
}
