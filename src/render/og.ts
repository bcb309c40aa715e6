/**
 * `next/og`: `ImageResponse`, which renders JSX (a subset of HTML and CSS, laid out by Satori) to
 * a PNG response, for route handlers and generated image metadata (`opengraph-image.tsx`,
 * `icon.tsx`). It is Vercel's own `@vercel/og`, the library Next.js bundles for it, with its
 * default font (Geist) and the same default headers (`Content-Type: image/png`,
 * `Cache-Control: public, immutable, no-transform, max-age=31536000`).
 * @see https://nextjs.org/docs/app/api-reference/functions/image-response
 */

export { ImageResponse } from '@vercel/og';
