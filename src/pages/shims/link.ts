/**
 * `next/link` for Pages Router sites, as the build maps it (build/shims.ts): an `<a>` that, once
 * the page has hydrated, navigates client-side (pages/client.ts) on a plain left click and
 * prefetches the page (its module and props) when the link enters the viewport (`prefetch`, on by
 * default, as in Next.js's production builds). Modified clicks, other targets, downloads and other
 * origins are the browser's own. On the server it renders the same `<a>`.
 * @see https://nextjs.org/docs/pages/api-reference/components/link
 */

import { cloneElement, createElement, isValidElement, type MouseEvent, type ReactNode, type Ref, useRef } from 'react';
import { formatHref, isPlainClick, type LinkProps, unprefixedHref, useViewportPrefetch } from '../../render/link.ts';
import { activeRouter } from '../router.ts';

export type { LinkHref, LinkProps } from '../../render/link.ts';

/** Prefetches `url` through the browser's router (none before the page hydrated, or on the server). */
function prefetchWithRouter(url: string): void {
  void activeRouter()?.prefetch(url);
}

/**
 * `next/link`. `as`, when given, is the URL shown and followed, as in Next.js. With
 * `legacyBehavior`, the child element (an `<a>`) gets the `href` and the click handler instead of
 * being wrapped.
 */
export default function Link(props: LinkProps): ReactNode {
  const {
    href,
    as,
    replace,
    scroll,
    shallow,
    prefetch: prefetchMode,
    passHref: _passHref,
    legacyBehavior,
    locale: _locale,
    onClick,
    children,
    ...anchor
  } = props;
  const url = formatHref(as ?? href);
  // What the router takes: the path of the site, without next.config's basePath (it adds it).
  const sitePath = unprefixedHref(as ?? href);
  const element = useRef<HTMLAnchorElement>(null);

  useViewportPrefetch(element, sitePath, prefetchMode, prefetchWithRouter);

  const click = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    const router = activeRouter();
    if (router === undefined || !isPlainClick(event)) return;
    const target = event.currentTarget.getAttribute('target');
    if ((target !== null && target !== '_self') || event.currentTarget.hasAttribute('download')) return;
    const next = new URL(url, location.href);
    if (next.origin !== location.origin) return;
    event.preventDefault();
    const options = { scroll: scroll !== false, shallow: shallow === true };
    void (replace === true ? router.replace(sitePath, undefined, options) : router.push(sitePath, undefined, options));
  };

  if (
    legacyBehavior &&
    isValidElement<{ href?: string; onClick?: (event: MouseEvent<HTMLAnchorElement>) => void; ref?: Ref<HTMLAnchorElement> }>(children)
  ) {
    const own = children.props.onClick;
    return cloneElement(children, {
      href: url,
      ref: element,
      onClick: (event: MouseEvent<HTMLAnchorElement>) => {
        own?.(event);
        click(event);
      },
    });
  }
  return createElement('a', { ...anchor, href: url, ref: element, onClick: click }, children);
}
