/**
 * The proxy's request listener: ISR in front of any HTTP origin (docs/proxy.md).
 *
 * - GET and HEAD go through the engine under the request's cache key (keys.ts): a fresh entry is a
 *   HIT; a stale one within its `stale-while-revalidate` window is answered at once (STALE) while
 *   one regeneration runs per key (and, with a shared store, per cluster: the engine's
 *   shielding); a missing, expired or purged one is fetched before answering (MISS), one origin
 *   request for every waiting client. What the origin says may not be stored goes to its own
 *   client only (BYPASS), streamed. A regeneration that fails (5xx, timeout, refused connection)
 *   keeps the last good entry for its `stale-if-error` window.
 * - Every other method is passed to the origin and streamed both ways (BYPASS); a success
 *   invalidates what is stored for the same path (RFC 9111 §4.4).
 * - `POST /_isr/revalidate` and `GET /_isr/status` are answered here, as under `isr start`.
 *
 * Every answer carries `x-isr-cache`: `HIT`, `STALE`, `MISS` or `BYPASS`.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { IsrConfig } from '../config/config.ts';
import type { RouteRule } from '../config/routes.ts';
import { type Generate, type Generated, GenerationError, type IsrEngine, RenderTimeoutError } from '../engine/engine.ts';
import { IMPLICIT_TAG_PREFIX, implicitTags, validateOriginTag } from '../engine/tags.ts';
import { NO_STORE } from '../http/cache-control.ts';
import { responseHeadProblem } from '../http/fields.ts';
import { absoluteFormTarget } from '../http/host.ts';
import { normalizePath, parsePath } from '../http/paths.ts';
import { forwardRequestHeaders, forwardResponseHeaders, type HeaderRecord } from '../http/shared-cache.ts';
import { describeError, type Logger, warnRepeated } from '../log.ts';
import type { FromMemory, MemoryAnswer, SimpleRequest } from '../serve/fast-path.ts';
import { requestLineProblem, toWebRequest, writeWebResponse } from '../serve/node.ts';
import { handleRevalidateRequest, REVALIDATE_ENDPOINT } from '../serve/revalidate-endpoint.ts';
import { handleStatusRequest, type IsrStatus, STATUS_ENDPOINT } from '../serve/status-endpoint.ts';
import type { CacheEntry } from '../store/store.ts';
import type { Bytes } from '../units.ts';
import { CacheKeys } from './keys.ts';
import { type OriginClient, OriginError, type OriginResponse, readUpTo } from './origin.ts';
import { decide } from './policy.ts';
import { EntryHeads, INITIAL_AGE_FIELD, STALE_IF_ERROR_FIELD } from './respond.ts';

/** Largest response body stored, in bytes; a longer one is streamed to its client and not stored. */
export const MAX_STORED_BODY: Bytes = 10 * 1024 * 1024;

/** Largest error page (5xx) of the origin read to hand to the clients waiting for it, in bytes. */
const MAX_ERROR_BODY: Bytes = 256 * 1024;

/** Most purge tags one response may carry; further ones are dropped (a response naming thousands is a mistake). */
const MAX_TAGS = 128;

/**
 * Whether an origin response says its own cache answered with a stale page: Next.js's
 * `x-nextjs-cache: STALE` (the header `next start` sends on every cached page).
 */
const STALE_ANSWER = (headers: HeaderRecord): boolean => headers['x-nextjs-cache'] === 'STALE';

/** Cookies that always skip the cache: Next.js's draft mode (`__prerender_bypass`). */
const BYPASS_COOKIES = ['__prerender_bypass'];

/** No request headers: what the fast path checks bypass cookies with (a rule that bypasses on headers never gets that far). */
const NO_HEADERS: HeaderRecord = {};

/**
 * Request fields never sent on a cache fill: the client's own validators and ranges (the fill is
 * for everyone; RFC 9111 §4.3.1), and fields some frameworks honour to rewrite the request
 * without their being part of any key (the classic cache-poisoning vectors).
 */
