import type { ComponentType } from 'react';
import Link from 'next/link';
import { css } from '../lib/style.ts';

// Wraps every page in pages/: the look of app/layout.tsx. React hoists the <style> (it has `href` and
// `precedence`) and each page's <title> (from next/head) into the document's <head>.
export default function App({ Component, pageProps }: { Component: ComponentType<Record<string, unknown>>; pageProps: Record<string, unknown> }) {
  return (
    <>
      <style href="blog" precedence="default">
        {css}
      </style>
      <header>
        <Link href="/">
          Node.js blog <span>· isr example</span>
        </Link>
      </header>
      <Component {...pageProps} />
    </>
  );
}
