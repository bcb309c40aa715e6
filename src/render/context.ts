/**
 * Process-wide state shared between the server and the site's compiled code.
 *
 * The site bundle carries its own copy of `next/cache` (mapped to `isr/cache`), so module-level
 * variables would not be shared; everything lives on `globalThis` under registered symbols.
 */

import { AsyncLocalStorage } from 'node:async_hooks';
import type { IsrEngine } from '../engine/engine.ts';
import { implicitTags } from '../engine/tags.ts';
import type { Logger } from '../log.ts';
import type { Seconds } from '../units.ts';
import { RUNTIME_KEY, STORAGE_KEY } from './registry.ts';

/** Where the Server Action storage is registered on `globalThis`. */
const ACTION_KEY: unique symbol = Symbol.for('isr.serverAction');

/** What a page or route handler render collects while it runs. */
export interface RenderContext {
  /** The concrete URL path being generated, e.g. `/blog/1`. */
  path: string;
  /** The route pattern, e.g. `/blog/[id]`. */
  pattern: string;
  /** The page's implicit path tags (engine/tags.ts). */
  implicitTags: readonly string[];
  /** Explicit tags seen on cached fetches and `unstable_cache` calls. */
  tags: Set<string>;
  /** Lowest revalidate seen so far, in seconds (the segment config's, then each cached fetch's). */
  revalidate: Seconds | false;
  /** Set when something made the page dynamic (a `no-store` fetch, reading `searchParams`...). */
  dynamicReason: string | undefined;
  /** `force-static` ignores dynamic signals; `force-dynamic` is decided before rendering. */
  dynamicMode: 'auto' | 'force-static' | 'force-dynamic' | 'error';
  /**
   * Whether fetches of this render are memoized (app/data-cache.ts): a page's render, not a route
   * handler's (Next.js memoizes fetches in the React component tree only).
   */
  memoizeFetches?: false;
  /**
   * Lowest `expire` seen so far, in seconds (a `'use cache'` function's `cacheLife`), or undefined
   * for none (the server's `expireTime` then applies).
   */
  expire: Seconds | undefined;
  /** Lowest `stale` seen so far, in seconds (a `'use cache'` function's `cacheLife`), or undefined for none. */
  stale: Seconds | undefined;
  /** Set when this context is the run of a `'use cache'` function (app/rsc/use-cache.ts), not a page's. */
  cache?: CacheScope;
  /** The results of `'use cache: private'` calls in this request, by cache key (never stored). */
  privateResults?: Map<string, Promise<unknown>>;
}

/**
 * The run of one `'use cache'` function: what `cacheLife` set explicitly (the `cacheLife`
 * reference, "Nested caching behavior": an explicit value wins over the inner caches'), the kind
 * of cache, and the function's name for messages.
 */
export interface CacheScope {
  /** `'use cache'` and `'use cache: remote'` are `public` (stored); `'use cache: private'` is `private` (per request). */
  kind: 'public' | 'private';
  /** The values `cacheLife()` set in this run, seconds each. */
  explicit: { stale?: Seconds; revalidate?: Seconds; expire?: Seconds };
  /** The function, for messages: `lib/data.ts#getPosts`. */
  label: string;
  /**
   * The first nested public cache whose short life (`revalidate: 0`, or `expire` under 5 minutes)
   * this run took on, for Next.js's nested-cache error (app/rsc/use-cache.ts).
   */
  dynamicNested?: string;
}

/**
 * A fresh render context for generating `path` (of route `pattern`), starting from the route's
 * segment config: its `revalidate` (seconds or false) and `dynamic` mode.
 */
export function createRenderContext(
  path: string,
  pattern: string,
  config: { revalidate: Seconds | false; dynamic: RenderContext['dynamicMode'] },
): RenderContext {
  return {
    path,
    pattern,
    implicitTags: implicitTags(path, pattern),
    tags: new Set(),
    revalidate: config.revalidate,
    dynamicReason:
      config.dynamic === 'force-dynamic' ? "dynamic = 'force-dynamic'" : config.revalidate === 0 ? 'revalidate = 0' : undefined,
    dynamicMode: config.dynamic,
    expire: undefined,
    stale: undefined,
  };
}

