/**
 * Compiles a site's `app/` folder (the App Router) with Vite and `@vitejs/plugin-rsc`, the Vite
 * team's React Server Components integration, into three bundles under the build folder:
 *
 *   rsc/     the server runtime (app/rsc/entry.rsc.ts) with every `app/` module, built under the
 *            `react-server` condition: pages and layouts are Server Components
 *   ssr/     the HTML renderer (app/rsc/entry.ssr.ts) with the client components, for their HTML
 *   client/  the browser code (app/rsc/entry.browser.ts and each client component), content-hashed
 *            under `client/static/`, served at `/_isr/static/` as immutable
 *
 * A module marked `'use client'` (in the site or in a package) becomes a client reference in the
 * server runtime. React comes from this package (one copy per side, shared with the site's
 * packages); `next/*` imports resolve to this package's modules (shims.ts); `@/x` is the site's
 * `x` unless its tsconfig maps it. docs/architecture.md says why Vite and the plugin were chosen.
 * @see https://github.com/vitejs/vite-plugin-react/tree/main/packages/plugin-rsc
 */

import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import rsc from '@vitejs/plugin-rsc';
import { createBuilder, type Plugin } from 'vite';
import type { CacheLifeProfiles } from '../config/cache-life.ts';
import type { Segment } from '../render/routes.ts';
import { APP_MODULE_PREFIX, CLIENT_URL_PREFIX } from '../site/manifest.ts';
import { CompileError, packageOf, type SiteCompileOptions } from './compile.ts';
import { FontCallError } from './font-calls.ts';
import { FONT_MODULE, FONT_STYLESHEET, Fonts } from './fonts.ts';
import { loadPostcssPlugins } from './postcss.ts';
import { siteReactPackages } from './react-packages.ts';
import { ENVIRONMENT_MARKER, OWN_ANCHOR, OWN_EXTERNAL, ownExternal, ownModule, SHIMMED, shimFor } from './shims.ts';
import { STATIC_IMAGE, StaticImages } from './static-images.ts';
import { cacheDirectivePlugin } from './use-cache-transform.ts';

/**
 * What a failed Vite build reports, for a user: an unresolved import as `next build` words it
 * ("Module not found"), file relative to the site; otherwise the bundler's diagnostics without its
 * own stack frames.
 */
