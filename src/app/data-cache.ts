/**
 * The data cache: `fetch(url, { next: { revalidate, tags }, cache })` and `unstable_cache`
 * results, stored through the same engine as pages (keys `fetch:<sha256>`, `function:<sha256>`).
 *
 * Rules (Next.js "Guides: ISR", "Caveats",
 * https://nextjs.org/docs/app/guides/incremental-static-regeneration):
 * - `next.revalidate: N` or `cache: 'force-cache'` stores the response; the page's revalidate
 *   becomes the lowest of its own and its cached fetches'.
 * - `next.revalidate: 0` or `cache: 'no-store'` makes the page dynamic.
 * - `next.tags` tag the entry and the page, for `revalidateTag`.
 * - A fetch without any of these is not stored: it runs on every generation of the page. With
 *   `cacheComponents: true`, such a fetch in a page or route handler (not inside a `'use cache'`
 *   function or `unstable_cache`) is uncached data, as Next.js 16 treats it: the page becomes
 *   dynamic (the "fetch" reference, "Cache Components" section of its `cache` option).
 * - An entry whose window has passed is fetched again *inside* the regeneration that reads it, so
 *   a regenerated page carries current data. A failed fetch fails the regeneration, and the last
 *   good page stays (the engine's rule 4) — the old data is not reused for a new page. Only
 *   successful (2xx) responses are stored; others reach the page without touching the stored one.
 */

import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { validateTag } from '../engine/tags.ts';
import { storableHeaders } from '../http/response-head.ts';
import { excerpt, warnRepeated } from '../log.ts';
import { currentRenderContext, getRuntime, type IsrRuntime, lowerRevalidate, markDynamic, type RenderContext } from '../render/context.ts';
import type { Seconds } from '../units.ts';
import { cacheComponentsEnabled, partialPrerenderingNotice } from './cache-scope.ts';

/** Next.js's extension of `RequestInit`. */
export interface NextFetchOptions {
  /** Seconds, `false` (cache until revalidated) or `0` (dynamic). */
  revalidate?: Seconds | false;
  tags?: string[];
}

type FetchInit = RequestInit & { next?: NextFetchOptions };

const ORIGINAL_FETCH = Symbol.for('isr.originalFetch');
/** Where the storage marking a run of an `unstable_cache` function is registered (the site's bundle has its own copy of this module). */
const UNSTABLE_CACHE_SCOPE = Symbol.for('isr.unstableCacheScope');
type PatchedGlobal = typeof globalThis & { [ORIGINAL_FETCH]?: typeof fetch; [UNSTABLE_CACHE_SCOPE]?: AsyncLocalStorage<true> };

/** Set while an `unstable_cache` function runs: a fetch inside it is cached with its result, never uncached data. */
function unstableCacheScope(): AsyncLocalStorage<true> {
  return ((globalThis as PatchedGlobal)[UNSTABLE_CACHE_SCOPE] ??= new AsyncLocalStorage<true>());
}

/**
 * Whether `fetch(input, init)` is uncached data for Next.js 16 with Cache Components: no `cache`
 * option (or `'default'`) and no `next.revalidate`, read by a page or route handler itself rather
 * than inside a `'use cache'` function or `unstable_cache` (Next.js's `patch-fetch`: such a fetch
 * is a dynamic hole of the prerender).
 */
function isUncachedData(context: RenderContext, input: string | URL | Request, init: FetchInit | undefined): boolean {
  if (init?.next?.revalidate !== undefined || context.cache !== undefined || context.dynamicMode === 'force-static') return false;
  const cache = init?.cache ?? (input instanceof Request ? input.cache : undefined);
  if (cache !== undefined && cache !== 'default') return false;
  return unstableCacheScope().getStore() === undefined && cacheComponentsEnabled();
}

function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/**
 * The valid tags of a fetch or `unstable_cache` call. Invalid ones (empty, over 256 characters,
 * reserved prefix) are dropped with a warning rather than failing the page, as Next.js does. The
 * warning echoes an excerpt of the input and is logged at most once a minute (`warnRepeated`).
 */
