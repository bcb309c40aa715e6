/**
 * The App Router's browser entry, bundled by `isr build` into `.isr/build/client/` and loaded only
 * by pages with client components: it reads the RSC payload the HTML carries and hydrates the
 * document with it (React's `hydrateRoot`).
 * @see https://react.dev/reference/react-dom/client/hydrateRoot
 */

import { createFromReadableStream } from '@vitejs/plugin-rsc/browser';
import type { ReactNode } from 'react';
import { hydrateRoot } from 'react-dom/client';
import { rscStream } from 'rsc-html-stream/client';

async function hydrate(): Promise<void> {
  const root = await createFromReadableStream<ReactNode>(rscStream);
  hydrateRoot(document, root);
}

void hydrate();
