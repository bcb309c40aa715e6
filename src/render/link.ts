/**
 * What both routers' `next/link` share: the `href` it accepts and its props.
 * @see https://nextjs.org/docs/app/api-reference/components/link
 */

import { type AnchorHTMLAttributes, type ReactNode, type RefObject, useEffect } from 'react';
import { addBasePath, inlinedBasePath, trailingSlashOf } from '../http/paths.ts';

/** next.config's `trailingSlash`, as the build inlined it (build.ts `siteDefines`: `true`/`false`; unset outside a build's bundles). */
function trailingSlashConfigured(): boolean {
  const value: unknown = process.env.__NEXT_TRAILING_SLASH;
  return value === true || value === 'true';
}

/** An `href` as `next/link` accepts it: a string or a URL object (`{ pathname, query, hash }`). */
export type LinkHref = string | { pathname?: string; query?: Record<string, string | number | boolean | readonly string[]>; hash?: string };

/**
 * The URL string of an `href`, as `next/link` writes it: spelled as next.config's `trailingSlash`
 * wants, and a path of the site (`/about`) under its `basePath` (`/docs/about`), as Next.js's
 * `addBasePath` does.
 */
export function formatHref(href: LinkHref): string {
  return addBasePath(unprefixedHref(href), inlinedBasePath());
}

/**
 * An `href` as a string, spelled as `trailingSlash` wants, not under `basePath`: what the Pages
 * Router's `router.push` takes (it puts `basePath` in front itself, as Next.js's does).
 */
export function unprefixedHref(href: LinkHref): string {
  if (typeof href === 'string') return trailingSlashOf(href, trailingSlashConfigured());
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(href.query ?? {})) {
    for (const item of Array.isArray(value) ? value : [value]) search.append(name, String(item));
  }
  const query = search.toString();
  const hash = href.hash ? (href.hash.startsWith('#') ? href.hash : `#${href.hash}`) : '';
  return trailingSlashOf(`${href.pathname ?? ''}${query ? `?${query}` : ''}${hash}`, trailingSlashConfigured());
}

export interface LinkProps extends Omit<AnchorHTMLAttributes<HTMLAnchorElement>, 'href'> {
  href: LinkHref;
  /** The URL shown and followed instead of `href` (Pages Router). */
  as?: LinkHref;
  /** Replace the current history entry instead of adding one (App Router client navigation). */
  replace?: boolean;
  /** Scroll to the top after navigating (default `true`; App Router client navigation). */
  scroll?: boolean;
  shallow?: boolean;
  /** Fetch the page's payload when the link enters the viewport (default; `false` turns it off). */
  prefetch?: boolean | null;
  passHref?: boolean;
  legacyBehavior?: boolean;
  locale?: string | false;
  children?: ReactNode;
}

/** A click `next/link` handles itself: the main button, no modifier key, not prevented by the site's own handler. */
export function isPlainClick(event: {
  button: number;
  metaKey: boolean;
  ctrlKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
  defaultPrevented: boolean;
}): boolean {
  return !event.defaultPrevented && event.button === 0 && !event.metaKey && !event.ctrlKey && !event.shiftKey && !event.altKey;
}

/**
 * Calls `prefetch(url)` once, when the element in `ref` first enters the viewport (`next/link`'s
 * `prefetch`, on unless `mode` is false). Does nothing where there is no IntersectionObserver.
 */
export function useViewportPrefetch(
  ref: RefObject<Element | null>,
  url: string,
  mode: boolean | null | undefined,
  prefetch: (url: string) => void,
): void {
  useEffect(() => {
    const target = ref.current;
    if (mode === false || target === null || typeof IntersectionObserver === 'undefined') return;
    const observer = new IntersectionObserver((entries) => {
      if (!entries.some((entry) => entry.isIntersecting)) return;
      observer.disconnect();
      prefetch(url);
    });
    observer.observe(target);
    return () => observer.disconnect();
  }, [ref, url, mode, prefetch]);
}
