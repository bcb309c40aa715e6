/**
 * The `req` of a Pages Router API route (`pages/api/**`): {@link ApiRequest}, a Node `Readable` of
 * the request body with Next.js's `query`, `cookies` and `body`, and the body parsing that runs
 * before the handler (Next.js `parseBody`, `bodyParser.sizeLimit`). The handler's side is in
 * api-response.ts; api.ts runs the two together.
 */

import { Buffer } from 'node:buffer';
import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import bytes from 'bytes';
import * as contentType from 'content-type';
import { parseCookie } from 'cookie';
import { BodyError, readBody } from '../http/body.ts';
import type { Bytes } from '../units.ts';

/** Route params and query values, as Next.js types them (`NextApiRequestQuery`). */
export type ApiQuery = Partial<Record<string, string | string[]>>;

/** Next.js's default `bodyParser.sizeLimit`. */
export const DEFAULT_BODY_LIMIT = '1mb';

/** A size as isr accepts it: a number and an optional unit, blanks around them allowed. */
const SIZE_LIMIT = /^\s*\d+(?:\.\d+)?\s*(?:b|kb|mb|gb|tb|pb)?\s*$/i;

/**
 * Bytes in a `bodyParser.sizeLimit`, converted by the `bytes` package as Next.js converts it
 * (raw-body's `limit` is `bytes.parse(sizeLimit)`): a number is bytes (floored); a string is a
 * number with an optional unit b, kb, mb, gb, tb or pb (1024-based, case-insensitive: `'1mb'` is
 * 1,048,576), blanks around them ignored.
 * @see https://github.com/visionmedia/bytes.js#bytesparsestringnumber-value-numbernull
 * @throws TypeError for any other string (`'4mib'`, `'1e3'`: `bytes` would read their integer
 *   prefix, 4 or 1 bytes, and Next.js an unreadable one as no limit; isr refuses them) and for a
 *   negative or non-finite number.
 */
export function parseSizeLimit(limit: string | number): Bytes {
  const readable = typeof limit === 'number' || (typeof limit === 'string' && SIZE_LIMIT.test(limit));
  // bytes.parse: the size units of Next.js's `api.bodyParser.sizeLimit` (through raw-body).
  const parsed = readable ? bytes.parse(typeof limit === 'string' ? limit.replace(/\s+/g, '') : limit) : null;
  if (parsed !== null && Number.isFinite(parsed) && parsed >= 0) return Math.floor(parsed);
  throw new TypeError(`Invalid bodyParser.sizeLimit ${JSON.stringify(limit)}: use a number of bytes or a string such as '500kb' or '1mb'`);
}

/** An own-property record from entries (a `__proto__` key stays an ordinary key). */
function record<V>(entries: Iterable<readonly [string, V]>): Record<string, V> {
  return Object.fromEntries(entries) as Record<string, V>;
}

/** Search or form parameters as Next.js's `querystring` gives them: repeated keys become arrays. */
function paramsRecord(params: URLSearchParams): Record<string, string | string[]> {
  const values = new Map<string, string | string[]>();
  for (const [key, value] of params) {
    const previous = values.get(key);
    if (previous === undefined) values.set(key, value);
    else if (Array.isArray(previous)) previous.push(value);
    else values.set(key, [previous, value]);
  }
  return record(values);
}

/** A cookie value as Next.js's `cookie` (0.4) decodes it: one leading `"` and the last character dropped, then percent-decoded where valid. */
function decodeCookieValue(value: string): string {
  const unquoted = value.startsWith('"') ? value.slice(1, -1) : value;
  if (!unquoted.includes('%')) return unquoted;
  try {
    return decodeURIComponent(unquoted);
  } catch {
    return unquoted; // not valid percent-encoding: kept as sent
  }
}

/**
 * Parses a `Cookie` header (RFC 6265 §5.4 `cookie-string`, §4.2.1) into Next.js's `req.cookies`
 * with the `cookie` package Next.js uses (`getCookieParser`): `name=value` pairs split on `;`,
 * names and values trimmed, pairs without `=` ignored, the first of a repeated name kept; each
 * value unquoted and percent-decoded by {@link decodeCookieValue}. The result is an ordinary
 * object whose keys are all own properties (`__proto__` included).
 */
