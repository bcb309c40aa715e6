/**
 * Compiles a site's `pages/` modules with esbuild into ESM for Node, so the examples of the
 * Next.js ISR guide (https://nextjs.org/docs/pages/guides/incremental-static-regeneration) run
 * unmodified (`app/` is compiled by compile-app.ts):
 *
 * - `next/*` and `isr/cache` → this package's modules (shims.ts; `isr/cache` is bundled: it
 *   reaches the engine through the process registry).
 * - `react`, `react-dom` and their subpaths → the copies this package renders with, by absolute
 *   path, so the site and the renderer share one React.
 * - `@/x` → `<siteDir>/x` when the site's tsconfig does not map it.
 * - the site's React packages (react-packages.ts) and what they import are bundled, so they share
 *   that React; other packages stay external and resolve from the site's own `node_modules`.
 */

import { createRequire, isBuiltin } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build as esbuild, formatMessages, type Message, type Plugin, type PluginBuild } from 'esbuild';
import { Fonts, loadFonts } from './fonts.ts';
import { siteReactPackages } from './react-packages.ts';
import { loadSass } from './sass.ts';
import { ENVIRONMENT_MARKER, OWN_ANCHOR, OWN_EXTERNAL, ownExternal, ownModule, SHIMMED, shimFor } from './shims.ts';
import { STATIC_IMAGE, StaticImages } from './static-images.ts';

const require = createRequire(OWN_ANCHOR);

/** The package a bare specifier names: `@scope/name/sub` → `@scope/name`. */
export function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

function isrResolvePlugin(
  siteDir: string,
  reactPackages: ReadonlySet<string>,
  shared: Required<Omit<SiteCompileOptions, 'define'>>,
): Plugin {
  return {
    name: 'isr-resolve',
    setup(build) {
      build.onResolve({ filter: SHIMMED }, (args) => {
        const shim = shimFor(args.path, 'pages');
        return 'file' in shim ? { path: shim.file } : { errors: [{ text: shim.error }] };
      });
      build.onResolve({ filter: /^react(-dom)?(\/.*)?$/ }, (args) => {
        try {
          return { path: pathToFileURL(require.resolve(args.path)).href, external: true };
        } catch {
          return { errors: [{ text: `cannot resolve "${args.path}" from isr's own dependencies` }] };
        }
      });
      // next/og's @vercel/og is this package's, loaded where it is installed (shims.ts).
      build.onResolve({ filter: OWN_EXTERNAL }, (args) =>
        args.importer === ownModule('render/og') ? { path: ownExternal(args.path), external: true } : undefined,
      );
      resolveSiteAlias(build, siteDir);
      loadStaticImages(build, shared.images);
      loadSass(build, siteDir);
      loadFonts(build, shared.fonts);
      // Pages render on the server: both markers are allowed there.
      build.onResolve({ filter: ENVIRONMENT_MARKER }, (args) => ({ path: args.path, namespace: 'isr-empty' }));
      build.onLoad({ filter: /.*/, namespace: 'isr-empty' }, () => ({ contents: 'export {};\n', loader: 'js' }));
      build.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.pluginData === 'isr-bare') return undefined;
        if (isBuiltin(args.path)) return { external: true };
        // A package's stylesheet (`import 'pkg/styles.css'` in _app, as Next.js allows) is bundled:
        // Node cannot import CSS.
        const bundled =
          reactPackages.has(packageOf(args.path)) ||
          args.importer.includes(`${path.sep}node_modules${path.sep}`) ||
          /\.(css|s[ac]ss)$/.test(args.path);
        if (bundled) return undefined;
        // A tsconfig `paths` alias of the site's own files is bundled; a package stays external.
        const resolved = await build.resolve(args.path, {
          kind: args.kind,
          resolveDir: args.resolveDir,
          importer: args.importer,
          pluginData: 'isr-bare',
        });
        // A package the site does not have fails the build here, at the import (as `next build`'s
        // "Module not found"), not when the server first loads the page.
        if (resolved.errors.length > 0) {
          return { errors: [{ text: `Module not found: can't resolve "${args.path}": install it (npm install ${packageOf(args.path)})` }] };
        }
        const own = !resolved.external && !resolved.path.includes(`${path.sep}node_modules${path.sep}`);
        return own ? resolved : { external: true };
      });
    },
  };
}

