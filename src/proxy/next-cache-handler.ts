/**
 * The Next.js side of `isr proxy`: a `cacheHandler` for `next.config` that is Next's own cache and
 * also tells the proxy about every revalidation.
 *
 * An unmodified Next.js app invalidates only its own cache on `revalidatePath`, `revalidateTag`
 * and `updateTag`, so a shared cache in front of it keeps serving the old page until the page's
 * `s-maxage` runs out. With this handler, every tag invalidation Next makes is also sent to the
 * proxy (`POST <ISR_PROXY_URL>/_isr/revalidate`, `Authorization: Bearer <ISR_REVALIDATE_TOKEN>`,
 * `{"tags": [...], "paths": [...], "soft": false}`), with the tags as Next names them — the app's
 * own (`posts`) and the implicit `_N_T_/...` tags of `revalidatePath` — and the paths of the pages
 * that carry them: `next start` strips `x-next-cache-tags` from its answers (only its "minimal
 * mode" sends it), so the proxy knows a page by its path and that path's implicit tags alone.
 *
 * One line of `next.config` installs it (Next `import()`s the file, given as a path or a `file:`
 * URL: "Custom Next.js Cache Handler",
 * nextjs.org/docs/app/api-reference/config/next-config-js/incrementalCacheHandlerPath):
 *
 *     cacheHandler: import.meta.resolve('isr/next-cache-handler'),
 *
 * (`require.resolve('isr/next-cache-handler')` in a CommonJS `next.config.js`.)
 *
 * Storage stays Next's: every entry is read and written by Next's built-in filesystem cache (memory
 * plus `.next/server`, the build's prerendered pages included), loaded from the app's own `next`
 * package, so the app caches exactly as it did without this line. This file imports nothing of
 * isr (Next loads it into its own process) and nothing outside Node but that Next class.
 */

import { readdir, readFile } from 'node:fs/promises';
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

/** The response header in which Next keeps a page entry's tags (`data.headers`), comma-separated. */
const TAGS_HEADER = 'x-next-cache-tags';

/** Most pages whose tags are remembered (the oldest are forgotten first). */
const MAX_PAGES = 100_000;

/** Most paths plus tags in one POST to the proxy (its endpoint accepts 10 000). */
const MAX_ITEMS_PER_POST = 1000;

let fileSystemCache: NextCacheHandlerClass | undefined;
let warnedNoProxy = false;

/**
 * The tags of every page Next has stored or read in this process, or wrote to `.next/server`
 * (build seeds, regenerated pages), by pathname. `next start` does not send `x-next-cache-tags`
 * (Next strips it outside its "minimal mode"), so the proxy knows a page only by its path and the
 * implicit tags of that path; this index turns a tag such as `posts`, or a route's
 * `_N_T_/blog/[slug]/page`, into the paths to purge.
 */
const tagsByPath = new Map<string, readonly string[]>();
let diskScan: Promise<void> | undefined;

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
 * The pathname of a page entry's key, or undefined for a key of another shape (fetch entries).
 * Next 16.4 keys a response `/route-cache/<KIND>/<route hash>/$<page>`, `<page>` the pathname as
 * a page path (`/index` for `/`, `/index/x` for `/x` below a literal `index`): "Custom Next.js
 * Cache Handler", `get()`; Next's `denormalizePagePath` undoes it.
 */
function pathnameOf(key: string): string | undefined {
  const marker = key.indexOf('/$/');
  if (!key.startsWith('/route-cache/') || marker === -1) return undefined;
  const page = key.slice(marker + 2);
  if (page === '/index') return '/';
  return page.startsWith('/index/') ? page.slice('/index'.length) : page;
}

