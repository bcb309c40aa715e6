/// <reference types="@vitejs/plugin-rsc/types" />
/**
 * The App Router's HTML renderer, bundled by `isr build` into `.isr/build/ssr/` (no
 * `react-server` condition): an RSC payload to a complete HTML document with React's
 * `react-dom/static` `prerender`, which waits for every Suspense boundary (a cached page is
 * complete, not streamed). Client components render to HTML here; when the payload references
 * any, the document also carries the payload and the client bootstrap (entry.browser.ts), so the
 * browser hydrates what the server rendered.
 * @see https://react.dev/reference/react-dom/static/prerender
 */

import { createFromReadableStream } from '@vitejs/plugin-rsc/ssr';
import type { ReactNode } from 'react';
import { prerender } from 'react-dom/static';
import { injectRSCPayload } from 'rsc-html-stream/server';

/** A row of an RSC payload that imports a client component: `<id>:I[...]` (React's Flight format). */
const CLIENT_REFERENCE_ROW = /(?:^|\n)[0-9a-f]+:I\[/;

function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
}

/**
 * The HTML document of an RSC payload: without client components, the HTML alone (no
 * JavaScript); with them, plus the payload inlined and the bootstrap module.
 * @throws the first error of the HTML render.
 */
export async function renderHtml(flight: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  const root = await createFromReadableStream<ReactNode>(streamOf(flight));
  const hydrates = CLIENT_REFERENCE_ROW.test(new TextDecoder().decode(flight));
  const errors: unknown[] = [];
  const { prelude } = await prerender(root, {
    onError(error) {
      errors.push(error);
    },
    ...(hydrates ? { bootstrapScriptContent: await import.meta.viteRsc.loadBootstrapScriptContent('index') } : {}),
  });
  const html = hydrates ? prelude.pipeThrough(injectRSCPayload(streamOf(flight))) : prelude;
  const bytes = new Uint8Array(await new Response(html).arrayBuffer());
  if (errors.length > 0) throw errors[0];
  return bytes;
}
