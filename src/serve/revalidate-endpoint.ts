/**
 * `POST /_isr/revalidate`: the on-demand revalidation webhook, for a headless CMS that announces
 * changed content (Next.js 12.1 "Incremental Static Regeneration", "On-demand Revalidation",
 * https://github.com/vercel/next.js/blob/v12.1.6/docs/basic-features/data-fetching/incremental-static-regeneration.md).
 *
 *   Authorization: Bearer <ISR_REVALIDATE_TOKEN>
 *   {"paths": ["/blog/1", {"path": "/blog", "type": "layout"}], "tags": ["posts"], "soft": false}
 *
 * `"soft": true` is a soft purge (Fastly's; Next.js 16's `revalidateTag(tag, 'max')`): what it
 * names is marked stale, so the next request is answered at once from the old version while one
 * regeneration runs, instead of waiting for the new one. `"profile"` says the same in Next.js 16's
 * terms (the second argument of `revalidateTag`, https://nextjs.org/docs/app/api-reference/functions/revalidateTag):
 * `"max"` (or any profile name) marks stale, `{"expire": 0}` expires now.
 *
 * 401 without a valid token (compared in constant time), 405 for other methods, 413 for a body
 * over {@link MAX_BODY_BYTES}, 400 for a body cut short and (with a message naming the field) for a
 * malformed body, 200 with what was revalidated otherwise.
 *
 * The 200 is an acknowledgement: it is sent only once a durable tier (the cache folder, Redis; not
 * the memory tier) has recorded the invalidation, so a restart cannot serve a page invalidated
 * before it as fresh. When none could (a cache folder that is read-only, full or unwritable, the
 * cluster primary failing to write it, Redis unreachable), the answer is 503 with `Retry-After`
 * ({@link RETRY_AFTER_SECONDS}; RFC 9110 §15.6.4 and §10.2.3): the invalidation applies to this
 * process at once, and the store writes it back as soon as it accepts writes again (with Redis:
 * once it is back, through the engine's resync), but the caller should retry to be sure.
 */

import type { IsrEngine } from '../engine/engine.ts';
import { MAX_TAG_LENGTH, pathTag, type RevalidatePathType, validateTag } from '../engine/tags.ts';
import { BodyError, readBody } from '../http/body.ts';
import type { Logger } from '../log.ts';
import { InvalidationNotRecordedError, StoreUnavailableError } from '../store/store.ts';
import type { Bytes } from '../units.ts';
import { json, refuseWithoutToken } from './bearer.ts';

/** `Retry-After` of a 503 answer, in seconds. */
export const RETRY_AFTER_SECONDS = 5;

export const REVALIDATE_ENDPOINT = '/_isr/revalidate';
/** Largest accepted request body, in bytes. */
export const MAX_BODY_BYTES: Bytes = 1024 * 1024;
/** Most paths plus tags accepted in one request. */
export const MAX_ITEMS = 10_000;

type PathItem = { path: string; type?: RevalidatePathType; tag: string };

/** What the endpoint accepts besides the defaults. */
export interface RevalidateEndpointOptions {
  /**
   * Checks (and returns) each tag, throwing a TypeError with the reason: `validateTag` (user tags,
   * no `_N_T_`) by default; `isr proxy` passes `validateOriginTag`.
   */
  checkTag?: (tag: unknown) => string;
}

function parseRequest(value: unknown, checkTag: (tag: unknown) => string): { paths: PathItem[]; tags: string[]; soft: boolean } | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return 'body must be a JSON object like {"paths": ["/blog/1"], "tags": ["posts"]}';
  }
  const body = value as Record<string, unknown>;
  for (const key of Object.keys(body)) {
    if (key !== 'paths' && key !== 'tags' && key !== 'soft' && key !== 'profile') {
      return `unknown field "${key}" (expected "paths", "tags", "soft", "profile")`;
    }
  }
  const profile = profileMode(body.profile);
  if (typeof profile === 'string') return profile;
  if (profile !== undefined && body.soft !== undefined) return 'give "soft" or "profile", not both';
  const rawPaths = body.paths ?? [];
  const rawTags = body.tags ?? [];
  if (!Array.isArray(rawPaths)) return '"paths" must be an array';
  if (!Array.isArray(rawTags)) return '"tags" must be an array';
  if (body.soft !== undefined && typeof body.soft !== 'boolean') return '"soft" must be true or false';
  if (rawPaths.length + rawTags.length === 0) return 'nothing to revalidate: give at least one path or tag';
  if (rawPaths.length + rawTags.length > MAX_ITEMS) return `too many paths and tags (at most ${MAX_ITEMS} per request)`;
  const paths: PathItem[] = [];
  for (const [index, item] of rawPaths.entries()) {
    const candidate: unknown = typeof item === 'string' ? { path: item } : item;
    if (typeof candidate !== 'object' || candidate === null) return `paths[${index}] must be a string or {"path", "type"}`;
    const { path, type } = candidate as { path?: unknown; type?: unknown };
    if (typeof path !== 'string' || path.length > 2048) return `paths[${index}] must be a path string of at most 2048 characters`;
    let tag: string;
    try {
      tag = pathTag(path, type as RevalidatePathType | undefined);
    } catch (error) {
      return `paths[${index}]: ${(error as Error).message.replace(/^revalidatePath: /, '')}`;
    }
    paths.push(type === undefined ? { path, tag } : { path, type: type as RevalidatePathType, tag });
  }
  const tags: string[] = [];
  for (const [index, tag] of rawTags.entries()) {
    try {
      tags.push(checkTag(tag));
    } catch (error) {
      return `tags[${index}]: ${(error as Error).message} (max ${MAX_TAG_LENGTH} characters)`;
    }
  }
  return { paths, tags, soft: body.soft === true || profile?.soft === true };
}

