/**
 * `next/head` for Pages Router sites, as the build maps it (build/compile.ts).
 * @see https://nextjs.org/docs/pages/api-reference/components/head
 */

import type { ReactNode } from 'react';

/**
 * `next/head`: its children (`<title>`, `<meta>`, `<link>`) go into the document's `<head>`. React 19
 * hoists those elements into the head of the document it renders wherever they appear, so the
 * component only has to render them.
 */
export default function Head({ children }: { children?: ReactNode }): ReactNode {
  return children ?? null;
}
