/**
 * `isr` — Incremental Static Regeneration, self-hosted.
 *
 * - `build({ siteDir })` prerenders a site (`isr build`);
 * - `startServer({ siteDir, port })` serves it (`isr start`);
 * - `createIsr({ siteDir })` gives the Web-standard `(Request) => Promise<Response>` handler to
 *   mount in any server, and `toNodeListener(handler)` adapts it to `node:http`;
 * - `startProxy({ config: { origin } })` puts ISR in front of any HTTP server (`isr proxy`);
 * - `IsrEngine` and the cache stores are the building blocks underneath.
 */

export { revalidatePath, revalidateTag, unstable_cache, unstable_noStore } from './app/cache-api.ts';
export { type BuildOptions, type BuildResult, build } from './build/build.ts';
export { CompileError } from './build/compile.ts';
export { type IsrConfig, loadConfig } from './config/config.ts';
export { type Clock, ManualClock, systemClock } from './engine/clock.ts';
export {
  type CacheState,
  DEFAULT_RENDER_TIMEOUT,
  type Generate,
  type Generated,
  GenerationError,
  IsrEngine,
  RenderTimeoutError,
  type Served,
  type ServeOptions,
} from './engine/engine.ts';
export { implicitTags, pathTag } from './engine/tags.ts';
export { cacheControl, NO_STORE } from './http/cache-control.ts';
export { etagMatches } from './http/etag.ts';
export { createConsoleLogger, createMemoryLogger, type Logger } from './log.ts';
export { type ProxyOptions, type RunningProxy, startProxy } from './proxy/index.ts';
export { toNodeListener, toWebRequest, writeWebResponse } from './serve/node.ts';
export { createRequestHandler, type RequestHandler } from './server/handler.ts';
export { createIsr, type Isr, type IsrOptions, type RunningServer, type StartOptions, startServer } from './server/index.ts';
export { FileSystemStore, type FileSystemStoreOptions } from './store/filesystem.ts';
export { MemoryStore, type MemoryStoreOptions } from './store/memory.ts';
export type { CacheEntry, CacheStore, CacheValue, Lease, SharedStore, StoreEvent, TagManifest } from './store/store.ts';
export { assertCacheStore, isSharedStore } from './store/store.ts';
export { type Tier, TieredStore, type TieredStoreOptions } from './store/tiered.ts';
