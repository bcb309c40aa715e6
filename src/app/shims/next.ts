/**
 * What `import ... from 'next'` resolves to in site code. The seeds only import types from
 * `next` (`Metadata`, `GetStaticProps`, ...), which the compiler erases; this module exists so a
 * value import fails with a clear message instead of a resolution error.
 */
export {};
