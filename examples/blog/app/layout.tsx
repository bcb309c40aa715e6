import type { ReactNode } from 'react';
import { css } from '../lib/style.ts';

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>Node.js blog (isr example)</title>
        <style dangerouslySetInnerHTML={{ __html: css }} />
      </head>
      <body>
        <header>
          <a href="/blog">
            Node.js blog <span>· isr example</span>
          </a>
        </header>
        {children}
      </body>
    </html>
  );
}