/** Remembers the tags of a page entry (`value.headers['x-next-cache-tags']`), if `value` is one. */
function remember(key: string, value: unknown): void {
  const headers = (value as { headers?: Record<string, unknown> } | null | undefined)?.headers;
  const tags = headers?.[TAGS_HEADER];
  const pathname = pathnameOf(key);
  if (typeof tags !== 'string' || pathname === undefined) return;
  tagsByPath.delete(pathname);
  tagsByPath.set(pathname, tags.split(','));
  if (tagsByPath.size > MAX_PAGES) {
    const oldest = tagsByPath.keys().next().value;
    if (oldest !== undefined) tagsByPath.delete(oldest);
  }
}

/**
 * Reads, once per process, the metadata (`*.meta`: `routeCache.key` and `headers`) of every page
 * Next wrote under `serverDistDir` — the build's seeds and the pages regenerated since — into
 * {@link tagsByPath}, so a tag maps to its pages even when Next has not served them since it
 * started (the proxy answered them). Unreadable files are skipped; never rejects.
 */
function scanDisk(serverDistDir: string | undefined): Promise<void> {
  diskScan ??= (async () => {
    if (!serverDistDir) return;
    let files: string[];
    try {
      files = (await readdir(serverDistDir, { recursive: true })).filter((file) => file.endsWith('.meta'));
    } catch {
      return;
    }
    for (const file of files) {
      try {
        const meta = JSON.parse(await readFile(path.join(serverDistDir, file), 'utf8')) as {
          routeCache?: { key?: unknown };
          headers?: unknown;
        };
        const key = meta.routeCache?.key;
        // What a request stored since wins over what the disk had.
        if (typeof key === 'string' && !tagsByPath.has(pathnameOf(key) ?? '')) remember(key, meta);
      } catch {
        // Not a page's metadata, or being rewritten: skipped.
      }
    }
  })();
  return diskScan;
}

/**
 * The pathnames of the pages carrying any of `tags`, without those the tags already name
 * (`_N_T_<pathname>`: the proxy tags every page with its own path) and without any the proxy
 * would refuse as a path (a literal `[`, which its `paths` reads as a route pattern).
 */
function pathsTagged(tags: readonly string[]): string[] {
  const wanted = new Set(tags);
  const paths: string[] = [];
  for (const [pathname, pageTags] of tagsByPath) {
    if (wanted.has(`_N_T_${pathname}`) || /[[\]]/.test(pathname)) continue;
    if (pageTags.some((tag) => wanted.has(tag))) paths.push(pathname);
  }
  return paths;
}

/** One purge as the proxy's endpoint reads it. */
interface Purge {
  tags: string[];
  paths: string[];
  soft: boolean;
}

/**
 * The proxy's revalidation endpoint (`<ISR_PROXY_URL>/_isr/revalidate`), or undefined (with a
 * message: a warning once per process when `ISR_PROXY_URL` is unset, an error when it is no URL).
 */
function proxyEndpoint(): URL | undefined {
  const proxy = process.env.ISR_PROXY_URL;
  if (!proxy) {
    if (!warnedNoProxy) console.warn(`${LOG_PREFIX} ISR_PROXY_URL is not set: revalidations reach Next's cache only`);
    warnedNoProxy = true;
    return undefined;
  }
  try {
    return new URL(`${proxy.replace(/\/+$/, '')}/_isr/revalidate`);
  } catch {
    console.error(`${LOG_PREFIX} ISR_PROXY_URL is not a URL: ${JSON.stringify(proxy)}`);
    return undefined;
  }
}

/**
 * POSTs one purge to the proxy's endpoint with `Authorization: Bearer <ISR_REVALIDATE_TOKEN>`
 * (when set). Resolves once the proxy answered (its 200 comes after it recorded the purge); never
 * rejects: a proxy that cannot be reached, answers with another status or takes longer than
 * {@link PROXY_TIMEOUT_MS} is logged with `console.error`.
 */