function validTags(tags: unknown, where: string, runtime: IsrRuntime | undefined): string[] {
  if (tags === undefined) return [];
  if (!Array.isArray(tags)) {
    if (runtime !== undefined)
      warnRepeated(runtime.logger, 'data-cache: tags not an array', `${excerpt(where)}: tags must be an array of strings; ignored`);
    return [];
  }
  const valid: string[] = [];
  for (const tag of tags) {
    try {
      valid.push(validateTag(tag));
    } catch (error) {
      // Once per minute at most: a page rendered on every request would log it on every request.
      if (runtime !== undefined)
        warnRepeated(
          runtime.logger,
          'data-cache: invalid tag',
          `${excerpt(where)}: ${excerpt((error as Error).message, 160)}; the tag is ignored`,
        );
    }
  }
  return valid;
}

function checkedDataCacheRevalidate(value: unknown, where: string): number | false | undefined {
  if (value === undefined || value === false) return value;
  if (typeof value === 'number' && value >= 0 && Number.isFinite(value)) return value;
  throw new TypeError(`${where}: revalidate must be a non-negative number of seconds or false, got ${String(value)}`);
}

/** The URL (as given: a string unchanged, a `URL`'s `href`, a `Request`'s `url`) and upper-cased method of a fetch. */
function fetchTarget(input: string | URL | Request, init: RequestInit | undefined): { url: string; method: string } {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
  return { url, method };
}

/**
 * The data-cache key of a cached `fetch(input, init)`: `fetch:` and the SHA-256 (hex) of the
 * upper-cased method, the URL as given (not normalised: `https://a.example` and
 * `https://a.example/` differ as strings, though a `URL` object gives its normalised `href`) and
 * the request headers (`init.headers` if given, else the `Request`'s; names lower-cased, pairs
 * sorted). Two fetches share an entry exactly when these agree, from any page; the body,
 * `next.revalidate`, `next.tags`, `cache` and other `RequestInit` fields are not part of the key
 * (only GET and HEAD are cached, so there is no body to tell apart). Exported for tests.
 * @see https://nextjs.org/docs/app/api-reference/functions/fetch
 */
export function fetchCacheKey(input: string | URL | Request, init?: RequestInit): string {
  const { url, method } = fetchTarget(input, init);
  const headers = [...new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined))].sort();
  return `fetch:${sha256(JSON.stringify([method, url, headers]))}`;
}

/**
 * Replaces `globalThis.fetch` with the caching fetch (once per process). Outside a page render
 * the original fetch runs unchanged.
 */
export function installFetch(): void {
  const global = globalThis as PatchedGlobal;
  if (global[ORIGINAL_FETCH] !== undefined) return;
  const original = global.fetch;
  global[ORIGINAL_FETCH] = original;
  global.fetch = function isrFetch(input: string | URL | Request, init?: FetchInit): Promise<Response> {
    const context = currentRenderContext();
    const runtime = getRuntime();
    if (context === undefined || runtime === undefined) return original(input, init);
    const network = context.memoizeFetches === false ? original : memoizedFetch(original, context);
    return cachedFetch({ original: network, runtime, context }, input, init);
  } as typeof fetch;
}

/** Per render: the origin fetches of its GET and HEAD requests in flight or done, by {@link memoKey}. */
const memos = new WeakMap<RenderContext, Map<string, Promise<Response>>>();

/**
 * The request key of Next.js's request memoization: method, URL, headers and the `RequestInit`
 * fields that change what is fetched (`cache`, `credentials`, `mode`, `redirect`, `referrer`,
 * `referrerPolicy`, `integrity`); not `next`, which only says how the result is cached.
 */
function memoKey(input: string | URL | Request, init: RequestInit | undefined): string {
  const { url, method } = fetchTarget(input, init);
  const request = input instanceof Request ? input : undefined;
  const headers = [...new Headers(init?.headers ?? request?.headers)].sort();
  const fields = (['cache', 'credentials', 'mode', 'redirect', 'referrer', 'referrerPolicy', 'integrity'] as const).map(
    (name) => init?.[name] ?? request?.[name],
  );
  return JSON.stringify([method, url, headers, fields]);
}

