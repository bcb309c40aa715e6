/**
 * The runtime of Next.js 16's `'use cache'` directive (the "use cache", "use cache: remote" and
 * "use cache: private" directive references, https://nextjs.org/docs/app/api-reference/directives/use-cache):
 * `isr build` (build/use-cache-transform.ts) wraps every function so marked in
 * {@link cachedFunction}, in the App Router's server bundle.
 *
 * A call's cache key is the function's identity (its file and name) and its arguments, including
 * the values it closes over (the transform binds them as leading arguments), serialised as React
 * serialises a Server Function's arguments (`encodeReply`). What React cannot serialise but the
 * function only passes on (`children`, another component's element, a Server Action) travels as a
 * temporary reference: not part of the key, put back into the result on every call. The result is
 * serialised as React serialises a Server Component's output (the RSC payload), so a cached
 * component may return JSX, client components included.
 *
 * - `'use cache'` and `'use cache: remote'` store the result in isr's cache, through the engine, as
 *   every data-cache entry: the memory tier over the cache folder, or Redis (shared by every
 *   instance). Next.js's default `'use cache'` handler is per instance and in memory; isr's is the
 *   durable, shared one, so the two directives behave alike here.
 * - `'use cache: private'` is never stored: calls with the same key in one request share one
 *   result, and the page reading it renders per request.
 *
 * Lifetimes and tags follow {@link cacheLife} and {@link cacheTag} (app/cache-scope.ts), nested
 * caches lower an outer one's lifetime unless it set its own, and what a render reads is passed
 * on to it (render/context.ts `propagateCacheLife`): a page's `Cache-Control` is computed from it.
 */

import { createHash } from 'node:crypto';
import {
  createClientTemporaryReferenceSet,
  createFromReadableStream,
  createTemporaryReferenceSet,
  decodeReply,
  encodeReply,
  renderToReadableStream,
} from '@vitejs/plugin-rsc/rsc';
import { INFINITE_CACHE } from '../../config/cache-life.ts';
import { IMPLICIT_TAG_PREFIX } from '../../engine/tags.ts';
import {
  type CacheScope,
  currentRenderContext,
  getRuntime,
  markDynamic,
  propagateCacheLife,
  type RenderContext,
  renderStorage,
} from '../../render/context.ts';
import type { Seconds } from '../../units.ts';
import { defaultProfile, partialPrerenderingNotice } from '../cache-scope.ts';
import { PAGE_PROPS } from '../segment-props.ts';

/** The shortest `expire` a prerendered page may hold, in seconds (Next.js's `MIN_PRERENDERABLE_EXPIRE`). */
export const MIN_PRERENDERABLE_EXPIRE: Seconds = 300;

/** The stored field carrying an entry's lifetime (`{ stale, revalidate, expire }`, seconds). */
const LIFE_FIELD = 'x-isr-cache-life';

// biome-ignore lint/suspicious/noExplicitAny: a cached function keeps the signature it was written with.
type AnyAsyncFunction = (...args: any[]) => Promise<unknown>;

/**
 * What a run of a cached function collected: its lifetime (seconds), explicit tags, whether
 * `cacheLife()` set its `revalidate` and `expire`, and the nested cache that shortened it, if any.
 */
interface CacheLifeCollected {
  stale: Seconds;
  revalidate: Seconds;
  expire: Seconds;
  tags: string[];
  explicitRevalidate: boolean;
  explicitExpire: boolean;
  dynamicNested?: string;
}

function sha256(text: string | Uint8Array): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The text of what `encodeReply` produced: itself, or a FormData's entries in order (files by their bytes' hash). */
async function encodedText(encoded: string | FormData): Promise<string> {
  if (typeof encoded === 'string') return encoded;
  const parts: [string, string][] = [];
  for (const [name, value] of encoded) {
    parts.push([name, typeof value === 'string' ? value : `blob:${sha256(new Uint8Array(await value.arrayBuffer()))}`]);
  }
  return JSON.stringify(parts);
}

