/**
 * The Pages Router in the browser: hydrates the page the server rendered with the props the
 * document carries (`__NEXT_DATA__`), then navigates client-side — a `next/link` click or
 * `router.push` loads the next page's module and its props from the data route
 * (`/_isr/data/<buildId>/<path>.json`, served from the ISR cache with the page's own rules) and
 * renders it in place, as Next.js's Pages Router does
 * (https://nextjs.org/docs/pages/building-your-application/routing/linking-and-navigating). On a
 * `fallback: true` page it fetches the props and renders the generated page
 * (https://nextjs.org/docs/pages/api-reference/functions/get-static-paths#fallback-true).
 *
 * Whatever the client cannot do — another origin, a path no page of this build matches, a data
 * route answering 404 (a page not found, or a newer build), a network error — is a full page load
 * instead, so the server decides.
 *
 * The build (build/compile-pages-client.ts) bundles this module with a generated entry that calls
 * {@link startPagesClient} with the build's routes.
 */

import type { ComponentType } from 'react';
import { flushSync } from 'react-dom';
import { hydrateRoot, type Root } from 'react-dom/client';
import { addBasePath, inlinedBasePath, removeBasePath } from '../http/paths.ts';
import type { LinkHref } from '../render/link.ts';
import { matchSegments, type Params, type Segment } from '../render/routes.ts';
import { dataRoutePrefix } from './data-route.ts';
import { type NextRouter, routerEvents, setActiveRouter, type TransitionOptions, targetOf } from './router.ts';
import type { PagesAppModule } from './static-props.ts';
import { DOCUMENT_DATA_ID, type PagesDocumentData, pageTree, ROOT_ID } from './tree.ts';

type PageComponent = ComponentType<Record<string, unknown>>;

/** A page route of the build, in match order, with a loader of its browser module. */
export interface PagesClientRoute {
  pattern: string;
  segments: Segment[];
  /** The page has `getStaticProps`: its props come from the data route. */
  dataRoute: boolean;
  load: () => Promise<{ default?: unknown }>;
}

export interface PagesClientConfig {
  buildId: string;
  /** `pages/_app`'s browser module, when the site has one. */
  app?: () => Promise<PagesAppModule>;
  routes: PagesClientRoute[];
  /** `pages/404`'s browser module, when the site has one (its page is `/404`). */
  notFound?: () => Promise<{ default?: unknown }>;
}

/** How long a prefetched page (module and props) may stand in for a fresh fetch, in milliseconds. */
const PREFETCH_TTL_MS = 30_000;

/** Thrown inside a navigation when only a full page load can show the URL. */
class LoadWholePage extends Error {}

interface Loaded {
  route: PagesClientRoute;
  params: Params;
  Component: PageComponent;
  pageProps: Record<string, unknown>;
  /** Where `getStaticProps` redirected (`{ redirect }`), if it did. */
  redirect?: string;
  /** The redirect said `basePath: false`: its destination is outside the site's basePath. */
  outside?: boolean;
}

function componentOf(module: { default?: unknown }, pattern: string): PageComponent {
  if (typeof module.default !== 'function')
    throw new TypeError(`${pattern}: the page's module has no React component as its default export`);
  return module.default as PageComponent;
}

/** The URL's query as Next.js's `router.query` has it, with the route's params over it. */
function queryOf(url: URL, params: Params): Params {
  const query: Params = {};
  for (const name of new Set(url.searchParams.keys())) {
    const values = url.searchParams.getAll(name);
    query[name] = values.length === 1 ? values[0] : values;
  }
  return { ...query, ...params };
}

function relativeUrl(url: URL): string {
  return `${url.pathname}${url.search}${url.hash}`;
}

/** next.config's `basePath`, as the build inlined it (`''` for none). */
const basePath = inlinedBasePath();

/** The path of the site of a URL: without `basePath`, as `router.asPath` has it (undefined outside it). */
function sitePathname(url: URL): string | undefined {
  return removeBasePath(url.pathname, basePath);
}

/** `url` as `router.asPath` has it: without `basePath`. */
function siteUrl(url: URL): string {
  return `${sitePathname(url) ?? url.pathname}${url.search}${url.hash}`;
}

/**
 * Hydrates the current page and starts client-side navigation.
 * @throws Error when the document has no `__NEXT_DATA__` or names a page this build does not have.
 */
