/**
 * PostCSS for the Pages Router's bundles (esbuild runs none): when the site has a PostCSS config
 * (`postcss.config.js` and the other names PostCSS's loader reads, as Next.js does,
 * https://nextjs.org/docs/pages/guides/post-css), each `.css` file is run through it before esbuild
 * bundles it, so Tailwind's `@tailwind` directives and `theme()` become CSS. The plugins are the
 * site's own, loaded from its `node_modules` by Vite's `preprocessCSS` (the same loader `app/`
 * gets through Vite); CSS Modules stay esbuild's (`local-css`), so class names do not change.
 */

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { PluginBuild } from 'esbuild';
import { preprocessCSS, type ResolvedConfig, resolveConfig } from 'vite';

/** The config file names postcss-load-config looks for (besides `package.json`'s `postcss` key). */
const CONFIG_FILES = [
  'postcss.config.js',
  'postcss.config.cjs',
  'postcss.config.mjs',
  'postcss.config.ts',
  'postcss.config.mts',
  'postcss.config.cts',
  '.postcssrc',
  '.postcssrc.json',
  '.postcssrc.js',
  '.postcssrc.cjs',
  '.postcssrc.mjs',
  '.postcssrc.yaml',
  '.postcssrc.yml',
];

/** Runs the site's PostCSS config over its `.css` imports, when it has one. */
export function loadPostCss(build: PluginBuild, siteDir: string): void {
  if (!CONFIG_FILES.some((name) => existsSync(path.join(siteDir, name)))) return;
  let config: Promise<ResolvedConfig> | undefined;
  build.onLoad({ filter: /\.css$/ }, async (args) => {
    config ??= resolveConfig({ root: siteDir, configFile: false, logLevel: 'silent', css: { modules: false } }, 'build');
    try {
      const result = await preprocessCSS(await readFile(args.path, 'utf8'), args.path, await config);
      return {
        contents: result.code,
        loader: /\.module\.css$/.test(args.path) ? 'local-css' : 'css',
        watchFiles: result.deps === undefined ? [] : [...result.deps],
      };
    } catch (error) {
      return { errors: [{ text: `${path.relative(siteDir, args.path)}: PostCSS failed: ${(error as Error).message}` }] };
    }
  });
}