/** The directive's kind: `'use cache'` and `'use cache: remote'` are stored, `'use cache: private'` is not. */
export function cacheKindOf(directive: string): CacheScope['kind'] {
  const match = /^use cache(?::\s*(\S+))?$/.exec(directive.trim());
  const variant = match?.[1];
  if (match === null || (variant !== undefined && variant !== 'remote' && variant !== 'private')) {
    throw new Error(`"${directive}" is not supported by isr: use 'use cache', 'use cache: remote' or 'use cache: private'`);
  }
  return variant === 'private' ? 'private' : 'public';
}

/** A promise for `searchParams` inside a cached page: reading it throws (Next.js's message). */
function erroringSearchParams(route: string): Promise<never> {
  const promise = Promise.reject(
    new Error(
      `Route "${route}": \`searchParams\` can't be read inside \`"use cache"\`. Await it outside the cached function and pass what you need as an argument.\nLearn more: https://nextjs.org/docs/messages/next-request-in-use-cache`,
    ),
  );
  promise.catch(() => {});
  return promise;
}

/** A new render context for one run of a cached function read by `outer`, starting from the `default` profile. */
function scopeContext(outer: RenderContext | undefined, kind: CacheScope['kind'], label: string): RenderContext {
  const base = defaultProfile();
  return {
    path: outer?.path ?? '',
    pattern: outer?.pattern ?? label,
    implicitTags: outer?.implicitTags ?? [],
    tags: new Set(),
    revalidate: base.revalidate,
    dynamicReason: undefined,
    dynamicMode: 'auto',
    expire: base.expire,
    stale: base.stale,
    cache: { kind, explicit: {}, label },
  };
}

/** The lifetime a run ends with: `cacheLife()`'s explicit values, else the lowest of the default and the nested caches'. */
function collected(context: RenderContext): CacheLifeCollected {
  const { explicit } = context.cache!;
  const base = defaultProfile();
  const revalidate = explicit.revalidate ?? (context.revalidate === false ? INFINITE_CACHE : context.revalidate);
  return {
    revalidate,
    expire: explicit.expire ?? context.expire ?? base.expire,
    stale: explicit.stale ?? context.stale ?? base.stale,
    tags: [...context.tags],
    explicitRevalidate: explicit.revalidate !== undefined,
    explicitExpire: explicit.expire !== undefined,
    ...(context.cache!.dynamicNested === undefined ? {} : { dynamicNested: context.cache!.dynamicNested }),
  };
}

/** Whether an entry is too short-lived for a prerendered page (`revalidate: 0`, or `expire` under 5 minutes). */
function shortLived(life: CacheLifeCollected): boolean {
  return life.revalidate === 0 || life.expire < MIN_PRERENDERABLE_EXPIRE;
}

/**
 * Next.js's error for a page reading a cache that a nested short-lived cache made short-lived
 * without the outer one choosing so with `cacheLife()` (`use-cache-wrapper.js`: thrown when the
 * page is prerendered, by `next build` or a regeneration): the outer cache's `revalidate: 0` or
 * short `expire` came from the nested cache, and the `default` profile is itself prerenderable.
 * @returns the error, or undefined when the page may read the entry (as a dynamic part).
 */
function nestedShortLifeError(route: string, life: CacheLifeCollected, label: string): Error | undefined {
  const base = defaultProfile();
  if (life.dynamicNested === undefined || base.revalidate === 0 || base.expire < MIN_PRERENDERABLE_EXPIRE) return undefined;
  const zero = life.revalidate === 0;
  if (zero ? life.explicitRevalidate : life.explicitExpire) return undefined;
  const cause = new Error(
    `Nested dynamic "use cache": ${life.dynamicNested} has a dynamic cache life that was propagated to its parent, ${label}.`,
  );
  const message = zero
    ? `Route "${route}": A nested \`"use cache"\` with \`revalidate: 0\` is inside an outer \`"use cache"\` that has no \`cacheLife()\`. Add \`cacheLife()\` to the outer one to choose whether to prerender it with a non-zero \`revalidate\` or keep it dynamic with \`revalidate: 0\`.`
    : `Route "${route}": A nested \`"use cache"\` with a short \`expire\` (under 5 minutes) is inside an outer \`"use cache"\` that has no \`cacheLife()\`. Add \`cacheLife()\` to the outer one to choose whether to prerender it with a longer \`expire\` or keep it dynamic with a short \`expire\`.`;
  return new Error(
    `${message}\nLearn more: https://nextjs.org/docs/messages/nested-use-cache-no-explicit-cachelife\n(the outer cache: ${label}; the nested one: ${life.dynamicNested})`,
    { cause },
  );
}

