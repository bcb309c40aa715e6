/**
 * The Next.js side of `isr proxy`: a `cacheHandler` for `next.config` that is Next's own cache and
 * also tells the proxy about every revalidation.
 *
 * An unmodified Next.js app invalidates only its own cache on `revalidatePath`, `revalidateTag`
 * and `updateTag`, so a shared cache in front of it keeps serving the old page until the page's
 * `s-maxage` runs out. With this handler, every tag invalidation Next makes is also sent to the
 * proxy (`POST <ISR_PROXY_URL>/_isr/revalidate`, `Authorization: Bearer <ISR_REVALIDATE_TOKEN>`,
 * `{"tags": [...]}`), with the tags as Next names them: the app's own (`posts`) and the implicit
 * `_N_T_/...` tags of `revalidatePath`, which are also the tags Next lists in the
 * `x-next-cache-tags` header of the pages it serves.
 *
 * One line of `next.config` installs it (Next `import()`s the file, "Custom Next.js Cache
 * Handler", nextjs.org/docs/app/api-reference/config/next-config-js/incrementalCacheHandlerPath):
 *
 *     cacheHandler: fileURLToPath(import.meta.resolve('isr/next-cache-handler')),
 *
 * Storage stays Next's: every entry is read and written by Next's built-in filesystem cache (memory
 * plus `.next/server`, the build's prerendered pages included), loaded from the app's own `next`
 * package, so the app caches exactly as it did without this line. This file imports nothing of
 * isr (Next loads it into its own process) and nothing outside Node but that Next class.
 */

import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * Durations Next passes to `revalidateTag` for a tag revalidated with a cache-life profile
 * (`revalidateTag(tag, 'max')`): `expire` in seconds; absent for an immediate expiry.
 */
interface TagDurations {
  expire?: number;
}

/** The methods of Next's `CacheHandler` (next/dist/server/lib/incremental-cache, Next 16). */
interface NextCacheHandler {
  get(key: string, ctx: unknown): Promise<unknown>;
  set(key: string, data: unknown, ctx: unknown): Promise<void>;
  revalidateTag(tags: string | string[], durations?: TagDurations): Promise<void>;
  resetRequestCache?(): void;
}

/** What Next passes to a handler's constructor (`CacheHandlerContext`); only `serverDistDir` is read here. */
interface NextCacheHandlerContext {
  /** The app's `.next/server` folder (absolute path). */
  serverDistDir?: string;
  [option: string]: unknown;
}

type NextCacheHandlerClass = new (ctx: NextCacheHandlerContext) => NextCacheHandler;

/** Next's built-in handler, as `next/dist/server/lib/incremental-cache/index.js` loads it when no `cacheHandler` is set. */
const FILE_SYSTEM_CACHE = 'next/dist/server/lib/incremental-cache/file-system-cache.js';

/** How long one POST to the proxy may take before it is given up (milliseconds). */
const PROXY_TIMEOUT_MS = 5000;

const LOG_PREFIX = 'isr next-cache-handler:';

let fileSystemCache: NextCacheHandlerClass | undefined;
let warnedNoProxy = false;

/**
 * Next's built-in filesystem cache class, required from the `next` package the app itself uses
 * (resolved from `serverDistDir`, the app's `.next/server`, then from the working folder), so its
 * module state (memory cache, tag manifest) is the one Next's `IncrementalCache` reads.
 *
 * @throws Error naming the folders tried when no `next` package there has the class.
 */
function loadFileSystemCache(ctx: NextCacheHandlerContext): NextCacheHandlerClass {
  if (fileSystemCache) return fileSystemCache;
  const folders = [ctx.serverDistDir, process.cwd()].filter((folder): folder is string => Boolean(folder));
  for (const folder of folders) {
    try {
      const loaded = createRequire(path.join(folder, 'noop.js'))(FILE_SYSTEM_CACHE) as { default?: NextCacheHandlerClass };
      if (typeof loaded.default === 'function') {
        fileSystemCache = loaded.default;
        return fileSystemCache;
      }
    } catch {
      // Try the next folder.
    }
  }
  throw new Error(`${LOG_PREFIX} cannot load Next's ${FILE_SYSTEM_CACHE} from ${folders.join(' or ')}`);
}

