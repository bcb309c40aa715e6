/**
 * Paths invalidate as tags. Every generated page carries implicit tags derived from its path and
 * its route pattern, so `revalidatePath` and `revalidateTag` are one mechanism (the Next.js
 * `revalidatePath` reference, https://nextjs.org/docs/app/api-reference/functions/revalidatePath:
 * `type` `'page'` targets one route, `'layout'` everything below a segment).
 *
 * The implicit tags of the page `/blog/1` rendered by the route `/blog/[id]`:
 *
 *   _N_T_/layout, _N_T_/blog/layout, _N_T_/blog/[id]/layout, _N_T_/blog/1/layout   (each segment's layout)
 *   _N_T_/blog/[id]/page, _N_T_/blog/1/page                                         (the page)
 *   _N_T_/blog/1                                                                    (the exact path)
 *
 * The `_N_T_` prefix is Next.js's; user tags may not start with it.
 */

import { normalizePath } from '../http/paths.ts';

/** Prefix of implicit (path) tags. */
export const IMPLICIT_TAG_PREFIX = '_N_T_';
/**
 * Prefix under which a soft purge of a tag is recorded (engine/freshness.ts): `<prefix><tag>`.
 * Reserved: neither a user tag nor an origin's tag may start with it.
 */
export const SOFT_TAG_PREFIX = '_ISR_SOFT_';

/** Longest accepted tag, in characters (Next.js uses 256). */
export const MAX_TAG_LENGTH = 256;

/** What `revalidatePath`'s second argument selects. */
export type RevalidatePathType = 'page' | 'layout';

function prefixes(path: string): string[] {
  const segments = normalizePath(path).split('/').filter(Boolean);
  const out = ['/'];
  for (let i = 1; i <= segments.length; i++) out.push(`/${segments.slice(0, i).join('/')}`);
  return out;
}

function join(prefix: string, leaf: string): string {
  return prefix === '/' ? `/${leaf}` : `${prefix}/${leaf}`;
}

/**
 * The implicit tags of a page or route handler output.
 * @param path the concrete URL path, e.g. `/blog/1`.
 * @param pattern the route pattern, e.g. `/blog/[id]` (equal to `path` for static routes).
 * @returns tags, deduplicated, each starting with {@link IMPLICIT_TAG_PREFIX}.
 */
export function implicitTags(path: string, pattern: string = path): string[] {
  const tags = new Set<string>();
  for (const base of [pattern, path]) {
    for (const prefix of prefixes(base)) tags.add(IMPLICIT_TAG_PREFIX + join(prefix, 'layout'));
    tags.add(IMPLICIT_TAG_PREFIX + join(normalizePath(base), 'page'));
  }
  tags.add(IMPLICIT_TAG_PREFIX + normalizePath(path));
  return [...tags];
}

/**
 * The tag that `revalidatePath(path, type)` invalidates.
 *
 * - no `type`: exactly the page at `path` (a concrete path such as `/blog/1`);
 * - `'page'`: the page of the route `path` (a pattern such as `/blog/[id]` or a concrete path);
 * - `'layout'`: every page at or below `path` (`revalidatePath('/', 'layout')` purges everything).
 *
 * @throws TypeError if `path` is not a string starting with `/`, or `type` is not one of the above,
 *   or `path` has a dynamic segment (`[id]`) but no `type` (Next.js requires one there).
 */
export function pathTag(path: string, type?: RevalidatePathType): string {
  if (typeof path !== 'string' || !path.startsWith('/')) {
    throw new TypeError(`revalidatePath: path must be a string starting with "/", got ${JSON.stringify(path)}`);
  }
  if (type !== undefined && type !== 'page' && type !== 'layout') {
    throw new TypeError(`revalidatePath: type must be "page" or "layout", got ${JSON.stringify(type)}`);
  }
  const normalized = normalizePath(path);
  if (type === undefined) {
    if (/\[.*\]/.test(normalized)) {
      throw new TypeError(`revalidatePath: "${path}" has a dynamic segment; pass type "page" or "layout"`);
    }
    return IMPLICIT_TAG_PREFIX + normalized;
  }
  return IMPLICIT_TAG_PREFIX + join(normalized, type);
}

/**
 * Checks a user tag (from `fetch(..., { next: { tags } })`, `unstable_cache` or `revalidateTag`).
 * @throws TypeError if it is not a non-empty string of at most {@link MAX_TAG_LENGTH} characters,
 *   or it uses the reserved implicit-tag prefix.
 */
export function validateTag(tag: unknown): string {
  if (typeof tag !== 'string' || tag.length === 0) {
    throw new TypeError(`tag must be a non-empty string, got ${JSON.stringify(tag)}`);
  }
  if (tag.length > MAX_TAG_LENGTH) {
    throw new TypeError(`tag is longer than ${MAX_TAG_LENGTH} characters: ${JSON.stringify(tag.slice(0, 40))}...`);
  }
  if (tag.startsWith(IMPLICIT_TAG_PREFIX)) {
    throw new TypeError(`tag ${JSON.stringify(tag)} uses the reserved prefix ${IMPLICIT_TAG_PREFIX}`);
  }
  if (tag.startsWith(SOFT_TAG_PREFIX)) {
    throw new TypeError(`tag ${JSON.stringify(tag)} uses the reserved prefix ${SOFT_TAG_PREFIX}`);
  }
  return tag;
}

/**
 * Checks a tag an origin sent (`Cache-Tag`, `Surrogate-Key`, `x-next-cache-tags`) or a purge names
 * under `isr proxy`: there Next.js's implicit `_N_T_` tags are ordinary tags, as the origin sends them.
 * @throws TypeError if it is not a non-empty string of at most {@link MAX_TAG_LENGTH} characters
 *   without control characters, or it uses the reserved {@link SOFT_TAG_PREFIX}.
 */
export function validateOriginTag(tag: unknown): string {
  if (typeof tag !== 'string' || tag.length === 0) {
    throw new TypeError(`tag must be a non-empty string, got ${JSON.stringify(tag)}`);
  }
  if (tag.length > MAX_TAG_LENGTH) {
    throw new TypeError(`tag is longer than ${MAX_TAG_LENGTH} characters: ${JSON.stringify(tag.slice(0, 40))}...`);
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
  if (/[\u0000-\u001f\u007f]/.test(tag)) throw new TypeError(`tag ${JSON.stringify(tag.slice(0, 40))} holds a control character`);
  if (tag.startsWith(SOFT_TAG_PREFIX)) {
    throw new TypeError(`tag ${JSON.stringify(tag)} uses the reserved prefix ${SOFT_TAG_PREFIX}`);
  }
  return tag;
}
