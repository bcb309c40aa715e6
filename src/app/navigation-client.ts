'use client';

/**
 * The hooks of `next/navigation` for client components: `useRouter`, `usePathname`,
 * `useSearchParams` and `useParams`, over the App Router's client navigation (rsc/router.ts). In
 * the server render of a client component, the path is the page's and the query empty (a cached
 * page is one render for every query).
 * @see https://nextjs.org/docs/app/api-reference/functions/use-router
 */

import pageRoutes from 'virtual:isr/page-routes';
import { useMemo, useSyncExternalStore } from 'react';
import { addBasePath, inlinedBasePath, removeBasePath } from '../http/paths.ts';
import { renderingPath } from '../render/registry.ts';
import { matchSegments, type Params } from '../render/routes.ts';
import { navigate, prefetch, refresh, subscribe } from './rsc/router.ts';

/** What `useRouter()` returns (Next.js's `AppRouterInstance`). */
export interface AppRouter {
  push(href: string, options?: { scroll?: boolean }): void;
  replace(href: string, options?: { scroll?: boolean }): void;
  refresh(): void;
  prefetch(href: string): void;
  back(): void;
  forward(): void;
}

/** A path of the site under next.config's `basePath`, as Next.js's router takes `push('/about')`. */
const under = (href: string) => addBasePath(href, inlinedBasePath());

const router: AppRouter = {
  push: (href, options) => void navigate(under(href), { scroll: options?.scroll !== false }),
  replace: (href, options) => void navigate(under(href), { replace: true, scroll: options?.scroll !== false }),
  refresh: () => void refresh(),
  prefetch: (href) => prefetch(under(href)),
  back: () => history.back(),
  forward: () => history.forward(),
};

/** The router of client navigation: `push`, `replace`, `refresh`, `prefetch`, `back`, `forward`. */
export function useRouter(): AppRouter {
  return router;
}

/** The current path (`/blog/1`), updated by client navigation; without next.config's `basePath`, as in Next.js. */
export function usePathname(): string {
  return useSyncExternalStore(
    subscribe,
    () => removeBasePath(location.pathname, inlinedBasePath()) ?? location.pathname,
    () => renderingPath() ?? '/',
  );
}

/**
 * The current route's dynamic params (`{ id: '1' }` on `/blog/[id]`, an array per catch-all),
 * updated by client navigation: the path matched against the build's page routes as the server
 * matches it.
 */
export function useParams<T extends Params = Params>(): T {
  const pathname = usePathname();
  return useMemo(() => {
    let parts: string[];
    try {
      parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
    } catch {
      return {} as T;
    }
    for (const route of pageRoutes) {
      const params = matchSegments(route, parts);
      if (params !== undefined) return params as T;
    }
    return {} as T;
  }, [pathname]);
}

/** The current query, read-only, updated by client navigation (empty in the server render). */
export function useSearchParams(): URLSearchParams {
  const search = useSyncExternalStore(
    subscribe,
    () => location.search,
    () => '',
  );
  return useMemo(() => new URLSearchParams(search), [search]);
}