function viteFailure(message: string, siteDir: string): string {
  const unresolved = /failed to resolve import "([^"]+)" from "([^"]+)"/.exec(message);
  if (unresolved !== null) {
    const [, specifier = '', importer = ''] = unresolved;
    const file = path.relative(siteDir, importer);
    const bare = !specifier.startsWith('.') && !specifier.startsWith('/');
    const advice = bare ? `install it (npm install ${packageOf(specifier)})` : 'check the path';
    return `${file}: Module not found: can't resolve "${specifier}": ${advice}`;
  }
  return withoutStack(message);
}

/** `next/og`'s module, whose `@vercel/og` is this package's (shims.ts `OWN_EXTERNAL`). */
const OG_SHIM = ownModule('render/og');

/** The virtual module listing the site's `app/` modules (app/rsc/virtual.d.ts). */
const APP_MODULES = 'virtual:isr/app-modules';
/** The virtual module holding the build ID, for the browser's data-route URLs (app/rsc/router.ts). */
const BUILD_ID = 'virtual:isr/build-id';
/** The virtual module listing the page routes' segments in match order, for `useParams` (app/navigation-client.ts). */
const PAGE_ROUTES = 'virtual:isr/page-routes';
/** The virtual module holding the site's cache profiles and whether Cache Components is on (app/rsc/entry.rsc.ts). */
const CACHE_CONFIG = 'virtual:isr/cache-config';
/**
 * An empty stylesheet every route module imports, so the RSC plugin links the CSS of the module's
 * whole graph (its components', its fonts') from its components: the plugin does that only for
 * modules that import a stylesheet themselves.
 */
const ROUTE_STYLESHEET = 'virtual:isr/route.css';
/** The App Router's component files: pages, layouts and the boundaries. */
const COMPONENT_FILE = /^(page|layout|template|error|global-error|loading|not-found|default)\./;
/** What `server-only` and `client-only` become where they may be imported. */
const EMPTY_MODULE = '\0isr:empty';

/** The folder of the browser's files under `client/` (served at `/_isr/static/`). */
export const CLIENT_ASSETS_DIR = 'static';

/** What next.config says of caching (config/next-config.ts). */
export interface AppCacheOptions {
  /** `cacheComponents: true`. */
  cacheComponents: boolean;
  /** Whether the `'use cache'` directive is on (`cacheComponents` or `experimental.useCache`). */
  useCache: boolean;
  /** The cache profiles (built-in and next.config's `cacheLife`). */
  cacheLife: CacheLifeProfiles;
}

export interface CompiledApp {
  /** For each `app/` source file (relative to the site), its manifest key: `rsc:app/page.tsx`. */
  modules: Map<string, string>;
  /** The server runtime, relative to the build folder. */
  runtime: string;
}

/**
 * The plugin wiring a site into isr's App Router runtime: the list of its `app/` modules, the
 * `next/*` shims, React from this package and the `@/` alias.
 */
function isrAppPlugin(
  siteDir: string,
  files: readonly string[],
  buildId: string,
  pageRoutes: readonly { segments: readonly Segment[] }[],
  images: StaticImages,
  cache: AppCacheOptions,
  fonts: Fonts,
): Plugin {
  // The modules that render components (not route handlers or metadata routes, whose default
  // export the RSC plugin would otherwise wrap as a component to add the stylesheet links).
  const routeModules = new Set(
    files.filter((file) => COMPONENT_FILE.test(path.posix.basename(file))).map((file) => path.join(siteDir, file)),
  );
  return {
    name: 'isr-app',
    // Before every other resolver (the RSC plugin's included): a site with Next.js installed must
    // still get isr's next/* and isr's React.
    enforce: 'pre',
    async resolveId(source, importer, options) {
      if (source === APP_MODULES || source === BUILD_ID || source === PAGE_ROUTES || source === CACHE_CONFIG || source === ROUTE_STYLESHEET)
        return `\0${source}`;
      // A next/font/local call's module and stylesheet (fonts.ts); the stylesheet's id ends in .css.
      if (source.startsWith(FONT_MODULE) || source.startsWith(FONT_STYLESHEET)) return `\0${source}`;
      // Provided even when the site has not installed them, as Next.js does. (The RSC plugin
      // refuses each in the wrong environment first, naming the module that imports it.)
      if (ENVIRONMENT_MARKER.test(source)) return EMPTY_MODULE;
      if (SHIMMED.test(source)) {
        const shim = shimFor(source, 'app');
        if ('error' in shim) this.error(`${importer ? `${path.relative(siteDir, importer)}: ` : ''}${shim.error}`);
        return shim.file;
      }
      if (OWN_EXTERNAL.test(source) && importer === OG_SHIM) return { id: ownExternal(source), external: true };
      if (/^react(-dom)?(\/.*)?$/.test(source)) {
        // This package's React, under the environment's conditions (react-server in the runtime).
        return this.resolve(source, OWN_ANCHOR, { ...options, skipSelf: true });
      }
      if (source.startsWith('@/')) {
        const own = await this.resolve(source, importer, { ...options, skipSelf: true });
        if (own !== null && !own.external) return own;
        return this.resolve(`./${source.slice(2)}`, path.join(siteDir, 'index'), { ...options, skipSelf: true });
      }
      return undefined;
    },
    load(id) {
      if (id === EMPTY_MODULE) return 'export {};\n';
      if (id === `\0${ROUTE_STYLESHEET}`) return '';
      if (id.startsWith(`\0${FONT_MODULE}`)) return fonts.module(id.slice(FONT_MODULE.length + 1));
      if (id.startsWith(`\0${FONT_STYLESHEET}`)) return fonts.stylesheet(id.slice(FONT_STYLESHEET.length + 1, -'.css'.length));
      if (STATIC_IMAGE.test(id) && path.isAbsolute(id)) return images.module(id);
      if (id === `\0${BUILD_ID}`) return `export default ${JSON.stringify(buildId)};\n`;
      if (id === `\0${CACHE_CONFIG}`) {
        return `export default ${JSON.stringify({ cacheComponents: cache.cacheComponents, profiles: cache.cacheLife })};\n`;
      }
      if (id === `\0${PAGE_ROUTES}`) return `export default ${JSON.stringify(pageRoutes.map(({ segments }) => ({ segments })))};\n`;
      if (id !== `\0${APP_MODULES}`) return undefined;
      const entries = files.map((file) => `  ${JSON.stringify(file)}: () => import(${JSON.stringify(path.join(siteDir, file))}),`);
      return `export default {\n${entries.join('\n')}\n};\n`;
    },
    transform(code, id) {
      if (id.startsWith('\0') || !/\.[cm]?[jt]sx?$/.test(id)) return undefined;
      try {
        const rewritten = fonts.rewrite(code, id);
        if (this.environment.name === 'rsc' && routeModules.has(id)) {
          // At the end: a leading directive ('use client') must stay first; imports are hoisted.
          return { code: `${rewritten ?? code}\nimport ${JSON.stringify(ROUTE_STYLESHEET)};\n`, map: null };
        }
        return rewritten === undefined ? undefined : { code: rewritten, map: null };
      } catch (error) {
        if (error instanceof FontCallError) this.error(error.message);
        throw error;
      }
    },
  };
}

/**
 * A bundler's message without the stack traces Rolldown puts in it (the problem is the site's, not
 * isr's: its file and message are what a person needs) or the name of its error class.
 */
function withoutStack(message: string): string {
  return message
    .split('\n')
    .filter((line) => !/^\s+at \S/.test(line))
    .map((line) => line.replace(/^RolldownError: /, ''))
    .join('\n');
}

/**
 * Compiles `files` (the site's `app/` modules, relative to `siteDir`, `/`-separated) into
 * `buildDir`'s `rsc/`, `ssr/` and `client/` folders, for the build `build.buildId`, whose App
 * Router pages are `build.pageRoutes` (in match order), with the build's shared options.
 * @throws CompileError with the file and the problem when the site does not compile.
 */
export async function compileApp(
  siteDir: string,
  files: readonly string[],
  buildDir: string,
  build: {
    buildId: string;
    /** Where `<build>/client` is served (`/_isr/`, `/docs/_isr/` under a `basePath`): Vite's `base`. */
    clientUrlPrefix?: string;
    pageRoutes: readonly { segments: readonly Segment[] }[];
    cache: AppCacheOptions;
  } & SiteCompileOptions,
): Promise<CompiledApp> {
  const images = build.images ?? new StaticImages();
  const fonts = build.fonts ?? new Fonts(siteDir);
  const output = { entryFileNames: '[name].js', chunkFileNames: 'chunks/[name]-[hash].js' };
  const nodeEnv = process.env.NODE_ENV;
  try {
    // The site's React packages are bundled: a 'use client' module in one is a client reference
    // only when the bundler sees it. (The RSC plugin crawls the current folder's package.json for
    // this, which is not the site's when isr builds another folder.)
    const noExternal = await siteReactPackages(siteDir);
    // The site's PostCSS plugins, read with Next.js's rules (postcss.ts), not Vite's loader's.
    const postcssPlugins = await loadPostcssPlugins(siteDir);
    const builder = await createBuilder({
      configFile: false,
      root: siteDir,
      mode: 'production',
      logLevel: 'silent',
      base: build.clientUrlPrefix ?? CLIENT_URL_PREFIX,
      publicDir: false,
      // The site's tsconfig `paths` and `baseUrl`, as Next.js resolves them.
      resolve: { tsconfigPaths: true },
      // JSX is always compiled, with React's automatic runtime, whatever the tsconfig's `jsx` says
      // (Next.js's own tsconfig has "preserve", which would leave JSX for the RSC plugin to parse).
      oxc: { jsx: { runtime: 'automatic' } },
      // Every environment's assets (the client's scripts and the CSS the server components import,
      // which the RSC plugin links from the page) go to one folder, served as immutable.
      build: { assetsDir: CLIENT_ASSETS_DIR },
      ...(postcssPlugins === undefined ? {} : { css: { postcss: { plugins: postcssPlugins } } }),
      // React's server builds choose development or production at run time; a cached page is
      // always rendered by the production build, as the browser's copy is.
      define: { 'process.env.NODE_ENV': JSON.stringify('production'), ...build.define },
      environments: {
        // Server source maps: an error the site's code throws in a prerender is reported at its
        // own file and line (build/errors.ts), as `next build` does.
        rsc: { resolve: { noExternal }, build: { outDir: path.join(buildDir, 'rsc'), sourcemap: true, rollupOptions: { output } } },
        ssr: { resolve: { noExternal }, build: { outDir: path.join(buildDir, 'ssr'), sourcemap: true, rollupOptions: { output } } },
        client: { build: { outDir: path.join(buildDir, 'client') } },
      },
      plugins: [
        // Before the RSC plugin's transforms: its CSS-export wrapper puts code above a file-level
        // 'use cache', which must still be the module's first statement when this plugin reads it.
        cacheDirectivePlugin(siteDir, build.cache.useCache),
        rsc({
          entries: {
            rsc: ownModule('app/rsc/entry.rsc'),
            ssr: ownModule('app/rsc/entry.ssr'),
            client: ownModule('app/rsc/entry.browser'),
          },
          serverHandler: false,
        }),
        isrAppPlugin(siteDir, files, build.buildId, build.pageRoutes, images, build.cache, fonts),
      ],
    });
    await builder.buildApp();
  } catch (error) {
    throw new CompileError(`the site's app/ does not compile:\n${viteFailure((error as Error).message, siteDir)}`);
  } finally {
    // Vite (and the PostCSS config loader) set NODE_ENV for the build; React modules this process
    // loads later (react-dom/static for the Pages Router) must pick the same build as those loaded before.
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
  }
  // The bundles are ES modules named .js: their folders say so to Node.
  for (const folder of ['rsc', 'ssr']) {
    await mkdir(path.join(buildDir, folder), { recursive: true });
    await writeFile(path.join(buildDir, folder, 'package.json'), '{ "type": "module" }\n');
  }
  return {
    modules: new Map(files.map((file) => [file, `${APP_MODULE_PREFIX}${file}`])),
    runtime: 'rsc/index.js',
  };
}
