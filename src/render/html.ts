/**
 * HTML rendering shared by both routers: a React tree to one complete document with React 19's
 * `react-dom/static` `prerender`, which waits for every Suspense boundary (a static page is
 * complete, not streamed).
 * @see https://react.dev/reference/react-dom/static/prerender
 */

import type { ReactNode } from 'react';

/** Renders a React tree to a complete HTML document; any render error rejects. */
export async function renderToHtml(tree: ReactNode): Promise<Uint8Array<ArrayBuffer>> {
  // Loaded on first use: a site without pages/ renders through its own bundles (app/rsc/) and never needs it.
  const { prerender } = await import('react-dom/static');
  const errors: unknown[] = [];
  const { prelude } = await prerender(tree, {
    onError(error) {
      errors.push(error);
    },
  });
  const html = new Uint8Array(await new Response(prelude).arrayBuffer());
  if (errors.length > 0) throw errors[0];
  return html;
}
