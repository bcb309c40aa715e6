/**
 * `next/font/local` (https://nextjs.org/docs/app/api-reference/components/font#local-fonts) at
 * build time, for the three compilers of a build (the App Router's, the Pages Router's server and
 * browser bundles), which share one instance so a font has one class name and one URL:
 *
 * - each call (font-calls.ts) becomes a module exporting Next.js's object `{ className, style,
 *   variable? }` (render/font.ts) and importing the font's stylesheet;
 * - the stylesheet holds one `@font-face` per file, the `<name> Fallback` face sized from the
 *   font's metrics (`adjustFontFallback`, font-metrics.ts), and the classes: `className` sets
 *   `font-family` (and the weight and style of a single file), `variable` the CSS variable;
 * - the font files are copied, content-hashed, to `<build>/client/static/media/`, served at
 *   `/_isr/static/media/<name>.<hash>.<ext>` as immutable, and preloaded unless `preload: false`.
 *
 * The names are Next.js 16's (Turbopack's): the family is the const's name (`const myFont =
 * localFont(…)` is `'myFont'`, its fallback `'myFont Fallback'`); the classes are
 * `__className_<hash>` and `__variable_<hash>` (Next.js's webpack names; only their uniqueness matters).
 * The options and their checks are Next.js's `validateLocalFontFunctionCall`
 * (next/dist/compiled/@next/font/dist/local).
 */

import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { PluginBuild } from 'esbuild';
import { CLIENT_URL_PREFIX } from '../site/manifest.ts';
import { FontCallError, type LocalFontCall, rewriteFontCalls } from './font-calls.ts';
import { fallbackMetrics, fontMetrics } from './font-metrics.ts';
import { ownModule } from './shims.ts';

/** The prefix of a font call's module: `isr-font:<key>`. */
export const FONT_MODULE = 'isr-font:';
/** The prefix of a font call's stylesheet: `isr-font-css:<key>.css`. */
export const FONT_STYLESHEET = 'isr-font-css:';
/** The folder of the copies under `<build>/client` (shared with static-images.ts). */
const MEDIA_DIR = 'static/media';

const DISPLAY_VALUES = ['auto', 'block', 'swap', 'fallback', 'optional'];
const FORMATS: Readonly<Record<string, string>> = {
  woff: 'woff',
  woff2: 'woff2',
  ttf: 'truetype',
  otf: 'opentype',
  eot: 'embedded-opentype',
};

interface FontSource {
  path: string;
  weight?: string;
  style?: string;
}

/** The options of `localFont`, checked, with Next.js's defaults. */
interface LocalFontOptions {
  src: FontSource[];
  display: string;
  weight?: string;
  style?: string;
  fallback?: string[];
  preload: boolean;
  variable?: string;
  adjustFontFallback?: string | false;
  declarations?: { prop: string; value: string }[];
}

interface RegisteredCall extends LocalFontCall {
  /** The module that calls it, absolute. */
  file: string;
  /** The same, relative to the site, for messages. */
  relative: string;
}

interface LoadedFont {
  module: string;
  stylesheet: string;
}

const asString = (value: unknown) => (value === undefined || value === null ? undefined : String(value));

/**
 * `options` checked as Next.js checks them.
 * @throws FontCallError naming `file` and the option.
 */
