/**
 * Reading a request body with a size limit: the one reader of the revalidation endpoint
 * (`serve/revalidate-endpoint.ts`) and of API routes' body parser (`pages/api-request.ts`). It
 * is `raw-body` (https://github.com/stream-utils/raw-body), the reader Next.js's `parseBody`
 * uses (`next/dist/compiled/raw-body`), over the Web request's body stream.
 */

import type { Buffer } from 'node:buffer';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeWebReadableStream } from 'node:stream/web';
import getRawBody from 'raw-body';
import type { Bytes } from '../units.ts';

/**
 * Why a body could not be read, with the status that answers it:
 * - 413 `entity.too.large`: the body, or its declared `Content-Length`, is over the limit (RFC 9110 §15.5.14);
 * - 415 `encoding.unsupported`: the charset asked for is unknown (raw-body's status; Next.js answers it 400);
 * - 400 `request.aborted`: the body stream failed before its end (the client cut it short).
 * The type names are raw-body's.
 */
export class BodyError extends Error {
  override readonly name = 'BodyError';
  constructor(
    readonly status: 400 | 413 | 415,
    readonly type: 'entity.too.large' | 'encoding.unsupported' | 'request.aborted',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Reads `request`'s body in full, at most `limit` bytes.
 *
 * A `Content-Length` over `limit` is refused before anything is read; a body that grows past it
 * is read no further (its stream is cancelled, so the connection cannot be reused: answer it with
 * `Connection: close`). A request without a body (every GET and HEAD) reads as empty. Unlike
 * raw-body given a `length`, a body shorter or longer than its `Content-Length` is not refused
 * (Next.js does not pass the length; node:http already frames the body by it).
 *
 * @param limit the most bytes accepted.
 * @param charset decode the body as this charset (raw-body's `encoding`: the labels of
 *   `iconv-lite`, as in Next.js) and resolve with a string; without it, resolve with the bytes.
 * @throws BodyError (rejects) with status 413, 415 or 400, as described there.
 */
export async function readBody(request: Request, limit: Bytes): Promise<Buffer>;
export async function readBody(request: Request, limit: Bytes, charset: string): Promise<string>;
export async function readBody(request: Request, limit: Bytes, charset?: string): Promise<Buffer | string> {
  const declared = request.headers.get('content-length');
  if (declared !== null && /^\d+$/.test(declared) && Number(declared) > limit) {
    throw new BodyError(413, 'entity.too.large', `the request body (Content-Length ${declared}) is over the limit of ${limit} bytes`);
  }
  const stream = request.body === null ? Readable.from([]) : Readable.fromWeb(request.body as NodeWebReadableStream<Uint8Array>);
  try {
    // raw-body: counts the bytes as they arrive and stops at `limit` (its `entity.too.large`).
    return charset === undefined ? await getRawBody(stream, { limit }) : await getRawBody(stream, { limit, encoding: charset });
  } catch (error) {
    // raw-body leaves the stream paused; destroying it cancels the Web body, which is read no further.
    stream.destroy();
    const type = (error as { type?: unknown }).type;
    if (type === 'entity.too.large')
      throw new BodyError(413, type, `the request body is over the limit of ${limit} bytes`, { cause: error });
    if (type === 'encoding.unsupported') throw new BodyError(415, type, `unsupported charset ${JSON.stringify(charset)}`, { cause: error });
    throw new BodyError(400, 'request.aborted', 'the request body ended before it was complete', { cause: error });
  }
}
