/**
 * The `res` of a Pages Router API route (`pages/api/**`): {@link ApiResponse}, a Node `Writable`
 * with the header API of Node's `http.ServerResponse` and Next.js's `status`, `json`, `send`,
 * `redirect` and `revalidate`, whose writes become the body of a Web `Response`.
 */

import { Buffer } from 'node:buffer';
import { type OutgoingHttpHeader, type OutgoingHttpHeaders, STATUS_CODES } from 'node:http';
import { pipeline, Readable, Stream, Writable } from 'node:stream';
import type { ReadableStream as NodeWebReadableStream } from 'node:stream/web';
import { entityTag, requestIsFresh } from '../http/etag.ts';
import { fieldValueProblem, isToken } from '../http/fields.ts';
import { errorMessage } from '../log.ts';

/** A header value `res.setHeader` takes (Node's `OutgoingHttpHeader`, arrays read-only). */
export type ApiHeaderValue = string | number | readonly string[];

/** Options of `res.revalidate` (Next.js): `unstable_onlyGenerated` revalidates only pages already generated. */
export interface RevalidateOptions {
  unstable_onlyGenerated?: boolean;
}

/** Node's error for header changes once they are sent (`ERR_HTTP_HEADERS_SENT`). */
function headersSentError(action: 'set' | 'remove' | 'write'): Error {
  return Object.assign(new Error(`Cannot ${action} headers after they are sent to the client`), { code: 'ERR_HTTP_HEADERS_SENT' });
}

function codedError<E extends Error>(error: E, code: string): E & { code: string } {
  return Object.assign(error, { code });
}

function validateHeader(name: string, value: unknown): asserts value is ApiHeaderValue {
  if (typeof name !== 'string' || !isToken(name)) {
    throw codedError(new TypeError(`Header name must be a valid HTTP token ["${String(name)}"]`), 'ERR_INVALID_HTTP_TOKEN');
  }
  if (value === undefined) {
    throw codedError(new TypeError(`Invalid value "undefined" for header "${name}"`), 'ERR_HTTP_INVALID_HEADER_VALUE');
  }
  const values = Array.isArray(value) ? (value as unknown[]) : [value];
  for (const item of values) {
    if (typeof item !== 'string' && typeof item !== 'number') {
      throw codedError(new TypeError(`Invalid value "${String(item)}" for header "${name}"`), 'ERR_HTTP_INVALID_HEADER_VALUE');
    }
    if (fieldValueProblem(String(item)) !== undefined) {
      throw codedError(new TypeError(`Invalid character in header content ["${name}"]`), 'ERR_INVALID_CHAR');
    }
  }
}

function validateChunk(chunk: unknown): asserts chunk is string | Uint8Array {
  if (typeof chunk !== 'string' && !(chunk instanceof Uint8Array)) {
    throw codedError(
      new TypeError(`The "chunk" argument must be of type string or an instance of Buffer or Uint8Array. Received ${typeof chunk}`),
      'ERR_INVALID_ARG_TYPE',
    );
  }
}

/** Bytes the Web response may buffer before the writer's callbacks wait for the reader. */
const BODY_HIGH_WATER_MARK = 64 * 1024;

/**
 * The `res` of an API route: a Node `Writable` with the header API of Node's
 * `http.ServerResponse` and the helpers of Next.js's `NextApiResponse`; what is written becomes the
 * body of {@link webResponse}.
 *
 * Headers are sent (and `webResponse` resolves) at the first `write`, `end`, `writeHead` or
 * `flushHeaders`; after that `setHeader`, `appendHeader`, `removeHeader` and `writeHead` throw an
 * Error with `code: 'ERR_HTTP_HEADERS_SENT'`, as Node does. Names are case-insensitive.
 *
 * The body is a `ReadableStream` that buffers at most about 64 KiB: past that, a write's callback
 * (and the `Writable`'s own `drain`) waits until the reader pulls. For HEAD requests and statuses
 * 204, 205 and 304 the body is null and writes are discarded. A Web `Response` cannot carry 1xx
 * or 600–999, so sending one throws a RangeError (`ERR_HTTP_INVALID_STATUS_CODE`, as Node does
 * outside 100–999). A reader that cancels the body destroys `res` (as a client disconnect
 * does in Node); writes after that are dropped.
 */