function localFontOptions(options: unknown, file: string): LocalFontOptions {
  const fail = (message: string): never => {
    throw new FontCallError(file, `next/font/local: ${message}`);
  };
  const given = (options ?? {}) as Record<string, unknown>;
  const display = asString(given.display) ?? 'swap';
  if (!DISPLAY_VALUES.includes(display)) fail(`invalid display value \`${display}\` (available: ${DISPLAY_VALUES.join(', ')})`);
  if (given.src === undefined || given.src === '') fail('missing required `src` property');
  const weight = asString(given.weight);
  const style = asString(given.style);
  const src: FontSource[] = Array.isArray(given.src)
    ? (given.src as Record<string, unknown>[]).map((entry) => ({
        path: String(entry?.path),
        weight: asString(entry?.weight),
        style: asString(entry?.style),
      }))
    : [{ path: String(given.src), weight, style }];
  if (src.length === 0) fail('unexpected empty `src` array');
  for (const source of src) {
    if (!/\.(woff|woff2|eot|ttf|otf)$/.test(source.path)) fail(`unexpected file \`${source.path}\``);
  }
  const declarations = given.declarations as LocalFontOptions['declarations'];
  for (const declaration of Array.isArray(declarations) ? declarations : []) {
    if (['src', 'font-display', 'font-weight', 'font-style'].includes(declaration?.prop))
      fail(`invalid declaration prop: \`${declaration.prop}\``);
  }
  const adjust = given.adjustFontFallback;
  return {
    src,
    display,
    weight,
    style,
    fallback: Array.isArray(given.fallback) ? given.fallback.map(String) : undefined,
    preload: given.preload !== false,
    variable: asString(given.variable),
    adjustFontFallback: adjust === false ? false : asString(adjust),
    declarations: Array.isArray(declarations) ? declarations : undefined,
  };
}

/** A weight's distance from 400, or from the range of a variable font (Next.js's pickFontFileForFallbackGeneration). */
function distanceFromNormal(weight: string | undefined): number {
  if (!weight) return 0;
  const toNumber = (value: string) => (value === 'normal' ? 400 : value === 'bold' ? 700 : Number(value));
  const [first, second] = weight.trim().split(/ +/).map(toNumber) as [number, number | undefined];
  if (second === undefined) return first - 400;
  if (first <= 400 && second >= 400) return 0;
  return Math.abs(first - 400) < Math.abs(second - 400) ? first - 400 : second - 400;
}

/** The file most of a page's text is likely set in: the weight nearest 400, normal style, the thinner on a tie. */
function fileForFallback<T extends { source: FontSource }>(files: T[]): T {
  return files.reduce((chosen, current) => {
    const chosenDistance = distanceFromNormal(chosen.source.weight);
    const currentDistance = distanceFromNormal(current.source.weight);
    if (chosenDistance === currentDistance && (current.source.style === undefined || current.source.style === 'normal')) return current;
    if (Math.abs(currentDistance) < Math.abs(chosenDistance)) return current;
    if (Math.abs(currentDistance) === Math.abs(chosenDistance) && currentDistance < chosenDistance) return current;
    return chosen;
  });
}

const isRange = (value: string | undefined) => value?.trim().includes(' ') === true;
const rule = (selector: string, declarations: [string, string | undefined][]) =>
  `${selector} {\n${declarations
    .filter(([, value]) => value !== undefined)
    .map(([property, value]) => `  ${property}: ${value};\n`)
    .join('')}}\n`;

export class Fonts {
  private readonly calls = new Map<string, RegisteredCall>();
  private readonly loaded = new Map<string, Promise<LoadedFont>>();
  /** The font files to copy: path under `<build>/client` → bytes. */
  private readonly files = new Map<string, Buffer>();

  /** The URLs of the copies, which the bundlers leave as they are in the stylesheets. */
  readonly urlPattern: RegExp;

  /**
   * @param siteDir the site's folder, absolute: messages name files relative to it.
   * @param urlPrefix where `<build>/client` is served (`/_isr/`, or `/docs/_isr/` under a `basePath`).
   */
  constructor(
    readonly siteDir: string,
    private readonly urlPrefix = CLIENT_URL_PREFIX,
  ) {
    this.urlPattern = new RegExp(`^${urlPrefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}${MEDIA_DIR}/`);
  }

