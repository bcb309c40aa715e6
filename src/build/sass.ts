/**
 * Sass for the Pages Router's bundles (esbuild has no Sass): `.scss` and `.sass` files, and their
 * CSS Modules (`.module.scss`), compiled with the site's own `sass` package, as Next.js requires it
 * installed (https://nextjs.org/docs/app/guides/sass). `app/` gets Sass from Vite, which also
 * uses the site's `sass`.
 */

import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { PluginBuild } from 'esbuild';
import type { PostcssRunner } from './postcss.ts';

interface SassCompiler {
  compileAsync(
    file: string,
    options: { loadPaths?: string[]; style?: 'expanded' | 'compressed' },
  ): Promise<{ css: string; loadedUrls: URL[] }>;
}

/** The site's `sass` (or `sass-embedded`), or undefined when it has neither installed. */
async function siteSass(siteDir: string): Promise<SassCompiler | undefined> {
  const require = createRequire(path.join(siteDir, 'package.json'));
  for (const name of ['sass-embedded', 'sass']) {
    try {
      const loaded = (await import(pathToFileURL(require.resolve(name)).href)) as SassCompiler & { default?: SassCompiler };
      return typeof loaded.compileAsync === 'function' ? loaded : loaded.default;
    } catch {
      // not installed
    }
  }
  return undefined;
}

/**
 * Compiles `.scss` / `.sass` imports with the site's `sass`; a `.module.scss` is a CSS Module.
 * The CSS then goes through the site's PostCSS when `postcss` is given, as Next.js runs it after
 * Sass. A site importing Sass without `sass` installed fails the build with a message saying so.
 */
export function loadSass(build: PluginBuild, siteDir: string, postcss?: PostcssRunner): void {
  let compiler: Promise<SassCompiler | undefined> | undefined;
  build.onLoad({ filter: /\.s[ac]ss$/ }, async (args) => {
    compiler ??= siteSass(siteDir);
    const sass = await compiler;
    if (sass === undefined) {
      return { errors: [{ text: `${path.relative(siteDir, args.path)}: Sass needs the sass package: npm install --save-dev sass` }] };
    }
    try {
      const result = await sass.compileAsync(args.path, { loadPaths: [siteDir, path.join(siteDir, 'node_modules')] });
      // Named as CSS for PostCSS, so that Vite's loader does not compile it as Sass again.
      const processed = postcss === undefined ? undefined : await postcss(result.css, args.path.replace(/\.s[ac]ss$/, '.css'));
      return {
        contents: processed?.css ?? result.css,
        loader: /\.module\.s[ac]ss$/.test(args.path) ? 'local-css' : 'css',
        watchFiles: [
          ...result.loadedUrls.filter((url) => url.protocol === 'file:').map((url) => url.pathname),
          ...(processed?.files ?? []),
        ],
      };
    } catch (error) {
      return { errors: [{ text: `${path.relative(siteDir, args.path)}: ${(error as Error).message}` }] };
    }
  });
}