export class ApiResponse extends Writable {
  /** The status sent with the headers (Node's `res.statusCode`); default 200. */
  statusCode = 200;
  /** The reason phrase; default: Node's text for the status. */
  statusMessage: string | undefined = undefined;
  /** Resolves with the Web response once the headers are sent; its body streams what is written after. */
  readonly webResponse: Promise<Response>;
  readonly #request: Request;
  readonly #revalidate: (path: string, options: RevalidateOptions) => Promise<void>;
  readonly #headers = new Map<string, { name: string; value: string | number | string[] }>();
  #headersSent = false;
  #resolve!: (response: Response) => void;
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  #bodyDone = false;
  #waiting: (() => void) | undefined;

  /**
   * @param request the request answered: its method (HEAD has no body) and `If-None-Match`/`Cache-Control` (`send`'s 304).
   * @param revalidate what `res.revalidate(path, options)` calls once `path` is checked.
   */
  constructor(request: Request, revalidate: (path: string, options: RevalidateOptions) => Promise<void>) {
    super();
    this.#request = request;
    this.#revalidate = revalidate;
    this.webResponse = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  /** Whether the headers are sent (Node's `res.headersSent`). */
  get headersSent(): boolean {
    return this.#headersSent;
  }

  /**
   * Sets a header, replacing one of the same name (any case). Returns `res`.
   * @throws ERR_HTTP_HEADERS_SENT once sent; TypeError (`ERR_INVALID_HTTP_TOKEN`, `ERR_HTTP_INVALID_HEADER_VALUE`, `ERR_INVALID_CHAR`) for a bad name or value, as Node's `setHeader`.
   */
  setHeader(name: string, value: ApiHeaderValue): this {
    if (this.#headersSent) throw headersSentError('set');
    validateHeader(name, value);
    this.#headers.set(name.toLowerCase(), { name, value: typeof value === 'object' ? [...value] : value });
    return this;
  }

  /** Adds a value to a header, keeping those already set (Node's `appendHeader`). Returns `res`. Throws as {@link setHeader}. */
  appendHeader(name: string, value: ApiHeaderValue): this {
    if (this.#headersSent) throw headersSentError('set');
    validateHeader(name, value);
    const previous = this.#headers.get(name.toLowerCase());
    if (previous === undefined) return this.setHeader(name, value);
    const before = Array.isArray(previous.value) ? previous.value : [String(previous.value)];
    const added = typeof value === 'object' ? value : [String(value)];
    previous.value = [...before, ...added];
    return this;
  }

  /** A header's value as set (a number stays a number, an array an array), or undefined. */
  getHeader(name: string): OutgoingHttpHeader | undefined {
    return this.#headers.get(name.toLowerCase())?.value;
  }

  /** All headers, lower-case names to values as set (a null-prototype object, as Node's). */
  getHeaders(): OutgoingHttpHeaders {
    const headers = Object.create(null) as OutgoingHttpHeaders;
    for (const [key, { value }] of this.#headers) headers[key] = value;
    return headers;
  }

  /** The lower-case names of the headers set. */
  getHeaderNames(): string[] {
    return [...this.#headers.keys()];
  }

  /** Whether a header is set (any case). */
  hasHeader(name: string): boolean {
    return this.#headers.has(name.toLowerCase());
  }

  /** Removes a header. @throws ERR_HTTP_HEADERS_SENT once sent. */
  removeHeader(name: string): void {
    if (this.#headersSent) throw headersSentError('remove');
    this.#headers.delete(name.toLowerCase());
  }

  /**
   * Sets the status, optionally the reason phrase and headers (an object, or a flat
   * `[name, value, name, value]` array whose names replace those set before), and sends the
   * headers, as Node's `writeHead`. Returns `res`.
   * @throws ERR_HTTP_HEADERS_SENT once sent; RangeError for a status outside 200–599; as {@link setHeader} for bad headers.
   */
  writeHead(statusCode: number, headers?: OutgoingHttpHeaders | readonly ApiHeaderValue[]): this;
  writeHead(statusCode: number, statusMessage: string, headers?: OutgoingHttpHeaders | readonly ApiHeaderValue[]): this;
  writeHead(
    statusCode: number,
    messageOrHeaders?: string | OutgoingHttpHeaders | readonly ApiHeaderValue[],
    maybeHeaders?: OutgoingHttpHeaders | readonly ApiHeaderValue[],
  ): this {
    if (this.#headersSent) throw headersSentError('write');
    const headers = typeof messageOrHeaders === 'string' ? maybeHeaders : messageOrHeaders;
    const previous = { statusCode: this.statusCode, statusMessage: this.statusMessage };
    this.statusCode = statusCode;
    if (typeof messageOrHeaders === 'string') this.statusMessage = messageOrHeaders;
    try {
      this.#checkStatus();
      if (Array.isArray(headers)) {
        const flat = headers as readonly ApiHeaderValue[];
        if (flat.length % 2 !== 0)
          throw codedError(new TypeError('writeHead headers must be [name, value, ...] pairs'), 'ERR_INVALID_ARG_VALUE');
        for (let i = 0; i < flat.length; i += 2) this.removeHeader(String(flat[i]));
        for (let i = 0; i < flat.length; i += 2) this.appendHeader(String(flat[i]), flat[i + 1]!);
      } else if (headers !== undefined) {
        for (const [name, value] of Object.entries(headers)) this.setHeader(name, value as ApiHeaderValue);
      }
    } catch (error) {
      Object.assign(this, previous);
      throw error;
    }
    this.#sendHeaders();
    return this;
  }

  /** Sends the headers now (Node's `flushHeaders`); no-op once sent. */
  flushHeaders(): void {
    this.#sendHeaders();
  }

  /**
   * Writes a chunk (a string, in `encoding`, or bytes), sending the headers first if needed. Returns
   * false when the caller should wait for `drain`, as a `Writable`.
   * @throws TypeError (`ERR_INVALID_ARG_TYPE`) for other chunks.
   */
  override write(chunk: unknown, callback?: (error: Error | null | undefined) => void): boolean;
  override write(chunk: unknown, encoding: BufferEncoding, callback?: (error: Error | null | undefined) => void): boolean;
  override write(
    chunk: unknown,
    encoding?: BufferEncoding | ((error: Error | null | undefined) => void),
    callback?: (error: Error | null | undefined) => void,
  ): boolean {
    validateChunk(chunk);
    if (!this.writableEnded && !this.destroyed) this.#sendHeaders();
    if (typeof encoding === 'function') return super.write(chunk, encoding);
    if (encoding === undefined) return super.write(chunk, callback);
    return super.write(chunk, encoding, callback);
  }

  /**
   * Ends the response, with an optional last chunk (and its encoding) and a callback, as Node's
   * `res.end`. When the headers are still unsent and no `content-length` or `transfer-encoding`
   * is set, sets `content-length` to the chunk's size (Node does the same). Ending twice does nothing.
   */
  override end(callback?: () => void): this;
  override end(chunk: unknown, callback?: () => void): this;
  override end(chunk: unknown, encoding: BufferEncoding, callback?: () => void): this;
  override end(chunk?: unknown, encoding?: BufferEncoding | (() => void), callback?: () => void): this {
    if (typeof chunk === 'function') {
      callback = chunk as () => void;
      chunk = undefined;
      encoding = undefined;
    } else if (typeof encoding === 'function') {
      callback = encoding;
      encoding = undefined;
    }
    if (this.writableEnded || chunk === undefined || chunk === null) {
      chunk = undefined;
    } else {
      validateChunk(chunk);
    }
    if (!this.#headersSent && !this.writableEnded && !this.destroyed) {
      if (!this.#bodyless() && !this.hasHeader('content-length') && !this.hasHeader('transfer-encoding')) {
        const size =
          chunk === undefined ? 0 : typeof chunk === 'string' ? Buffer.byteLength(chunk, encoding) : (chunk as Uint8Array).byteLength;
        this.setHeader('content-length', size);
      }
      this.#sendHeaders();
    }
    if (chunk === undefined) return callback === undefined ? super.end() : super.end(callback);
    return super.end(chunk, encoding ?? 'utf8', callback);
  }

  /** Sets `statusCode` and returns `res` (Next.js `res.status(code)`). */
  status(statusCode: number): this {
    this.statusCode = statusCode;
    return this;
  }

  /**
   * Sends `body` as JSON (Next.js `res.json`): `content-type: application/json; charset=utf-8`
   * unless a content type is set, then {@link send} of `JSON.stringify(body)`.
   */
  json(body: unknown): void {
    if (!this.hasHeader('content-type')) this.setHeader('content-type', 'application/json; charset=utf-8');
    this.send(JSON.stringify(body));
  }

  /**
   * Sends a body and ends (Next.js `res.send`, its `sendData`):
   * - null/undefined: ends without a body;
   * - status 204 or 304: drops `content-type`, `content-length` and `transfer-encoding`, ends without a body;
   * - a Node stream or Web `ReadableStream`: piped into `res` (`application/octet-stream` unless a
   *   content type is set); a source that fails destroys `res`;
   * - bytes (`Buffer`, `Uint8Array`): `application/octet-stream` unless a content type is set;
   * - an object, number or boolean: JSON, `application/json; charset=utf-8` unless a content type is set;
   * - a string: as is, no content type added.
   * Non-stream bodies get `content-length` and an `ETag` (unless one is set); a GET or HEAD whose
   * `If-None-Match` matches it, with a 2xx status, answers 304 without a body (Next.js answers 304
   * for any method and status).
   * @throws TypeError for a function, symbol or bigint body; ERR_HTTP_HEADERS_SENT when headers are already sent.
   */
  send(body: unknown): void {
    if (body === null || body === undefined) {
      this.end();
      return;
    }
    if (this.statusCode === 204 || this.statusCode === 304) {
      this.removeHeader('content-type');
      this.removeHeader('content-length');
      this.removeHeader('transfer-encoding');
      this.end();
      return;
    }
    const isWebStream = body instanceof ReadableStream;
    if (body instanceof Stream || isWebStream) {
      if (!this.hasHeader('content-type')) this.setHeader('content-type', 'application/octet-stream');
      const source = isWebStream ? Readable.fromWeb(body as NodeWebReadableStream) : (body as unknown as NodeJS.ReadableStream);
      pipeline(source, this, () => {
        // a failure destroys `res`, which reports it
      });
      return;
    }
    let bytes: Uint8Array;
    if (body instanceof Uint8Array) {
      if (!this.hasHeader('content-type')) this.setHeader('content-type', 'application/octet-stream');
      bytes = body;
    } else if (typeof body === 'string') {
      bytes = Buffer.from(body);
    } else if (typeof body === 'object' || typeof body === 'number' || typeof body === 'boolean') {
      if (!this.hasHeader('content-type')) this.setHeader('content-type', 'application/json; charset=utf-8');
      bytes = Buffer.from(JSON.stringify(body));
    } else {
      throw new TypeError(`res.send() takes a string, bytes, a stream or a JSON value; received a ${typeof body}`);
    }
    if (!this.hasHeader('etag')) this.setHeader('etag', entityTag(bytes));
    if (this.#notModified(String(this.getHeader('etag')))) {
      this.statusCode = 304;
      this.removeHeader('content-type');
      this.removeHeader('content-length');
      this.end();
      return;
    }
    this.setHeader('content-length', bytes.byteLength);
    this.end(bytes);
  }

  /**
   * Redirects (Next.js `res.redirect`): `redirect(url)` with 307, or `redirect(status, url)`; sets
   * `location`, writes the URL as the body and ends. Returns `res`.
   * @throws Error for other arguments (Next.js's message).
   */
  redirect(url: string): this;
  redirect(status: number, url: string): this;
  redirect(statusOrUrl: number | string, url?: string): this {
    if (typeof statusOrUrl === 'string') {
      url = statusOrUrl;
      statusOrUrl = 307;
    }
    if (typeof statusOrUrl !== 'number' || typeof url !== 'string') {
      throw new Error(
        `Invalid redirect arguments. Please use a single argument URL, e.g. res.redirect('/destination') or use a status code and URL, e.g. res.redirect(307, '/destination').`,
      );
    }
    this.writeHead(statusOrUrl, { location: url });
    this.write(url);
    this.end();
    return this;
  }

  /**
   * On-demand revalidation (Next.js `res.revalidate(urlPath, options)`): regenerates the page at
   * `urlPath` now and resolves once it is stored.
   * @throws (rejects) TypeError `Invalid urlPath provided to revalidate(), must be a path e.g. /blog/post-1, received <urlPath>`
   *   unless `urlPath` is a string starting with one `/` (not `//` or `/\`, which name another host);
   *   Error `Failed to revalidate <urlPath>: <reason>` with the failure as `cause` when regeneration fails.
   */
  async revalidate(urlPath: string, options?: RevalidateOptions): Promise<void> {
    if (typeof urlPath !== 'string' || !urlPath.startsWith('/') || urlPath.startsWith('//') || urlPath.startsWith('/\\')) {
      throw new TypeError(`Invalid urlPath provided to revalidate(), must be a path e.g. /blog/post-1, received ${String(urlPath)}`);
    }
    try {
      await this.#revalidate(urlPath, options ?? {});
    } catch (cause) {
      throw new Error(`Failed to revalidate ${urlPath}: ${errorMessage(cause)}`, { cause });
    }
  }

  /** Next.js 12.1's name for {@link revalidate}. */
  unstable_revalidate(urlPath: string, options?: RevalidateOptions): Promise<void> {
    return this.revalidate(urlPath, options);
  }

  /** Next.js draft mode. @throws Error always: isr does not support draft mode. */
  setDraftMode(_options?: { enable: boolean }): never {
    throw new Error('res.setDraftMode() is not supported by isr: draft mode (preview mode) is not available');
  }

  /** Next.js preview mode. @throws Error always: isr does not support preview mode. */
  setPreviewData(_data: object | string, _options?: { maxAge?: number; path?: string }): never {
    throw new Error('res.setPreviewData() is not supported by isr: preview mode (draft mode) is not available');
  }

  /** Next.js preview mode. @throws Error always: isr does not support preview mode. */
  clearPreviewData(_options?: { path?: string }): never {
    throw new Error('res.clearPreviewData() is not supported by isr: preview mode (draft mode) is not available');
  }

  /** Stream hook: queues a copy of the chunk on the body (dropped when there is none); calls back once the reader has room. */
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const controller = this.#controller;
    if (controller === undefined || this.#bodyDone || chunk.byteLength === 0) {
      callback();
      return;
    }
    controller.enqueue(new Uint8Array(chunk));
    if ((controller.desiredSize ?? 0) > 0) callback();
    else this.#waiting = () => callback();
  }

  /** Stream hook: closes the body. */
  override _final(callback: (error?: Error | null) => void): void {
    if (this.#controller !== undefined && !this.#bodyDone) {
      this.#bodyDone = true;
      this.#controller.close();
    }
    callback();
  }

  /** Stream hook: errors a body not yet ended (the reader sees an aborted response) and frees a waiting write. */
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.#controller !== undefined && !this.#bodyDone) {
      this.#bodyDone = true;
      this.#controller.error(error ?? new Error('The response was destroyed before it ended'));
    }
    this.#release();
    callback(error);
  }

  #release(): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.();
  }

  /** Whether the response has no body: HEAD, or a status whose Web `Response` must have a null body. */
  #bodyless(): boolean {
    const status = this.statusCode;
    return this.#request.method === 'HEAD' || status === 204 || status === 205 || status === 304 || (status >= 100 && status < 200);
  }

  /**
   * Whether `send` answers 304: a GET or HEAD, a 2xx status, and `fresh(req.headers, { etag })` as
   * Next.js's `sendEtagResponse` asks it (`If-None-Match` by weak comparison, RFC 9110 §13.1.2;
   * never with `Cache-Control: no-cache` in the request).
   */
  #notModified(etag: string): boolean {
    const method = this.#request.method;
    if ((method !== 'GET' && method !== 'HEAD') || this.statusCode < 200 || this.statusCode > 299) return false;
    return requestIsFresh(this.#request.headers, etag);
  }

  /** The status to send, checked as Node's `writeHead` does, and against what a Web `Response` can carry. */
  #checkStatus(): number {
    const original = this.statusCode;
    const status = Number(original) | 0;
    if (status < 100 || status > 999) {
      throw codedError(new RangeError(`Invalid status code: ${String(original)}`), 'ERR_HTTP_INVALID_STATUS_CODE');
    }
    if (status < 200 || status > 599) {
      throw codedError(
        new RangeError(`Invalid status code: ${status} (an isr API route answers with a Web Response, whose status is 200 to 599)`),
        'ERR_HTTP_INVALID_STATUS_CODE',
      );
    }
    if (this.statusMessage !== undefined && fieldValueProblem(this.statusMessage) !== undefined) {
      throw codedError(new TypeError('Invalid character in statusMessage'), 'ERR_INVALID_CHAR');
    }
    return status;
  }

  #sendHeaders(): void {
    if (this.#headersSent || this.destroyed) return;
    const status = this.#checkStatus();
    const headers = new Headers();
    for (const [key, { value }] of this.#headers) {
      if (Array.isArray(value)) for (const item of value) headers.append(key, item);
      else headers.append(key, String(value));
    }
    const body = this.#bodyless()
      ? null
      : new ReadableStream<Uint8Array>(
          {
            start: (controller) => {
              this.#controller = controller;
            },
            pull: () => this.#release(),
            cancel: () => {
              this.#bodyDone = true;
              this.destroy();
            },
          },
          { highWaterMark: BODY_HIGH_WATER_MARK, size: (chunk) => chunk.byteLength },
        );
    const response = new Response(body, { status, statusText: this.statusMessage ?? STATUS_CODES[status] ?? '', headers });
    this.#headersSent = true;
    this.#resolve(response);
  }
}
