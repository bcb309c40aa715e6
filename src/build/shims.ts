/**
 * What a site's imports of `next/*` and `isr/*` resolve to in both compilers (compile.ts for
 * `pages/`, compile-app.ts for `app/`): this package's own modules, so the examples of the Next.js
 * ISR guides run unmodified. `next` itself is an empty module (those examples import only types
 * from it, which the compiler erases).
 */

import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(import.meta.url);
/** `.ts` when running from the sources (tests), `.js` from the compiled package. */
const sourceExtension = path.extname(here);

/** This package's module at `relative` (from `src/` or `dist/`, without extension), as an absolute path. */
export function ownModule(relative: string): string {
  return path.join(path.dirname(here), '..', `${relative}${sourceExtension}`);
}

/** A file of this package, to resolve its own dependencies (React) from. */
export const OWN_ANCHOR = here;

const SHARED: Readonly<Record<string, string>> = {
  'next/cache': ownModule('app/cache-api'),
  'isr/cache': ownModule('app/cache-api'),
  next: ownModule('app/shims/next'),
  'next/router': ownModule('pages/router'),
  'next/head': ownModule('pages/shims/head'),
  'next/image': ownModule('render/image'),
  'next/constants': ownModule('render/next-constants'),
  'next/script': ownModule('render/script'),
  'next/og': ownModule('render/og'),
  'next/server': ownModule('render/next-server'),
};

/** Per router: the App Router's link navigates client-side and its `next/navigation` has the hooks. */
const SHIMS: Readonly<Record<'app' | 'pages', Readonly<Record<string, string>>>> = {
  app: { ...SHARED, 'next/navigation': ownModule('app/shims/navigation'), 'next/link': ownModule('app/shims/link') },
  pages: { ...SHARED, 'next/navigation': ownModule('app/navigation'), 'next/link': ownModule('pages/shims/link') },
};

/**
 * Packages of this one that a site's server code reaches through a shim (`next/og` →
 * `@vercel/og`) and that must stay external, loaded from this package's own `node_modules` as they
 * are installed: `@vercel/og` reads its WebAssembly and font files next to its own module.
 */
export const OWN_EXTERNAL = /^@vercel\/og$/;

/** The file URL of this package's dependency `specifier` (one {@link OWN_EXTERNAL} matches), for an external import. */
export function ownExternal(specifier: string): string {
  return import.meta.resolve(specifier);
}

/** Matches the imports {@link shimFor} decides: `next`, `isr` and their subpaths. */
export const SHIMMED = /^(next|isr)(\/.*)?$/;

/**
 * The file `specifier` (matched by {@link SHIMMED}) resolves to in the modules of `router`.
 * @returns the file, or an error message naming what isr provides.
 */
export function shimFor(specifier: string, router: 'app' | 'pages'): { file: string } | { error: string } {
  // `next/link.js` is the same module as `next/link` (Next.js ships one file per entry point,
  // and compiled packages import them with the extension).
  const file = SHIMS[router][specifier.replace(/\.js$/, '')];
  if (file !== undefined) return { file };
  if (specifier.startsWith('next/font')) {
    // A loader call isr compiled is gone before resolution (fonts.ts): this is any other use.
    return {
      error: `"${specifier}" is compiled only as next/font/local's \`const name = localFont({ … })\` at the top of a module (next/font/google is not supported)`,
    };
  }
  return {
    error: `"${specifier}" is not provided by isr (supported: next, next/cache, next/navigation, next/router, next/head, next/link, next/image, next/script, next/og, next/constants, next/server, isr/cache)`,
  };
}

/** `server-only` and `client-only` (https://nextjs.org/docs/app/getting-started/server-and-client-components#preventing-environment-poisoning). */
export const ENVIRONMENT_MARKER = /^(server|client)-only$/;

/**
 * What an import of `server-only` or `client-only` becomes in the Pages Router's browser bundle,
 * whether or not the site installed the package (Next.js provides both): `client-only` an empty
 * module, `server-only` an error thrown when a module importing it is loaded.
 */
export function browserEnvironmentMarker(specifier: 'server-only' | 'client-only'): { empty: true } | { error: string } {
  if (specifier === 'client-only') return { empty: true };
  return {
    error:
      "imports 'server-only', so it must not run in the browser, but browser code imports it: keep the server code out of the page's component",
  };
}