/** Reads a whole RSC payload stream, throwing the first error React reported. */
async function flightBytes(stream: ReadableStream<Uint8Array>, errors: unknown[]): Promise<Uint8Array<ArrayBuffer>> {
  const bytes = new Uint8Array(await new Response(stream).arrayBuffer());
  if (errors.length > 0) throw errors[0];
  return bytes;
}

function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
}

/** The cause of an engine's `GenerationError` (a `notFound()` or `redirect()` the function threw must reach the page as such). */
function unwrapped(error: unknown): unknown {
  return error instanceof Error && error.name === 'GenerationError' && error.cause !== undefined ? error.cause : error;
}

/**
 * What a page or outer cache reading an entry takes from it; a page reading a short-lived one
 * (`revalidate: 0`, or `expire` under 5 minutes) renders per request, as Next.js leaves such an
 * entry out of the prerendered page. An outer public cache remembers the first short-lived one it
 * read, for {@link nestedShortLifeError}.
 * @throws Error (Next.js's message) when a page reads a cache made short-lived by a nested one
 *   without its own `cacheLife()`.
 */
function passOn(outer: RenderContext | undefined, life: CacheLifeCollected, label: string): void {
  if (outer === undefined) return;
  propagateCacheLife(outer, {
    tags: life.tags,
    revalidate: life.revalidate >= INFINITE_CACHE ? false : life.revalidate,
    expire: life.expire >= INFINITE_CACHE ? undefined : life.expire,
    stale: life.stale,
  });
  if (!shortLived(life)) return;
  if (outer.cache?.kind === 'public') outer.cache.dynamicNested ??= label;
  if (outer.cache === undefined) {
    const error = nestedShortLifeError(outer.pattern, life, label);
    if (error !== undefined) throw error;
    const reason = `'use cache' in ${label} with ${life.revalidate === 0 ? 'revalidate: 0' : `expire: ${life.expire}`}`;
    markDynamic(outer, reason);
    partialPrerenderingNotice(outer, reason);
  }
}

/**
 * Wraps `fn`, a function marked with `directive` (`use cache`, `use cache: remote` or
 * `use cache: private`), so calls go through the cache. `id` names it (`app/page.tsx#getPosts`),
 * stable between builds of the same source.
 * @throws Error at once for a directive isr does not support (`'use cache: <custom handler>'`).
 */