  /**
   * `source` (the module at `file`, absolute) with its `next/font/local` calls replaced by imports
   * of their modules, or undefined when it has none.
   * @throws FontCallError naming the file (font-calls.ts).
   */
  rewrite(source: string, file: string): string | undefined {
    const relative = path.relative(this.siteDir, file);
    return rewriteFontCalls(source, relative, (call) => {
      const key = createHash('sha256')
        .update(JSON.stringify([file, call.variableName, call.options]))
        .digest('hex')
        .slice(0, 12);
      this.calls.set(key, { ...call, file, relative });
      return `${FONT_MODULE}${key}`;
    });
  }

  /** The JavaScript module of the call `key` (the part of its specifier after {@link FONT_MODULE}). */
  async module(key: string): Promise<string> {
    return (await this.load(key)).module;
  }

  /** The stylesheet of the call `key` (its specifier after {@link FONT_STYLESHEET}, without `.css`). */
  async stylesheet(key: string): Promise<string> {
    return (await this.load(key)).stylesheet;
  }

  private load(key: string): Promise<LoadedFont> {
    let font = this.loaded.get(key);
    if (font === undefined) {
      const call = this.calls.get(key);
      if (call === undefined) throw new Error(`isr build: no next/font call ${key}`);
      this.loaded.set(key, (font = this.compile(key, call)));
    }
    return font;
  }

