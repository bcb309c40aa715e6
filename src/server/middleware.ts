/**
 * Runs a site's middleware (`proxy.ts` / `middleware.ts`, compiled by `isr build`) for a request
 * its matchers cover, and turns its answer into what the handler does next, as `next start` does
 * (Next.js's router server, `resolve-routes`):
 *
 * - `NextResponse.next()` or nothing: the request goes on.
 * - `NextResponse.rewrite(url)`: the request goes on to `url` (a path of the site, served from that
 *   path's own cache entry, or another origin, proxied).
 * - a `Location` with a redirect status (`NextResponse.redirect`): that redirect, at once.
 * - any other response (`new NextResponse('Forbidden', { status: 403 })`, `NextResponse.json`):
 *   sent as it is.
 *
 * The response headers the middleware set (and its cookies, `Set-Cookie`) go on the final answer;
 * they are added to the response sent, never to a cache entry. Request headers given as
 * `NextResponse.next({ request: { headers } })` replace the request's for what follows (route
 * handlers, API routes); cookies the middleware set are added to the request's `Cookie` field.
 * The protocol fields (`x-middleware-*`) are render/next-server.ts's.
 */

import { REDIRECT_STATUSES } from '../http/response-head.ts';
import type { Logger } from '../log.ts';
import {
  MIDDLEWARE_NEXT,
  MIDDLEWARE_OVERRIDE_HEADERS,
  MIDDLEWARE_REQUEST_HEADER,
  MIDDLEWARE_REWRITE,
  MIDDLEWARE_SET_COOKIE,
  NextFetchEvent,
  NextRequest,
} from '../render/next-server.ts';
import type { ManifestMiddleware } from '../site/middleware.ts';
import { RequestFailure } from './errors.ts';
import { holds } from './next-routes.ts';

/** A middleware function: `(request, event) => Response | undefined`, or a promise of one. */
type MiddlewareFunction = (request: NextRequest, event: NextFetchEvent) => unknown;

/** What the handler does after the middleware ran. */
export type MiddlewareOutcome =
  /** Answer with `response` (a redirect, or the middleware's own response). */
  | { kind: 'respond'; response: Response }
  /**
   * Go on with `request` (its headers as the middleware left them) to `rewrite` when set, else to
   * the requested URL; add `headers` to the answer.
   */
  | { kind: 'continue'; request: Request; rewrite: URL | undefined; headers: Headers };

/** The protocol's fields (render/next-server.ts, and Next's `x-middleware-redirect` / `-refresh`) and framing: never passed on. */
const INTERNAL_FIELDS = new Set([
  MIDDLEWARE_NEXT,
  MIDDLEWARE_REWRITE,
  MIDDLEWARE_OVERRIDE_HEADERS,
  MIDDLEWARE_SET_COOKIE,
  'x-middleware-redirect',
  'x-middleware-refresh',
  'content-length',
  'transfer-encoding',
]);

/**
 * Request fields of the protocol a client may not send (Next.js's `INTERNAL_HEADERS`, stripped by
 * its router server from every request): a middleware that hands the request's headers back as its
 * response's (`NextResponse.next({ headers: request.headers })`) would otherwise let the client
 * choose a rewrite (to any origin, proxied), request headers, or the data-route flag.
 */
const CLIENT_FORBIDDEN_FIELDS = [
  MIDDLEWARE_NEXT,
  MIDDLEWARE_REWRITE,
  MIDDLEWARE_OVERRIDE_HEADERS,
  MIDDLEWARE_SET_COOKIE,
  'x-middleware-redirect',
  'x-middleware-refresh',
  'x-middleware-skip',
  'x-middleware-subrequest',
  'x-nextjs-data',
];

/** Whether a response field of the middleware goes on the answer. */
function isPassedOn(name: string): boolean {
  return !INTERNAL_FIELDS.has(name) && !name.startsWith(MIDDLEWARE_REQUEST_HEADER);
}

/** `url` as the `Location` of a redirect: relative (path, query, fragment) when on the request's origin, as `next start` sends it. */
function relativeTo(url: URL, origin: string): string {
  return url.origin === origin ? `${url.pathname}${url.search}${url.hash}` : url.href;
}

/**
 * The `Set-Cookie` values joined in one field (`Headers.get` joins them with `, `), split again: a
 * comma starts a new cookie only where a `name=` follows, never inside an `Expires` date
 * (`Expires=Thu, 01 Jan 1970 …`), as Next.js's `splitCookiesString`.
 */
function splitSetCookies(joined: string): string[] {
  return joined
    .split(/,(?=\s*[^;,=\s]+=)/)
    .map((cookie) => cookie.trim())
    .filter(Boolean);
}

