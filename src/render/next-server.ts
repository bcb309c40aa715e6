/**
 * `next/server` for a site's middleware (`middleware.ts` / `proxy.ts`) and route handlers, as the
 * build maps it (build/shims.ts): `NextRequest`, `NextResponse` and `NextURL` over the Web
 * `Request`, `Response`, `Headers` and `URL`, with the cookie jars of both.
 *
 * A middleware's answer tells the server what to do through headers of the response it returns,
 * the same fields Next.js uses (so code that inspects them, as some i18n libraries do, works):
 * {@link MIDDLEWARE_NEXT} (go on), {@link MIDDLEWARE_REWRITE} (serve another URL), a `Location`
 * with a redirect status (redirect), {@link MIDDLEWARE_OVERRIDE_HEADERS} with one
 * `x-middleware-request-<name>` field per request header the page is to see. The server reads them
 * in server/middleware.ts; the bundle of a site has its own copy of this module, so nothing there
 * relies on `instanceof`.
 *
 * Not provided: `geo` and `ip` (removed from `NextRequest` in Next.js 15: they were Vercel's),
 * `userAgent`, `ImageResponse`, `after` and `connection`; importing them fails the build (esbuild
 * names the import).
 * @see https://nextjs.org/docs/app/api-reference/functions/next-request
 * @see https://nextjs.org/docs/app/api-reference/functions/next-response
 */

import { addBasePath, removeBasePath } from '../http/paths.ts';
import { REDIRECT_STATUSES } from '../http/response-head.ts';

/** A response header: the middleware lets the request go on (`NextResponse.next()`). */
export const MIDDLEWARE_NEXT = 'x-middleware-next';
/** A response header: the absolute URL the request is to be served from (`NextResponse.rewrite()`). */
export const MIDDLEWARE_REWRITE = 'x-middleware-rewrite';
/** A response header: the comma-separated names of the request headers the page is to see. */
export const MIDDLEWARE_OVERRIDE_HEADERS = 'x-middleware-override-headers';
/** The prefix of the response header carrying one of those request headers' value. */
export const MIDDLEWARE_REQUEST_HEADER = 'x-middleware-request-';
/** A response header: the cookies set on the response, for the page's request (`name=value, …`). */
export const MIDDLEWARE_SET_COOKIE = 'x-middleware-set-cookie';

/** A cookie of a request: its name and value. */
export interface RequestCookie {
  name: string;
  value: string;
}

/** A cookie set on a response, with the attributes of RFC 6265 §4.1 (and `Partitioned`, `Priority`). */
export interface ResponseCookie extends RequestCookie {
  /** `Expires`: a Date or a time in milliseconds since the epoch. */
  expires?: Date | number;
  /** `Max-Age`, in seconds. */
  maxAge?: number;
  domain?: string;
  path?: string;
  secure?: boolean;
  httpOnly?: boolean;
  sameSite?: 'strict' | 'lax' | 'none' | boolean;
  partitioned?: boolean;
  priority?: 'low' | 'medium' | 'high';
}

/** `name=value` pairs of a `Cookie` field (RFC 6265 §5.4), values percent-decoded when they can be; a pair without `=` is `name=true`. */
function parseCookieField(field: string): Map<string, string> {
  const pairs = new Map<string, string>();
  for (const pair of field.split(/; */)) {
    if (pair === '') continue;
    const at = pair.indexOf('=');
    if (at === -1) {
      pairs.set(pair, 'true');
      continue;
    }
    try {
      pairs.set(pair.slice(0, at), decodeURIComponent(pair.slice(at + 1)));
    } catch {
      // A value that is not percent-encoded UTF-8 is left out, as Next.js does.
    }
  }
  return pairs;
}

