/**
 * Finds a module's `next/font` calls, as Next.js's font transform does
 * (https://nextjs.org/docs/app/api-reference/components/font): `const name = localFont({ … })` at
 * the top of a module, with `localFont` the default import of `next/font/local` and its options
 * written as literals, becomes a reference to a module isr generates for that call (fonts.ts); the
 * import itself goes. `next/font/google` is refused, naming the file and the fonts: Next.js
 * downloads those files from Google Fonts during `next build`, which isr does not do.
 *
 * The source is parsed with Vite's `parseAst` (Oxc); offsets are JavaScript string offsets.
 */

import { parseAst } from 'vite';
import { languageOf } from './ssg-transform.ts';

interface Node {
  type: string;
  start: number;
  end: number;
  [key: string]: unknown;
}

/** One `const variableName = localFont(options)` of a module. */
export interface LocalFontCall {
  /** The const's name: the font's `font-family` (as Next.js names it). */
  variableName: string;
  /** The call's argument, evaluated. */
  options: unknown;
}

/** The error of a `next/font` call isr cannot compile; `message` names the file. */
export class FontCallError extends Error {
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'FontCallError';
  }
}

const LOCAL = 'next/font/local';
const GOOGLE = 'next/font/google';

/** What a site does instead of next/font/google. */
const GOOGLE_ADVICE =
  'Next.js downloads these fonts from Google Fonts during the build, and isr builds without the network: ' +
  'download the font files (woff2) into the site and load them with next/font/local ' +
  '(https://nextjs.org/docs/app/api-reference/components/font#local-fonts)';

/** `node`'s value when it is written as a literal (strings, numbers, booleans, arrays, objects). */
function literal(node: Node, file: string): unknown {
  switch (node.type) {
    case 'Literal':
      return node.value;
    case 'TemplateLiteral':
      if ((node.expressions as Node[]).length === 0) return ((node.quasis as Node[])[0]!.value as { cooked: string }).cooked;
      break;
    case 'ArrayExpression':
      return (node.elements as (Node | null)[]).map((element) => (element === null ? undefined : literal(element, file)));
    case 'ObjectExpression': {
      const object: Record<string, unknown> = {};
      for (const property of node.properties as Node[]) {
        const key = property.key as Node;
        if (property.type !== 'Property' || property.computed || property.kind !== 'init') break;
        const name = key.type === 'Identifier' ? (key.name as string) : key.type === 'Literal' ? String(key.value) : undefined;
        if (name === undefined) break;
        object[name] = literal(property.value as Node, file);
      }
      if (Object.keys(object).length === (node.properties as Node[]).length) return object;
      break;
    }
    case 'UnaryExpression':
      if (node.operator === '-' && (node.argument as Node).type === 'Literal') return -(literal(node.argument as Node, file) as number);
      break;
    case 'TSAsExpression':
    case 'TSSatisfiesExpression':
      return literal(node.expression as Node, file);
  }
  throw new FontCallError(file, 'next/font/local: font loader values must be explicitly written literals');
}

/** Calls `visit` on every node under `node`, with its parent. */
function walk(node: unknown, visit: (node: Node, parent: Node | undefined) => void, parent?: Node): void {
  if (Array.isArray(node)) {
    for (const child of node) walk(child, visit, parent);
    return;
  }
  if (node === null || typeof node !== 'object' || typeof (node as Node).type !== 'string') return;
  visit(node as Node, parent);
  for (const [key, value] of Object.entries(node)) {
    if (key !== 'type' && value !== null && typeof value === 'object') walk(value, visit, node as Node);
  }
}

/**
 * The `next/font` calls of `source` (the module at `file`, relative to the site, for messages),
 * each replaced by the default import of the module `specifierOf(call)` names.
 * @returns the rewritten source, or undefined when the module imports no `next/font` loader.
 * @throws FontCallError naming the file for next/font/google, a named import of next/font/local, a
 *   call not assigned to a const at the top of the module, or options that are not literals.
 */
export function rewriteFontCalls(source: string, file: string, specifierOf: (call: LocalFontCall) => string): string | undefined {
  if (!source.includes('next/font/')) return undefined;
  let body: Node[];
  try {
    body = parseAst(source, { lang: languageOf(file) }).body as unknown as Node[];
  } catch (error) {
    throw new FontCallError(file, (error as Error).message);
  }
  const imports = body.filter(
    (statement) => statement.type === 'ImportDeclaration' && [LOCAL, GOOGLE].includes((statement.source as Node).value as string),
  );
  if (imports.length === 0) return undefined;
  const loaders = new Set<string>();
  const edits: { start: number; end: number; text: string }[] = [];
  for (const statement of imports) {
    const specifiers = statement.specifiers as Node[];
    if ((statement.source as Node).value === GOOGLE) {
      const names = specifiers.map((specifier) => ((specifier.imported ?? specifier.local) as Node).name as string);
      throw new FontCallError(file, `next/font/google (${names.join(', ')}) is not supported by isr. ${GOOGLE_ADVICE}`);
    }
    for (const specifier of specifiers) {
      if (specifier.type !== 'ImportDefaultSpecifier') throw new FontCallError(file, 'next/font/local has no named exports');
      loaders.add((specifier.local as Node).name as string);
    }
    edits.push({ start: statement.start, end: statement.end, text: '' });
  }
  const calls = new Set<Node>();
  const declarations: Node[] = [];
  for (const statement of body) {
    const declaration = statement.type === 'ExportNamedDeclaration' ? (statement.declaration as Node | null) : statement;
    if (declaration?.type === 'VariableDeclaration' && declaration.kind === 'const') declarations.push(declaration);
  }
  const added: string[] = [];
  for (const declaration of declarations) {
    for (const declarator of declaration.declarations as Node[]) {
      const init = declarator.init as Node | null;
      if (init?.type !== 'CallExpression' || !loaders.has(((init.callee as Node).name as string) ?? '')) continue;
      const id = declarator.id as Node;
      if (id.type !== 'Identifier') throw new FontCallError(file, 'next/font/local: a font loader call must be assigned to a const');
      const args = init.arguments as Node[];
      const specifier = specifierOf({
        variableName: id.name as string,
        options: args.length === 0 ? undefined : literal(args[0]!, file),
      });
      const identifier = `__isr_font_${added.length}`;
      calls.add(init.callee as Node);
      edits.push({ start: init.start, end: init.end, text: identifier });
      added.push(`import ${identifier} from ${JSON.stringify(specifier)};`);
    }
  }
  // Any other use of the loader (a call inside a function, an alias) cannot be compiled.
  walk(body, (node, parent) => {
    if (node.type !== 'Identifier' || !loaders.has(node.name as string) || calls.has(node)) return;
    if (parent?.type === 'ImportDefaultSpecifier') return;
    throw new FontCallError(file, 'next/font/local: font loaders must be called and assigned to a const in the module scope');
  });
  let out = source;
  for (const edit of edits.sort((a, b) => b.start - a.start)) out = out.slice(0, edit.start) + edit.text + out.slice(edit.end);
  // After a leading directive ('use client'), which must stay first.
  const directive = body[0]?.type === 'ExpressionStatement' && typeof body[0].directive === 'string' ? body[0].end : 0;
  return `${out.slice(0, directive)}\n${added.join('\n')}\n${out.slice(directive)}`;
}