  private async compile(key: string, call: RegisteredCall): Promise<LoadedFont> {
    const options = localFontOptions(call.options, call.relative);
    const files = await Promise.all(
      options.src.map(async (source) => {
        const relative = source.path.startsWith('.') ? source.path : `./${source.path}`;
        let body: Buffer;
        try {
          body = await readFile(path.resolve(path.dirname(call.file), relative));
        } catch (error) {
          throw new FontCallError(call.relative, `next/font/local cannot read the font file ${source.path} (${(error as Error).message})`);
        }
        const extension = path.extname(source.path).slice(1);
        const hash = createHash('sha256').update(body).digest('hex').slice(0, 8);
        const copy = `${MEDIA_DIR}/${path.basename(source.path, path.extname(source.path))}.${hash}.${extension}`;
        this.files.set(copy, body);
        return { source, body, href: `${this.urlPrefix}${copy}`, extension };
      }),
    );
    const custom = options.declarations?.find((declaration) => declaration.prop === 'font-family')?.value;
    const family = (custom ?? call.variableName).replace(/['"]/g, '');
    const faces = files.map(({ source, href, extension }) =>
      rule('@font-face', [
        ...(options.declarations ?? []).map(({ prop, value }): [string, string] => [prop, value]),
        ['font-family', `'${family}'`],
        ['src', `url(${href}) format('${FORMATS[extension]}')`],
        ['font-display', options.display],
        ['font-weight', source.weight ?? options.weight],
        ['font-style', source.style ?? options.style],
      ]),
    );
    const families = [`'${family}'`];
    if (options.adjustFontFallback !== false) {
      // As Next.js: a file whose metrics cannot be read gets no fallback face.
      let metrics: ReturnType<typeof fontMetrics> | undefined;
      try {
        metrics = fontMetrics(fileForFallback(files).body);
      } catch {
        metrics = undefined;
      }
      if (metrics !== undefined) {
        const fallback = fallbackMetrics(metrics, options.adjustFontFallback === 'Times New Roman' ? 'serif' : 'sans-serif');
        families.push(`'${family} Fallback'`);
        faces.push(
          rule('@font-face', [
            ['font-family', `'${family} Fallback'`],
            ['src', `local("${fallback.fallbackFont}")`],
            ['ascent-override', fallback.ascentOverride],
            ['descent-override', fallback.descentOverride],
            ['line-gap-override', fallback.lineGapOverride],
            ['size-adjust', fallback.sizeAdjust],
          ]),
        );
      }
    }
    families.push(...(options.fallback ?? []));
    const fontFamily = families.join(', ');
    const weight = options.src.length === 1 ? options.src[0]!.weight : undefined;
    const style = options.src.length === 1 ? options.src[0]!.style : undefined;
    const hash = createHash('sha1').update(faces.join('')).digest('hex').slice(0, 6);
    const className = `__className_${hash}`;
    const variable = options.variable === undefined ? undefined : `__variable_${hash}`;
    const classes = [
      rule(`.${className}`, [
        ['font-family', fontFamily],
        ['font-weight', isRange(weight) ? undefined : weight],
        ['font-style', isRange(style) ? undefined : style],
      ]),
      ...(variable === undefined ? [] : [rule(`.${variable}`, [[options.variable!, fontFamily]])]),
    ];
    const font = {
      className,
      style: {
        fontFamily,
        ...(weight !== undefined && !Number.isNaN(Number(weight)) ? { fontWeight: Number(weight) } : {}),
        ...(style !== undefined && !isRange(style) ? { fontStyle: style } : {}),
      },
      ...(variable === undefined ? {} : { variable }),
    };
    const preloads = options.preload ? files.map(({ href, extension }) => ({ href, type: `font/${extension}` })) : [];
    return {
      stylesheet: [...faces, ...classes].join('\n'),
      module: [
        `import ${JSON.stringify(`${FONT_STYLESHEET}${key}.css`)};`,
        `import { nextFont } from ${JSON.stringify(ownModule('render/font'))};`,
        `export default nextFont(${JSON.stringify(font)}, ${JSON.stringify(preloads)});`,
        '',
      ].join('\n'),
    };
  }

  /** Writes every font file the build's stylesheets name into `clientDir` (`<build>/client`). */
  async writeTo(clientDir: string): Promise<void> {
    for (const [file, body] of this.files) {
      await mkdir(path.dirname(path.join(clientDir, file)), { recursive: true });
      await writeFile(path.join(clientDir, file), body);
    }
  }
}

/** The esbuild loader of a module file: `.js` may hold JSX, as Next.js allows. */
export function esbuildLoader(file: string): 'ts' | 'tsx' | 'jsx' {
  return /\.[cm]?tsx$/.test(file) ? 'tsx' : /\.[cm]?ts$/.test(file) ? 'ts' : 'jsx';
}

/**
 * The hooks of an esbuild build for `next/font/local`: the site's modules (and packages') with a
 * font call are rewritten, the generated modules and stylesheets loaded, the font URLs left as they are.
 * `rewrite` is how a module's source is read (compile-pages-client.ts also removes data functions).
 */
export function loadFonts(build: PluginBuild, fonts: Fonts): void {
  build.onResolve({ filter: new RegExp(`^${FONT_MODULE}`) }, (args) => ({ path: args.path, namespace: 'isr-font' }));
  build.onResolve({ filter: new RegExp(`^${FONT_STYLESHEET}`) }, (args) => ({ path: args.path, namespace: 'isr-font' }));
  build.onResolve({ filter: fonts.urlPattern }, () => ({ external: true }));
  build.onLoad({ filter: /.*/, namespace: 'isr-font' }, async (args) => {
    try {
      if (args.path.startsWith(FONT_STYLESHEET)) {
        return { contents: await fonts.stylesheet(args.path.slice(FONT_STYLESHEET.length, -'.css'.length)), loader: 'css' };
      }
      return { contents: await fonts.module(args.path.slice(FONT_MODULE.length)), loader: 'js', resolveDir: fonts.siteDir };
    } catch (error) {
      if (error instanceof FontCallError) return { errors: [{ text: error.message }] };
      throw error;
    }
  });
  build.onLoad({ filter: /\.[cm]?[jt]sx?$/ }, async (args) => {
    const source = await readFile(args.path, 'utf8');
    try {
      const contents = fonts.rewrite(source, args.path);
      return contents === undefined ? undefined : { contents, loader: esbuildLoader(args.path), resolveDir: path.dirname(args.path) };
    } catch (error) {
      if (error instanceof FontCallError) return { errors: [{ text: error.message }] };
      throw error;
    }
  });
}
