/**
 * Removes a Pages Router page's data functions (`getStaticProps`, `getStaticPaths`,
 * `getServerSideProps`) from the source the browser bundle is built from, as Next.js's SSG
 * transform does
 * (https://nextjs.org/docs/pages/building-your-application/data-fetching/get-static-props#write-server-side-code-directly):
 * the export and the declaration it names go, whatever initialises it (`wrap(async () => …)`
 * included), so the imports only they used are left unused and the bundler drops them
 * (compile-pages-client.ts marks the site's imports with bindings as side-effect free). The source
 * is parsed with Vite's `parseAst` (Oxc); offsets are JavaScript string offsets.
 */

import { parseAst } from 'vite';
import { SiteError } from '../config/errors.ts';

/** The exports that run on the server only. */
const DATA_FUNCTIONS = new Set(['getStaticProps', 'getStaticPaths', 'getServerSideProps']);

interface Node {
  type: string;
  start: number;
  end: number;
  [key: string]: unknown;
}

interface Edit {
  start: number;
  end: number;
  text: string;
}

function nameOf(node: unknown): string | undefined {
  const value = node as { type?: string; name?: string; value?: string } | undefined;
  return value?.type === 'Identifier' ? value.name : value?.type === 'Literal' ? String(value.value) : undefined;
}

/** The parser's language for a file name (`.js` files may hold JSX, as Next.js allows). */
export function languageOf(file: string): 'ts' | 'tsx' | 'jsx' | 'js' {
  if (file.endsWith('.tsx')) return 'tsx';
  if (file.endsWith('.ts') || file.endsWith('.mts')) return 'ts';
  if (file.endsWith('.mjs')) return 'js';
  return 'jsx';
}

/**
 * `source` (the page module at `file`) without its data functions.
 * @throws Error naming the file when it does not parse.
 */
export function withoutDataFunctions(source: string, file: string): string {
  if (![...DATA_FUNCTIONS].some((name) => source.includes(name))) return source;
  let body: Node[];
  try {
    body = parseAst(source, { lang: languageOf(file) }).body as unknown as Node[];
  } catch (error) {
    throw new SiteError(`${file}: ${(error as Error).message}`);
  }
  const edits: Edit[] = [];
  const removedLocals = new Set<string>();
  const slice = (node: Node) => source.slice(node.start, node.end);

  /** Removes the declarators of `declaration` named in `names`, or the whole `statement` when all are. */
  const dropDeclarators = (statement: Node, declaration: Node, names: (name: string) => boolean, prefix: string) => {
    const declarators = declaration.declarations as Node[];
    const kept = declarators.filter((declarator) => !names(nameOf(declarator.id) ?? ''));
    if (kept.length === declarators.length) return;
    edits.push({
      start: statement.start,
      end: statement.end,
      text: kept.length === 0 ? '' : `${prefix}${declaration.kind as string} ${kept.map(slice).join(', ')};`,
    });
  };

  for (const statement of body) {
    if (statement.type !== 'ExportNamedDeclaration') continue;
    const declaration = statement.declaration as Node | null;
    if (declaration?.type === 'FunctionDeclaration' && DATA_FUNCTIONS.has(nameOf(declaration.id) ?? '')) {
      edits.push({ start: statement.start, end: statement.end, text: '' });
    } else if (declaration?.type === 'VariableDeclaration') {
      dropDeclarators(statement, declaration, (name) => DATA_FUNCTIONS.has(name), 'export ');
    } else if (declaration === null || declaration === undefined) {
      const specifiers = statement.specifiers as Node[];
      const kept = specifiers.filter((specifier) => !DATA_FUNCTIONS.has(nameOf(specifier.exported) ?? ''));
      if (kept.length === specifiers.length) continue;
      if (statement.source === null || statement.source === undefined) {
        for (const specifier of specifiers) {
          if (!kept.includes(specifier)) removedLocals.add(nameOf(specifier.local) ?? '');
        }
      }
      const from = statement.source ? ` from ${slice(statement.source as Node)}` : '';
      edits.push({
        start: statement.start,
        end: statement.end,
        text: kept.length === 0 ? '' : `export { ${kept.map(slice).join(', ')} }${from};`,
      });
    }
  }
  // `const getStaticProps = …; export { getStaticProps }`: the declaration goes too.
  if (removedLocals.size > 0) {
    for (const statement of body) {
      if (statement.type === 'FunctionDeclaration' && removedLocals.has(nameOf(statement.id) ?? '')) {
        edits.push({ start: statement.start, end: statement.end, text: '' });
      } else if (statement.type === 'VariableDeclaration') {
        dropDeclarators(statement, statement, (name) => removedLocals.has(name), '');
      }
    }
  }
  let out = source;
  for (const edit of edits.sort((a, b) => b.start - a.start)) out = out.slice(0, edit.start) + edit.text + out.slice(edit.end);
  return out;
}
