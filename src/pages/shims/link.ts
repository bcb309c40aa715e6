/**
 * `next/link` for Pages Router sites, as the build maps it (build/compile.ts): a plain anchor.
 * @see https://nextjs.org/docs/pages/api-reference/components/link
 */

import { cloneElement, createElement, isValidElement, type ReactNode } from 'react';
import { formatHref, type LinkProps } from '../../render/link.ts';

export type { LinkHref, LinkProps } from '../../render/link.ts';

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
