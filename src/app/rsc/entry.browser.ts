/**
 * The App Router's browser entry, bundled by `isr build` into `.isr/build/client/` and loaded only
 * by pages with client components: it reads the RSC payload the HTML carries, hydrates the
 * document with it (React's `hydrateRoot`), then hands client navigation (router.ts) a way to
 * render the next page's payload in its place.
 * @see https://react.dev/reference/react-dom/client/hydrateRoot
 */

import { createFromReadableStream } from '@vitejs/plugin-rsc/browser';
import { createElement, type ReactNode, useEffect, useState } from 'react';
import { hydrateRoot } from 'react-dom/client';
import { rscStream } from 'rsc-html-stream/client';
import { attachRouter } from './router.ts';

/** The page's tree, replaced by client navigation; it renders no element of its own, so hydration matches the HTML. */
function Root({ initial }: { initial: ReactNode }): ReactNode {
  const [root, setRoot] = useState(initial);
  useEffect(() => attachRouter(setRoot, (stream) => createFromReadableStream<ReactNode>(stream)), []);
  return root;
}

async function hydrate(): Promise<void> {
  const initial = await createFromReadableStream<ReactNode>(rscStream);
  hydrateRoot(document, createElement(Root, { initial }));
}

void hydrate();
