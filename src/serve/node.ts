/**
 * The Node `http` adapter: turns a Web-standard handler into a `(req, res)` listener for
 * `http.createServer`, Express or any Node framework. Thin by design: the caching rules are the
 * handler's and the engine's.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { NOT_STORED } from '../http/cache-control.ts';
import { absoluteFormTarget, isUrlHost, isValidHost } from '../http/host.ts';
import type { Logger } from '../log.ts';
import type { WebHandler } from './fast-path.ts';
import { storedBodyOf } from './stored-body.ts';

/** The number of `Host` lines in a Node request, and the first one's value. */
function hostLines(req: IncomingMessage): { count: number; value: string | undefined } {
  let count = 0;
  let value: string | undefined;
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i]!.length === 4 && req.rawHeaders[i]!.toLowerCase() === 'host') {
      count++;
      value ??= req.rawHeaders[i + 1];
    }
  }
  return { count, value };
}

/**
 * What is wrong with a request's `Host` lines or target that node:http lets through, as the end
 * of a 400 message (`more than one Host header`), or undefined: more than one `Host` or an invalid
 * one (RFC 9112 §3.2; node:http itself answers 400 to a request without Host), a `*` target for
 * another method than OPTIONS (RFC 9112 §3.2.4).
 */
export function requestLineProblem(req: IncomingMessage): string | undefined {
  const host = hostLines(req);
  if (host.count > 1) return 'more than one Host header';
  if (host.value !== undefined && !isValidHost(host.value)) return 'invalid Host header';
  if (req.url === '*' && req.method !== 'OPTIONS') return '* is a target for OPTIONS only';
  return undefined;
}

/** The reason of `request.signal` when the client closed its connection before the exchange ended. */
export class ClientAbortError extends Error {
  override readonly name = 'AbortError';
  constructor() {
    super('the client closed the connection before the exchange ended');
  }
}

/**
 * Builds a Web `Request` from a Node request; a malformed `Host` falls back to `localhost`.
 * `request.signal` aborts when the client goes away first: its connection closes before the
 * request body arrived in full, or (given `res`) before the response was finished — as Next.js's
 * `request.signal` does.
 */
export function toWebRequest(req: IncomingMessage, res?: ServerResponse): Request {
  const hostHeader = req.headers.host;
  let host = hostHeader !== undefined && isUrlHost(hostHeader) ? hostHeader : 'localhost';
  let target = req.url ?? '/';
  const absolute = absoluteFormTarget(target);
  if (absolute !== undefined) ({ host, target } = absolute);
  const url = target.startsWith('/') ? `http://${host}${target}` : `http://${host}/${target === '*' ? '' : target}`;
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    if (name.startsWith(':')) continue;
    try {
      headers.append(name, req.rawHeaders[i + 1]!);
    } catch {
      // a header value the Fetch spec rejects: leave it out
    }
  }
  const method = req.method ?? 'GET';
  const hasBody = method !== 'GET' && method !== 'HEAD';
  const controller = new AbortController();
  const abort = () => controller.abort(new ClientAbortError());
  req.once('close', () => {
    if (!req.complete) abort();
  });
  res?.once('close', () => {
    if (!res.writableFinished) abort();
  });
  return new Request(url, {
    method,
    headers,
    signal: controller.signal,
    body: hasBody ? (Readable.toWeb(req) as ReadableStream<Uint8Array>) : null,
    // @ts-expect-error: `duplex` is required by Node's fetch for streaming bodies, missing from the DOM types
    duplex: hasBody ? 'half' : undefined,
  });
}

/**
 * Writes a Web `Response` to a Node response. The head is written in one `writeHead` call, so a
 * header node:http refuses throws before anything is sent (the caller can still answer 500). A
 * stored-body response (serve/stored-body.ts) is written from the stored bytes, not copied.
 */
export async function writeWebResponse(response: Response, res: ServerResponse): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers[name] = value;
  });
  const setCookies = response.headers.getSetCookie();
  if (setCookies.length > 0) headers['set-cookie'] = setCookies;
  res.writeHead(response.status, headers);
  const stored = storedBodyOf(response);
  if (stored !== undefined) {
    res.end(stored);
    return;
  }
  if (response.body === null) {
    res.end();
    return;
  }
  // Leaving the loop early (the client went away) cancels the body's stream, and so its render.
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    if (res.destroyed) return;
    if (!res.write(chunk) && !(await drained(res))) return;
  }
  res.end();
}

/** Resolves true once `res` drains, false if it closes first (a response that waits for `drain` alone may wait forever). */
function drained(res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const settle = (value: boolean) => () => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(value);
    };
    const onDrain = settle(true);
    const onClose = settle(false);
    res.once('drain', onDrain);
    res.once('close', onClose);
  });
}

/**
 * Wraps a handler as a Node listener. A fresh page held in memory is written straight from its
 * stored bytes and precomputed headers (the handler's `fromMemory`); everything else goes through
 * the Web-standard handler. A handler that throws answers 500 (logged, no details to
 * the client); a request URL that cannot be parsed, a `Host` that is invalid or repeated
 * (RFC 9112 §3.2), or a `*` target for another method than OPTIONS answers 400.
 */
export function toNodeListener(handler: WebHandler, logger?: Logger): (req: IncomingMessage, res: ServerResponse) => void {
  const fromMemory = handler.fromMemory;
  return (req, res) => {
    const problem = requestLineProblem(req);
    if (problem !== undefined) {
      res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' }).end(`Bad request: ${problem}\n`);
      return;
    }
    const host = hostLines(req);
    if (fromMemory !== undefined) {
      try {
        const method = req.method;
        const answer =
          method === 'GET' || method === 'HEAD'
            ? fromMemory({
                method,
                target: req.url ?? '/',
                ifNoneMatch: req.headers['if-none-match'],
                host: host.value,
                authorization: req.headers.authorization !== undefined,
                cookie: req.headers.cookie,
              })
            : undefined;
        if (answer !== undefined) {
          res.writeHead(answer.status, answer.headers);
          res.end(answer.body);
          return;
        }
      } catch (error) {
        // A stored entry node:http refuses to send (or a bug): a 500 for this request, never a dead process.
        logger?.error(`unhandled error answering ${req.method} ${req.url} from memory`, error);
        answerServerError(res);
        return;
      }
    }
    let request: Request;
    try {
      request = toWebRequest(req, res);
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end('Bad request\n');
      return;
    }
    handler(request)
      .then((response) => writeWebResponse(response, res))
      .catch((error: unknown) => {
        logger?.error(`unhandled error answering ${req.method} ${req.url}`, error);
        answerServerError(res);
      });
  };
}

/**
 * Answers a plain 500 if nothing was sent yet; otherwise cuts the response short (its framing can
 * no longer be trusted) by destroying the connection. Never throws.
 */
export function answerServerError(res: ServerResponse): void {
  try {
    if (!res.headersSent) {
      for (const name of res.getHeaderNames()) res.removeHeader(name);
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': NOT_STORED, 'content-length': '22' });
      res.end('Internal Server Error\n');
      return;
    }
  } catch {
    // fall through: the connection is dropped
  }
  res.destroy();
}