const NOT_FORWARDED_ON_FILL = [
  'if-none-match',
  'if-modified-since',
  'if-match',
  'if-unmodified-since',
  'if-range',
  'range',
  'cache-control',
  'pragma',
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
  'x-original-url',
  'x-rewrite-url',
  'x-forwarded-prefix',
];

/** Response fields meant for this cache, never stored nor sent on (Fastly and Cloudflare strip them too). */
const CACHE_ONLY_FIELDS = ['surrogate-control', 'surrogate-key', 'cache-tag', 'x-next-cache-tags', 'date', 'age'];

/** The origin's answer to a regeneration when it is a 5xx: the clients waiting for a MISS get it as is. */
class OriginStatusError extends Error {
  override readonly name = 'OriginStatusError';
  constructor(
    readonly status: number,
    readonly headers: Record<string, string | string[] | undefined>,
    readonly body: Buffer,
  ) {
    super(`the origin answered ${status}`);
  }
}

export interface ProxyHandlerOptions {
  engine: IsrEngine;
  origin: OriginClient;
  config: IsrConfig;
  logger: Logger;
  /** The report of `GET /_isr/status`. */
  status: () => IsrStatus;
}

export interface ProxyHandler {
  /** The `node:http` request listener. */
  listener: (req: IncomingMessage, res: ServerResponse) => void;
  /** The HIT fast path for the front (serve/front.ts). */
  fromMemory: FromMemory;
}

/** Where the answer to one cached request stands, shared with its generation. */
interface Slot {
  /** Set once the request has its answer: a later generation of its closure has no one to stream to. */
  answered: boolean;
  /** A response found not storable, for this request's client to stream. */
  pass?: { response: OriginResponse; prefix: Buffer[] };
}

/**
 * Creates the proxy's listener and fast path.
 */