function post(target: URL, purge: Purge): Promise<void> {
  const body = JSON.stringify(purge);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
  };
  const token = process.env.ISR_REVALIDATE_TOKEN;
  if (token) headers.authorization = `Bearer ${token}`;
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const failed = (reason: string) => {
      console.error(`${LOG_PREFIX} could not revalidate ${body.slice(0, 300)} at ${target.href}: ${reason}`);
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
 * Sends a purge of `tags` (as Next named them) and `paths` to the proxy's endpoint `target`, in
 * POSTs of at most {@link MAX_ITEMS_PER_POST} items; resolves when all were answered and never
 * rejects (see {@link post}).
 */
async function sendToProxy(target: URL, tags: readonly string[], paths: readonly string[], soft: boolean): Promise<void> {
  const items = [...tags.map((tag) => ({ tag })), ...paths.map((path) => ({ path }))];
  for (let start = 0; start < items.length; start += MAX_ITEMS_PER_POST) {
    const chunk = items.slice(start, start + MAX_ITEMS_PER_POST);
    await post(target, {
      tags: chunk.flatMap((item) => ('tag' in item ? [item.tag] : [])),
      paths: chunk.flatMap((item) => ('path' in item ? [item.path] : [])),
      soft,
    });
  }
}

/**
 * Next's cache handler (`cacheHandler` of `next.config`): `get`, `set` and `resetRequestCache` are
 * Next's built-in filesystem cache's (and note each page's tags); `revalidateTag` is too, and then
 * purges the proxy ({@link sendToProxy}) before it resolves, so the purge is done when the route
 * handler or Server Action that revalidated answers. The purge names the tags as Next gave them
 * and the paths of the pages that carry them ({@link pathsTagged}).
 *
 * The purge is soft (`"soft": true`: the proxy marks the pages stale and serves them while it
 * regenerates them) when Next marks the tags stale rather than expired, that is when
 * `revalidateTag` gets a cache-life profile (`revalidateTag(tag, 'max')`, durations with an
 * `expire` other than 0); hard otherwise (`revalidatePath`, `updateTag`,
 * `revalidateTag(tag, { expire: 0 })`), as in Next's own filesystem cache.
 */
export default class IsrProxyCacheHandler implements NextCacheHandler {
  readonly #next: NextCacheHandler;
  readonly #serverDistDir: string | undefined;

  /**
   * @param ctx What Next passes (`CacheHandlerContext`), handed to Next's filesystem cache as is.
   * @throws Error if Next's filesystem cache cannot be loaded from the app's `next` package.
   */
  constructor(ctx: NextCacheHandlerContext) {
    const FileSystemCache = loadFileSystemCache(ctx);
    this.#next = new FileSystemCache(ctx);
    this.#serverDistDir = ctx.serverDistDir;
  }

  /** Next's entry for `key` (an opaque key of Next's), or null. */
  async get(key: string, ctx: unknown): Promise<unknown> {
    const entry = await this.#next.get(key, ctx);
    remember(key, (entry as { value?: unknown } | null)?.value);
    return entry;
  }

  /** Stores Next's entry for `key`. */
  async set(key: string, data: unknown, ctx: unknown): Promise<void> {
    remember(key, data);
    await this.#next.set(key, data, ctx);
  }

  /**
   * Invalidates `tags` in Next's cache, then in the proxy's. Rejects only if Next's own cache
   * does; the proxy's failures are logged.
   */
  async revalidateTag(tags: string | string[], durations?: TagDurations): Promise<void> {
    const list = typeof tags === 'string' ? [tags] : [...tags];
    await this.#next.revalidateTag(tags, durations);
    if (list.length === 0) return;
    const target = proxyEndpoint();
    if (target === undefined) return;
    await scanDisk(this.#serverDistDir);
    const soft = durations !== undefined && durations.expire !== 0;
    await sendToProxy(target, list, pathsTagged(list), soft);
  }

  /** Clears Next's per-request memory (a no-op in Next's filesystem cache). */
  resetRequestCache(): void {
    this.#next.resetRequestCache?.();
  }
}