/** `@/x`: what the site's tsconfig maps it to, else `<siteDir>/x` (as create-next-app's tsconfig has it). */
export function resolveSiteAlias(build: PluginBuild, siteDir: string): void {
  build.onResolve({ filter: /^@\// }, async (args) => {
    if (args.pluginData === 'isr-alias') return undefined;
    const result = await build.resolve(args.path, {
      kind: args.kind,
      resolveDir: args.resolveDir,
      importer: args.importer,
      pluginData: 'isr-alias',
    });
    if (result.errors.length === 0 && !result.external) return result;
    return build.resolve(`./${args.path.slice(2)}`, { kind: args.kind, resolveDir: siteDir, pluginData: 'isr-alias' });
  });
}

/** What every compiler of a build shares (build.ts). */
export interface SiteCompileOptions {
  /** Expressions replaced by values in the site's code (build.ts's `siteDefines`). */
  define?: Readonly<Record<string, string>>;
  /** The build's statically imported images. */
  images?: StaticImages;
  /** The build's `next/font/local` calls. */
  fonts?: Fonts;
}

/** Loads statically imported images (`import photo from './photo.jpg'`) as their data (static-images.ts). */
export function loadStaticImages(build: PluginBuild, images: StaticImages): void {
  build.onLoad({ filter: STATIC_IMAGE }, async (args) => ({ contents: await images.module(args.path), loader: 'js' }));
}

/** Thrown when the site does not compile; `message` holds esbuild's formatted diagnostics. */
export class CompileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CompileError';
  }
}

async function describe(messages: Message[]): Promise<string> {
  return (await formatMessages(messages, { kind: 'error', color: false })).join('\n');
}

/**
 * Rethrows what an esbuild build threw: its diagnostics (file, line, column) as a CompileError
 * headed by `headline`, anything else as it is.
 */
export async function rethrowCompileError(error: unknown, headline: string): Promise<never> {
  if (error instanceof CompileError) throw error;
  const failure = error as { errors?: Message[] };
  if (Array.isArray(failure.errors) && failure.errors.length > 0) {
    throw new CompileError(`${headline}:\n${await describe(failure.errors)}`);
  }
  throw error;
}

/**
 * Compiles `files` (relative to `siteDir`, `/`-separated) into `outDir`, with the build's shared
 * `options`.
 * @returns for each input file, the compiled module's path relative to `outDir`'s parent
 *   (`server/app/blog/[id]/page.mjs`).
 * @throws CompileError with file, line and column for syntax or resolution errors.
 */
export async function compileSite(
  siteDir: string,
  files: readonly string[],
  outDir: string,
  options: SiteCompileOptions = {},
): Promise<Map<string, string>> {
  const { define = {}, images = new StaticImages(), fonts = new Fonts(siteDir) } = options;
  const outputs = new Map<string, string>();
  const entryPoints = files.map((file) => {
    const out = file.replace(/\.[^./]+$/, '');
    outputs.set(file, `${path.basename(outDir)}/${out}.mjs`);
    return { in: path.join(siteDir, file), out };
  });
  try {
    const result = await esbuild({
      absWorkingDir: siteDir,
      entryPoints,
      outdir: outDir,
      outExtension: { '.js': '.mjs' },
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      jsx: 'automatic',
      // Next.js allows JSX in .js files.
      loader: { '.js': 'jsx' },
      define,
      sourcemap: 'linked',
      chunkNames: 'chunks/[name]-[hash]',
      logLevel: 'silent',
      plugins: [isrResolvePlugin(siteDir, new Set(await siteReactPackages(siteDir)), { images, fonts })],
      // A bundled CommonJS package's require() of a Node built-in needs a real require in ESM.
      banner: {
        js: "// compiled by isr build\nimport { createRequire as __isrCreateRequire } from 'node:module';\nconst require = __isrCreateRequire(import.meta.url);",
      },
    });
    if (result.errors.length > 0) throw new CompileError(await describe(result.errors));
  } catch (error) {
    return rethrowCompileError(error, 'the site does not compile');
  }
  return outputs;
}
