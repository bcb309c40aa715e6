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
import cacheConfig from 'virtual:isr/cache-config';
import {
  createTemporaryReferenceSet,
  decodeAction,
  decodeFormState,
  decodeReply,
  loadServerAction,
  renderToReadableStream,
} from '@vitejs/plugin-rsc/rsc/server';
import type { ComponentType, ReactNode } from 'react';
import type { ReactFormState } from 'react-dom/client';
import type { Generated } from '../../engine/engine.ts';
import { runAsServerAction } from '../../render/context.ts';
import { setCacheConfig } from '../cache-scope.ts';
import type { FileMetadata } from '../metadata-routes.ts';
import { redirectTarget } from '../navigation.ts';
import { type PageRenderInput, type RenderedDocument, renderAppNotFound, renderAppPage } from '../render.ts';
import type { LayoutModule } from '../segment-config.ts';
import type { RscPayload } from './payload.ts';

// next.config's cache profiles and Cache Components, for `cacheLife()`, `revalidateTag(tag, profile)` and `'use cache'`.
setCacheConfig(cacheConfig);

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
 * Renders `model` to an RSC payload (React's Flight format), whole.
 * @throws the first error a component threw (`notFound()` and `redirect()` included).
 */
async function renderFlight(model: RscPayload, temporaryReferences?: unknown): Promise<Uint8Array<ArrayBuffer>> {
  const errors: unknown[] = [];
  const stream = renderToReadableStream<RscPayload>(model, {
    temporaryReferences,
    onError(error: unknown) {
      errors.push(error);
    },
  });
  const flight = new Uint8Array(await new Response(stream).arrayBuffer());
  if (errors.length > 0) throw errors[0];
  return flight;
}

/**
 * Renders a page's tree to its RSC payload, then to a complete HTML document that embeds the
 * payload and the client bootstrap when the tree holds client components (`'use client'`).
 * @param formState the state of a form posted without JavaScript, rendered into the page (per request).
 * @throws the first error a component threw (`notFound()` and `redirect()` included).
 */
async function renderDocument(tree: ReactNode, formState?: ReactFormState): Promise<RenderedDocument> {
  const flight = await renderFlight(formState === undefined ? { root: tree } : { root: tree, formState });
  const ssr = await import.meta.viteRsc.loadModule<typeof import('./entry.ssr.ts')>('ssr', 'index');
  return { html: await ssr.renderHtml(flight, formState), payload: flight };
}

/**
 * `renderAppPage` (app/render.ts) through React Server Components.
 * @param options.formState the state of a form posted without JavaScript (`useActionState`): the
 *   render is then for that request only.
 */
export function renderPage(input: PageRenderInput, options: { formState?: ReactFormState } = {}): Promise<Generated> {
  return renderAppPage(input, (tree) => renderDocument(tree, options.formState));
}

/** `renderAppNotFound` (app/render.ts) through React Server Components. */
export function renderNotFound(
  rootLayout: LayoutModule | undefined,
  notFound: ComponentType | undefined,
  fileMetadata?: FileMetadata,
): Promise<Generated> {
  return renderAppNotFound(rootLayout, notFound, (tree) => renderDocument(tree), fileMetadata);
}

/** A Server Action ID the build does not know, or a form that names none. */
export class UnknownActionError extends Error {
  override readonly name = 'UnknownActionError';
}

/** What `find` finds, or (it threw, at once or later) an {@link UnknownActionError} saying `missing`. */
async function known<T>(find: () => T | Promise<T>, missing: string): Promise<T> {
  try {
    return await find();
  } catch (error) {
    throw new UnknownActionError(missing, { cause: error });
  }
}

/** What a Server Action request came to (see {@link runAction}). */
export type ActionOutcome =
  /** The action called `redirect()`. */
  | { kind: 'redirect'; location: string }
  /** A call from JavaScript: `{ returnValue, root }` as an RSC payload, the page rendered after the action. */
  | { kind: 'payload'; payload: Uint8Array<ArrayBuffer> }
  /** A form posted without JavaScript: the form state to render the page with (undefined: the page as cached). */
  | { kind: 'form'; formState: ReactFormState | undefined };

/**
 * Runs the Server Action a POST to `page`'s URL asks for. From JavaScript (`setServerCallback`,
 * the `x-rsc-action` header naming the action): its arguments are decoded from the body (React's
 * reply format), and the answer carries its return value with the page rendered again after it,
 * in one response. Without JavaScript (a `<form action={fn}>` posted before hydration): the
 * action is decoded from the form's fields and called with the form data.
 *
 * Only actions the build found are callable (their IDs are the plugin's, unguessable); values a
 * bound action closes over travel encrypted with the build's key (`@vitejs/plugin-rsc`).
 * @throws UnknownActionError for an ID the build does not know or a form naming no action;
 *   whatever the action threw, except `redirect()`.
 */
export async function runAction(request: Request, page: PageRenderInput): Promise<ActionOutcome> {
  const id = request.headers.get('x-rsc-action');
  try {
    if (id !== null) {
      const body = (request.headers.get('content-type') ?? '').startsWith('multipart/form-data')
        ? await request.formData()
        : await request.text();
      const temporaryReferences = createTemporaryReferenceSet();
      const args = (await decodeReply(body, { temporaryReferences })) as unknown[];
      const action = await known(() => loadServerAction(id), `no Server Action ${JSON.stringify(id.slice(0, 80))} in this build`);
      // Run as a Server Action: `updateTag` and `refresh` are allowed inside it only.
      const returnValue = await runAsServerAction({ refreshed: false }, () =>
        (action as (...values: unknown[]) => Promise<unknown>).apply(null, args),
      );
      const generated = await renderAppPage(page, async (tree) => ({
        html: new Uint8Array(0),
        payload: await renderFlight({ root: tree, returnValue }, temporaryReferences),
      }));
      // A page that redirected has no payload: the return value comes alone.
      const payload =
        (generated.value.data as Uint8Array<ArrayBuffer> | undefined) ?? (await renderFlight({ returnValue }, temporaryReferences));
      return { kind: 'payload', payload };
    }
    const formData = await request.formData();
    const action = await known(() => decodeAction(formData), 'the form names no Server Action of this build');
    if (typeof action !== 'function') throw new UnknownActionError('the form names no Server Action');
    const result = await runAsServerAction({ refreshed: false }, () => (action as () => Promise<unknown>)());
    const formState = (await decodeFormState(result, formData)) as ReactFormState | undefined;
    return { kind: 'form', formState: formState ?? undefined };
  } catch (error) {
    const redirect = redirectTarget(error);
    if (redirect !== undefined) return { kind: 'redirect', location: redirect.location };
    throw error;
  }
}
