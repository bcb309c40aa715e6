// @ts-check
import node from '@astrojs/node';
import { defineConfig } from 'astro/config';

// Every page is rendered on request (`output: 'server'`): Astro caches nothing itself. The pages
// say how long a shared cache in front may keep them (Cache-Control s-maxage, stale-while-revalidate,
// stale-if-error) and under which tags (Cache-Tag, Surrogate-Key); `isr proxy` is that cache.
// `mode: 'standalone'` makes dist/server/entry.mjs a server of its own (HOST and PORT from the environment).
export default defineConfig({
  output: 'server',
  adapter: node({ mode: 'standalone' }),
});