export function cachedFunction<F extends AnyAsyncFunction>(fn: F, directive: string, id: string): F {
  // A file-level directive wraps exports whose value the build could not see: only functions are cached.
  if (typeof fn !== 'function') return fn;
  const kind = cacheKindOf(directive);
  // The name the function was written with: `lib/data.ts#getPosts` (the build's hoisted name is `$$hoist_<n>_getPosts`).
  const label = id.replace(/#\$\$hoist_\d+_/, '#');
  const wrapped = async function cached(...args: unknown[]): Promise<unknown> {
    const runtime = getRuntime();
    const outer = currentRenderContext();
    if (runtime === undefined) return fn(...args);
    if (kind === 'private' && outer?.cache?.kind === 'public') {
      throw new Error(
        `Route "${outer.pattern}": \`"use cache: private"\` can't be nested inside \`"use cache"\` because a shared cached function can't depend on private request data. Nest it only inside another \`"use cache: private"\`.\nLearn more: https://nextjs.org/docs/messages/use-cache-private-composition`,
      );
    }
    // A page component: its `params` are part of the key, its `searchParams` never are (Next.js
    // omits them from a public cache's key and makes reading them an error).
    const pageProps = args[0] !== null && typeof args[0] === 'object' && (args[0] as Record<string, unknown>)[PAGE_PROPS] === true;
    const keyArgs = pageProps ? [{ params: (args[0] as { params: unknown }).params }, ...args.slice(1)] : args;
    const callArgs = (decoded: unknown[]): unknown[] =>
      pageProps
        ? [
            {
              params: (args[0] as { params: unknown }).params,
              searchParams:
                kind === 'private' ? (args[0] as { searchParams: unknown }).searchParams : erroringSearchParams(outer?.pattern ?? label),
            },
            ...decoded.slice(1),
          ]
        : decoded;

    const clientReferences = createClientTemporaryReferenceSet();
    const encoded = await encodeReply(keyArgs, { temporaryReferences: clientReferences });
    const key = `use-cache:${sha256(`${id}\0${await encodedText(encoded)}`)}`;

    /** Runs the function in its own scope and serialises what it returned. */
    const run = async (): Promise<{ payload: Uint8Array<ArrayBuffer>; life: CacheLifeCollected }> => {
      const context = scopeContext(outer, kind, label);
      return renderStorage().run(context, async () => {
        const serverReferences = createTemporaryReferenceSet();
        const decoded = (await decodeReply(encoded, { temporaryReferences: serverReferences })) as unknown[];
        const result = await fn(...callArgs(decoded));
        const errors: unknown[] = [];
        // Rendered inside the scope: async components in the result read their data into this entry.
        const stream = renderToReadableStream(result, {
          temporaryReferences: serverReferences,
          onError(error: unknown) {
            errors.push(error);
          },
        });
        const payload = await flightBytes(stream, errors);
        return { payload, life: collected(context) };
      });
    };
    const decode = (payload: Uint8Array): Promise<unknown> =>
      createFromReadableStream(streamOf(payload), { temporaryReferences: clientReferences }) as Promise<unknown>;

    if (kind === 'private') {
      if (outer !== undefined) {
        markDynamic(outer, `'use cache: private' in ${label}`);
        if (outer.cache === undefined) partialPrerenderingNotice(outer, `'use cache: private' in ${label}`);
      }
      const results = outer === undefined ? undefined : (outer.privateResults ??= new Map());
      let pending = results?.get(key) as Promise<{ payload: Uint8Array<ArrayBuffer>; life: CacheLifeCollected }> | undefined;
      if (pending === undefined) {
        pending = run();
        results?.set(key, pending);
      }
      const { payload, life } = await pending;
      if (outer !== undefined && (outer.stale === undefined || life.stale < outer.stale)) outer.stale = life.stale;
      return decode(payload);
    }

    let served: Awaited<ReturnType<typeof runtime.engine.serve>>;
    try {
      served = await runtime.engine.serve(
        key,
        async () => {
          const { payload, life } = await run();
          return {
            value: { kind: 'function', status: 200, headers: { [LIFE_FIELD]: JSON.stringify(life) }, body: payload },
            tags: [...life.tags, ...(outer?.implicitTags ?? [])],
            revalidate: life.revalidate >= INFINITE_CACHE ? false : life.revalidate,
            ...(life.expire < INFINITE_CACHE ? { expire: life.expire } : {}),
            // An entry with revalidate: 0 is never reused: Next.js treats it as dynamic.
            dynamic: life.revalidate === 0,
          };
        },
        {
          staleWhileRevalidate: false,
          staleIfError: false,
          extraTags: outer?.implicitTags,
          label: `'use cache' ${label}`,
          logFailures: false,
        },
      );
    } catch (error) {
      throw unwrapped(error);
    }
    const stored = served.entry.value;
    const life = JSON.parse(stored.headers[LIFE_FIELD] ?? 'null') as CacheLifeCollected | null;
    if (life === null) throw new Error(`the cache entry of ${label} holds no lifetime: run \`isr build\` again`);
    life.tags = served.entry.tags.filter((tag) => !tag.startsWith(IMPLICIT_TAG_PREFIX));
    passOn(outer, life, label);
    runtime.logger.debug(`'use cache' ${served.state} ${label}`);
    return decode(stored.body);
  };
  Object.defineProperty(wrapped, 'name', { value: fn.name });
  return wrapped as F;
}
