import type { ComponentType } from 'react';
import Link from 'next/link';
import '../styles/blog.css';

// Wraps every page in pages/: the look of app/layout.tsx. Each page's <title> comes from next/head.
export default function App({ Component, pageProps }: { Component: ComponentType<Record<string, unknown>>; pageProps: Record<string, unknown> }) {
  return (
    <>
      <header>
        <Link href="/">
          Node.js blog <span>· isr example</span>
        </Link>
      </header>
      <Component {...pageProps} />
    </>
  );
}