/** One `Set-Cookie` value (RFC 6265 §4.1.1): `name=<percent-encoded value>` and its attributes. */
export function serializeCookie(cookie: ResponseCookie): string {
  const { expires } = cookie;
  const attributes = [
    cookie.path ? `Path=${cookie.path}` : '',
    expires !== undefined && expires !== null ? `Expires=${(typeof expires === 'number' ? new Date(expires) : expires).toUTCString()}` : '',
    typeof cookie.maxAge === 'number' ? `Max-Age=${cookie.maxAge}` : '',
    cookie.domain ? `Domain=${cookie.domain}` : '',
    cookie.secure ? 'Secure' : '',
    cookie.httpOnly ? 'HttpOnly' : '',
    cookie.sameSite ? `SameSite=${cookie.sameSite}` : '',
    cookie.partitioned ? 'Partitioned' : '',
    cookie.priority ? `Priority=${cookie.priority}` : '',
  ].filter((attribute) => attribute !== '');
  const pair = `${cookie.name}=${encodeURIComponent(cookie.value ?? '')}`;
  return attributes.length === 0 ? pair : `${pair}; ${attributes.join('; ')}`;
}

/** The name and value of one `Set-Cookie` value (attributes are kept only as the string). */
function parseSetCookie(value: string): ResponseCookie | undefined {
  const [pair = ''] = value.split(';', 1);
  const at = pair.indexOf('=');
  if (at <= 0) return undefined;
  let decoded = pair.slice(at + 1);
  try {
    decoded = decodeURIComponent(decoded);
  } catch {
    // Kept as sent.
  }
  return { name: pair.slice(0, at).trim(), value: decoded };
}

/** What both cookie jars read alike: the cookies by name, in the order they were set. */
abstract class CookieJar<Cookie extends RequestCookie> {
  protected readonly parsed = new Map<string, Cookie>();

  get(name: string | Cookie): Cookie | undefined {
    return this.parsed.get(typeof name === 'string' ? name : name.name);
  }

  getAll(name?: string | Cookie): Cookie[] {
    const all = [...this.parsed.values()];
    if (name === undefined) return all;
    const wanted = typeof name === 'string' ? name : name.name;
    return all.filter((cookie) => cookie.name === wanted);
  }

  has(name: string): boolean {
    return this.parsed.has(name);
  }
}

/**
 * The cookies of a request (`request.cookies`): read from its `Cookie` field; `set` and `delete`
 * rewrite that field, so the request passed on carries them.
 */
export class RequestCookies extends CookieJar<RequestCookie> {
  readonly #headers: Headers;

  constructor(headers: Headers) {
    super();
    this.#headers = headers;
    for (const [name, value] of parseCookieField(headers.get('cookie') ?? '')) this.parsed.set(name, { name, value });
  }

  [Symbol.iterator](): IterableIterator<[string, RequestCookie]> {
    return this.parsed[Symbol.iterator]();
  }

  /** How many cookies the request carries. */
  get size(): number {
    return this.parsed.size;
  }

  set(...args: [name: string, value: string] | [cookie: RequestCookie]): this {
    const [name, value] = args.length === 1 ? [args[0].name, args[0].value] : args;
    this.parsed.set(name, { name, value });
    this.#write();
    return this;
  }

  delete(names: string | string[]): boolean | boolean[] {
    const result = Array.isArray(names) ? names.map((name) => this.parsed.delete(name)) : this.parsed.delete(names);
    this.#write();
    return result;
  }

  clear(): this {
    this.delete([...this.parsed.keys()]);
    return this;
  }

  override toString(): string {
    return [...this.parsed.values()].map((cookie) => `${cookie.name}=${encodeURIComponent(cookie.value)}`).join('; ');
  }

  #write(): void {
    this.#headers.set('cookie', [...this.parsed.values()].map((cookie) => serializeCookie(cookie)).join('; '));
  }
}

/**
 * The cookies a response sets (`response.cookies`): one `Set-Cookie` field each. A cookie without
 * a `path` gets `Path=/`, and `maxAge` also sets `Expires`, as Next.js's jar does.
 */
export class ResponseCookies extends CookieJar<ResponseCookie> {
  readonly #headers: Headers;
  readonly #onChange: (() => void) | undefined;

  constructor(headers: Headers, onChange?: () => void) {
    super();
    this.#headers = headers;
    this.#onChange = onChange;
    for (const value of headers.getSetCookie()) {
      const cookie = parseSetCookie(value);
      if (cookie !== undefined) this.parsed.set(cookie.name, cookie);
    }
  }