function parseCookies(header: string | null): Record<string, string> {
  if (header === null || header === '') return {};
  // cookie's parseCookie: the `Cookie` header's pair grammar (RFC 6265 §5.4), as in Next.js.
  const cookies = parseCookie(header, { decode: decodeCookieValue });
  return record(Object.entries(cookies).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

/**
 * Web headers as Node's `IncomingMessage.headers`: lower-case names, `set-cookie` an array, other
 * repeated headers joined with `, ` (the Web `Headers` already joins them).
 */
function incomingHeaders(headers: Headers): IncomingHttpHeaders {
  const entries: [string, string | string[]][] = [];
  headers.forEach((value, name) => {
    if (name !== 'set-cookie') entries.push([name, value]);
  });
  const setCookies = headers.getSetCookie();
  if (setCookies.length > 0) entries.push(['set-cookie', setCookies]);
  return record(entries);
}

/**
 * The `req` of an API route: a Node `Readable` of the raw request body with the fields of Node's
 * `http.IncomingMessage` and Next.js's `NextApiRequest` that a Web request can supply.
 *
 * - `method`, `url` (path and query string, like `IncomingMessage.url`), `headers` (Node style).
 * - `query`: the URL's search params (repeated keys as arrays) merged with the route params, which win.
 * - `cookies`: the `Cookie` header parsed into an object.
 * - `body`: set by {@link runApiRoute} (see there for what each content type gives).
 * - `preview` and `draftMode` are `false`: isr has no preview mode.
 *
 * The stream reads `options.stream` (the live request body) on demand, or ends at once without one.
 * A failure of that stream destroys `req`; like `IncomingMessage`, it emits `error` only when
 * someone listens.
 */
export class ApiRequest extends Readable {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  query: ApiQuery;
  cookies: Partial<Record<string, string>>;
  /** The parsed body (Next.js `req.body`); `undefined` until {@link runApiRoute} parses it, or with `bodyParser: false`. */
  body: unknown = undefined;
  readonly preview = false;
  readonly draftMode = false;
  #reader: ReadableStreamDefaultReader<Uint8Array> | undefined;

  /**
   * @param request the Web request: method, URL and headers are read from it, never its body.
   * @param options.params route params, merged over the search params in `query`.
   * @param options.stream the body `req` streams (normally `request.body`); none: `req` ends at once.
   */
  constructor(
    request: Request,
    options: { params?: Record<string, string | string[] | undefined>; stream?: ReadableStream<Uint8Array> | null } = {},
  ) {
    super();
    const url = new URL(request.url);
    this.method = request.method;
    this.url = url.pathname + url.search;
    this.headers = incomingHeaders(request.headers);
    const query: ApiQuery = paramsRecord(url.searchParams);
    for (const [name, value] of Object.entries(options.params ?? {})) {
      if (value !== undefined) Object.defineProperty(query, name, { value, enumerable: true, writable: true, configurable: true });
    }
    this.query = query;
    this.cookies = parseCookies(request.headers.get('cookie'));
    this.#reader = options.stream?.getReader();
  }

  /** Stream hook: pushes the next non-empty chunk of the body, or the end. */
  override _read(): void {
    const reader = this.#reader;
    if (reader === undefined) {
      this.push(null);
      return;
    }
    const pump = async (): Promise<void> => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) {
          this.push(null);
          return;
        }
        if (value.byteLength > 0) {
          this.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
          return;
        }
      }
    };
    pump().catch((error: unknown) => this.destroy(error instanceof Error ? error : new Error(String(error))));
  }

  /** Stream hook: cancels the body; the error is emitted only to listeners (as `IncomingMessage`). */
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#reader?.cancel(error ?? undefined).catch(() => {});
    this.#reader = undefined;
    callback(this.listenerCount('error') > 0 ? error : null);
  }
}

export type ParsedBody = { ok: true; body: unknown } | { ok: false; status: number; message: string };

/**
 * The media type (lower case) and charset of a request, as Next.js's `parseBody` reads them with
 * the `content-type` package: no `Content-Type`, or one that does not parse (RFC 9110 §8.3.1
 * grammar, e.g. a parameter without `=`), is `text/plain`; the charset defaults to `utf-8`.
 */
function mediaTypeOf(request: Request): { type: string; charset: string } {
  let parsed: contentType.ParsedMediaType;
  try {
    // content-type's parse: RFC 9110 §8.3.1 media-type grammar (type lower-cased, quoted values unquoted).
    parsed = contentType.parse(request.headers.get('content-type') || 'text/plain');
  } catch {
    parsed = contentType.parse('text/plain');
  }
  return { type: parsed.type, charset: parsed.parameters.charset ?? 'utf-8' };
}

/**
 * Reads and parses the request body as Next.js's `parseBody` does, before the handler runs:
 * - `application/json` and any `…+json` type: `JSON.parse`; an empty body gives `{}`; invalid JSON: 400 `Invalid JSON`
 *   (Next.js parses only `application/json` and `application/ld+json`; isr every `+json` suffix, RFC 6839 §3.1);
 * - `application/x-www-form-urlencoded`: an object, repeated keys as arrays;
 * - anything else, no `content-type`, or one that does not parse: the body as a string.
 * Text is decoded with the `charset` parameter when given (default UTF-8; labels as raw-body's
 * `encoding`, i.e. iconv-lite's; one it does not know: 400 `Invalid body`). A request without a
 * body (every GET and HEAD) is read as an empty one, so it gives `''` (or `{}` when its content
 * type is JSON), as in Next.js. Over `limit` bytes: 413 `Body exceeded <label> limit`, read no
 * further (a `content-length` over the limit is refused before reading). A body that fails
 * mid-read: 400 `Invalid body`. The reading is `http/body.ts`'s {@link readBody}.
 */
export async function parseBody(request: Request, limit: Bytes, label: string | number): Promise<ParsedBody> {
  const { type, charset } = mediaTypeOf(request);
  let text: string;
  try {
    text = await readBody(request, limit, charset);
  } catch (error) {
    if (!(error instanceof BodyError)) throw error;
    // Next.js's parseBody: 413 for `entity.too.large`, 400 `Invalid body` for any other failure.
    return error.status === 413
      ? { ok: false, status: 413, message: `Body exceeded ${label} limit` }
      : { ok: false, status: 400, message: 'Invalid body' };
  }
  if (type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'))) {
    if (text.length === 0) return { ok: true, body: {} };
    try {
      return { ok: true, body: JSON.parse(text) as unknown };
    } catch {
      return { ok: false, status: 400, message: 'Invalid JSON' };
    }
  }
  if (type === 'application/x-www-form-urlencoded') return { ok: true, body: paramsRecord(new URLSearchParams(text)) };
  return { ok: true, body: text };
}