export async function startPagesClient(config: PagesClientConfig): Promise<void> {
  const dataElement = document.getElementById(DOCUMENT_DATA_ID);
  const container = document.getElementById(ROOT_ID);
  if (dataElement === null || container === null) throw new Error(`isr: this page has no #${DOCUMENT_DATA_ID} or #${ROOT_ID}`);
  const data = JSON.parse(dataElement.textContent ?? '') as PagesDocumentData;
  const events = routerEvents();
  const prefix = `${basePath}${dataRoutePrefix(config.buildId)}`;
  const prefetched = new Map<string, { at: number; page: Promise<Loaded> }>();
  let App: PagesAppModule['default'];
  let root: Root | undefined;
  let beforePopState: Parameters<NextRouter['beforePopState']>[0] = () => true;
  /** Each navigation's number: a slower earlier one never renders over a later one. */
  let latest = 0;

  function matchRoute(fullPathname: string): { route: PagesClientRoute; params: Params } | undefined {
    const pathname = removeBasePath(fullPathname, basePath);
    if (pathname === undefined) return undefined;
    let parts: string[];
    try {
      parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
    } catch {
      return undefined;
    }
    for (const route of config.routes) {
      const params = matchSegments(route, parts);
      if (params !== undefined) return { route, params };
    }
    return undefined;
  }

  /** The page's props from its data route (`{ pageProps }`), or LoadWholePage when only the server can answer. */
  async function fetchProps(url: URL): Promise<Record<string, unknown>> {
    const pathname = sitePathname(url) ?? url.pathname;
    const path = pathname === '/' ? '/index' : pathname.replace(/\/$/, '');
    const response = await fetch(`${prefix}${path}.json`, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
    // 404: no such page (or a newer build, whose data routes have another prefix).
    if (response.status === 404) throw new LoadWholePage();
    if (!response.ok) throw new Error(`the data route answered ${response.status}`);
    const body = (await response.json()) as { pageProps?: Record<string, unknown> };
    return body.pageProps ?? {};
  }

  async function loadPage(url: URL, withProps: boolean): Promise<Loaded> {
    const match = matchRoute(url.pathname);
    if (match === undefined) throw new LoadWholePage();
    const [module, pageProps] = await Promise.all([
      match.route.load(),
      match.route.dataRoute && withProps ? fetchProps(url) : Promise.resolve<Record<string, unknown>>({}),
    ]);
    const redirect = typeof pageProps.__N_REDIRECT === 'string' ? pageProps.__N_REDIRECT : undefined;
    // `basePath: false`: a destination outside the site's basePath, loaded whole as written.
    const outside = pageProps.__N_REDIRECT_BASE_PATH === false;
    return { ...match, Component: componentOf(module, match.route.pattern), pageProps, redirect, outside };
  }

  function prefetchedPage(url: URL): Promise<Loaded> | undefined {
    const key = relativeUrl(new URL(url.pathname + url.search, url));
    const entry = prefetched.get(key);
    if (entry === undefined) return undefined;
    prefetched.delete(key);
    return Date.now() - entry.at < PREFETCH_TTL_MS ? entry.page : undefined;
  }

  function render(Component: PageComponent, pageProps: Record<string, unknown>, router: NextRouter): void {
    setActiveRouter(router);
    const tree = pageTree(App, Component, pageProps, router);
    if (root === undefined) {
      root = hydrateRoot(container!, tree);
      return;
    }
    // Committed at once, so the scroll that follows sees the new page.
    flushSync(() => root!.render(tree));
  }

  function scrollAfter(url: URL, options: TransitionOptions): void {
    if (options.scroll === false) return;
    const id = decodeURIComponent(url.hash.slice(1));
    const target = id === '' ? null : (document.getElementById(id) ?? document.getElementsByName(id)[0] ?? null);
    if (target !== null) target.scrollIntoView();
    else window.scrollTo(0, 0);
  }

  function routerFor(pattern: string, url: URL, params: Params, isFallback: boolean): NextRouter {
    return {
      pathname: pattern,
      route: pattern,
      asPath: isFallback ? pattern : siteUrl(url),
      query: isFallback ? {} : queryOf(url, params),
      isFallback,
      isReady: !isFallback,
      isPreview: false,
      isLocaleDomain: false,
      basePath,
      push: (href, as, options) => navigate(href, as, options ?? {}, 'push'),
      replace: (href, as, options) => navigate(href, as, options ?? {}, 'replace'),
      reload: () => location.reload(),
      back: () => history.back(),
      forward: () => history.forward(),
      prefetch: (href, as) => prefetch(href, as),
      beforePopState: (callback) => {
        beforePopState = callback;
      },
      events,
    };
  }

  async function prefetch(href: LinkHref, as?: LinkHref): Promise<void> {
    const url = new URL(addBasePath(targetOf(href, as), basePath), location.href);
    if (url.origin !== location.origin || matchRoute(url.pathname) === undefined) return;
    const key = relativeUrl(new URL(url.pathname + url.search, url));
    const entry = prefetched.get(key);
    if (entry !== undefined && Date.now() - entry.at < PREFETCH_TTL_MS) return;
    const page = loadPage(url, true);
    prefetched.set(key, { at: Date.now(), page });
    // A failed prefetch is forgotten; the click then loads the page itself.
    await page.then(
      () => undefined,
      () => {
        prefetched.delete(key);
      },
    );
  }

  /**
   * Shows `href` (or `as`): `push` adds a history entry, `replace` replaces it, `pop` is the back or
   * forward button (the URL is already there).
   * @returns true when the page was rendered client-side, false when a full load took over.
   */
  async function navigate(
    href: LinkHref,
    as: LinkHref | undefined,
    options: TransitionOptions,
    mode: 'push' | 'replace' | 'pop',
  ): Promise<boolean> {
    // `href` is a path of the site: the URL is under next.config's basePath, as Next.js's router writes it.
    const url = new URL(addBasePath(targetOf(href, as), basePath), location.href);
    const shown = relativeUrl(url);
    if (url.origin !== location.origin) {
      location.assign(url.href);
      return false;
    }
    const current = new URL(location.href);
    if (mode !== 'pop' && url.pathname === current.pathname && url.search === current.search && url.hash !== current.hash) {
      // A jump within this page: no load.
      events.emit('hashChangeStart', shown, { shallow: false });
      history[mode === 'push' ? 'pushState' : 'replaceState']({ __isr: true, as: siteUrl(url), options }, '', url.href);
      scrollAfter(url, options);
      events.emit('hashChangeComplete', shown, { shallow: false });
      return true;
    }
    const number = ++latest;
    events.emit('routeChangeStart', shown, { shallow: options.shallow === true });
    try {
      const loaded = await (prefetchedPage(url) ?? loadPage(url, true));
      if (number !== latest) return false;
      // A redirect keeps the navigation's own history method (a push stays a push).
      if (loaded.redirect !== undefined && loaded.outside) {
        location.assign(loaded.redirect);
        return true;
      }
      if (loaded.redirect !== undefined) return navigate(loaded.redirect, undefined, options, mode === 'pop' ? 'replace' : mode);
      events.emit('beforeHistoryChange', shown, { shallow: options.shallow === true });
      if (mode !== 'pop') history[mode === 'push' ? 'pushState' : 'replaceState']({ __isr: true, as: siteUrl(url), options }, '', url.href);
      render(loaded.Component, loaded.pageProps, routerFor(loaded.route.pattern, url, loaded.params, false));
      if (mode !== 'pop') scrollAfter(url, options);
      events.emit('routeChangeComplete', shown, { shallow: options.shallow === true });
      return true;
    } catch (error) {
      if (number !== latest) return false;
      events.emit('routeChangeError', error, shown, { shallow: options.shallow === true });
      if (!(error instanceof LoadWholePage)) console.error(`isr: could not render ${shown} in place; loading it`, error);
      location.assign(url.href);
      return false;
    }
  }

  // The page the server sent.
  const here = new URL(location.href);
  const pageModule = data.page === '/404' ? config.notFound : config.routes.find((route) => route.pattern === data.page)?.load;
  if (pageModule === undefined) throw new Error(`isr: this build has no page ${data.page}`);
  const [appModule, module] = await Promise.all([config.app?.(), pageModule()]);
  App = appModule?.default;
  const Component = componentOf(module, data.page);
  const params = data.isFallback ? {} : (data.query as Params);
  render(Component, data.props.pageProps, routerFor(data.page, here, params, data.isFallback));
  history.replaceState({ __isr: true, as: siteUrl(here), options: {} }, '', here.href);

  addEventListener('popstate', (event) => {
    const state = event.state as { __isr?: boolean; as?: string; options?: TransitionOptions } | null;
    if (state?.__isr !== true) return;
    const as = state.as ?? siteUrl(new URL(location.href));
    if (!beforePopState({ url: as, as, options: state.options ?? {} })) return;
    void navigate(as, undefined, state.options ?? {}, 'pop');
  });

  if (data.isFallback) {
    // The generated page's props: the data route waits for the generation. A navigation started
    // meanwhile wins: the late props are not rendered over it.
    const number = ++latest;
    try {
      const loaded = await loadPage(here, true);
      if (number !== latest) return;
      if (loaded.redirect !== undefined) {
        location.replace(loaded.outside ? loaded.redirect : addBasePath(loaded.redirect, basePath));
        return;
      }
      render(loaded.Component, loaded.pageProps, routerFor(loaded.route.pattern, here, loaded.params, false));
    } catch (error) {
      if (number !== latest) return;
      // A path the route does not have (404) or a failure: the server's answer is the truth.
      if (!(error instanceof LoadWholePage)) console.error(`isr: could not load ${here.pathname}`, error);
      else location.reload();
    }
  }
}