  set(...args: [name: string, value: string, options?: Partial<ResponseCookie>] | [cookie: ResponseCookie]): this {
    const cookie: ResponseCookie = args.length === 1 ? { ...args[0] } : { ...args[2], name: args[0], value: args[1] };
    if (typeof cookie.expires === 'number') cookie.expires = new Date(cookie.expires);
    if (cookie.maxAge) cookie.expires = new Date(Date.now() + cookie.maxAge * 1000);
    cookie.path ??= '/';
    this.parsed.set(cookie.name, cookie);
    this.#headers.delete('set-cookie');
    for (const value of this.parsed.values()) this.#headers.append('set-cookie', serializeCookie(value));
    this.#onChange?.();
    return this;
  }

  /** Expires the cookie (an empty value with `Expires` at the epoch). */
  delete(...args: [name: string] | [options: Omit<ResponseCookie, 'value' | 'expires'>]): this {
    const options = typeof args[0] === 'string' ? { name: args[0] } : args[0];
    return this.set({ ...options, value: '', expires: new Date(0) });
  }

  override toString(): string {
    return [...this.parsed.values()].map((cookie) => serializeCookie(cookie)).join('; ');
  }
}

/**
 * A request's URL with `clone()` (`request.nextUrl`), as middleware uses it:
 * `const url = request.nextUrl.clone(); url.pathname = '/b'; NextResponse.rewrite(url)`.
 * Under next.config's `basePath` (`/docs`), as Next.js's NextURL: `pathname` is the path without it
 * (`/b`), and setting it puts it back (`href` is `…/docs/b`); `buildId` the build's ID when known.
 */
export class NextURL extends URL {
  buildId: string | undefined;
  readonly basePath: string;
  readonly locale = '';
  readonly defaultLocale = undefined;

  constructor(input: string | URL, base?: string | URL, options: { buildId?: string; basePath?: string } = {}) {
    super(input, base);
    this.buildId = options.buildId;
    this.basePath = options.basePath ?? '';
  }

  override get pathname(): string {
    const full = super.pathname;
    return removeBasePath(full, this.basePath ?? '') ?? full;
  }

  override set pathname(value: string) {
    super.pathname = addBasePath(value.startsWith('/') ? value : `/${value}`, this.basePath ?? '');
  }

  clone(): NextURL {
    return new NextURL(this.href, undefined, { buildId: this.buildId, basePath: this.basePath });
  }
}

/** `RequestInit` plus what Next.js's `NextRequest` takes. */
export interface NextRequestInit extends RequestInit {
  nextConfig?: unknown;
  duplex?: 'half';
}

/**
 * A request with `cookies` and `nextUrl`. What middleware receives; `new NextRequest(request)` also
 * wraps any Web request.
 */
export class NextRequest extends Request {
  readonly cookies: RequestCookies;
  readonly nextUrl: NextURL;

  constructor(input: RequestInfo | URL, init: NextRequestInit = {}) {
    const url = typeof input === 'string' || input instanceof URL ? String(input) : input.url;
    super(input, init);
    const basePath = (init.nextConfig as { basePath?: unknown } | undefined)?.basePath;
    this.nextUrl = new NextURL(url, undefined, { basePath: typeof basePath === 'string' ? basePath : '' });
    this.cookies = new RequestCookies(this.headers);
  }
}

/** What `NextResponse.next()` and `NextResponse.rewrite()` take: the request headers the page is to see. */
export interface MiddlewareResponseInit extends ResponseInit {
  request?: { headers?: Headers };
}

/** Copies `init.request.headers` into `headers` as the override fields (`x-middleware-request-<name>`). */
function overrideRequestHeaders(init: MiddlewareResponseInit | undefined, headers: Headers): void {
  const requestHeaders = init?.request?.headers;
  if (requestHeaders === undefined) return;
  if (!(requestHeaders instanceof Headers)) throw new TypeError('request.headers must be an instance of Headers');
  const names: string[] = [];
  for (const [name, value] of requestHeaders) {
    headers.set(`${MIDDLEWARE_REQUEST_HEADER}${name}`, value);
    names.push(name);
  }
  headers.set(MIDDLEWARE_OVERRIDE_HEADERS, names.join(','));
}

