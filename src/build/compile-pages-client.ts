/**
 * Bundles the Pages Router's browser code with esbuild: the runtime (pages/client.ts) with the
 * build's routes, and one module per page and for `_app`, content-hashed under
 * `<build>/client/static/pages/` (served at `/_isr/static/pages/` as immutable). A page's module
 * keeps only its default export, the component: `getStaticProps` and `getStaticPaths` are removed
 * from its source (ssg-transform.ts), and the imports only they used are dropped (as Next.js's SSG transform does,
 * https://nextjs.org/docs/pages/building-your-application/data-fetching/get-static-props#write-server-side-code-directly),
 * so server code (the file system, a database client) never reaches the browser. Node's built-in
 * modules resolve to an empty module there, for the code that is dropped.
 *
 * React comes from this package, as in the server bundle; `next/*` resolves to this package's
 * modules (shims.ts); `process.env.NODE_ENV` and the `NEXT_PUBLIC_` variables of the build's
 * environment are inlined, as Next.js does
 * (https://nextjs.org/docs/pages/guides/environment-variables#bundling-environment-variables-for-the-browser).
 */

import { readFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { build as esbuild, type Metafile, type Plugin } from 'esbuild';
import type { Segment } from '../render/routes.ts';
import type { PagesClientFiles, PagesClientManifest } from '../site/manifest.ts';
import { CompileError, loadStaticImages, resolveSiteAlias, rethrowCompileError, type SiteCompileOptions } from './compile.ts';
import { CLIENT_ASSETS_DIR } from './compile-app.ts';
import { FontCallError } from './font-calls.ts';
import { esbuildLoader, Fonts, loadFonts } from './fonts.ts';
import { loadPostcss, sitePostcss } from './postcss.ts';
import { loadSass } from './sass.ts';
import { browserEnvironmentMarker, ENVIRONMENT_MARKER, OWN_ANCHOR, ownModule, SHIMMED, shimFor } from './shims.ts';
import { withoutDataFunctions } from './ssg-transform.ts';
import { StaticImages } from './static-images.ts';

/** The namespace of the generated entry modules. */
const ENTRY = 'isr-pages-client';
/** The namespace of the empty module standing in for Node's built-ins. */
const NODE_ONLY = 'isr-node-only';
const RUNTIME_ENTRY = `${ENTRY}:runtime`;

export interface PagesClientInput {
  buildId: string;
  /** `pages/_app`, relative to the site, when it has one. */
  app: string | undefined;
  /** `pages/404`, relative to the site, when it has one. */
  notFound: string | undefined;
  /** The page routes, in match order. */
  routes: readonly { pattern: string; segments: readonly Segment[]; file: string; dataRoute: boolean }[];
}

const entryOf = (file: string) => `${ENTRY}:page:${file}`;
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const NODE_BUILTIN = new RegExp(`^(node:.*|(${builtinModules.map(escapeRegExp).join('|')})(/.*)?)$`);

/** The runtime entry: client.ts started with the build's routes, each page loaded on demand. */
function runtimeSource(input: PagesClientInput): string {
  const load = (file: string) => `() => import(${JSON.stringify(entryOf(file))})`;
  const routes = input.routes.map(
    (route) =>
      `    { pattern: ${JSON.stringify(route.pattern)}, segments: ${JSON.stringify(route.segments)}, dataRoute: ${route.dataRoute}, load: ${load(route.file)} },`,
  );
  return [
    `import { startPagesClient } from ${JSON.stringify(ownModule('pages/client'))};`,
    'startPagesClient({',
    `  buildId: ${JSON.stringify(input.buildId)},`,
    input.app === undefined ? '' : `  app: ${load(input.app)},`,
    input.notFound === undefined ? '' : `  notFound: ${load(input.notFound)},`,
    '  routes: [',
    ...routes,
    '  ],',
    "}).catch((error) => console.error('isr: this page could not start', error));",
    '',
  ].join('\n');
}

function pagesClientPlugin(siteDir: string, input: PagesClientInput, images: StaticImages, fonts: Fonts): Plugin {
  const sources = new Map<string, Promise<string>>();
  const sourceOf = (file: string) => {
    let text = sources.get(file);
    if (text === undefined) sources.set(file, (text = readFile(file, 'utf8').catch(() => '')));
    return text;
  };
  return {
    name: 'isr-pages-client',
    setup(build) {
      build.onResolve({ filter: new RegExp(`^${ENTRY}:`) }, (args) => ({ path: args.path, namespace: ENTRY }));
      build.onLoad({ filter: /.*/, namespace: ENTRY }, (args) => {
        if (args.path === RUNTIME_ENTRY) return { contents: runtimeSource(input), loader: 'js', resolveDir: siteDir };
        // Only the component: the data functions and what they import stay on the server.
        const file = path.join(siteDir, args.path.slice(entryOf('').length));
        return { contents: `export { default } from ${JSON.stringify(file)};\n`, loader: 'js', resolveDir: siteDir };
      });
      build.onResolve({ filter: SHIMMED }, (args) => {
        const shim = shimFor(args.path, 'pages');
        return 'file' in shim ? { path: shim.file } : { errors: [{ text: shim.error }] };
      });
      build.onResolve({ filter: /^react(-dom)?(\/.*)?$/ }, (args) => {
        if (args.pluginData === 'isr-react') return undefined;
        // This package's React, bundled, so the page and the runtime share one copy.
        return build.resolve(args.path, { kind: args.kind, resolveDir: path.dirname(OWN_ANCHOR), pluginData: 'isr-react' });
      });
      // Each page's data functions are removed before bundling (ssg-transform.ts).
      const pageFiles = new Set(
        [...input.routes.map((route) => route.file), ...(input.notFound ? [input.notFound] : [])].map((file) => path.join(siteDir, file)),
      );
      build.onLoad({ filter: /\.[cm]?[jt]sx?$/ }, async (args) => {
        if (!pageFiles.has(args.path)) return undefined;
        const source = withoutDataFunctions(await readFile(args.path, 'utf8'), path.relative(siteDir, args.path));
        try {
          return {
            contents: fonts.rewrite(source, args.path) ?? source,
            loader: esbuildLoader(args.path),
            resolveDir: path.dirname(args.path),
          };
        } catch (error) {
          if (error instanceof FontCallError) return { errors: [{ text: error.message }] };
          throw error;
        }
      });
      resolveSiteAlias(build, siteDir);
      loadStaticImages(build, images);
      const postcss = sitePostcss(siteDir);
      loadSass(build, siteDir, postcss);
      loadFonts(build, fonts);
      loadPostcss(build, siteDir, postcss);
      // In the browser, `server-only` throws when a module that imports it is loaded (Next.js's
      // behaviour); one that only getStaticProps used is dropped before that.
      build.onResolve({ filter: ENVIRONMENT_MARKER }, (args) => ({ path: args.path, namespace: NODE_ONLY, pluginData: args.importer }));
      build.onLoad({ filter: ENVIRONMENT_MARKER, namespace: NODE_ONLY }, (args) => {
        const marker = browserEnvironmentMarker(args.path as 'server-only' | 'client-only');
        const contents =
          'error' in marker
            ? `throw new Error(${JSON.stringify(`isr: ${args.pluginData ? path.relative(siteDir, args.pluginData as string) : 'a module'} ${marker.error}`)});\n`
            : 'export {};\n';
        return { contents, loader: 'js' };
      });
      build.onResolve({ filter: NODE_BUILTIN }, (args) => ({ path: args.path, namespace: NODE_ONLY, sideEffects: false }));
      build.onLoad({ filter: /.*/, namespace: NODE_ONLY }, () => ({ contents: 'module.exports = {};\n', loader: 'js' }));
      // An import with bindings in the site's own code can go when nothing uses them (what the
      // dropped getStaticProps used); a bare `import './x'` keeps its side effects.
      build.onResolve({ filter: /.*/ }, async (args) => {
        if (args.pluginData === 'isr-site-import' || args.kind !== 'import-statement' || args.namespace !== 'file') return undefined;
        if (args.importer.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
        const bare = new RegExp(`import\\s*(['"])${escapeRegExp(args.path)}\\1`);
        if (bare.test(await sourceOf(args.importer))) return undefined;
        const result = await build.resolve(args.path, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          pluginData: 'isr-site-import',
        });
        if (result.errors.length > 0 || result.external) return result;
        return { ...result, sideEffects: false };
      });
    },
  };
}

/** The files of one output: itself and the chunks it imports statically (transitively), and its stylesheet. */
function filesOf(metafile: Metafile, output: string, toClient: (file: string) => string): PagesClientFiles {
  const modules = new Set<string>();
  const visit = (file: string) => {
    if (modules.has(file)) return;
    modules.add(file);
    for (const dependency of metafile.outputs[file]?.imports ?? []) {
      if (dependency.kind === 'import-statement' && !dependency.external) visit(dependency.path);
    }
  };
  visit(output);
  const css = metafile.outputs[output]?.cssBundle;
  return { modules: [...modules].map(toClient), styles: css === undefined ? [] : [toClient(css)] };
}

/**
 * Bundles the browser code of the site's `pages/` into `clientDir` (`<build>/client`), with the
 * build's shared `options`.
 * @returns the runtime and each module's files, relative to `clientDir`.
 * @throws CompileError with file, line and column when the browser bundle does not compile.
 */
export async function compilePagesClient(
  siteDir: string,
  input: PagesClientInput,
  clientDir: string,
  options: SiteCompileOptions = {},
): Promise<PagesClientManifest> {
  const { define = {}, images = new StaticImages(), fonts = new Fonts(siteDir) } = options;
  const outputsDir = `${CLIENT_ASSETS_DIR}/pages`;
  const entryPoints = [
    { in: RUNTIME_ENTRY, out: 'runtime' },
    ...(input.app === undefined ? [] : [{ in: entryOf(input.app), out: 'app' }]),
    ...(input.notFound === undefined ? [] : [{ in: entryOf(input.notFound), out: '404' }]),
    ...input.routes.map((route, index) => ({ in: entryOf(route.file), out: `page-${index}` })),
  ];
  const publicEnv = Object.fromEntries(
    Object.entries(process.env)
      .filter(([name, value]) => name.startsWith('NEXT_PUBLIC_') && value !== undefined)
      .map(([name, value]) => [`process.env.${name}`, JSON.stringify(value)]),
  );
  let metafile: Metafile;
  try {
    const result = await esbuild({
      absWorkingDir: siteDir,
      entryPoints,
      outdir: clientDir,
      entryNames: `${outputsDir}/[name]-[hash]`,
      chunkNames: `${outputsDir}/chunks/[name]-[hash]`,
      assetNames: `${outputsDir}/assets/[name]-[hash]`,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2020',
      // Not minifyIdentifiers: it would also rename CSS Modules' classes, which must keep the names
      // the server's bundle (compile.ts) renders into the HTML. React's own code comes minified.
      minifyWhitespace: true,
      minifySyntax: true,
      jsx: 'automatic',
      loader: { '.js': 'jsx' },
      define: { 'process.env.NODE_ENV': '"production"', ...publicEnv, ...define },
      metafile: true,
      logLevel: 'silent',
      plugins: [pagesClientPlugin(siteDir, input, images, fonts)],
    });
    if (result.errors.length > 0) throw new CompileError(result.errors.map((error) => error.text).join('\n'));
    metafile = result.metafile;
  } catch (error) {
    return rethrowCompileError(error, "the browser code of the site's pages/ does not compile");
  }
  const toClient = (file: string) => path.relative(clientDir, path.resolve(siteDir, file)).split(path.sep).join('/');
  const byEntry = new Map<string, string>();
  for (const [file, output] of Object.entries(metafile.outputs)) {
    if (output.entryPoint !== undefined) byEntry.set(output.entryPoint.replace(`${ENTRY}:`, ''), file);
  }
  const files = (entry: string): PagesClientFiles => {
    const output = byEntry.get(entry);
    if (output === undefined) throw new Error(`isr build: esbuild produced no output for ${entry}`);
    return filesOf(metafile, output, toClient);
  };
  const pages: Record<string, PagesClientFiles> = {};
  for (const route of input.routes) pages[route.pattern] = files(entryOf(route.file));
  if (input.notFound !== undefined) pages['/404'] = files(entryOf(input.notFound));
  return {
    runtime: files(RUNTIME_ENTRY).modules[0]!,
    app: input.app === undefined ? undefined : files(entryOf(input.app)),
    pages,
  };
}
