/**
 * Route segment config: what a page, layout or route-handler module may export besides its
 * component or handlers (`revalidate`, `dynamic`, `dynamicParams`), and how the values of a route's
 * layouts and page merge into one (the lowest `revalidate` wins; `force-dynamic` or `revalidate = 0`
 * makes the route dynamic).
 * @see https://nextjs.org/docs/app/api-reference/file-conventions/route-segment-config
 */

import type { ComponentType } from 'react';
import { SiteError } from '../config/errors.ts';
import type { Params } from '../render/routes.ts';
import type { Seconds } from '../units.ts';
import type { MetadataModule } from './metadata.ts';

/**
 * Route segment config (Next.js "Route Segment Config"): what a page, layout or route module may
 * export besides its component or handlers.
 */
export interface SegmentConfig {
  /** Seconds, `false` (cache until revalidated) or `0` (dynamic). */
  revalidate?: Seconds | false;
  dynamic?: 'auto' | 'force-static' | 'force-dynamic' | 'error';
  /** Whether params not returned by `generateStaticParams` render on demand (default `true`). */
  dynamicParams?: boolean;
  generateStaticParams?: (options: { params: Params }) => Params[] | Promise<Params[]>;
}

/** A compiled `page.tsx`. */
export interface PageModule extends SegmentConfig, MetadataModule {
  // biome-ignore lint/suspicious/noExplicitAny: a page's props are the site's own type; isr passes `params` and `searchParams`.
  default: ComponentType<any>;
}

/** A compiled `layout.tsx`. */
export interface LayoutModule extends SegmentConfig, MetadataModule {
  // biome-ignore lint/suspicious/noExplicitAny: a layout's props are the site's own type; isr passes `params` and `children`.
  default: ComponentType<any>;
}

/** A compiled `route.ts`. */
export interface RouteModule extends SegmentConfig {
  [method: string]: unknown;
}

/** The config that applies to one route, after merging its layouts and page. */
export interface ResolvedSegmentConfig {
  revalidate: Seconds | false;
  dynamic: 'auto' | 'force-static' | 'force-dynamic' | 'error';
  dynamicParams: boolean;
}

const DYNAMIC_VALUES = ['auto', 'force-static', 'force-dynamic', 'error'] as const;

/**
 * Merges the segment config of a route's modules, outermost layout first, page or route last.
 * `revalidate` is the lowest given anywhere (Next.js: "the lowest time will be used"); `dynamic`
 * and `dynamicParams` come from the innermost module that sets them.
 * @param files the module files, same order, for error messages.
 * @throws SiteError naming the file for a config value of the wrong type.
 */
export function resolveSegmentConfig(modules: readonly SegmentConfig[], files: readonly string[]): ResolvedSegmentConfig {
  let revalidate: Seconds | false = false;
  let dynamic: ResolvedSegmentConfig['dynamic'] = 'auto';
  let dynamicParams = true;
  modules.forEach((module, index) => {
    const file = files[index] ?? 'module';
    if (module.revalidate !== undefined) {
      const value = module.revalidate as unknown;
      if (value !== false && !(typeof value === 'number' && value >= 0 && Number.isFinite(value))) {
        throw new SiteError(
          `${file}: export const revalidate must be a non-negative number of seconds or false, got ${JSON.stringify(value)}`,
        );
      }
      const seconds = value as number | false;
      if (seconds !== false && (revalidate === false || seconds < revalidate)) revalidate = seconds;
    }
    if (module.dynamic !== undefined) {
      if (!DYNAMIC_VALUES.includes(module.dynamic)) {
        throw new SiteError(
          `${file}: export const dynamic must be one of ${DYNAMIC_VALUES.join(', ')}, got ${JSON.stringify(module.dynamic)}`,
        );
      }
      dynamic = module.dynamic;
    }
    if (module.dynamicParams !== undefined) {
      if (typeof module.dynamicParams !== 'boolean') {
        throw new SiteError(`${file}: export const dynamicParams must be true or false, got ${JSON.stringify(module.dynamicParams)}`);
      }
      dynamicParams = module.dynamicParams;
    }
  });
  return { revalidate, dynamic, dynamicParams };
}

/** Whether a route with this config is rendered per request and never stored. */
export function configForcesDynamic(config: ResolvedSegmentConfig): boolean {
  return config.dynamic === 'force-dynamic' || config.revalidate === 0;
}

/**
 * The route segment config Cache Components replaces (`revalidate`, `dynamic`, `dynamicParams`,
 * `fetchCache`, `runtime`, `experimental_ppr`: the "Migrating to Cache Components" guide,
 * https://nextjs.org/docs/app/guides/migrating-to-cache-components).
 */
const REPLACED_BY_CACHE_COMPONENTS = ['revalidate', 'dynamic', 'dynamicParams', 'fetchCache', 'runtime', 'experimental_ppr'] as const;

/**
 * With `cacheComponents: true`, refuses a route whose modules export segment config it replaces,
 * with Next.js's message (`Route segment config "<name>" is not compatible with
 * \`nextConfig.cacheComponents\``).
 * @param modules a route's layouts and page or route module; `files` their files, same order.
 * @throws Error naming the file and the export.
 */
export function refuseReplacedSegmentConfig(modules: readonly object[], files: readonly string[]): void {
  modules.forEach((module, index) => {
    const name = REPLACED_BY_CACHE_COMPONENTS.find(
      (key) => Object.hasOwn(module, key) && (module as Record<string, unknown>)[key] !== undefined,
    );
    if (name === undefined) return;
    throw new SiteError(
      `${files[index] ?? 'module'}: Route segment config "${name}" is not compatible with \`nextConfig.cacheComponents\`. Please remove it ` +
        '(with Cache Components, `use cache` with `cacheLife` sets lifetimes, and params not returned by generateStaticParams render on request: ' +
        'https://nextjs.org/docs/app/guides/migrating-to-cache-components).',
    );
  });
}

/**
 * Next.js's message when, with `cacheComponents: true`, `generateStaticParams` returns no params
 * (`next/dist/shared/lib/errors/empty-generate-static-params-error.js`).
 */
export const EMPTY_STATIC_PARAMS_WITH_CACHE_COMPONENTS =
  'When using Cache Components, all `generateStaticParams` functions must return at least one result. This is to ensure that we can perform build-time validation that there is no other dynamic accesses that would cause a runtime error.\n\nLearn more: https://nextjs.org/docs/messages/empty-generate-static-params';