/**
 * Sends one purge to the proxy: `POST <ISR_PROXY_URL>/_isr/revalidate` with
 * `{"tags": [...], "soft": <soft>}` and `Authorization: Bearer <ISR_REVALIDATE_TOKEN>` (when set).
 * Never throws and never rejects: a proxy that cannot be reached, answers with an error status or
 * takes longer than {@link PROXY_TIMEOUT_MS} is logged with `console.error`; with no
 * `ISR_PROXY_URL`, nothing is sent (a warning, once per process).
 */
function sendToProxy(tags: string[], soft: boolean): Promise<void> {
  const proxy = process.env.ISR_PROXY_URL;
  if (!proxy) {
    if (!warnedNoProxy) console.warn(`${LOG_PREFIX} ISR_PROXY_URL is not set: revalidations reach Next's cache only`);
    warnedNoProxy = true;
    return Promise.resolve();
  }
  let target: URL;
  try {
    target = new URL(`${proxy.replace(/\/+$/, '')}/_isr/revalidate`);
  } catch {
    console.error(`${LOG_PREFIX} ISR_PROXY_URL is not a URL: ${JSON.stringify(proxy)}`);
    return Promise.resolve();
  }
  const body = JSON.stringify({ tags, soft });
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
  };
  const token = process.env.ISR_REVALIDATE_TOKEN;
  if (token) headers.authorization = `Bearer ${token}`;
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const failed = (reason: string) => {
      console.error(`${LOG_PREFIX} could not revalidate ${JSON.stringify(tags)} at ${target.href}: ${reason}`);
      resolve();
    };
    // Node's http client, not fetch: Next patches the global fetch of the process for its data cache.
    const outgoing = send(target, { method: 'POST', headers, timeout: PROXY_TIMEOUT_MS }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        if (text.length < 500) text += chunk;
      });
      response.on('error', (error) => failed(error.message));
      response.on('end', () => {
        const status = response.statusCode ?? 0;
        if (status >= 200 && status < 300) resolve();
        else failed(`HTTP ${status} ${text.slice(0, 200)}`);
      });
    });
    outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer within ${PROXY_TIMEOUT_MS} ms`)));
    outgoing.on('error', (error) => failed(error.message));
    outgoing.end(body);
  });
}

/**
 * Next's cache handler (`cacheHandler` of `next.config`): `get`, `set` and `resetRequestCache` are
 * Next's built-in filesystem cache's; `revalidateTag` is too, and then forwards the tags to the
 * proxy ({@link sendToProxy}) before it resolves, so the purge is done when the route handler or
 * Server Action that revalidated answers.
 *
 * The purge is soft (`"soft": true`: the proxy marks the pages stale and serves them while it
 * regenerates them) when Next marks the tags stale rather than expired, that is when
 * `revalidateTag` gets a cache-life profile (`revalidateTag(tag, 'max')`, durations with an
 * `expire` other than 0); hard otherwise (`revalidatePath`, `updateTag`,
 * `revalidateTag(tag, { expire: 0 })`), as in Next's own filesystem cache.
 */
export default class IsrProxyCacheHandler implements NextCacheHandler {
  readonly #next: NextCacheHandler;

  /**
   * @param ctx What Next passes (`CacheHandlerContext`), handed to Next's filesystem cache as is.
   * @throws Error if Next's filesystem cache cannot be loaded from the app's `next` package.
   */
  constructor(ctx: NextCacheHandlerContext) {
    const FileSystemCache = loadFileSystemCache(ctx);
    this.#next = new FileSystemCache(ctx);
  }

  /** Next's entry for `key` (an opaque key of Next's), or null. */
  get(key: string, ctx: unknown): Promise<unknown> {
    return this.#next.get(key, ctx);
  }

  /** Stores Next's entry for `key`. */
  set(key: string, data: unknown, ctx: unknown): Promise<void> {
    return this.#next.set(key, data, ctx);
  }

  /**
   * Invalidates `tags` in Next's cache, then in the proxy's. Rejects only if Next's own cache
   * does; the proxy's failures are logged.
   */
  async revalidateTag(tags: string | string[], durations?: TagDurations): Promise<void> {
    const list = typeof tags === 'string' ? [tags] : [...tags];
    await this.#next.revalidateTag(tags, durations);
    if (list.length === 0) return;
    const soft = durations !== undefined && durations.expire !== 0;
    await sendToProxy(list, soft);
  }

  /** Clears Next's per-request memory (a no-op in Next's filesystem cache). */
  resetRequestCache(): void {
    this.#next.resetRequestCache?.();
  }
}