/**
 * Request memoization: within one page render (layouts, page, `generateMetadata`; not a route
 * handler's, as in Next.js), GET and HEAD
 * fetches of the same request reach the origin once, each caller reading its own clone of the
 * response. A fetch with an abort `signal` or `keepalive` is not memoized, as in Next.js. The data
 * cache (tags, revalidate) still applies to each call.
 * @see https://nextjs.org/docs/app/guides/caching#request-memoization
 */
function memoizedFetch(original: typeof fetch, context: RenderContext): typeof fetch {
  return ((input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const { method } = fetchTarget(input, init);
    const request = input instanceof Request ? input : undefined;
    if ((method !== 'GET' && method !== 'HEAD') || init?.signal != null || init?.keepalive === true || request?.keepalive === true)
      return original(input, init);
    let memo = memos.get(context);
    if (memo === undefined) memos.set(context, (memo = new Map()));
    const key = memoKey(input, init);
    let pending = memo.get(key);
    if (pending === undefined) {
      pending = original(input, init);
      memo.set(key, pending);
      // A failed fetch is not memoized: the next caller tries again.
      pending.catch(() => memo.delete(key));
    }
    return pending.then((response) => response.clone());
  }) as typeof fetch;
}

/** Where a cached `fetch` runs: the fetch it wraps, the process's engine and the render reading it. */
interface FetchScope {
  original: typeof fetch;
  runtime: IsrRuntime;
  context: RenderContext;
}

/**
 * `fetch(input, init)` inside a render, through the data cache: a GET or HEAD with `next.revalidate`
 * or `cache: 'force-cache'` is served by the engine under {@link fetchCacheKey} (no
 * stale-while-revalidate: a regenerating page reads current data); `cache: 'no-store'` or
 * `revalidate: 0` marks the render dynamic and fetches; anything else fetches unchanged.
 * @see https://nextjs.org/docs/app/api-reference/functions/fetch
 */
async function cachedFetch(scope: FetchScope, input: string | URL | Request, init: FetchInit | undefined): Promise<Response> {
  const { original, runtime, context } = scope;
  const { url, method } = fetchTarget(input, init);
  const next = init?.next;
  const tags = validTags(next?.tags, `fetch ${url}`, runtime);
  for (const tag of tags) context.tags.add(tag);
  const requestInit: RequestInit | undefined = init === undefined ? undefined : { ...init };
  if (requestInit !== undefined) delete (requestInit as FetchInit).next;

  let revalidate = checkedDataCacheRevalidate(next?.revalidate, `fetch ${url}`);
  if (init?.cache === 'no-store' || revalidate === 0) {
    markDynamic(context, `fetch ${url} with ${init?.cache === 'no-store' ? "cache: 'no-store'" : 'revalidate: 0'}`);
    return original(input, requestInit);
  }
  if (isUncachedData(context, input, init)) {
    const reason = `fetch ${url} without a cache option`;
    markDynamic(context, reason);
    partialPrerenderingNotice(
      context,
      reason,
      ". To keep the page static, fetch inside a 'use cache' function, or give the fetch a cache option",
    );
    return original(input, requestInit);
  }
  if (revalidate === undefined && init?.cache === 'force-cache') revalidate = false;
  if (revalidate === undefined || (method !== 'GET' && method !== 'HEAD')) return original(input, requestInit);

  lowerRevalidate(context, revalidate);
  const key = fetchCacheKey(input, init);
  const entryRevalidate = revalidate;
  const served = await runtime.engine.serve(
    key,
    async () => {
      const response = await original(input, requestInit);
      const body = new Uint8Array(await response.arrayBuffer());
      return {
        value: { kind: 'fetch', status: response.status, headers: storableHeaders(response.headers), body },
        tags: [...tags, ...context.implicitTags],
        revalidate: entryRevalidate,
        transient: !response.ok,
      };
    },
    { staleWhileRevalidate: false, staleIfError: false, extraTags: context.implicitTags, label: `fetch ${url}`, logFailures: false },
  );
  runtime.logger.debug(`fetch ${served.state === 'HIT' ? 'HIT' : 'MISS'} ${url}`);
  const { status, headers: storedHeaders, body } = served.entry.value;
  return new Response(status === 204 || status === 304 || method === 'HEAD' ? null : (body as Uint8Array<ArrayBuffer>), {
    status,
    headers: storedHeaders,
  });
}

