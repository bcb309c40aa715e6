/**
 * PostCSS for the Pages Router's bundles (esbuild runs none): when the site has a PostCSS config,
 * every stylesheet the bundles import — the site's global CSS and CSS Modules, its compiled Sass,
 * and CSS of packages (`@vercel/examples-ui/globals.css` is Tailwind's `@tailwind` directives) —
 * goes through the config's plugins, as `next build` runs them on all CSS
 * (https://nextjs.org/docs/pages/guides/post-css). `app/` gets the same plugins through Vite. The
 * config is read here, with Next.js's rules rather than postcss-load-config's: `plugins` is an
 * object of name → options or an array of names and `[name, options]` pairs (create-next-app's
 * Tailwind 4 config is `plugins: ["@tailwindcss/postcss"]`), each name resolved from the site's folder.
 */

import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { PluginBuild } from 'esbuild';
import { type CSSOptions, preprocessCSS, type ResolvedConfig, resolveConfig } from 'vite';
import { CompileError } from './compile.ts';

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

/** The plugins of a site's PostCSS config, loaded, in the shape Vite's `css.postcss.plugins` takes. */
export type PostcssPlugins = NonNullable<Exclude<CSSOptions['postcss'], string | undefined>['plugins']>;

/** The site's PostCSS config as written and where it was found, or undefined without one. Like Next.js, package.json's `postcss` object wins. */
async function readPostcssConfig(siteDir: string): Promise<{ config: unknown; file: string } | undefined> {
  try {
    const manifest = JSON.parse(readFileSync(path.join(siteDir, 'package.json'), 'utf8')) as { postcss?: unknown };
    if (typeof manifest.postcss === 'object' && manifest.postcss !== null) return { config: manifest.postcss, file: 'package.json' };
  } catch {
    // No package.json, or not JSON: the config files decide.
  }
  const name = CONFIG_FILES.find((candidate) => existsSync(path.join(siteDir, candidate)));
  if (name === undefined) return undefined;
  const file = path.join(siteDir, name);
  try {
    if (name.endsWith('.json')) return { config: JSON.parse(readFileSync(file, 'utf8')), file: name };
    const loaded = (await import(pathToFileURL(file).href)) as { default?: unknown };
    return { config: loaded.default ?? loaded, file: name };
  } catch (error) {
    throw new CompileError(`${name}: the PostCSS config does not load: ${(error as Error).message}`);
  }
}

/**
 * Loads the site's PostCSS plugins as `next build` does (Next.js's `getPostCssPlugins`): `plugins`
 * is an object of plugin name → options, or an array whose entries are a name or a `[name,
 * options]` pair; options `false` leaves a plugin out, `true` or `{}` uses it as exported, any
 * other options are passed to it. Names are resolved from `siteDir` (a path such as
 * `./plugin.cjs` from the site's folder).
 * @returns the plugins, or undefined when the site has no PostCSS config.
 * @throws CompileError naming the config file when it does not load, exports a function, has no
 *   `plugins`, gives a plugin as a function (`require()`d) or in an unknown shape, or names a
 *   plugin that is not installed.
 */
export async function loadPostcssPlugins(siteDir: string): Promise<PostcssPlugins | undefined> {
  const found = await readPostcssConfig(siteDir);
  if (found === undefined) return undefined;
  const { config, file } = found;
  const fail = (message: string) => new CompileError(`${file}: ${message} (https://nextjs.org/docs/messages/postcss-shape)`);
  if (typeof config === 'function') throw fail('the PostCSS config exports a function; export a plain object with a `plugins` key instead');
  const plugins = (config as { plugins?: unknown } | null)?.plugins;
  if (typeof plugins !== 'object' || plugins === null) throw fail('the PostCSS config must export a `plugins` key');
  const entries: [string, unknown][] = [];
  for (const entry of Array.isArray(plugins) ? plugins : Object.entries(plugins)) {
    if (entry === null || entry === undefined) continue;
    if (typeof entry === 'string') entries.push([entry, true]);
    else if (Array.isArray(entry) && typeof entry[0] === 'string' && entry[1] !== null && entry[1] !== undefined)
      entries.push([entry[0], entry[1]]);
    else if (typeof entry === 'function')
      throw fail('a PostCSS plugin is given as a function (require()d); give its package name as a string instead');
    else throw fail(`a PostCSS plugin is given in an unknown shape (${JSON.stringify(entry)}); give a name or a [name, options] pair`);
  }
  const require = createRequire(path.join(siteDir, 'package.json'));
  const loaded: PostcssPlugins = [];
  for (const [name, options] of entries) {
    if (options === false) continue;
    let plugin: unknown;
    try {
      plugin = require(name);
    } catch (error) {
      throw fail(`the PostCSS plugin '${name}' cannot be loaded: ${(error as Error).message.split('\n')[0]}`);
    }
    if (typeof plugin === 'object' && plugin !== null && 'default' in plugin && (plugin as { __esModule?: boolean }).__esModule)
      plugin = (plugin as { default: unknown }).default;
    const bare = options === true || (typeof options === 'object' && Object.keys(options as object).length === 0);
    loaded.push((bare ? plugin : (plugin as (options: unknown) => unknown)(options)) as PostcssPlugins[number]);
  }
  return loaded;
}

/** Runs a stylesheet through the site's PostCSS plugins. */
export type PostcssRunner = (css: string, file: string) => Promise<{ css: string; files: string[] }>;

/**
 * The site's PostCSS, or undefined when it has no config. Vite resolves its CSS pipeline once
 * with the site's plugins ({@link loadPostcssPlugins}; its CSS Modules off: esbuild scopes
 * `.module.css` class names itself, after PostCSS). `@import`s are inlined first, as
 * postcss-import does in Vite and css-loader in Next.js.
 * @throws CompileError (when a stylesheet is first run) as {@link loadPostcssPlugins} throws.
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
  const plugins = (await loadPostcssPlugins(siteDir)) ?? [];
  const nodeEnv = process.env.NODE_ENV;
  try {
    return await resolveConfig(
      { configFile: false, root: siteDir, logLevel: 'silent', mode: 'production', css: { modules: false, postcss: { plugins } } },
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
