/**
 * The `'use cache'` directive at build time (the "use cache" directive reference,
 * https://nextjs.org/docs/app/api-reference/directives/use-cache): a Vite plugin for the App
 * Router's server environment that turns each function so marked into a call of
 * `cachedFunction` (app/rsc/use-cache.ts).
 *
 * - At the top of a function body (`'use cache'`, `'use cache: remote'`, `'use cache: private'`):
 *   the function is hoisted to the module's top level, wrapped once, and the values it closes
 *   over are bound as its leading arguments, so they are part of its cache key as Next.js makes
 *   them (`@vitejs/plugin-rsc`'s `transformHoistInlineDirective`, the same hoisting as its inline
 *   `'use server'`).
 * - At the top of a file: every exported function is wrapped (`transformWrapExport`); other
 *   exports are left as they are.
 *
 * Each wrapped function is named by its file (relative to the site) and its name in the module,
 * the "function ID" of Next.js's cache key. Without `cacheComponents` (or `experimental.useCache`)
 * the directive fails the build with Next.js's message, naming the file.
 */

import path from 'node:path';
import { transformHoistInlineDirective, transformWrapExport } from '@vitejs/plugin-rsc/transforms';
import type { Plugin } from 'vite';
import { parseAstAsync } from 'vite';
import { ownModule } from './shims.ts';

/** A cache directive: `use cache`, optionally `: <kind>`. */
const DIRECTIVE = /^use cache(?::\s*[\w-]+)?$/;

/** The runtime's name in a transformed module. */
const RUNTIME = '__isr_cachedFunction';

type Program = Awaited<ReturnType<typeof parseAstAsync>>;

/** The file-level cache directive of `program` (among its leading directives), if any. */
function fileDirective(program: Program): string | undefined {
  for (const node of program.body) {
    if (node.type !== 'ExpressionStatement' || node.expression.type !== 'Literal' || typeof node.expression.value !== 'string') break;
    if (DIRECTIVE.test(node.expression.value)) return node.expression.value;
  }
  return undefined;
}

/** Whether an export's value is a function (an export whose value is not known here counts as one; the runtime leaves non-functions alone). */
function isFunctionNode(node: { type: string } | undefined | null): boolean {
  return (
    node == null || node.type === 'FunctionDeclaration' || node.type === 'FunctionExpression' || node.type === 'ArrowFunctionExpression'
  );
}

/**
 * The plugin.
 * @param siteDir the site's folder, to name files relative to it.
 * @param enabled whether next.config turns the directive on (`cacheComponents`, `experimental.useCache`).
 */
export function cacheDirectivePlugin(siteDir: string, enabled: boolean): Plugin {
  const runtimeModule = ownModule('app/rsc/use-cache');
  return {
    name: 'isr-use-cache',
    applyToEnvironment: (environment) => environment.name === 'rsc',
    async transform(code, id) {
      if (!code.includes('use cache') || id.startsWith('\0') || !/\.[cm]?[jt]sx?$/.test(id.split('?')[0]!)) return undefined;
      const file = path.relative(siteDir, id.split('?')[0]!).split(path.sep).join('/');
      const program = await parseAstAsync(code);
      const topLevel = fileDirective(program);
      let hoisted: ReturnType<typeof transformHoistInlineDirective>;
      try {
        hoisted = transformHoistInlineDirective(code, program as never, {
          directive: DIRECTIVE,
          rejectNonAsyncFunction: true,
          noExport: true,
          hoistRuntime: true,
          runtime: (value, name, meta) =>
            `${RUNTIME}(${value}, ${JSON.stringify(meta.directiveMatch[0])}, ${JSON.stringify(`${file}#${name}`)})`,
        });
      } catch (error) {
        const message = (error as Error).message;
        this.error(`${file}: ${message.includes('non async function') ? '"use cache" functions must be async functions' : message}`);
      }
      if (topLevel === undefined && hoisted.names.length === 0) return undefined;
      if (!enabled) {
        this.error(
          `${file}: To use "${topLevel ?? 'use cache'}", please enable the feature flag \`cacheComponents\` in your Next.js config (next.config: cacheComponents: true).`,
        );
      }
      let output = hoisted.output;
      if (topLevel !== undefined) {
        // The hoisting changed the text: the file-level wrap works on the result, parsed again.
        const text = output.toString();
        const wrapped = transformWrapExport(text, (await parseAstAsync(text)) as never, {
          runtime: (value, name) => `${RUNTIME}(${value}, ${JSON.stringify(topLevel)}, ${JSON.stringify(`${file}#${name}`)})`,
          filter: (_name, meta) => isFunctionNode(meta.valueNode as { type: string } | undefined),
          ignoreExportAllDeclaration: true,
        });
        output = wrapped.output;
      }
      output.prepend(`import { cachedFunction as ${RUNTIME} } from ${JSON.stringify(runtimeModule)};\n`);
      return { code: output.toString(), map: output.generateMap({ hires: 'boundary', source: id }) };
    },
  };
}
