/**
 * The request handler's one error funnel (Hono's `#handleError`, `honojs/hono` `src/hono-base.ts`):
 * whatever throws on the way to an answer ends in {@link answerError}, which turns it into the
 * plain 500 page, or the right answer for the failures it knows.
 *
 * The code that fails says what it was doing by throwing one of the errors below, so the log line
 * names the page or route; the funnel decides the answer and logs once.
 */
import { NO_STORE } from '../http/cache-control.ts';
import { errorMessage, type Logger } from '../log.ts';
import { textResponse } from './respond.ts';

/** The plain 500 page (RFC 9110 §15.6.1): no details of the failure reach the client. */
const ERROR_PAGE = new TextEncoder().encode(
  '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>500: Internal Server Error</title></head>' +
    '<body><h1>500</h1><p>Internal Server Error.</p></body></html>',
);

/**
 * A request that cannot be answered as asked: the funnel answers the plain 500 page.
 * `logLine` names what failed (`rendering /blog/1 (route /blog/[id]) failed`), logged with
 * `cause`; undefined when the failure is already logged (the engine logs a failed generation with
 * its cause, engine/engine.ts).
 */
export class RequestFailure extends Error {
  /**
   * @param plain answer `Internal Server Error` as plain text instead of the 500 page: what
   *   Next.js answers for a route handler that throws (its app-route module), where a page gets
   *   the error page.
   */
  constructor(
    readonly logLine: string | undefined,
    cause: unknown,
    readonly plain = false,
  ) {
    super(logLine ?? errorMessage(cause), { cause });
    this.name = 'RequestFailure';
  }

  /** For `promise.catch`: rethrows any error as a failure the engine has already logged. */
  static loggedByEngine(cause: unknown, plain = false): never {
    throw new RequestFailure(undefined, cause, plain);
  }
}

/**
 * Site code that failed while its client had gone away (its `request.signal` aborted, e.g. the
 * request body ended mid-way): bad input, not a server error. The funnel answers 400 (no one is
 * there to read it) and logs it at debug level. `subject` names the code, e.g.
 * `route handler /api/x (route /api/x)`.
 */
export class ClientWentAway extends Error {
  constructor(
    readonly subject: string,
    cause: unknown,
  ) {
    super(`${subject}: the client went away (${errorMessage(cause)})`, { cause });
    this.name = 'ClientWentAway';
  }
}

/**
 * The funnel: the answer for an error thrown while handling `request`.
 * - {@link ClientWentAway}: 400 `The request ended before it was complete`, `Connection: close`.
 * - {@link RequestFailure}: the plain 500 page (`text/html`, `no-store`), or for a route handler
 *   `Internal Server Error` as `text/plain`, after logging `logLine`.
 * @throws `error` itself for anything else (a bug, a public file that cannot be read): the adapter
 *   logs it as unhandled and answers its own 500 (serve/node.ts `answerServerError`), as it does
 *   for a handler that rejects.
 */
export function answerError(error: unknown, logger: Logger): Response {
  if (error instanceof ClientWentAway) {
    logger.debug(error.message);
    return textResponse(400, 'The request ended before it was complete', { connection: 'close' });
  }
  if (error instanceof RequestFailure) {
    if (error.logLine !== undefined) logger.error(error.logLine, error.cause);
    if (error.plain) return textResponse(500, 'Internal Server Error');
    return new Response(ERROR_PAGE, { status: 500, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': NO_STORE } });
  }
  throw error;
}
