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
  };
}

/** The running engine and its logger, registered by `isr start`, `isr build` or an embedder. */
export interface IsrRuntime {
  engine: IsrEngine;
  logger: Logger;
}

type Registry = { [RUNTIME_KEY]?: IsrRuntime; [STORAGE_KEY]?: AsyncLocalStorage<RenderContext> };
const registry = globalThis as unknown as Registry;

/** The render-context storage (one per process). */
export function renderStorage(): AsyncLocalStorage<RenderContext> {
  return (registry[STORAGE_KEY] ??= new AsyncLocalStorage<RenderContext>());
}

/** The render context of the current page generation, if any. */
export function currentRenderContext(): RenderContext | undefined {
  return registry[STORAGE_KEY]?.getStore();
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
