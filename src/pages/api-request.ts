import { Buffer } from 'node:buffer';
import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';

/**
 * The `req` of a Pages Router API route (`pages/api/**`): {@link ApiRequest}, a Node `Readable` of
 * the request body with Next.js's `query`, `cookies` and `body`, and the body parsing that runs
 * before the handler (Next.js `parseBody`, `bodyParser.sizeLimit`). The handler's side is in
 * api-response.ts; api.ts runs the two together.
 */

/** Route params and query values, as Next.js types them (`NextApiRequestQuery`). */
export type ApiQuery = Partial<Record<string, string | string[]>>;

/** Next.js's default `bodyParser.sizeLimit`. */
export const DEFAULT_BODY_LIMIT = '1mb';

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/**
 * Bytes in a `bodyParser.sizeLimit`: a number is bytes; a string is a number with an optional unit
 * b, kb, mb or gb (1024-based, case-insensitive, as the `bytes` package Next.js uses: `'1mb'` is
 * 1,048,576).
 * @throws TypeError for a negative, non-finite or unreadable limit.
 */
export function parseSizeLimit(limit: string | number): number {
  if (typeof limit === 'number') {
    if (Number.isFinite(limit) && limit >= 0) return Math.floor(limit);
  } else if (typeof limit === 'string') {
    const match = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(limit);
    if (match !== null) return Math.floor(Number(match[1]) * SIZE_UNITS[(match[2] ?? 'b').toLowerCase()]!);
  }
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

/**
 * Parses a `Cookie` header like the `cookie` package Next.js uses: `name=value` pairs split on `;`,
 * names and values trimmed, one pair of surrounding double quotes dropped, values percent-decoded
 * where that is valid, the first of a repeated name kept, pairs without `=` ignored.
 */
function parseCookies(header: string | null): Record<string, string> {
  const cookies = new Map<string, string>();
  for (const pair of header?.split(';') ?? []) {
    const eq = pair.indexOf('=');
    if (eq === -1) continue;
    const name = pair.slice(0, eq).trim();
    if (name === '' || cookies.has(name)) continue;
    let value = pair.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (value.includes('%')) {
      try {
        value = decodeURIComponent(value);
      } catch {
        // not valid percent-encoding: kept as sent
      }
    }
    cookies.set(name, value);
  }
  return record(cookies);
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
 * Reads and parses the request body as Next.js's `parseBody` does, before the handler runs:
 * - `application/json` and any `…+json` type: `JSON.parse`; an empty body gives `{}`; invalid JSON: 400 `Invalid JSON`;
 * - `application/x-www-form-urlencoded`: an object, repeated keys as arrays;
 * - anything else, or no `content-type`: the body as a string.
 * Text is decoded with the `charset` parameter when given (default UTF-8; a charset the runtime
 * does not know: 400 `Invalid body`). A request without a body (every GET and HEAD) is read as an
 * empty one, so it gives `''` (or `{}` when its content type is JSON), as in Next.js.
 * Over `limit` bytes: 413 `Body exceeded <label> limit`, read no further (a `content-length`
 * over the limit is refused before reading). A body that fails mid-read: 400 `Invalid body`.
 */
export async function parseBody(request: Request, limit: number, label: string | number): Promise<ParsedBody> {
  const tooLarge: ParsedBody = { ok: false, status: 413, message: `Body exceeded ${label} limit` };
  const declared = request.headers.get('content-length');
  if (declared !== null && /^\d+$/.test(declared) && Number(declared) > limit) return tooLarge;
  const [mediaType = '', ...parameters] = (request.headers.get('content-type') ?? '').split(';');
  const type = mediaType.trim().toLowerCase();
  let charset = 'utf-8';
  for (const parameter of parameters) {
    const [key, value] = parameter.split('=', 2);
    if (key?.trim().toLowerCase() === 'charset' && value !== undefined) charset = value.trim().replace(/^"(.*)"$/, '$1');
  }
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(charset);
  } catch {
    return { ok: false, status: 400, message: 'Invalid body' };
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (request.body !== null) {
    const reader = request.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > limit) {
          reader.cancel().catch(() => {});
          return tooLarge;
        }
        chunks.push(value);
      }
    } catch {
      return { ok: false, status: 400, message: 'Invalid body' };
    }
  }
  const text = decoder.decode(Buffer.concat(chunks, size));
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

