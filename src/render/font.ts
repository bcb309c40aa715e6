/**
 * What a `next/font/local` call is in a compiled site (isr build's fonts.ts generates the module):
 * the object Next.js gives, `{ className, style: { fontFamily, fontWeight?, fontStyle? },
 * variable? }` (https://nextjs.org/docs/app/api-reference/components/font#reference), whose
 * stylesheet (the `@font-face` rules and the two classes) the module imports.
 *
 * Next.js preloads the font files of the fonts a route's modules import. Here a font's files are
 * preloaded, with React's `preload` (`<link rel="preload" as="font" type="font/woff2"
 * crossorigin="">` in the head, as Next.js writes it in the App Router), when a render reads the
 * font's `className`, `style` or `variable`: the fonts a page uses.
 */

import { preload } from 'react-dom';

/** The object of a `next/font` call. */
export interface NextFont {
  className: string;
  style: { fontFamily: string; fontWeight?: number; fontStyle?: string };
  variable?: string;
}

/** A font file to preload: its URL and its MIME type (`font/woff2`). */
export interface FontPreload {
  href: string;
  type: string;
}

/**
 * The font `font`, whose properties preload `files` when a render reads them (none when the call
 * said `preload: false`).
 */
export function nextFont(font: NextFont, files: readonly FontPreload[]): NextFont {
  if (files.length === 0) return font;
  const object = {} as NextFont;
  for (const [key, value] of Object.entries(font)) {
    Object.defineProperty(object, key, {
      enumerable: true,
      get() {
        for (const file of files) preload(file.href, { as: 'font', type: file.type, crossOrigin: '' });
        return value;
      },
    });
  }
  return object;
}
