/**
 * The App Router's client-side navigation, in the browser: a link click or `router.push` fetches
 * the next page's RSC payload from its data route (`/_isr/data/<buildId>/<path>.rsc`, served from
 * the ISR cache with the same rules as the page's HTML) and renders it in place of the current
 * tree, so layouts and client state that stay keep their DOM; the history entry follows.
 * A redirect of the page is followed from payload to payload, the history entry taking the target's
 * URL; anything the payload cannot do (another origin, another build, a redirect elsewhere, a
 * network error) is a full page load instead. Payloads fetched ahead by viewport prefetch are used for
 * {@link PREFETCH_TTL_MS}.
 *
 * During server rendering (SSR) nothing here runs: client components import it, and only their
 * event handlers and effects call it.
 * @see https://nextjs.org/docs/app/getting-started/linking-and-navigating
 */

import buildId from 'virtual:isr/build-id';
import { type ReactNode, startTransition } from 'react';
import { addBasePath, inlinedBasePath, removeBasePath, trailingSlashOf } from '../../http/paths.ts';

/** How long a prefetched payload may stand in for a fresh fetch, in milliseconds (Next.js keeps static prefetches 5 minutes; isr re-asks its cache sooner). */
const PREFETCH_TTL_MS = 30_000;

/** The media type of an RSC payload. */
export const RSC_TYPE = 'text/x-component';

/** The header of a Server Action's answer when the action called `redirect()`: where to go. */
export const ACTION_REDIRECT_HEADER = 'x-isr-redirect';

type Render = (root: ReactNode) => void;
/** React's RSC client (`createFromReadableStream`), handed over by entry.browser.ts: imported here it would also load in the server's HTML render, where it must not. */
type Decode = (stream: ReadableStream<Uint8Array>) => Promise<ReactNode>;

let render: Render | undefined;
let decode: Decode | undefined;
const listeners = new Set<() => void>();
const prefetched = new Map<string, { at: number; root: Promise<Loaded | undefined> }>();

/** The data route of `url`'s page: `/_isr/data/<buildId>/<path>.rsc<query>` (`/` is `/index`). */
function payloadUrl(url: URL): string {
  // Under next.config's basePath, the page's path is the URL's without it, and the route is under it.
  const basePath = inlinedBasePath();
  const pathname = removeBasePath(url.pathname, basePath) ?? url.pathname;
  const path = pathname === '/' ? '/index' : pathname.replace(/\/$/, '');
  return `${basePath}/_isr/data/${buildId}${path}.rsc${url.search}`;
}

/** A page loaded for a navigation: its React tree and its URL (another than asked for after a redirect). */
interface Loaded {
  root: ReactNode;
  url: URL;
}

/** The page URL of a payload route URL (the inverse of {@link payloadUrl}), or undefined for another URL. */
function pageUrlOf(payload: URL): URL | undefined {
  const prefix = `${inlinedBasePath()}/_isr/data/${buildId}/`;
  if (payload.origin !== location.origin || !payload.pathname.startsWith(prefix) || !payload.pathname.endsWith('.rsc')) return undefined;
  const path = payload.pathname.slice(prefix.length - 1, -'.rsc'.length);
  // Spelled as next.config's trailingSlash wants (build.ts inlines the flag), as the server redirects to.
  const trailingSlash: unknown = process.env.__NEXT_TRAILING_SLASH;
  const page = trailingSlashOf(`${path === '/index' ? '/' : path}${payload.search}`, trailingSlash === true);
  return new URL(addBasePath(page, inlinedBasePath()), location.origin);
}

/**
 * The page at `url`, or undefined when it must be loaded whole. A redirect (next.config's, the
 * middleware's, a route handler's or `redirect()`) is followed by `fetch` from payload route to
 * payload route (server/handler.ts), so the page is the target's, at the target's URL.
 */
