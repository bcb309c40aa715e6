import type { Metadata } from 'next';
import type { ReactNode } from 'react';
import '../styles/blog.css';

// Every page's <title> is "<its own title> · Node.js blog" (a page without a title gets the default).
export const metadata: Metadata = {
  title: { template: '%s · Node.js blog', default: 'Node.js blog (isr example)' },
  description: 'The Node.js blog, served with Incremental Static Regeneration by isr.',
  openGraph: { siteName: 'Node.js blog (isr example)', type: 'website' },
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
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