/**
 * Next.js 16's second argument of `revalidateTag`, as the body's `"profile"`: a profile name
 * (`"max"`, `"hours"`, ...) or `{"expire": N}` with N > 0 marks stale (soft); `{"expire": 0}`
 * expires now. A name is not resolved here: every name marks stale.
 * @returns the mode, undefined when absent, or a message for a malformed value.
 */
function profileMode(value: unknown): { soft: boolean } | string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && value.length > 0 && value.length <= 256) return { soft: true };
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const expire = (value as { expire?: unknown }).expire;
    if (expire === undefined) return { soft: true };
    if (typeof expire === 'number' && expire >= 0) return { soft: expire !== 0 };
  }
  return '"profile" must be a profile name ("max") or {"expire": seconds} ({"expire": 0} expires now)';
}

/**
 * Handles a request to {@link REVALIDATE_ENDPOINT}.
 * @param token the configured secret; without one every request gets 401.
 */
export async function handleRevalidateRequest(
  request: Request,
  engine: IsrEngine,
  token: string | undefined,
  logger: Logger,
  options: RevalidateEndpointOptions = {},
): Promise<Response> {
  if (request.method !== 'POST') return json(405, { error: 'use POST' }, { allow: 'POST' });
  const refusal = refuseWithoutToken(request, token, 'revalidation');
  if (refusal !== undefined) return refusal;
  let raw: Uint8Array;
  try {
    raw = await readBody(request, MAX_BODY_BYTES);
  } catch (error) {
    if (!(error instanceof BodyError)) throw error;
    // The rest of the body is not read: the connection cannot be reused.
    if (error.status === 413) return json(413, { error: `body is larger than ${MAX_BODY_BYTES} bytes` }, { connection: 'close' });
    // Bad input never makes things worse: a body the client cuts short (connection closed or
    // reset mid-body) is answered 400, not thrown as an unhandled error (a 500 and an error log).
    return json(400, { error: 'the request body ended before its announced length' }, { connection: 'close' });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw));
  } catch {
    return json(400, { error: 'body is not valid JSON' });
  }
  const items = parseRequest(parsed, options.checkTag ?? validateTag);
  if (typeof items === 'string') return json(400, { error: items });
  const tags = [...items.paths.map((item) => item.tag), ...items.tags];
  let at: number;
  try {
    at = await engine.invalidateTagsDurably(tags, { soft: items.soft });
  } catch (error) {
    if (error instanceof StoreUnavailableError) {
      // Redis is down (its outage is logged once): this instance applies it now and records it when
      // Redis is back, but the others learn of it only then — ask the caller to retry.
      return json(
        503,
        {
          error:
            'the shared cache store is unreachable: the revalidation applies to this instance now and to the others once the store is back; retry later',
        },
        { 'retry-after': String(RETRY_AFTER_SECONDS) },
      );
    }
    if (error instanceof InvalidationNotRecordedError) {
      // The cache folder refused it (the tier logged the cause once per failure streak). It applies
      // in memory now and is written back when the folder accepts writes; a restart before that
      // would not know of it, so this is no acknowledgement.
      return json(
        503,
        {
          error:
            'the revalidation applies to this process now, but the cache store could not record it durably (it is written back once the store accepts writes); retry later',
        },
        { 'retry-after': String(RETRY_AFTER_SECONDS) },
      );
    }
    logger.error('a revalidation was applied in memory but could not be recorded in the cache store', error);
    return json(500, { error: 'the revalidation could not be recorded durably; it applies to this process only' });
  }
  logger.info(
    `${items.soft ? 'soft-purged' : 'revalidated'} ${items.paths.length} path(s) and ${items.tags.length} tag(s) via ${REVALIDATE_ENDPOINT}`,
  );
  return json(200, {
    revalidated: true,
    paths: items.paths.map((item) => (item.type ? { path: item.path, type: item.type } : item.path)),
    tags: items.tags,
    ...(items.soft ? { soft: true } : {}),
    now: Math.floor(at),
  });
}
