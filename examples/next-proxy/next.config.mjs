import { fileURLToPath } from 'node:url';

/** The isr repository, which holds this example and the handler's build. */
const repository = fileURLToPath(new URL('../..', import.meta.url));

/** @type {import('next').NextConfig} */
const config = {
  // The one line that connects Next's revalidations to `isr proxy` (ISR_PROXY_URL,
  // ISR_REVALIDATE_TOKEN). This example points at the repository's build (`npm run build` at the
  // root); an app that installed isr writes `import.meta.resolve('isr/next-cache-handler')`.
  cacheHandler: fileURLToPath(new URL('dist/proxy/next-cache-handler.js', `file://${repository}`)),
  // Only because this example sits inside the isr repository: the build traces the handler, which
  // must be under the root, and the repository's lock file would otherwise make Next warn.
  turbopack: { root: repository },
  outputFileTracingRoot: repository,
};

export default config;