/** Whether a `Set-Cookie` value removes its cookie: `Max-Age` of 0 or less, or an `Expires` in the past (RFC 6265 §5.2). */
function removesCookie(attributes: readonly string[]): boolean {
  for (const attribute of attributes) {
    const [name = '', value = ''] = attribute.split('=', 2).map((part) => part.trim());
    if (name.toLowerCase() === 'max-age' && Number(value) <= 0) return true;
    if (name.toLowerCase() === 'expires' && Date.parse(value) <= Date.now()) return true;
  }
  return false;
}

/**
 * A request's `Cookie` field with the cookies the middleware set put over it, and those it
 * deleted (`cookies.delete`, an expiry in the past) taken out, as the page sees them under
 * `next start`. Exported for tests.
 */
export function mergedCookies(field: string | null, setCookies: string): string {
  const pairs = new Map<string, string>();
  for (const pair of (field ?? '').split(/; */)) {
    const at = pair.indexOf('=');
    if (at > 0) pairs.set(pair.slice(0, at), pair.slice(at + 1));
  }
  for (const cookie of splitSetCookies(setCookies)) {
    const [pair = '', ...attributes] = cookie.split(';');
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    const name = pair.slice(0, at).trim();
    if (removesCookie(attributes)) pairs.delete(name);
    else pairs.set(name, pair.slice(at + 1).trim());
  }
  return [...pairs].map(([name, value]) => `${name}=${value}`).join('; ');
}

