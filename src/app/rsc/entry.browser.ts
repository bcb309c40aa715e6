/**
 * The App Router's browser entry, bundled by `isr build` into `.isr/build/client/` and loaded only
 * by pages with client components: it reads the RSC payload the HTML carries, hydrates the
 * document with it (React's `hydrateRoot`, with the form state of a form posted without
 * JavaScript), hands client navigation (router.ts) a way to render the next page's payload in its
 * place, and calls Server Actions (`setServerCallback`): a POST to the page's URL naming the
 * action, whose answer carries the return value and the page rendered after it.
 * @see https://react.dev/reference/react-dom/client/hydrateRoot
 * @see https://react.dev/reference/rsc/server-functions
 */

import { createFromReadableStream, createTemporaryReferenceSet, encodeReply, setServerCallback } from '@vitejs/plugin-rsc/browser';
import { createElement, type ReactNode, useEffect, useState } from 'react';
import { hydrateRoot } from 'react-dom/client';
import { rscStream } from 'rsc-html-stream/client';
import type { RscPayload } from './payload.ts';
import { ACTION_REDIRECT_HEADER, attachRouter, forgetPrefetched, navigate, RSC_TYPE, renderRoot } from './router.ts';

/** The page's tree, replaced by client navigation; it renders no element of its own, so hydration matches the HTML. */
function Root({ initial }: { initial: ReactNode }): ReactNode {
  const [root, setRoot] = useState(initial);
  useEffect(() => attachRouter(setRoot, async (stream) => (await createFromReadableStream<RscPayload>(stream)).root), []);
  return root;
}

/** Calls Server Action `id` with `args` (React's server callback). */
async function callServer(id: string, args: unknown[]): Promise<unknown> {
  const temporaryReferences = createTemporaryReferenceSet();
  const response = await fetch(location.pathname + location.search, {
    method: 'POST',
    headers: { 'x-rsc-action': id, accept: RSC_TYPE },
    body: await encodeReply(args, { temporaryReferences }),
  });
  const redirect = response.headers.get(ACTION_REDIRECT_HEADER);
  if (redirect !== null) {
    await navigate(redirect);
    return undefined;
  }
  if (!response.ok || response.body === null || !(response.headers.get('content-type') ?? '').startsWith(RSC_TYPE)) {
    throw new Error(`the Server Action failed: ${response.status} ${await response.text()}`);
  }
  const payload = await createFromReadableStream<RscPayload>(response.body, { temporaryReferences });
  // What the action revalidated may be among the payloads fetched ahead.
  forgetPrefetched();
  if (payload.root !== undefined) renderRoot(payload.root);
  return payload.returnValue;
}

async function hydrate(): Promise<void> {
  setServerCallback(callServer);
  const payload = await createFromReadableStream<RscPayload>(rscStream);
  hydrateRoot(document, createElement(Root, { initial: payload.root }), payload.formState ? { formState: payload.formState } : {});
}

void hydrate();
