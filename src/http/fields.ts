/**
 * What a stored response head may hold: the one rule shared by generation (`response-head.ts`,
 * which refuses a bad header before it is stored) and the entry codec (which treats a stored entry
 * breaking it as corrupt). It lives in `http/`, below `store/`, so the codec can import it.
 *
 * The stored head of a page or route-handler entry is written byte for byte by `isr start`'s fast
 * path (`Buffer.from(text, 'latin1')`) and handed to `node:http`'s `writeHead`, so it must be valid
 * for both by construction:
 *
 * - **Names** are `token`s (RFC 9110 §5.6.2, `tchar`), lower-case (the server overrides
 *   `cache-control`, `etag` and `content-length` by their lower-case names; a `Content-Length`
 *   spelled otherwise would be sent twice).
 * - **Values** are `field-value`s (RFC 9110 §5.5): visible ASCII, SP, HTAB and `obs-text`
 *   (U+0080–U+00FF, one Latin-1 byte each). No CR, LF, NUL or other control character, and no
 *   character above U+00FF, which has no byte. This is node:http's own check
 *   (`/[^\t\x20-\x7e\x80-\xff]/`, `ERR_INVALID_CHAR`). `obs-text` is kept: RFC 9110 §5.5 still
 *   allows it (recipients treat it as opaque bytes), node:http and the Fetch `Headers` accept it,
 *   Next.js passes it through, and both of isr's paths send it as the same byte.
 * - **No header the server owns or that is per visitor or per connection**
 *   ({@link UNSTORABLE_HEADERS}).
 * - **The status** is an integer in 200–599: the range a Fetch `Response` may carry; a 1xx is
 *   never a final response (RFC 9110 §15.2).
 */

/**
 * Response headers a cache entry never keeps: `set-cookie` (one visitor's cookie must never reach
 * the others), hop-by-hop headers (RFC 9110 §7.6.1), and `content-length` / `content-encoding`
 * (the body is stored decoded; the server sets its own length). Lower-case names.
 */
export const UNSTORABLE_HEADERS: ReadonlySet<string> = new Set([
  'set-cookie',
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'content-length',
  'content-encoding',
]);

/** `tchar` of RFC 9110 §5.6.2, by byte: 1 for a character a `token` may hold (ASCII only). */
export const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;

/** Whether `name` is a `token` (RFC 9110 §5.6.2: one or more `tchar`), as a field name must be. */
export function isToken(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 128 || TCHAR[c] === 0) return false;
  }
  return true;
}

/** A lower-case `token` (RFC 9110 §5.6.2). */
const LOWER_TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;

/** A character outside `field-value` as node:http checks it (RFC 9110 §5.5; `obs-text` allowed). */
const INVALID_VALUE_CHAR = /[^\t\x20-\x7e\x80-\xff]/;

/**
 * Describes a character for a log line without echoing a value: `U+000D (CR)`.
 */
function describeChar(char: string): string {
  const code = char.codePointAt(0)!;
  const names: Record<number, string> = { 0: 'NUL', 9: 'HTAB', 10: 'LF', 13: 'CR', 127: 'DEL' };
  const name = names[code] ?? (code < 0x20 ? 'a control character' : code > 0xff ? 'not Latin-1' : undefined);
  return `U+${code.toString(16).toUpperCase().padStart(4, '0')}${name === undefined ? '' : ` (${name})`}`;
}

/**
 * Why `value` is not a valid stored field value, or undefined when it is. The reason names the
 * first bad character and its index, and shows at most the 8 characters before it (escaped), never
 * the whole value (it may be a secret).
 */
export function fieldValueProblem(value: string): string | undefined {
  const match = INVALID_VALUE_CHAR.exec(value);
  return match === null ? undefined : describeCharAt(value, match.index);
}

/**
 * The character of `value` at `index` for a log line: its code point, its index and at most the 8
 * characters before it (escaped), never the whole value: `U+000D (CR) at index 2 of 22 (after "/x")`.
 */
export function describeCharAt(value: string, index: number): string {
  const before = value.slice(Math.max(0, index - 8), index);
  return `${describeChar(String.fromCodePoint(value.codePointAt(index)!))} at index ${index} of ${value.length} (after ${JSON.stringify(before)})`;
}

/** What is wrong with a response head: the field (a header name, or `status`) and why. */
export interface HeadProblem {
  field: string;
  reason: string;
}

/**
 * Why a stored response head (`status`, `headers`) could not be sent as is, or undefined when it
 * can. Rules in the module comment.
 */
export function responseHeadProblem(status: number, headers: Readonly<Record<string, string>>): HeadProblem | undefined {
  if (!Number.isInteger(status) || status < 200 || status > 599)
    return { field: 'status', reason: `status ${status} is not an integer in 200..599` };
  for (const [name, value] of Object.entries(headers)) {
    const field = JSON.stringify(name.slice(0, 40));
    if (!LOWER_TOKEN.test(name)) return { field, reason: `header name ${field} is not a lower-case token` };
    if (UNSTORABLE_HEADERS.has(name)) return { field, reason: `header ${field} is never stored` };
    if (typeof value !== 'string') return { field, reason: `header ${field} is not a string` };
    const problem = fieldValueProblem(value);
    if (problem !== undefined) return { field, reason: `header ${field} holds ${problem}` };
  }
  return undefined;
}