/** An absolute URL as a string. @throws TypeError for a relative or malformed one, as Next.js does. */
function absoluteUrl(url: string | URL): string {
  try {
    return String(new URL(String(url)));
  } catch (error) {
    throw new TypeError(`URL is malformed "${String(url)}": use an absolute URL (e.g. new URL('/path', request.url))`, { cause: error });
  }
}

/**
 * A response with `cookies`, and the answers of a middleware: `next()`, `rewrite()`, `redirect()`,
 * `json()`, or any body (`new NextResponse('Forbidden', { status: 403 })`).
 */
export class NextResponse<Body = unknown> extends Response {
  readonly cookies: ResponseCookies;
  /** Only for the type of `json()`'s body. */
  declare readonly __body?: Body;

  constructor(body?: BodyInit | null, init: MiddlewareResponseInit = {}) {
    super(body, init);
    const headers = this.headers;
    // A cookie set on the response is also one the page's request carries (Next.js 14.2+).
    this.cookies = new ResponseCookies(headers, () => {
      headers.set(MIDDLEWARE_SET_COOKIE, this.cookies.getAll().map(serializeCookie).join(','));
      overrideRequestHeaders(init, headers);
    });
  }

  /** A JSON body (`Content-Type: application/json`). */
  static override json<T>(body: T, init?: ResponseInit): NextResponse<T> {
    const response = Response.json(body, init);
    return new NextResponse(response.body, { status: response.status, statusText: response.statusText, headers: response.headers });
  }

  /**
   * A redirect to the absolute `url`, 307 unless `init` says another redirect status.
   * @throws RangeError for a status that is no redirect; TypeError for a relative URL.
   */
  static override redirect(url: string | URL, init?: number | ResponseInit): NextResponse {
    const status = typeof init === 'number' ? init : (init?.status ?? 307);
    if (!REDIRECT_STATUSES.has(status)) throw new RangeError('Failed to execute "redirect" on "response": Invalid status code');
    const options = typeof init === 'object' ? init : {};
    const headers = new Headers(options.headers);
    headers.set('location', absoluteUrl(url));
    return new NextResponse(null, { ...options, headers, status });
  }

  /**
   * Serves the absolute `destination` under the requested URL: a path of the site is served from
   * its own cache entry; another origin is proxied.
   * @throws TypeError for a relative URL.
   */
  static rewrite(destination: string | URL, init?: MiddlewareResponseInit): NextResponse {
    const headers = new Headers(init?.headers);
    headers.set(MIDDLEWARE_REWRITE, absoluteUrl(destination));
    overrideRequestHeaders(init, headers);
    return new NextResponse(null, { ...init, headers });
  }

  /** Lets the request go on, with the response headers of `init` and the request headers of `init.request`. */
  static next(init?: MiddlewareResponseInit): NextResponse {
    const headers = new Headers(init?.headers);
    headers.set(MIDDLEWARE_NEXT, '1');
    overrideRequestHeaders(init, headers);
    return new NextResponse(null, { ...init, headers });
  }
}

/**
 * The second argument of a middleware: `waitUntil(promise)` keeps work going after the response
 * (under `isr start` the process simply lets it run; a rejection is logged).
 */
export class NextFetchEvent {
  readonly #pending: Promise<unknown>[];
  readonly sourcePage: string;

  constructor(sourcePage: string, pending: Promise<unknown>[]) {
    this.sourcePage = sourcePage;
    this.#pending = pending;
  }

  waitUntil(promise: Promise<unknown>): void {
    this.#pending.push(promise);
  }

  /** @throws Error: a middleware returns its response instead (Next.js refuses `respondWith` too). */
  respondWith(): never {
    throw new Error('event.respondWith() is not supported in middleware: return the Response instead');
  }
}
