'use client';
/**
 * `next/script` for both routers, as the build maps it (build/shims.ts): third-party and inline
 * scripts with Next.js's loading strategies (https://nextjs.org/docs/app/api-reference/components/script):
 *
 * - `beforeInteractive`: in the server's HTML where it is rendered, a classic (blocking) script, so
 *   it runs while the document is parsed, before the page's modules hydrate it.
 * - `afterInteractive` (the default): injected by the browser once the page has hydrated, preloaded
 *   by the HTML.
 * - `lazyOnload`: injected when the browser is idle after the page's `load` event.
 * - `worker` (Partytown in Next.js) is not supported: it throws, naming the script.
 *
 * Each script element carries its strategy in `data-nscript`, as Next.js marks it. A script is
 * loaded once per page lifetime, however many times it is rendered (keyed by `id`, else `src`); `onLoad` runs when it loads, `onReady` after that and on each later mount, `onError`
 * when it fails.
 */

import { createElement, type ReactNode, type ScriptHTMLAttributes, useEffect, useRef } from 'react';
import { preload } from 'react-dom';

export interface ScriptProps extends Omit<ScriptHTMLAttributes<HTMLScriptElement>, 'onLoad' | 'onError'> {
  strategy?: 'beforeInteractive' | 'afterInteractive' | 'lazyOnload' | 'worker';
  id?: string;
  onLoad?: (event: Event) => void;
  onReady?: () => void;
  onError?: (event: Event | string) => void;
  children?: ReactNode;
}

/** Scripts injected on this page (by key) and whether each has loaded. */
const injected = new Map<string, Promise<Event>>();

function inject(key: string, props: ScriptProps): Promise<Event> {
  let loaded = injected.get(key);
  if (loaded !== undefined) return loaded;
  loaded = new Promise<Event>((resolve, reject) => {
    const {
      src,
      children,
      dangerouslySetInnerHTML,
      strategy: _strategy,
      onLoad: _load,
      onReady: _ready,
      onError: _error,
      ...attributes
    } = props;
    const element = document.createElement('script');
    for (const [name, value] of Object.entries(attributes)) {
      if (value === undefined || value === null || value === false || typeof value === 'function') continue;
      element.setAttribute(name === 'className' ? 'class' : name === 'htmlFor' ? 'for' : name, value === true ? '' : String(value));
    }
    element.setAttribute('data-nscript', props.strategy ?? 'afterInteractive');
    const inline =
      dangerouslySetInnerHTML?.__html ??
      (typeof children === 'string' ? children : Array.isArray(children) ? children.join('') : undefined);
    if (src !== undefined) {
      element.addEventListener('load', resolve);
      element.addEventListener('error', reject);
      element.src = src;
    } else if (inline !== undefined) {
      element.text = String(inline);
    }
    document.body.appendChild(element);
    if (src === undefined) resolve(new Event('load'));
  });
  // A failed script may be retried by a later mount.
  loaded.catch(() => injected.delete(key));
  injected.set(key, loaded);
  return loaded;
}

/**
 * `next/script`.
 * @throws Error naming the script for `strategy="worker"`, and for a script with neither `src` nor content.
 */
export default function Script(props: ScriptProps): ReactNode {
  const { strategy = 'afterInteractive', src, id, children, dangerouslySetInnerHTML } = props;
  const key = id ?? src ?? '';
  if (strategy === 'worker') throw new Error(`next/script ${key}: strategy="worker" (Partytown) is not supported by isr; use lazyOnload`);
  if (src === undefined && children === undefined && dangerouslySetInnerHTML === undefined) {
    throw new Error(`next/script${id ? ` ${id}` : ''}: a script needs a src or inline content`);
  }
  if (key === '' && src === undefined) throw new Error('next/script: an inline script needs an id, so it runs once');
  // The latest props, read by the effect: the script is identified by its key, and other prop
  // changes do not load it again (as in Next.js).
  const latest = useRef(props);
  latest.current = props;

  useEffect(() => {
    if (strategy === 'beforeInteractive') {
      latest.current.onReady?.();
      return;
    }
    let cancelled = false;
    const start = () => {
      const first = !injected.has(key);
      inject(key, latest.current).then(
        (event) => {
          if (cancelled) return;
          if (first) latest.current.onLoad?.(event);
          latest.current.onReady?.();
        },
        (error: Event | string) => {
          if (!cancelled) latest.current.onError?.(error);
        },
      );
    };
    if (strategy === 'lazyOnload') {
      const idle = () => (typeof requestIdleCallback === 'function' ? requestIdleCallback(start) : setTimeout(start, 1));
      if (document.readyState === 'complete') idle();
      else addEventListener('load', idle, { once: true });
    } else {
      start();
    }
    return () => {
      cancelled = true;
    };
  }, [key, strategy]);

  if (strategy === 'beforeInteractive') {
    const { strategy: _strategy, onLoad: _load, onReady: _ready, onError: _error, ...attributes } = props;
    return createElement('script', { ...attributes, 'data-nscript': strategy });
  }
  if (strategy === 'afterInteractive' && src !== undefined) preload(src, { as: 'script' });
  return null;
}