export class SiteMiddleware {
  readonly #record: ManifestMiddleware;
  readonly #matchers: {
    regexp: RegExp;
    has: ManifestMiddleware['matchers'][number]['has'];
    missing: ManifestMiddleware['matchers'][number]['missing'];
  }[];
  readonly #load: () => Promise<Record<string, unknown>>;
  readonly #logger: Logger;
  #function: Promise<MiddlewareFunction> | undefined;

  /**
   * @param record the manifest's middleware.
   * @param load loads its compiled module (`Site.load`).
   */
  /**
   * @param basePath next.config's `basePath` (`''` for none): `request.nextUrl.pathname` is the path
   *   without it, and a URL built from `nextUrl` carries it, as under next start.
   */
  constructor(
    record: ManifestMiddleware,
    load: (module: string) => Promise<Record<string, unknown>>,
    logger: Logger,
    private readonly basePath = '',
  ) {
    this.#record = record;
    this.#matchers = record.matchers.map(({ regexp, has, missing }) => ({ regexp: new RegExp(regexp), has, missing }));
    this.#load = () => load(record.module);
    this.#logger = logger;
  }

  /** The source file (`middleware.ts`), for messages. */
  get file(): string {
    return this.#record.file;
  }

  /**
   * Whether a matcher's path pattern covers `pathname`, whatever its `has` / `missing` conditions
   * say: the HIT fast path serves no such path, so the middleware always runs for it.
   */
  covers(pathname: string): boolean {
    return this.#matchers.some(({ regexp }) => regexp.test(pathname) || regexp.test(safeDecode(pathname)));
  }

  /** Whether the middleware runs for `request` at `url` (a page path: data routes pass their page's URL). */
  matches(request: Request, url: URL): boolean {
    const decoded = safeDecode(url.pathname);
    return this.#matchers.some(
      ({ regexp, has, missing }) =>
        (regexp.test(url.pathname) || regexp.test(decoded)) &&
        (has ?? []).every((condition) => holds(condition, request, url)) &&
        !(missing ?? []).some((condition) => holds(condition, request, url)),
    );
  }

  /**
   * Runs the middleware for `request` at `url`.
   * @param extraHeaders request headers the middleware also sees (`x-nextjs-data` for a data route).
   * @throws RequestFailure (the plain 500 page, as `next start` answers) when the module cannot be
   *   loaded, the function throws, or it returns something other than a Response or nothing.
   */
  async run(request: Request, url: URL, extraHeaders: Readonly<Record<string, string>> = {}): Promise<MiddlewareOutcome> {
    const label = `${this.#record.file} (for ${url.pathname})`;
    const run = await this.#functionOf().catch((error: unknown) => {
      throw new RequestFailure(`middleware ${this.#record.file} failed to load`, error);
    });
    const hasBody = request.method !== 'GET' && request.method !== 'HEAD' && request.body !== null;
    const headers = new Headers(request.headers);
    for (const name of [...headers.keys()]) {
      if (CLIENT_FORBIDDEN_FIELDS.includes(name) || name.startsWith(MIDDLEWARE_REQUEST_HEADER)) headers.delete(name);
    }
    for (const [name, value] of Object.entries(extraHeaders)) headers.set(name, value);
    // The middleware reads a copy of the body; the route after it reads the original.
    const init: RequestInit & { duplex?: 'half' } = { method: request.method, headers, signal: request.signal };
    if (hasBody) Object.assign(init, { body: request.clone().body, duplex: 'half' });
    const nextRequest = new NextRequest(url.href, { ...init, nextConfig: { basePath: this.basePath } });
    const pending: Promise<unknown>[] = [];
    let result: unknown;
    try {
      result = await run(nextRequest, new NextFetchEvent(this.#record.file, pending));
    } catch (error) {
      throw new RequestFailure(`middleware ${label} threw`, error);
    } finally {
      this.#settle(pending, label);
    }
    if (result === undefined || result === null) return { kind: 'continue', request, rewrite: undefined, headers: new Headers() };
    if (!(result instanceof Response)) {
      throw new RequestFailure(
        `middleware ${label} returned ${typeof result}: it must return a Response (NextResponse) or nothing`,
        undefined,
      );
    }
    return this.#outcome(result, request, url);
  }

  /** What `response`, the middleware's answer to `request` at `url`, says to do. */
  #outcome(response: Response, request: Request, url: URL): MiddlewareOutcome {
    const fields = response.headers;
    const passed = new Headers();
    for (const [name, value] of fields) if (isPassedOn(name) && name !== 'set-cookie') passed.append(name, value);
    for (const cookie of fields.getSetCookie()) passed.append('set-cookie', cookie);

    const location = fields.get('location');
    if (location !== null && REDIRECT_STATUSES.has(response.status)) {
      let target: URL;
      try {
        target = new URL(location, url);
      } catch (error) {
        throw new RequestFailure(`middleware ${this.#record.file} redirected to an invalid URL ${JSON.stringify(location)}`, error);
      }
      passed.set('location', relativeTo(target, url.origin));
      return { kind: 'respond', response: new Response(null, { status: response.status, headers: passed }) };
    }
    const rewriteTo = fields.get(MIDDLEWARE_REWRITE);
    if (rewriteTo === null && !fields.has(MIDDLEWARE_NEXT)) {
      // The middleware's own answer, body and all.
      return {
        kind: 'respond',
        response: new Response(response.body, { status: response.status, statusText: response.statusText, headers: passed }),
      };
    }
    let rewrite: URL | undefined;
    if (rewriteTo !== null) {
      try {
        rewrite = new URL(rewriteTo, url);
      } catch (error) {
        throw new RequestFailure(`middleware ${this.#record.file} rewrote to an invalid URL ${JSON.stringify(rewriteTo)}`, error);
      }
    }
    return { kind: 'continue', request: this.#forwarded(request, fields), rewrite, headers: passed };
  }

  /** `request` with the request headers the middleware's answer `fields` give, or `request` itself when they change nothing. */
  #forwarded(request: Request, fields: Headers): Request {
    const override = fields.get(MIDDLEWARE_OVERRIDE_HEADERS);
    const setCookies = fields.get(MIDDLEWARE_SET_COOKIE);
    if (override === null && setCookies === null) return request;
    let headers = new Headers(request.headers);
    if (override !== null) {
      headers = new Headers();
      for (const name of override.split(',')) {
        const key = name.trim();
        const value = fields.get(`${MIDDLEWARE_REQUEST_HEADER}${key}`);
        if (key !== '' && value !== null) headers.set(key, value);
      }
    }
    if (setCookies !== null) headers.set('cookie', mergedCookies(headers.get('cookie'), setCookies));
    const init: RequestInit & { duplex?: 'half' } = { method: request.method, headers, signal: request.signal };
    if (request.method !== 'GET' && request.method !== 'HEAD' && request.body !== null)
      Object.assign(init, { body: request.body, duplex: 'half' });
    return new Request(request.url, init);
  }

  /** Lets the work given to `event.waitUntil` finish after the answer, logging what rejects. */
  #settle(pending: Promise<unknown>[], label: string): void {
    for (const promise of pending) {
      Promise.resolve(promise).catch((error: unknown) => {
        this.#logger.error(
          `middleware ${label}: a promise given to event.waitUntil() rejected: ${(error as Error)?.message ?? String(error)}`,
        );
      });
    }
  }

  #functionOf(): Promise<MiddlewareFunction> {
    this.#function ??= this.#load().then((module) => {
      const found = module[this.#record.export];
      if (typeof found !== 'function') throw new TypeError(`${this.#record.file} no longer exports ${this.#record.export} as a function`);
      return found as MiddlewareFunction;
    });
    return this.#function;
  }
}

/** `pathname` percent-decoded, or as it is when it does not decode. */
function safeDecode(pathname: string): string {
  try {
    return decodeURIComponent(pathname);
  } catch {
    return pathname;
  }
}
