/**
 * `next/link` for Pages Router sites, as the build maps it (build/compile.ts): a plain anchor.
 * @see https://nextjs.org/docs/pages/api-reference/components/link
 */

import { type AnchorHTMLAttributes, cloneElement, createElement, isValidElement, type ReactNode } from 'react';

/** An `href` as `next/link` accepts it: a string or a URL object (`{ pathname, query, hash }`). */
export type LinkHref = string | { pathname?: string; query?: Record<string, string | number | boolean | readonly string[]>; hash?: string };

/** The URL string of an `href`. */
function formatHref(href: LinkHref): string {
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
  /** Next.js client-navigation options: accepted and ignored (isr pages navigate with plain links). */
  as?: LinkHref;
  replace?: boolean;
  scroll?: boolean;
  shallow?: boolean;
  prefetch?: boolean | null;
  passHref?: boolean;
  legacyBehavior?: boolean;
  locale?: string | false;
  children?: ReactNode;
}

/**
 * `next/link`: a plain `<a>` (isr has no client-side router, so every link is a full navigation to a
 * cached page). `as`, when given, is the URL shown and followed, as in Next.js. With
 * `legacyBehavior`, the child element (an `<a>`) gets the `href` instead of being wrapped.
 */
export default function Link(props: LinkProps): ReactNode {
  const {
    href,
    as,
    replace: _replace,
    scroll: _scroll,
    shallow: _shallow,
    prefetch: _prefetch,
    passHref: _passHref,
    legacyBehavior,
    locale: _locale,
    children,
    ...anchor
  } = props;
  const url = formatHref(as ?? href);
  if (legacyBehavior && isValidElement<{ href?: string }>(children)) return cloneElement(children, { href: url });
  return createElement('a', { ...anchor, href: url }, children);
}
