/**
 * `isr` — Incremental Static Regeneration, self-hosted.
 *
 * - `build({ siteDir })` prerenders a site (`isr build`);
 * - `startServer({ siteDir, port })` serves it (`isr start`);
 * - `createIsr({ siteDir })` gives the Web-standard `(Request) => Promise<Response>` handler to
 *   mount in any server, and `toNodeListener(handler)` adapts it to `node:http`;
 * - `IsrEngine` and the cache stores are the building blocks underneath.
 */
export { build, type BuildOptions, type BuildResult } from './build/build.ts';
export { CompileError } from './build/compile.ts';
export { createIsr, startServer, type Isr, type IsrOptions, type RunningServer, type StartOptions } from './server/index.ts';
export { createRequestHandler, type RequestHandler } from './server/handler.ts';
export { etagMatches } from './http/etag.ts';
export { toNodeListener, toWebRequest, writeWebResponse } from './server/node.ts';
export { loadConfig, type IsrConfig } from './config/config.ts';
export { IsrEngine, GenerationError, RenderTimeoutError, DEFAULT_RENDER_TIMEOUT, type CacheState, type Generated, type Generate, type Served, type ServeOptions } from './engine/engine.ts';
export { ManualClock, systemClock, type Clock } from './engine/clock.ts';
export { cacheControl, NO_STORE } from './http/cache-control.ts';
export { implicitTags, pathTag } from './engine/tags.ts';
export type { CacheEntry, CacheStore, CacheValue, Lease, SharedStore, StoreEvent, TagManifest } from './store/store.ts';
export { isSharedStore } from './store/store.ts';
export { MemoryStore, type MemoryStoreOptions } from './store/memory.ts';
export { FileSystemStore, type FileSystemStoreOptions } from './store/filesystem.ts';
export { TieredStore, type Tier, type TieredStoreOptions } from './store/tiered.ts';
export { createConsoleLogger, createMemoryLogger, type Logger } from './log.ts';
export { revalidatePath, revalidateTag, unstable_cache, unstable_noStore } from './app/cache-api.ts';