export function createProxyHandler(options: ProxyHandlerOptions): ProxyHandler {
  const { engine, origin, config, logger } = options;
  const rules = config.routes ?? [];
  const keys = new CacheKeys();
  const heads = new EntryHeads();

  const ruleFor = (path: string): RouteRule | undefined => {
    for (const rule of rules) if (rule.matches(path)) return rule;
    return undefined;
  };

  const bypassed = (rule: RouteRule | undefined, headers: HeaderRecord, cookie: string | undefined): boolean => {
    if (cookie !== undefined) {
      for (const name of BYPASS_COOKIES) if (cookie.includes(`${name}=`)) return true;
      if (rule !== undefined) for (const name of rule.bypass.cookies) if (cookie.includes(`${name}=`)) return true;
    }
    if (rule !== undefined) for (const name of rule.bypass.headers) if (headers[name] !== undefined) return true;
    return false;
  };

  /** Whether `fallback` may still answer when its regeneration failed (its stale-if-error window). */
  const withinStaleIfError = (fallback: CacheEntry, now: number): boolean => {
    const window = Number(fallback.value.headers[STALE_IF_ERROR_FIELD] ?? 0);
    if (fallback.revalidate === false) return true;
    return now - fallback.lastModified < (fallback.revalidate + window) * 1000;
  };

  /**
   * Reports a failure of the origin (unreachable, too slow, or a 5xx to a cache fill) as one
   * warning per kind a minute, however many requests meet it: an origin that is down must not
   * flood the log. False for any other error (a bug), which the engine logs with its stack.
   */
  const reportedOriginFailure = (error: unknown): boolean => {
    const cause = error instanceof GenerationError ? error.cause : error;
    if (cause instanceof OriginError) {
      warnRepeated(logger, `origin-${cause.kind}`, `${cause.message} (a stored page, if any, is served meanwhile)`);
      return true;
    }
    if (cause instanceof OriginStatusError) {
      warnRepeated(
        logger,
        'origin-status',
        `the origin ${config.origin} answered ${cause.status} to a cache fill (a stored page, if any, is served meanwhile)`,
      );
      return true;
    }
    return false;
  };

  function fromMemory(request: SimpleRequest): MemoryAnswer | undefined {
    if (request.authorization || request.host === undefined) return undefined;
    const { target } = request;
    const q = target.indexOf('?');
    const path = q === -1 ? target : target.slice(0, q);
    if (path.startsWith(REVALIDATE_ENDPOINT) || path.startsWith(STATUS_ENDPOINT) || path.includes('%') || path.includes('/.')) {
      return undefined;
    }
    const rule = rules.length === 0 ? undefined : ruleFor(path);
    if (rule !== undefined && (rule.bypass.headers.length > 0 || rule.vary.length > 0)) return undefined;
    if (request.cookie !== undefined && bypassed(rule, NO_HEADERS, request.cookie)) return undefined;
    const base =
      rule?.allowQuery === undefined
        ? keys.plainBase(request.host, target)
        : keys.resource(request.host, path, target.slice(path.length + 1), rule).base;
    if (!keys.isPlain(base)) return undefined;
    // Fresh: HIT. Stale with its regeneration running: STALE, as `cached` would answer it.
    const now = engine.now();
    const fresh = engine.peekFresh(base, now);
    const entry = fresh ?? engine.peekStale(base, now);
    if (entry === undefined) return undefined;
    return heads.answer(entry, fresh === undefined ? 'STALE' : 'HIT', request.method, request.ifNoneMatch, now);
  }

  function listener(req: IncomingMessage, res: ServerResponse): void {
    handle(req, res).catch((error: unknown) => {
      logger.error(`unhandled error proxying ${req.method} ${req.url}`, error);
      if (!res.headersSent) answerText(res, 500, 'Internal Server Error');
      else res.destroy();
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const problem = requestLineProblem(req);
    if (problem !== undefined) return answerText(res, 400, `Bad request: ${problem}`, true);
    let target = req.url ?? '/';
    let host = req.headers.host ?? '';
    const absolute = absoluteFormTarget(target);
    if (absolute !== undefined) ({ host, target } = absolute);
    if (target === '*') {
      await pass(req, res, target, host);
      return;
    }
    if (!target.startsWith('/')) return answerText(res, 400, 'Bad request: the target is not a path', true);
    const q = target.indexOf('?');
    const path = q === -1 ? target : target.slice(0, q);
    // Never forwarded malformed: what parsePath refuses (dot segments, encoded slashes, NUL, bad
    // percent-encoding, overlong) no origin gets.
    const parsed = parsePath(path);
    if (!parsed.ok) return answerText(res, parsed.status, `Bad request: ${parsed.message}`, true);
    if (path === REVALIDATE_ENDPOINT || path === STATUS_ENDPOINT) return endpoint(req, res, path);
    if (req.method !== 'GET' && req.method !== 'HEAD') return unsafe(req, res, target, host, path);
    const rule = ruleFor(path);
    if (req.headers.authorization !== undefined || bypassed(rule, req.headers, req.headers.cookie)) {
      await pass(req, res, target, host);
      return;
    }
    return cached(req, res, host, path, q === -1 ? '' : target.slice(q + 1), rule);
  }

  async function endpoint(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const request = toWebRequest(req, res);
    const response =
      path === REVALIDATE_ENDPOINT
        ? await handleRevalidateRequest(request, engine, config.revalidateToken, logger, { checkTag: validateOriginTag })
        : handleStatusRequest(request, config.revalidateToken, options.status);
    await writeWebResponse(response, res);
  }

  /** A method other than GET/HEAD: passed through; a success invalidates the path (RFC 9111 §4.4). */
  async function unsafe(req: IncomingMessage, res: ServerResponse, target: string, host: string, path: string): Promise<void> {
    const status = await pass(req, res, target, host);
    const safe = req.method === 'OPTIONS' || req.method === 'TRACE';
    if (!safe && status !== undefined && status >= 200 && status < 400) engine.invalidateTags([IMPLICIT_TAG_PREFIX + normalizePath(path)]);
  }

  /**
   * Passes the request to the origin and its response back, both streamed (BYPASS).
   * @returns the origin's status, or undefined when it could not answer.
   */
  async function pass(req: IncomingMessage, res: ServerResponse, target: string, host: string): Promise<number | undefined> {
    const controller = abortOnClose(res);
    const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
    let response: OriginResponse;
    try {
      response = await origin.request({
        method: req.method ?? 'GET',
        target,
        headers: forwardRequestHeaders(req.headers, forwardedFrom(req, host)),
        body: hasBody ? req : undefined,
        signal: controller.signal,
      });
    } catch (error) {
      answerOriginError(res, error, 'BYPASS');
      return undefined;
    }
    await stream(res, req.method === 'HEAD', response, [], 'BYPASS');
    return response.status;
  }

  async function cached(
    req: IncomingMessage,
    res: ServerResponse,
    host: string,
    path: string,
    query: string,
    rule: RouteRule | undefined,
  ): Promise<void> {
    const resource = keys.resource(host, path, query, rule);
    if (keys.isPassing(resource.base)) {
      await pass(req, res, req.url ?? path, host);
      return;
    }
    const vary = keys.varyOf(resource.base, rule);
    const key = keys.key(resource.base, vary, req.headers);
    const slot: Slot = { answered: false };
    const generate = fill(req, host, path, resource.base, resource.target, key, vary, rule, slot);
    const head = req.method === 'HEAD';
    let served: Awaited<ReturnType<IsrEngine['serve']>>;
    try {
      served = await engine.serve(key, generate, {
        label: `${req.method} ${host}${req.url}`,
        staleIfError: withinStaleIfError,
        onDynamic: () => keys.markPassing(resource.base),
        logFailures: (error) => !reportedOriginFailure(error),
      });
    } catch (error) {
      slot.answered = true;
      const cause = error instanceof GenerationError ? error.cause : error;
      if (cause instanceof OriginStatusError) {
        const headers = { ...storedResponseHeaders(cause.headers), 'content-length': String(cause.body.byteLength) };
        res.writeHead(cause.status, { ...headers, 'x-isr-cache': 'MISS' });
        res.end(head ? undefined : cause.body);
        return;
      }
      answerOriginError(res, cause, 'MISS');
      return;
    }
    slot.answered = true;
    if (served.state === 'DYNAMIC') {
      if (slot.pass !== undefined) {
        await stream(res, head, slot.pass.response, slot.pass.prefix, 'BYPASS');
        return;
      }
      writeAnswer(res, heads.answer(served.entry, 'MISS', req.method ?? 'GET', undefined, engine.now()));
      return;
    }
    const ifNoneMatch = req.headers['if-none-match'];
    writeAnswer(res, heads.answer(served.entry, served.state, req.method ?? 'GET', ifNoneMatch, engine.now()));
  }

  /** The generation of a cached request: one GET to the origin (conditional when an entry is stored). */
  function fill(
    req: IncomingMessage,
    host: string,
    path: string,
    base: string,
    target: string,
    key: string,
    vary: readonly string[],
    rule: RouteRule | undefined,
    slot: Slot,
  ): Generate {
    return async (signal) => {
      const headers = forwardRequestHeaders(req.headers, forwardedFrom(req, host));
      for (const name of NOT_FORWARDED_ON_FILL) delete headers[name];
      headers['accept-encoding'] = 'identity';
      const previous = await engine.store.get(key).catch(() => undefined);
      const etag = previous?.value.headers.etag;
      const lastModified = previous?.value.headers['last-modified'];
      if (etag !== undefined) headers['if-none-match'] = etag;
      if (lastModified !== undefined) headers['if-modified-since'] = lastModified;
      const response = await origin.request({ method: 'GET', target, headers, signal });
      const url = `http://${host}${target}`;
      if (response.status === 304 && previous !== undefined) {
        response.body.resume();
        // RFC 9111 §4.3.4: the stored response's fields, updated by those of the 304.
        const merged = { ...previous.value.headers, ...storedResponseHeaders(response.headers) };
        const decision = decide(
          { url, headers: req.headers },
          { status: previous.value.status, headers: { ...merged, ...cachingOf(response.headers) } },
          rule,
          config.staleIfError,
        );
        if (!decision.storable)
          return passOn(
            slot,
            { ...response, status: previous.value.status, headers: merged, body: Readable.from([previous.value.body]) },
            [],
          );
        return generated(path, { ...previous.value, headers: withCacheFields(merged, decision) }, decision);
      }
      if (response.status >= 500) {
        const read = await readUpTo(response.body, MAX_ERROR_BODY, origin.origin);
        if (!('bytes' in read)) response.body.destroy();
        throw new OriginStatusError(response.status, response.headers, 'bytes' in read ? read.bytes : Buffer.concat(read.prefix));
      }
      const decision = decide({ url, headers: req.headers }, response, rule, config.staleIfError);
      if (!decision.storable) {
        logger.debug(`BYPASS ${base}: ${decision.reason}`);
        return passOn(slot, response, []);
      }
      if (response.headers['content-encoding'] !== undefined && response.headers['content-encoding'] !== 'identity') {
        logger.debug(`BYPASS ${base}: the origin sent Content-Encoding although asked for identity`);
        return passOn(slot, response, []);
      }
      const declared = Number(response.headers['content-length'] ?? 0);
      if (declared > MAX_STORED_BODY) return passOn(slot, response, []);
      const read = await readUpTo(response.body, MAX_STORED_BODY, origin.origin);
      if (!('bytes' in read)) return passOn(slot, response, read.prefix);
      const value = {
        kind: 'route' as const,
        status: response.status,
        headers: withCacheFields(storedResponseHeaders(response.headers), decision),
        body: new Uint8Array(read.bytes.buffer, read.bytes.byteOffset, read.bytes.byteLength),
      };
      const problem = responseHeadProblem(value.status, value.headers);
      if (problem !== undefined) {
        // A field no store may hold (a value outside Latin-1...): its client gets it, nobody else.
        logger.debug(`BYPASS ${base}: its field ${problem.field} cannot be stored (${problem.reason})`);
        return passOn(slot, { ...response, body: Readable.from([read.bytes]) }, []);
      }
      if (STALE_ANSWER(response.headers)) {
        // The origin's own cache answered with a stale page (Next.js's `x-nextjs-cache: STALE`, after
        // `revalidateTag(tag, 'max')`) under a fresh-looking Cache-Control: its client gets it, the
        // stored entry stays as it was, and the next regeneration fetches the origin's new page.
        return { value, tags: [], revalidate: 0, transient: true };
      }
      if (!keys.covers(base, vary, decision.vary)) {
        // It varies on a field this key does not hold: its own client gets it; the next request is keyed right.
        return { value, tags: [], revalidate: 0, transient: true };
      }
      return generated(path, value, decision);
    };
  }

  /** The `Generated` of a response to store: its tags (the origin's, the rule's and the path's) and windows. */
  function generated(path: string, value: Generated['value'], decision: Extract<ReturnType<typeof decide>, { storable: true }>): Generated {
    const tags: string[] = [];
    for (const tag of decision.tags) {
      if (tags.length >= MAX_TAGS) break;
      try {
        tags.push(validateOriginTag(tag));
      } catch (error) {
        logger.debug(`ignored a tag of ${path}: ${(error as Error).message}`);
      }
    }
    tags.push(...implicitTags(normalizePath(path)));
    const { revalidate } = decision;
    return {
      value,
      tags,
      revalidate,
      ...(revalidate === false ? {} : { expire: revalidate + decision.staleWhileRevalidate }),
    };
  }

  /** Hands a response that is not stored to the request waiting for it (or drops it: nobody is). */
  function passOn(slot: Slot, response: OriginResponse, prefix: Buffer[]): Generated {
    if (slot.answered || slot.pass !== undefined) response.body.destroy();
    else slot.pass = { response, prefix };
    return {
      value: { kind: 'route', status: response.status, headers: {}, body: new Uint8Array(0) },
      tags: [],
      revalidate: 0,
      dynamic: true,
    };
  }

  /** Streams an origin response (and the `prefix` already read of its body) to the client. */
  async function stream(res: ServerResponse, head: boolean, response: OriginResponse, prefix: Buffer[], state: string): Promise<void> {
    const headers = forwardResponseHeaders(response.headers) as Record<string, string | string[]>;
    for (const name of CACHE_ONLY_FIELDS) if (name !== 'date' && name !== 'age') delete headers[name];
    headers['x-isr-cache'] = state;
    try {
      res.writeHead(response.status, headers);
    } catch (error) {
      response.body.destroy();
      logger.warn(`the origin's response head could not be forwarded: ${describeError(error).split('\n')[0]}`);
      if (!res.headersSent) answerText(res, 502, 'Bad Gateway: the origin sent a response head that cannot be forwarded');
      return;
    }
    if (head) {
      response.body.destroy();
      res.end();
      return;
    }
    for (const chunk of prefix) res.write(chunk);
    try {
      await pipeline(response.body, res);
    } catch {
      // The client went away, or the origin's body failed midway: the connection is cut, as the framing cannot be kept.
      res.destroy();
    }
  }

  function answerOriginError(res: ServerResponse, error: unknown, state: string): void {
    if (error instanceof OriginError) {
      reportedOriginFailure(error);
      return answerText(res, error.status, error.status === 504 ? 'Gateway Timeout' : 'Bad Gateway', false, state);
    }
    if (error instanceof RenderTimeoutError) return answerText(res, 504, 'Gateway Timeout', false, state);
    if ((error as Error)?.name === 'AbortError') {
      res.destroy();
      return;
    }
    logger.error('proxying failed', error);
    answerText(res, 502, 'Bad Gateway', false, state);
  }

  return { listener, fromMemory };
}

/** Where a request came from, for the `X-Forwarded-*` fields. */
function forwardedFrom(req: IncomingMessage, host: string) {
  return {
    clientAddress: req.socket.remoteAddress ?? '',
    proto: (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http',
    host,
  };
}

/** An AbortController aborted when the client goes away before its answer is finished. */
function abortOnClose(res: ServerResponse): AbortController {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller;
}

/** The fields of an origin response as stored: forwarded ones, without what is meant for this cache alone, one string each. */
function storedResponseHeaders(headers: HeaderRecord): Record<string, string> {
  const forwarded = forwardResponseHeaders(headers);
  const stored: Record<string, string> = {};
  for (const [name, value] of Object.entries(forwarded)) {
    if (CACHE_ONLY_FIELDS.includes(name) || name === 'set-cookie' || name === 'content-length' || name === 'content-encoding') continue;
    stored[name] = typeof value === 'string' ? value : value.join(', ');
  }
  return stored;
}

/** The caching fields of a 304 (RFC 9111 §4.3.4 takes its fields over the stored ones). */
function cachingOf(headers: HeaderRecord): HeaderRecord {
  const out: Record<string, string | readonly string[] | undefined> = {};
  for (const name of ['cache-control', 'cdn-cache-control', 'surrogate-control', 'expires', 'age', 'date']) {
    if (headers[name] !== undefined) out[name] = headers[name];
  }
  return out;
}

/** `headers` with the proxy's own stored fields of `decision`: its stale-if-error window and its age on arrival. */
function withCacheFields(headers: Record<string, string>, decision: { staleIfError: number; age: number }): Record<string, string> {
  const { [INITIAL_AGE_FIELD]: _previous, ...rest } = headers;
  return {
    ...rest,
    [STALE_IF_ERROR_FIELD]: String(decision.staleIfError),
    ...(decision.age > 0 ? { [INITIAL_AGE_FIELD]: String(decision.age) } : {}),
  };
}

function writeAnswer(res: ServerResponse, answer: MemoryAnswer): void {
  res.writeHead(answer.status, answer.headers);
  res.end(answer.body);
}

function answerText(res: ServerResponse, status: number, message: string, close = false, state = 'BYPASS'): void {
  const body = `${message}\n`;
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'cache-control': NO_STORE,
    'content-length': String(Buffer.byteLength(body)),
    'x-isr-cache': state,
    ...(close ? { connection: 'close' } : {}),
  });
  res.end(body);
}
