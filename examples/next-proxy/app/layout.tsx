import type { ReactNode } from 'react';

// No favicon file: `data:,` keeps the browser from asking for /favicon.ico (a 404).
export const metadata = { title: 'Next.js behind isr proxy', icons: { icon: 'data:,' } };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
