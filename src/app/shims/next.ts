/**
 * What `import ... from 'next'` resolves to in site code. The examples of the Next.js ISR guides
 * (https://nextjs.org/docs/pages/guides/incremental-static-regeneration) only import types from
 * `next` (`Metadata`, `GetStaticProps`, ...), which the compiler erases; this module exists so a
 * value import fails with a clear message instead of a resolution error.
 */
export {};
