/**
 * `cacheLife` and `cacheTag` of Next.js 16 (the "cacheLife" and "cacheTag" function references,
 * https://nextjs.org/docs/app/api-reference/functions/cacheLife,
 * https://nextjs.org/docs/app/api-reference/functions/cacheTag): what a `'use cache'` function
 * (app/rsc/use-cache.ts) calls to set its entry's lifetime and tags, and the site's cache profiles
 * they name, registered once per process by the App Router's runtime.
 *
 * Messages are Next.js's (`next/dist/server/use-cache/use-cache-messages.js`), so an error reads
 * the same under isr as under `next start`.
 */

import {
  BUILT_IN_PROFILES,
  type CacheLifeInput,
  type CacheLifeProfile,
  type CacheLifeProfiles,
  checkCacheLifeProfile,
} from '../config/cache-life.ts';
import { validateTag } from '../engine/tags.ts';
import { excerpt, warnRepeated } from '../log.ts';
import { currentRenderContext, getRuntime, type RenderContext } from '../render/context.ts';

/** Where the site's cache config is registered on `globalThis` (the site's bundle has its own copy of this module). */
const CONFIG_KEY: unique symbol = Symbol.for('isr.cacheConfig');

/** What next.config says of caching, as the App Router's runtime registers it. */
export interface CacheConfig {
  /** `cacheComponents: true`. */
  cacheComponents: boolean;
  /** The cache profiles: the built-in ones and next.config's `cacheLife`. */
  profiles: CacheLifeProfiles;
}

type ConfigRegistry = { [CONFIG_KEY]?: CacheConfig };

/** Registers the site's cache config (app/rsc/entry.rsc.ts, from build/compile-app.ts). */
export function setCacheConfig(config: CacheConfig): void {
  (globalThis as ConfigRegistry)[CONFIG_KEY] = config;
}

/** The site's cache profiles: those registered, or the built-in ones. */
export function cacheLifeProfiles(): CacheLifeProfiles {
  return (globalThis as ConfigRegistry)[CONFIG_KEY]?.profiles ?? (BUILT_IN_PROFILES as CacheLifeProfiles);
}

/** Whether next.config turns Cache Components on (`cacheComponents: true`), as registered by the App Router's runtime. */
export function cacheComponentsEnabled(): boolean {
  return (globalThis as ConfigRegistry)[CONFIG_KEY]?.cacheComponents === true;
}

/**
 * Says, once per route and minute, that Next.js would prerender this page as a static shell with
 * a dynamic part (Partial Prerendering) when that part is inside `<Suspense>`, and fail
 * `next build` when it is not; isr builds no shell and finds no `<Suspense>` boundary: it renders
 * the whole page per request in both cases.
 * @param reason what made part of the page dynamic: `'use cache' in lib/data.ts#get with expire: 60`.
 * @param fix how to keep the page static, appended to the message.
 */
export function partialPrerenderingNotice(context: RenderContext, reason: string, fix = ''): void {
  const runtime = getRuntime();
  if (runtime === undefined) return;
  warnRepeated(
    runtime.logger,
    `ppr:${context.pattern}`,
    `route ${context.pattern}: ${reason} makes part of the page dynamic. Next.js (cacheComponents) serves such a page as a prerendered shell whose dynamic part streams per request when that part is inside <Suspense> (Partial Prerendering), and fails \`next build\` ("Next.js encountered uncached or runtime data during prerendering") when it is not; isr builds no shell and renders the whole page per request either way (the cached functions it reads stay cached)${fix}`,
  );
}

/** The `default` profile: what a `'use cache'` function without `cacheLife()` lives by. */
export function defaultProfile(): CacheLifeProfile {
  return cacheLifeProfiles().default;
}

function routePrefix(context: RenderContext | undefined): string {
  return context === undefined ? '' : `Route "${context.pattern}": `;
}

/**
 * A profile by name or inline, checked.
 * @param where the call, for messages: `cacheLife()` or `revalidateTag(...)`.
 * @throws Error with Next.js's message for a name no profile has (suggesting the name without
 *   spaces, as Next.js does), or a bad inline profile.
 */
export function resolveProfile(profile: unknown, where: string): CacheLifeInput {
  if (typeof profile === 'string') {
    const profiles = cacheLifeProfiles();
    const found = Object.hasOwn(profiles, profile) ? profiles[profile] : undefined;
    if (found !== undefined) return found;
    if (Object.hasOwn(profiles, profile.trim())) {
      throw new Error(
        `Unknown \`cacheLife()\` profile "${profile}" is not configured in next.config.js\nDid you mean "${profile.trim()}" without the spaces?`,
      );
    }
    throw new Error(
      `Unknown \`cacheLife()\` profile "${profile}" is not configured in next.config.js\nmodule.exports = {\n  cacheLife: {\n    "${profile}": ...\n  }\n}`,
    );
  }
  if (typeof profile !== 'object' || profile === null || Array.isArray(profile)) {
    throw new Error(`Invalid \`${where}\` option. Either pass a profile name or object.`);
  }
  return checkCacheLifeProfile(profile, where);
}

/**
 * Sets the lifetime of the `'use cache'` function running now (seconds; named profiles from
 * next.config's `cacheLife` or the built-in `default`, `seconds`, `minutes`, `hours`, `days`,
 * `weeks`, `max`). Several calls in one run keep the lowest of each value, as Next.js does. An
 * explicit value wins over what nested caches would set (the cacheLife reference, "Nested
 * caching behavior").
 * @throws Error (Next.js's messages) outside a `'use cache'` function, for an unknown profile or
 *   a bad inline one.
 */
export function cacheLife(profile: string | CacheLifeInput): void {
  const context = currentRenderContext();
  const scope = context?.cache;
  if (scope === undefined) {
    throw new Error(
      `${routePrefix(context)}\`cacheLife()\` can only be called inside a \`"use cache"\` or \`"use cache: private"\` function.\nLearn more: https://nextjs.org/docs/messages/cache-life-outside-use-cache`,
    );
  }
  const resolved = resolveProfile(profile, 'cacheLife()');
  for (const key of ['stale', 'revalidate', 'expire'] as const) {
    const value = resolved[key];
    if (value === undefined) continue;
    const current = scope.explicit[key];
    if (current === undefined || value < current) scope.explicit[key] = value;
  }
}

/**
 * Tags the entry of the `'use cache'` function running now, for `revalidateTag` and `updateTag`
 * (and the page reading it, which carries its entries' tags). Invalid tags (empty, over 256
 * characters, a reserved prefix) are dropped with a warning, as Next.js drops them.
 * @throws Error (Next.js's message) outside a `'use cache'` function.
 */
export function cacheTag(...tags: string[]): void {
  const context = currentRenderContext();
  if (context?.cache === undefined) {
    throw new Error(
      `${routePrefix(context)}\`cacheTag()\` can only be called inside a \`"use cache"\` or \`"use cache: private"\` function.\nLearn more: https://nextjs.org/docs/messages/cache-tag-outside-use-cache`,
    );
  }
  for (const tag of tags) {
    try {
      context.tags.add(validateTag(tag));
    } catch (error) {
      const runtime = getRuntime();
      if (runtime !== undefined) {
        warnRepeated(
          runtime.logger,
          'cacheTag: invalid tag',
          `cacheTag() in ${context.cache.label}: ${excerpt((error as Error).message, 160)}; the tag is ignored`,
        );
      }
    }
  }
}