/** The running engine and its logger, registered by `isr start`, `isr build` or an embedder. */
export interface IsrRuntime {
  engine: IsrEngine;
  logger: Logger;
}

type Registry = {
  [RUNTIME_KEY]?: IsrRuntime;
  [STORAGE_KEY]?: AsyncLocalStorage<RenderContext>;
  [ACTION_KEY]?: AsyncLocalStorage<ServerActionScope>;
};
const registry = globalThis as unknown as Registry;

/** The render-context storage (one per process). */
export function renderStorage(): AsyncLocalStorage<RenderContext> {
  return (registry[STORAGE_KEY] ??= new AsyncLocalStorage<RenderContext>());
}

/** The render context of the current page generation, if any. */
export function currentRenderContext(): RenderContext | undefined {
  return registry[STORAGE_KEY]?.getStore();
}

/** What a running Server Action records: whether it asked the browser to refresh (`refresh()`). */
export interface ServerActionScope {
  refreshed: boolean;
}

/**
 * Runs `action` (a Server Action's call) as a Server Action: `updateTag` and `refresh` of
 * `next/cache` are allowed inside it only (the `updateTag` and `refresh` references).
 */
export function runAsServerAction<T>(scope: ServerActionScope, action: () => T): T {
  registry[ACTION_KEY] ??= new AsyncLocalStorage<ServerActionScope>();
  return registry[ACTION_KEY].run(scope, action);
}

/** The Server Action running now, if any (and no render or cached function inside it). */
export function currentServerAction(): ServerActionScope | undefined {
  if (currentRenderContext() !== undefined) return undefined;
  return registry[ACTION_KEY]?.getStore();
}

/** Registers the process's runtime (the last registration wins). */
export function setRuntime(runtime: IsrRuntime | undefined): void {
  registry[RUNTIME_KEY] = runtime;
}

/** The registered runtime, or undefined outside an isr server or build. */
export function getRuntime(): IsrRuntime | undefined {
  return registry[RUNTIME_KEY];
}

/**
 * Marks the current render dynamic (rendered per request, never stored), unless the segment
 * forces static rendering. Next.js: "If any of the fetch requests used on a route have a
 * revalidate time of 0, or an explicit no-store, the route will be dynamically rendered."
 * @throws Error when the segment config says `dynamic = 'error'`.
 */
export function markDynamic(context: RenderContext | undefined, reason: string): void {
  if (context === undefined || context.dynamicMode === 'force-static') return;
  if (context.dynamicMode === 'error') {
    throw new Error(`route ${context.pattern} has dynamic = 'error' but used ${reason}`);
  }
  context.dynamicReason ??= reason;
}

/** Lowers the current render's revalidate to `seconds` if that is lower (false = no limit). */
export function lowerRevalidate(context: RenderContext | undefined, seconds: number | false): void {
  if (context === undefined || seconds === false) return;
  if (context.revalidate === false || seconds < context.revalidate) context.revalidate = seconds;
}

/**
 * What a `'use cache'` entry read during a render passes to the render reading it (a page, or
 * an outer cached function): its tags, and its `revalidate`, `expire` and `stale` (seconds, each
 * lowering the reader's own when lower). Next.js's `propagateCacheLifeAndTagsToRevalidateStore`
 * (`next/dist/server/use-cache/use-cache-wrapper.js`).
 */
export function propagateCacheLife(
  context: RenderContext | undefined,
  entry: { tags: Iterable<string>; revalidate: Seconds | false; expire: Seconds | undefined; stale: Seconds | undefined },
): void {
  if (context === undefined) return;
  for (const tag of entry.tags) context.tags.add(tag);
  lowerRevalidate(context, entry.revalidate);
  if (entry.expire !== undefined && (context.expire === undefined || entry.expire < context.expire)) context.expire = entry.expire;
  if (entry.stale !== undefined && (context.stale === undefined || entry.stale < context.stale)) context.stale = entry.stale;
}
