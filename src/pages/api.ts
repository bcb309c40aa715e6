/**
 * Next.js Pages Router API routes (`pages/api/**`) on a Web-standard server.
 *
 * An API route is written against Node's `req`/`res` plus Next.js helpers
 * (https://nextjs.org/docs/pages/building-your-application/routing/api-routes). {@link runApiRoute}
 * gives the handler an {@link ApiRequest} (api-request.ts: a `Readable` of the raw body with
 * `query`, `cookies` and the parsed `body`) and an {@link ApiResponse} (api-response.ts: a
 * `Writable` with Node's `http.ServerResponse` header API and Next.js's
 * `status`/`json`/`send`/`redirect`/`revalidate`), and turns what the handler writes into a Web
 * `Response` whose body streams.
 */

import { NO_STORE } from '../http/cache-control.ts';
import { errorMessage, excerpt, type Logger, warnRepeated } from '../log.ts';
import { NextRequest } from '../render/next-server.ts';
import { ApiRequest, DEFAULT_BODY_LIMIT, parseBody, parseSizeLimit } from './api-request.ts';
import { ApiResponse, type RevalidateOptions } from './api-response.ts';

export { ApiRequest, parseSizeLimit } from './api-request.ts';
export { ApiResponse, type RevalidateOptions } from './api-response.ts';

/** The handler a `pages/api` module exports by default. */
export type ApiHandler = (req: ApiRequest, res: ApiResponse) => unknown;

/**
 * A compiled `pages/api` module.
 * - `default`: the handler, `(req: ApiRequest, res: ApiResponse) => unknown | Promise<unknown>`;
 *   anything else answers 500.
 * - `config.api.bodyParser`: `false` leaves the body unparsed (the handler reads `req` as a stream);
 *   `{ sizeLimit }` caps the parsed body: a number of bytes or a string such as `'500kb'`
 *   (units b, kb, mb, gb, tb, pb, 1024-based, read by the `bytes` package as in Next.js); default `'1mb'`.
 * - `config.api.externalResolver`: `true` when another library ends the response, which silences
 *   the "resolved without sending a response" warning (as in Next.js).
 */
export interface ApiRouteModule {
  default?: unknown;
  config?: {
    api?: { bodyParser?: false | { sizeLimit?: string | number }; externalResolver?: boolean };
    /** `'edge'` (or `'experimental-edge'`): the handler takes a `NextRequest` and returns a `Response`. */
    runtime?: string;
  };
}

/** The `runtime` values of an Edge API route (https://nextjs.org/docs/pages/building-your-application/routing/api-routes#edge-api-routes). */
const EDGE_RUNTIMES = ['edge', 'experimental-edge'];

/**
 * Runs an Edge API route: the handler is called with a `NextRequest` (and no `res`) and answers
 * with a Web `Response`, as in Next.js; isr runs it on Node.js. A handler that throws or answers
 * something other than a `Response` gets the plain 500, logged with the route.
 */
async function runEdgeApiRoute(input: ApiRouteInput, handler: (request: NextRequest) => unknown): Promise<Response> {
  const { request, pathname, pattern, params, logger } = input;
  try {
    const response = await handler(new NextRequest(withParamsInQuery(request, params)));
    if (response instanceof Response) return response;
    logger.error(`API route ${pathname}: an Edge API route (config.runtime = 'edge') must return a Response, got ${typeof response}`);
  } catch (error) {
    logger.error(`API route ${pathname} failed (${pattern})`, error);
  }
  return internalServerError();
}

/**
 * `request` with the route's `params` in its query, each winning over a search param of the same
 * name (a catch-all's segments as repeated values), as Next.js hands an Edge API route its params
 * (`runEdgeFunction` of next-server: `{ ...searchParams, ...query, ...params }`):
 * `pages/api/hello/[name].ts` reads `request.nextUrl.searchParams.get('name')`.
 */
function withParamsInQuery(request: Request, params: ApiRouteInput['params']): Request {
  const names = Object.keys(params).filter((name) => params[name] !== undefined);
  if (names.length === 0) return request;
  const url = new URL(request.url);
  for (const name of names) {
    url.searchParams.delete(name);
    const value = params[name]!;
    for (const item of Array.isArray(value) ? value : [value]) url.searchParams.append(name, item);
  }
  const init: RequestInit & { duplex?: 'half' } = { method: request.method, headers: request.headers, signal: request.signal };
  if (request.body !== null) Object.assign(init, { body: request.body, duplex: 'half' });
  return new Request(url, init);
}

/** What {@link runApiRoute} needs to run one request through an API route. */
export interface ApiRouteInput {
  /** The Web request. */
  request: Request;
  /** Canonical request path, e.g. `/api/revalidate` (log messages). */
  pathname: string;
  /** Route pattern, e.g. `/api/posts/[id]` (log messages about the module). */
  pattern: string;
  /** Route params; they win over search params of the same name in `req.query`. */
  params: Record<string, string | string[] | undefined>;
  module: ApiRouteModule;
  /** Regenerates the page at `path` now and resolves once it is stored; rejects when it fails. */
  revalidate: (path: string, options: RevalidateOptions) => Promise<void>;
  logger: Logger;
}

