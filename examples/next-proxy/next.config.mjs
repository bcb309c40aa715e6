import { fileURLToPath } from 'node:url';

/** @type {import('next').NextConfig} */
const config = {
  // The one line that connects Next's revalidations to `isr proxy` (ISR_PROXY_URL,
  // ISR_REVALIDATE_TOKEN). An app that installed isr writes
  // `cacheHandler: import.meta.resolve('isr/next-cache-handler')`; this example, inside the
  // repository, points at its build (`npm run build` at the root).
  cacheHandler: new URL('../../dist/proxy/next-cache-handler.js', import.meta.url).href,
  // Only because this example sits inside the isr repository: the build traces the handler, which
  // must be under the root, and the repository's own lock file would otherwise make Next warn.
  turbopack: { root: fileURLToPath(new URL('../..', import.meta.url)) },
  outputFileTracingRoot: fileURLToPath(new URL('../..', import.meta.url)),
};

export default config;
