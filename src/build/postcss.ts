/**
 * PostCSS for the Pages Router's bundles (esbuild runs none): when the site has a PostCSS config,
 * every stylesheet the bundles import — the site's global CSS and CSS Modules, its compiled Sass,
 * and CSS of packages (`@vercel/examples-ui/globals.css` is Tailwind's `@tailwind` directives) —
 * goes through the config's plugins, as `next build` runs them on all CSS
 * (https://nextjs.org/docs/pages/guides/post-css). `app/` gets the same from Vite, whose loader
 * this uses: the config is found and its plugins resolved from the site's folder the same way for
 * both routers.
 */

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { PluginBuild } from 'esbuild';
import { preprocessCSS, type ResolvedConfig, resolveConfig } from 'vite';

/** The config files `next build` looks for, in its order (Next.js's `findConfig(dir, 'postcss')`). */
const CONFIG_FILES = [
  '.postcssrc.json',
  'postcss.config.json',
  '.postcssrc.js',
  'postcss.config.js',
  'postcss.config.mjs',
  'postcss.config.cjs',
];

/** Whether `siteDir` has a PostCSS config: one of {@link CONFIG_FILES}, or a `postcss` object in its package.json. */
function hasPostcssConfig(siteDir: string): boolean {
  if (CONFIG_FILES.some((name) => existsSync(path.join(siteDir, name)))) return true;
  try {
    const manifest = JSON.parse(readFileSync(path.join(siteDir, 'package.json'), 'utf8')) as { postcss?: unknown };
    return typeof manifest.postcss === 'object' && manifest.postcss !== null;
  } catch {
    return false;
  }
}

/** Runs a stylesheet through the site's PostCSS plugins. */
export type PostcssRunner = (css: string, file: string) => Promise<{ css: string; files: string[] }>;

/**
 * The site's PostCSS, or undefined when it has no config. Vite resolves the config once (its
 * CSS Modules off: esbuild scopes `.module.css` class names itself, after PostCSS). `@import`s
 * are inlined first, as postcss-import does in Vite and css-loader in Next.js.
 */
export function sitePostcss(siteDir: string): PostcssRunner | undefined {
  if (!hasPostcssConfig(siteDir)) return undefined;
  let config: Promise<ResolvedConfig> | undefined;
  return async (css, file) => {
    config ??= resolvedConfig(siteDir);
    const result = await preprocessCSS(css, file, await config);
    return { css: result.code, files: [...(result.deps ?? [])] };
  };
}

async function resolvedConfig(siteDir: string): Promise<ResolvedConfig> {
  const nodeEnv = process.env.NODE_ENV;
  try {
    return await resolveConfig(
      { configFile: false, root: siteDir, logLevel: 'silent', mode: 'production', css: { modules: false } },
      'build',
      'production',
    );
  } finally {
    // Vite sets NODE_ENV while it resolves; the build's later React modules must see what the others saw.
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
  }
}

/**
 * Loads `.css` files through the site's PostCSS when it has a config (a `.module.css` stays a CSS
 * Module); without one, esbuild loads them as they are. A plugin that fails fails the build,
 * naming the file.
 */
export function loadPostcss(build: PluginBuild, siteDir: string, postcss: PostcssRunner | undefined): void {
  if (postcss === undefined) return;
  build.onLoad({ filter: /\.css$/ }, async (args) => {
    if (args.namespace !== 'file') return undefined;
    try {
      const source = readFileSync(args.path, 'utf8');
      const result = await postcss(source, args.path);
      return {
        contents: result.css,
        loader: /\.module\.css$/.test(args.path) ? 'local-css' : 'css',
        resolveDir: path.dirname(args.path),
        watchFiles: result.files,
      };
    } catch (error) {
      return { errors: [{ text: `${path.relative(siteDir, args.path)}: PostCSS failed: ${(error as Error).message}` }] };
    }
  });
}