/**
 * A plain-text answer that runs no handler code: Next.js's `sendError` (status, reason phrase,
 * message as body), which no cache may keep.
 */
function plainError(status: number, message: string): Response {
  return new Response(message, {
    status,
    statusText: message,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': NO_STORE },
  });
}

const internalServerError = () => plainError(500, 'Internal Server Error');

/**
 * Runs the API route for `input.request` (Next.js's `apiResolver`) and resolves with the Web
 * response as soon as the handler sends headers (its first `write`, `end`, `writeHead` or
 * `flushHeaders`); the body streams what it writes after. Every method reaches the handler.
 *
 * Before the handler: the body is parsed into `req.body` (see the `bodyParser` config on
 * {@link ApiRouteModule}; content types as Next.js: JSON and `…+json` parsed, `{}` when empty;
 * urlencoded as an object; anything else a string; no body, as every GET and HEAD, gives `''`).
 * Invalid JSON answers 400 `Invalid JSON`, a body over the limit 413 `Body exceeded <limit> limit`,
 * both plain text without calling the handler. With `bodyParser: false`, `req.body` is undefined
 * and `req` streams the request body.
 *
 * Never rejects. Failures:
 * - no default export function, or an invalid `sizeLimit`: 500 `Internal Server Error`, `logger.error` naming `input.pattern`;
 * - the handler throws or rejects (or returns a Web `Response`, which Pages API routes cannot) before
 *   the headers are sent: `logger.error('API route <pathname> failed', error)` and 500 with a plain
 *   `Internal Server Error` body (never the error's message or stack); after the headers were sent:
 *   the same log line, and the body stream errors (the client sees an aborted response) unless
 *   the handler had already ended it;
 * - `res` destroyed before its headers were sent: 500, logged;
 * - the handler resolves without sending headers: Next.js's warning `API resolved without sending a
 *   response for <pathname>, this may result in stalled requests.` (not when it piped a stream
 *   into `res` or `config.api.externalResolver` is set), and the response is still awaited: a
 *   handler may end it later from a callback.
 */
export async function runApiRoute(input: ApiRouteInput): Promise<Response> {
  const { request, pathname, pattern, module, logger } = input;
  const handler = module.default;
  if (typeof handler !== 'function') {
    logger.error(`API route ${pattern} has no default export function (the handler); answering 500`);
    return internalServerError();
  }
  if (EDGE_RUNTIMES.includes(module.config?.runtime ?? '')) return runEdgeApiRoute(input, handler as (request: NextRequest) => unknown);
  const api = module.config?.api ?? {};
  const bodyParser = api.bodyParser ?? {};
  let req: ApiRequest;
  if (bodyParser === false) {
    req = new ApiRequest(request, { params: input.params, stream: request.body });
  } else {
    const label = bodyParser.sizeLimit ?? DEFAULT_BODY_LIMIT;
    let limit: number;
    try {
      limit = parseSizeLimit(label);
    } catch (error) {
      logger.error(`API route ${pattern}: ${errorMessage(error)}; answering 500`);
      return internalServerError();
    }
    const parsed = await parseBody(request, limit, label);
    if (!parsed.ok) return plainError(parsed.status, parsed.message);
    req = new ApiRequest(request, { params: input.params });
    req.body = parsed.body;
  }
  const res = new ApiResponse(request, input.revalidate);

  return new Promise<Response>((resolve) => {
    let failure: unknown;
    let failed = false;
    let piped = false;
    void res.webResponse.then(resolve);
    res.once('pipe', () => {
      piped = true;
    });
    res.on('error', (error) => {
      if (!(failed && error === failure)) logger.error(`API route ${pathname}: the response failed`, error);
    });
    res.once('close', () => {
      if (res.headersSent) return;
      if (!failed) logger.error(`API route ${pathname}: the response was destroyed before its headers were sent; answering 500`);
      resolve(internalServerError());
    });
    Promise.resolve()
      .then(() => (handler as ApiHandler)(req, res))
      .then((result) => {
        if (result instanceof Response) {
          throw new Error(
            `API route ${pattern} returned a Response object: Pages API routes answer through res (res.status(...).json(...))`,
          );
        }
        if (!res.headersSent && !res.destroyed && !piped && api.externalResolver !== true) {
          warnRepeated(
            logger,
            'api: resolved without a response',
            `API resolved without sending a response for ${excerpt(pathname)}, this may result in stalled requests.`,
          );
        }
      })
      .catch((error: unknown) => {
        logger.error(`API route ${pathname} failed`, error);
        failed = true;
        if (!res.headersSent) {
          res.destroy();
        } else if (!res.writableEnded) {
          failure = error instanceof Error ? error : new Error(String(error));
          res.destroy(failure as Error);
        }
      });
  });
}
