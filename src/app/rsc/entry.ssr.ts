/// <reference types="@vitejs/plugin-rsc/types" />
/**
 * The App Router's HTML renderer, bundled by `isr build` into `.isr/build/ssr/` (no
 * `react-server` condition): an RSC payload to a complete HTML document with React's
 * `react-dom/static` `prerender`, which waits for every Suspense boundary (a cached page is
 * complete, not streamed). Client components render to HTML here; when the payload references
 * any (or a Server Action), the document also carries the payload and the client bootstrap
 * (entry.browser.ts), so the browser hydrates what the server rendered.
 * @see https://react.dev/reference/react-dom/static/prerender
 */

import { createFromReadableStream } from '@vitejs/plugin-rsc/ssr';
import { createElement, type ReactNode, use } from 'react';
import type { ReactFormState } from 'react-dom/client';
import { renderToReadableStream } from 'react-dom/server';
import { prerender } from 'react-dom/static';
import { injectRSCPayload } from 'rsc-html-stream/server';
import type { RscPayload } from './payload.ts';

/**
 * What in an RSC payload needs the browser's React (React's Flight format): a row importing a
 * client component (`<id>:I[...]`), or a Server Action reference (`"$h<id>"`, a form's `action`):
 * with JavaScript, a form calls its action without leaving the page.
 */
const NEEDS_HYDRATION = /(?:^|\n)[0-9a-f]+:I\[|"\$h[0-9a-f]+"/;

function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
}

/** The root of the payload `decode()` gives (the same promise on every call). */
function PayloadRoot({ decode }: { decode: () => Promise<RscPayload> }): ReactNode {
  return use(decode()).root;
}

/**
 * The root of the payload `flight`, decoded during the HTML render, as Next.js does: the Flight
 * client then runs in the render's context, so the resource hints the Server Components sent (a
 * font's `preload()`, next/font's) become `<link rel="preload">` in the document's head.
 * (Decoded before the render, they would reach no document.)
 */
function payloadRoot(flight: Uint8Array): ReactNode {
  let payload: Promise<RscPayload> | undefined;
  const decode = () => {
    payload ??= createFromReadableStream<RscPayload>(streamOf(flight));
    return payload;
  };
  return createElement(PayloadRoot, { decode });
}

/**
 * The complete HTML of `root` with `react-dom`'s renderer that takes a form state
 * (`renderToReadableStream`, waited on until all is ready) when there is one, else `prerender`.
 */
async function documentOf(
  root: ReactNode,
  options: { formState?: ReactFormState; bootstrapScriptContent?: string; onError(error: unknown): void },
) {
  if (options.formState === undefined) return (await prerender(root, options)).prelude;
  const stream = await renderToReadableStream(root, options);
  await stream.allReady;
  return stream;
}

/**
 * The HTML document of an RSC payload: without client components, the HTML alone (no
 * JavaScript); with them, plus the payload inlined and the bootstrap module.
 * @param formState the state of a form posted without JavaScript, for `useActionState`.
 * @throws the first error of the HTML render.
 */
export async function renderHtml(flight: Uint8Array, formState?: ReactFormState): Promise<Uint8Array<ArrayBuffer>> {
  const hydrates = NEEDS_HYDRATION.test(new TextDecoder().decode(flight));
  const errors: unknown[] = [];
  const prelude = await documentOf(payloadRoot(flight), {
    ...(formState === undefined ? {} : { formState }),
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
