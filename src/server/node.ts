import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { Logger } from '../log.ts';
import type { RequestHandler } from './handler.ts';

/**
 * The Node `http` adapter: turns a Web-standard handler into a `(req, res)` listener for
 * `http.createServer`, Express or any Node framework. Thin by design (DESIGN.md).
 */

const HOST_PATTERN = /^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

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
  const host = hostHeader !== undefined && hostHeader.length <= 255 && HOST_PATTERN.test(hostHeader) ? hostHeader : 'localhost';
  const target = req.url ?? '/';
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

/** Writes a Web `Response` to a Node response. */
export async function writeWebResponse(response: Response, res: ServerResponse): Promise<void> {
  res.statusCode = response.status;
  const setCookies = response.headers.getSetCookie();
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') res.setHeader(name, value);
  });
  if (setCookies.length > 0) res.setHeader('set-cookie', setCookies);
  if (response.body === null) {
    res.end();
    return;
  }
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    if (!res.write(chunk)) await new Promise<void>((resolve) => res.once('drain', resolve));
  }
  res.end();
}

/**
 * Wraps a handler as a Node listener. A fresh page held in memory is written straight from its
 * stored bytes and precomputed headers (the handler's `fromMemory`); everything else goes through
 * the Web-standard handler. A handler that throws answers 500 (logged, no details to
 * the client); a request URL that cannot be parsed answers 400.
 */
export function toNodeListener(handler: RequestHandler, logger?: Logger): (req: IncomingMessage, res: ServerResponse) => void {
  const fromMemory = handler.fromMemory;
  return (req, res) => {
    if (fromMemory !== undefined) {
      const header = req.headers['if-none-match'];
      const answer = fromMemory(req.method ?? 'GET', req.url ?? '/', header);
      if (answer !== undefined) {
        res.writeHead(answer.status, answer.headers);
        res.end(answer.body);
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
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end();
      });
  };
}
