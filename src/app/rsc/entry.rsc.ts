/// <reference types="@vitejs/plugin-rsc/types" />
/**
 * The App Router's server runtime, bundled by `isr build` into `.isr/build/rsc/index.js` with the
 * site's `app/` modules, under the `react-server` condition (React Server Components). The server
 * process loads it once (site/site.ts) and calls these exports; nothing else of a site's App Router
 * code runs outside it.
 *
 * A page renders to its RSC payload here ({@link renderDocument}), then to HTML in the SSR bundle
 * (entry.ssr.ts), which embeds the payload for hydration when the page has client components.
 * @see https://react.dev/reference/rsc/server-components
 */

import appModules from 'virtual:isr/app-modules';
import { renderToReadableStream } from '@vitejs/plugin-rsc/rsc';
import type { ComponentType, ReactNode } from 'react';
import type { Generated } from '../../engine/engine.ts';
import { type PageRenderInput, type RenderedDocument, renderAppNotFound, renderAppPage } from '../render.ts';
import type { LayoutModule } from '../segment-config.ts';

/**
 * The module of the site's `app/` file `key` (its path relative to the site), as bundled.
 * @throws Error when the build has no such module.
 */
export function loadAppModule(key: string): Promise<unknown> {
  const load = appModules[key];
  if (load === undefined) throw new Error(`the build has no App Router module ${key}: run \`isr build\` again`);
  return load();
}

/**
 * Renders a React Server Component tree to its RSC payload (React's Flight format), then to a
 * complete HTML document that embeds the payload and the client bootstrap when the tree holds
 * client components (`'use client'`).
 * @throws the first error a component threw (`notFound()` and `redirect()` included).
 */
async function renderDocument(tree: ReactNode): Promise<RenderedDocument> {
  const errors: unknown[] = [];
  const stream = renderToReadableStream<ReactNode>(tree, {
    onError(error: unknown) {
      errors.push(error);
    },
  });
  const flight = new Uint8Array(await new Response(stream).arrayBuffer());
  if (errors.length > 0) throw errors[0];
  const ssr = await import.meta.viteRsc.loadModule<typeof import('./entry.ssr.ts')>('ssr', 'index');
  return { html: await ssr.renderHtml(flight), payload: flight };
}

/** `renderAppPage` (app/render.ts) through React Server Components. */
export function renderPage(input: PageRenderInput): Promise<Generated> {
  return renderAppPage(input, renderDocument);
}

/** `renderAppNotFound` (app/render.ts) through React Server Components. */
export function renderNotFound(rootLayout: LayoutModule | undefined, notFound: ComponentType | undefined): Promise<Generated> {
  return renderAppNotFound(rootLayout, notFound, renderDocument);
}