/**
 * The data-cache key of an `unstable_cache(fn, keyParts)` call with `args`: `function:` and the
 * SHA-256 (hex) of `fn`'s source text (`fn.toString()`), `keyParts` and `JSON.stringify(args)`.
 * Two calls share an entry exactly when these agree, from any page: two different functions with
 * the same source text share one (which is why Next.js asks for `keyParts` naming the variables a
 * function closes over), and arguments JSON writes alike (`undefined` and `null` inside an
 * array, two `Map`s) share one. `revalidate` and `tags` are not part of the key. Exported for tests.
 * @see https://nextjs.org/docs/app/api-reference/functions/unstable_cache
 */
export function unstableCacheKey(fn: (...args: never[]) => unknown, keyParts: readonly string[], args: readonly unknown[]): string {
  return keyOfCall([fn.toString(), ...keyParts], args);
}

/** {@link unstableCacheKey} from the fixed part (`fn`'s source and `keyParts`), computed once per `unstable_cache`. */
function keyOfCall(fixed: readonly string[], args: readonly unknown[]): string {
  return `function:${sha256(JSON.stringify([fixed, args]))}`;
}

/** Options of {@link unstableCache}. */
export interface UnstableCacheOptions {
  /** Seconds the result stays fresh, or `false` (default: until revalidated by tag). */
  revalidate?: Seconds | false;
  tags?: string[];
}

/**
 * `unstable_cache(fn, keyParts, { revalidate, tags })`: caches `fn`'s result (which must be
 * JSON-serialisable) in the data cache, keyed by `fn`'s source, `keyParts` and the arguments.
 * Inside a page render the tags and revalidate also apply to the page. Without a running isr
 * server or build, `fn` is simply called.
 * @throws TypeError for a bad `revalidate` (invalid tags are dropped with a warning).
 */
export function unstableCache<Args extends unknown[], Result>(
  fn: (...args: Args) => Promise<Result>,
  keyParts: readonly string[] = [],
  options: UnstableCacheOptions = {},
): (...args: Args) => Promise<Result> {
  const revalidate = checkedDataCacheRevalidate(options.revalidate, 'unstable_cache') ?? false;
  const tags = validTags(options.tags, 'unstable_cache', getRuntime());
  const fixed = [fn.toString(), ...keyParts];
  return async (...args: Args): Promise<Result> => {
    const runtime = getRuntime();
    const context = currentRenderContext();
    if (revalidate === 0) markDynamic(context, 'unstable_cache with revalidate: 0');
    if (runtime === undefined || revalidate === 0) return fn(...args);
    for (const tag of tags) context?.tags.add(tag);
    lowerRevalidate(context, revalidate);
    const key = keyOfCall(fixed, args);
    const served = await runtime.engine.serve(
      key,
      async () => {
        const result = await unstableCacheScope().run(true, () => fn(...args));
        const json = result === undefined ? '{"undefined":true}' : JSON.stringify({ value: result });
        return {
          value: { kind: 'function', status: 200, headers: {}, body: new TextEncoder().encode(json) },
          tags: [...tags, ...(context?.implicitTags ?? [])],
          revalidate,
        };
      },
      {
        staleWhileRevalidate: false,
        staleIfError: false,
        extraTags: context?.implicitTags,
        label: `unstable_cache ${keyParts.join(',')}`,
        logFailures: false,
      },
    );
    const parsed = JSON.parse(new TextDecoder().decode(served.entry.value.body)) as { value?: Result };
    return parsed.value as Result;
  };
}
