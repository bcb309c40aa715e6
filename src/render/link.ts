/**
 * What both routers' `next/link` share: the `href` it accepts and its props.
 * @see https://nextjs.org/docs/app/api-reference/components/link
 */

import type { AnchorHTMLAttributes, ReactNode } from 'react';

/** An `href` as `next/link` accepts it: a string or a URL object (`{ pathname, query, hash }`). */
export type LinkHref = string | { pathname?: string; query?: Record<string, string | number | boolean | readonly string[]>; hash?: string };

/** The URL string of an `href`. */
export function formatHref(href: LinkHref): string {
  if (typeof href === 'string') return href;
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(href.query ?? {})) {
    for (const item of Array.isArray(value) ? value : [value]) search.append(name, String(item));
  }
  const query = search.toString();
  const hash = href.hash ? (href.hash.startsWith('#') ? href.hash : `#${href.hash}`) : '';
  return `${href.pathname ?? ''}${query ? `?${query}` : ''}${hash}`;
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