async function load(url: URL): Promise<Loaded | undefined> {
  // The server's cache decides freshness: the browser's own (which honours stale-while-revalidate
  // on fetches) asks it every time, conditionally.
  const response = await fetch(payloadUrl(url), { credentials: 'same-origin', cache: 'no-cache' });
  const landed = response.redirected ? pageUrlOf(new URL(response.url)) : url;
  if (
    decode === undefined ||
    landed === undefined ||
    response.body === null ||
    !(response.headers.get('content-type') ?? '').startsWith(RSC_TYPE)
  ) {
    // Not read, so released: a body left unread holds its request open in the browser.
    await response.body?.cancel();
    return undefined;
  }
  // A redirect's target keeps the fragment asked for, as a browser's own redirect does.
  if (landed !== url) landed.hash = url.hash;
  return { root: await decode(response.body), url: landed };
}

/**
 * Registers what renders a new tree and what decodes a payload (entry.browser.ts, once hydrated),
 * and handles the back and forward buttons.
 */
export function attachRouter(renderRoot: Render, decodePayload: Decode): void {
  render = renderRoot;
  decode = decodePayload;
  addEventListener('popstate', () => {
    void go(new URL(location.href), 'none', false);
  });
}

/** Subscribes to location changes (for `usePathname`, `useSearchParams`); returns the unsubscribe. */
export function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

async function go(url: URL, history_: 'push' | 'replace' | 'none', scroll: boolean, fresh = false): Promise<void> {
  if (render === undefined || url.origin !== location.origin) {
    location.assign(url.href);
    return;
  }
  const key = payloadUrl(url);
  const ahead = fresh ? undefined : prefetched.get(key);
  prefetched.delete(key);
  let loaded: Loaded | undefined;
  try {
    loaded = await (ahead !== undefined && performance.now() - ahead.at < PREFETCH_TTL_MS ? ahead.root : load(url));
  } catch {
    loaded = undefined;
  }
  if (loaded === undefined) {
    if (history_ === 'none') location.reload();
    else location.assign(url.href);
    return;
  }
  // After a redirect the entry is the target's, as when the browser follows one ('none' too: a
  // back button onto a path that now redirects shows where it leads).
  if (history_ === 'push') history.pushState(null, '', loaded.url.href);
  else if (history_ === 'replace' || loaded.url.href !== url.href) history.replaceState(null, '', loaded.url.href);
  renderRoot(loaded.root);
  for (const listener of listeners) listener();
  if (scroll) scrollTo(0, 0);
}

/**
 * Navigates to `href` client-side (a full page load when it cannot).
 * @param options `replace` the current history entry instead of adding one; `scroll` to the top (default true).
 */
export function navigate(href: string, options: { replace?: boolean; scroll?: boolean } = {}): Promise<void> {
  return go(new URL(href, location.href), options.replace ? 'replace' : 'push', options.scroll !== false);
}

/** Fetches `href`'s payload ahead of a navigation (same origin only; once per {@link PREFETCH_TTL_MS}). */
export function prefetch(href: string): void {
  const url = new URL(href, location.href);
  if (url.origin !== location.origin || render === undefined) return;
  const key = payloadUrl(url);
  const known = prefetched.get(key);
  if (known !== undefined && performance.now() - known.at < PREFETCH_TTL_MS) return;
  const root = load(url).catch(() => undefined);
  prefetched.set(key, { at: performance.now(), root });
}

/** Renders the current page again from a fresh payload (`router.refresh()`), keeping client state. */
export function refresh(): Promise<void> {
  prefetched.clear();
  return go(new URL(location.href), 'none', false, true);
}

/** Drops every payload fetched ahead (after a Server Action, which may have revalidated them). */
export function forgetPrefetched(): void {
  prefetched.clear();
}

/** Renders `root` in place of the current tree (a Server Action's page), as a transition. */
export function renderRoot(root: ReactNode): void {
  const renderer = render;
  if (renderer !== undefined) startTransition(() => renderer(root));
}
