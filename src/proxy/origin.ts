/**
 * The proxy's connections to its origin: one `undici` pool (keep-alive, pipelining off), with the
 * connect and response timeouts of the configuration, and the errors of an origin that cannot
 * answer, sorted into what a gateway says about them (RFC 9110 §15.6.3 502 Bad Gateway, §15.6.5
 * 504 Gateway Timeout).
 * @see https://undici.nodejs.org/#/docs/api/Pool
 */

import type { Readable } from 'node:stream';
import { Pool } from 'undici';
import type { Milliseconds, Seconds } from '../units.ts';

/** A response head from the origin and its body, still streaming. */
export interface OriginResponse {
  status: number;
  /** Lower-case names; a field sent more than once is an array. */
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
}

/** A request to the origin. */
export interface OriginRequest {
  method: string;
  /** The origin-form target: path and query (`/blog/1?page=2`). */
  target: string;
  headers: Record<string, string | readonly string[]>;
  /** The request body, streamed (undefined for none). */
  body?: Readable | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * Why the origin could not answer: `timeout` (no connection, no response head or a body that
 * stalled within the configured time: 504) or `unreachable` (refused, reset, DNS, TLS: 502).
 */
export class OriginError extends Error {
  override readonly name = 'OriginError';
  constructor(
    readonly kind: 'timeout' | 'unreachable',
    message: string,
    cause?: unknown,
  ) {
    super(message, { cause });
  }

  /** The status a gateway answers for it: 504 for a timeout, 502 otherwise. */
  get status(): 502 | 504 {
    return this.kind === 'timeout' ? 504 : 502;
  }
}

/** undici's codes of the errors that mean the origin took too long. */
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** Sorts an error of a request to the origin into an {@link OriginError} (an abort is rethrown as is). */
export function originErrorOf(error: unknown, origin: string): unknown {
  if (error instanceof OriginError) return error;
  const code = (error as { code?: unknown }).code;
  if ((error as Error).name === 'AbortError' || code === 'UND_ERR_ABORTED') return error;
  if (typeof code === 'string' && TIMEOUT_CODES.has(code)) {
    return new OriginError('timeout', `the origin ${origin} did not answer in time (${code})`, error);
  }
  return new OriginError('unreachable', `the origin ${origin} could not be reached: ${(error as Error).message ?? String(error)}`, error);
}

export interface OriginClientOptions {
  /** The origin, `http(s)://host[:port]`. */
  origin: string;
  /** Seconds to open a connection. */
  connectTimeout: Seconds;
  /** Seconds until the response head, and between two reads of the body. */
  timeout: Seconds;
  /** Idle time a pooled connection is kept, in milliseconds. Default 4000 (below Node's 5 s server keep-alive). */
  keepAliveTimeoutMs?: Milliseconds;
}

/** The pooled client of one origin. */
export class OriginClient {
  readonly origin: string;
  readonly #pool: Pool;

  constructor(options: OriginClientOptions) {
    this.origin = options.origin;
    this.#pool = new Pool(options.origin, {
      connect: { timeout: options.connectTimeout * 1000 },
      headersTimeout: options.timeout * 1000,
      bodyTimeout: options.timeout * 1000,
      keepAliveTimeout: options.keepAliveTimeoutMs ?? 4000,
      // Each request on its own connection at a time: a slow response never holds up another.
      pipelining: 1,
    });
  }

  /**
   * Sends `request` to the origin.
   * @returns the response head, with the body to read or destroy.
   * @throws OriginError when the origin cannot answer (see {@link originErrorOf}); the signal's
   *   reason when it aborts.
   */
  async request(request: OriginRequest): Promise<OriginResponse> {
    try {
      const response = await this.#pool.request({
        method: request.method as 'GET',
        path: request.target,
        headers: request.headers as Record<string, string | string[]>,
        body: request.body ?? null,
        signal: request.signal ?? null,
      });
      return { status: response.statusCode, headers: response.headers, body: response.body };
    } catch (error) {
      throw originErrorOf(error, this.origin);
    }
  }

  /** Closes the pooled connections once their requests are done. */
  async close(): Promise<void> {
    await this.#pool.close();
  }
}

/**
 * Reads `body` whole, up to `limit` bytes.
 * @returns `{ bytes }`, or `{ prefix }` when the body is longer than `limit`: then `body` is
 *   paused after the chunks in `prefix`, and the caller streams the rest on (or destroys it).
 * @throws OriginError when the body fails or stalls.
 */
export function readUpTo(body: Readable, limit: number, origin: string): Promise<{ bytes: Buffer } | { prefix: Buffer[] }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.byteLength;
      if (size > limit) {
        body.pause();
        done();
        resolve({ prefix: chunks });
      }
    };
    const onEnd = () => {
      done();
      resolve({ bytes: Buffer.concat(chunks, size) });
    };
    const onError = (error: unknown) => {
      done();
      reject(originErrorOf(error, origin));
    };
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('error', onError);
  });
}
