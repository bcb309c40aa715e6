/**
 * The middleware step of `isr build`: finds the site's `proxy` or `middleware` file, compiles it
 * with the server bundle's rules (compile.ts: `next/server` is this package's render/next-server.ts)
 * into `<build>/middleware/`, loads it, and checks its exports and `config` (site/middleware.ts).
 *
 * Where Next.js 16 looks (`next build`, build/index.js): `proxy.<ext>` or `middleware.<ext>` beside
 * `app/` and `pages/`, with the page extensions `tsx`, `ts`, `jsx`, `js`. Both at once is an error;
 * `middleware` is deprecated in favour of `proxy` but still run.
 */

import { existsSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../config/errors.ts';
import type { Logger } from '../log.ts';
import { checkMiddlewareModule, type ManifestMiddleware, type MiddlewareConvention } from '../site/middleware.ts';
import { compileSite, type SiteCompileOptions } from './compile.ts';

/** The extensions Next.js looks for (its default `pageExtensions`), in its order of preference. */
const EXTENSIONS = ['tsx', 'ts', 'jsx', 'js'];

/** The first `<name>.<ext>` in `dir`, relative to it. */
function findConvention(dir: string, name: MiddlewareConvention): string | undefined {
  return EXTENSIONS.map((ext) => `${name}.${ext}`).find((file) => existsSync(path.join(dir, file)));
}

/**
 * The site's middleware file, relative to `siteDir`, and its convention, or undefined.
 * A `src/proxy.ts` or `src/middleware.ts` beside root `app/` or `pages/` folders is one Next.js
 * does not run either: it is reported in a warning, not run.
 * @throws ConfigError when both `proxy` and `middleware` files exist.
 */
export function findMiddleware(siteDir: string, logger: Logger): { file: string; convention: MiddlewareConvention } | undefined {
  const proxy = findConvention(siteDir, 'proxy');
  const middleware = findConvention(siteDir, 'middleware');
  for (const name of ['proxy', 'middleware'] as const) {
    const misplaced = findConvention(path.join(siteDir, 'src'), name);
    if (misplaced !== undefined) {
      logger.warn(
        `src/${misplaced} is not run: a ${name} file belongs beside app/ and pages/, at the site's root (as Next.js looks for it)`,
      );
    }
  }
  if (proxy !== undefined && middleware !== undefined) {
    throw new ConfigError(`both ${middleware} and ${proxy} exist: keep ${proxy} only (Next.js 16 renamed middleware to proxy)`);
  }
  if (proxy !== undefined) return { file: proxy, convention: 'proxy' };
  if (middleware !== undefined) return { file: middleware, convention: 'middleware' };
  return undefined;
}

/**
 * Compiles and checks the site's middleware into `<workDir>/middleware/`.
 * @param load loads a compiled module of the build folder (`Site.load`).
 * @returns its manifest record, or undefined when the site has none.
 * @throws CompileError when it does not compile; ConfigError naming the file for a missing
 *   function export, a module that throws when loaded, a bad `config.matcher` or a `config` isr does not support.
 */
export async function buildMiddleware(
  siteDir: string,
  workDir: string,
  options: SiteCompileOptions,
  logger: Logger,
  load: (module: string) => Promise<Record<string, unknown>>,
): Promise<ManifestMiddleware | undefined> {
  const found = findMiddleware(siteDir, logger);
  if (found === undefined) return undefined;
  const compiled = await compileSite(siteDir, [found.file], path.join(workDir, 'middleware'), options);
  const module = compiled.get(found.file)!;
  const loaded = await load(module).catch((error: unknown) => {
    throw new ConfigError(`${found.file} failed to load: ${(error as Error).message ?? String(error)}`);
  });
  const checked = checkMiddlewareModule(loaded, found.file, found.convention);
  for (const warning of checked.warnings) logger.warn(warning);
  if (found.convention === 'middleware') {
    logger.info(
      `${found.file}: the middleware file convention is deprecated in Next.js 16 in favour of proxy (both run the same under isr)`,
    );
  }
  return { file: found.file, module, export: checked.export, matchers: checked.matchers };
}
