'use client';
/**
 * `next/link` for App Router sites, as the build maps it (build/shims.ts): an `<a>` that
 * navigates client-side (rsc/router.ts) on a plain left click, and fetches the page's payload
 * ahead when it enters the viewport (`prefetch`, on by default). Modified clicks, other targets,
 * downloads and other origins are the browser's own.
 * @see https://nextjs.org/docs/app/api-reference/components/link
 */

import { createElement, type MouseEvent, type ReactNode, useRef } from 'react';
import { formatHref, isPlainClick, type LinkProps, useViewportPrefetch } from '../../render/link.ts';
import { navigate, prefetch } from '../rsc/router.ts';

export default function Link(props: LinkProps): ReactNode {
  const {
    href,
    as,
    replace,
    scroll,
    shallow: _shallow,
    prefetch: prefetchMode,
    passHref: _passHref,
    legacyBehavior: _legacyBehavior,
    locale: _locale,
    onClick,
    children,
    ...anchor
  } = props;
  const url = formatHref(as ?? href);
  const element = useRef<HTMLAnchorElement>(null);

  useViewportPrefetch(element, url, prefetchMode, prefetch);

  const click = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (!isPlainClick(event)) return;
    if ((anchor.target !== undefined && anchor.target !== '_self') || anchor.download !== undefined) return;
    const next = new URL(url, location.href);
    if (next.origin !== location.origin) return;
    // A jump within this page is the browser's.
    if (next.pathname === location.pathname && next.search === location.search && next.hash !== '') return;
    event.preventDefault();
    void navigate(next.href, { replace: replace === true, scroll: scroll !== false });
  };

  return createElement('a', { ...anchor, href: url, ref: element, onClick: click }, children);
}
