/**
 * The browser bundle's removal of a page's data functions (src/build/ssg-transform.ts), in every
 * form a page declares them, and its effect on a real build: what only they import stays out.
 */

import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { build } from '../../src/build/build.ts';
import { withoutDataFunctions } from '../../src/build/ssg-transform.ts';
import { createMemoryLogger } from '../../src/log.ts';
import { fileTrees } from '../helpers/file-tree.ts';

const trees = fileTrees('isr-ssg');
after(() => trees.cleanup());

const squash = (text: string) => text.replace(/\s+/g, ' ').trim();

describe('withoutDataFunctions', () => {
  it('removes exported declarations, whatever initialises them', () => {
    const out = withoutDataFunctions(
      "import { pool } from './db';\nexport const getStaticProps = wrap(async () => ({ props: { x: pool.q() } }));\nexport async function getStaticPaths() { return { paths: [], fallback: false }; }\nexport default function Page({ x }: { x: string }) { return <p>{x}</p>; }\n",
      'pages/a.tsx',
    );
    assert.equal(squash(out), "import { pool } from './db'; export default function Page({ x }: { x: string }) { return <p>{x}</p>; }");
  });

  it('removes a data function exported by name, with its declaration, and keeps the other exports', () => {
    const out = withoutDataFunctions(
      'const getStaticProps = make();\nfunction helper() {}\nconst keep = 1, other = 2;\nexport { getStaticProps, keep };\nexport default function P() { return null; }\n',
      'pages/b.js',
    );
    assert.equal(
      squash(out),
      'function helper() {} const keep = 1, other = 2; export { keep }; export default function P() { return null; }',
    );
  });

  it('removes re-exports and one declarator of several', () => {
    assert.equal(
      squash(withoutDataFunctions("export { getStaticProps } from '../lib/props';\nexport default 1;\n", 'pages/c.ts')),
      'export default 1;',
    );
    assert.equal(squash(withoutDataFunctions('export const a = 1, getServerSideProps = 2;\n', 'pages/d.ts')), 'export const a = 1;');
  });
});

describe('the Pages Router browser bundle', () => {
  it('holds no trace of a wrapped getStaticProps nor of the module only it imports', async () => {
    const dir = trees.site({
      'lib/db.js': "export const SECRET = 'db-secret-9f2';\nconsole.log('connecting');\nexport const pool = { q: () => SECRET };\n",
      'pages/index.jsx':
        "import { pool } from '../lib/db';\nconst wrap = (f) => f;\nexport const getStaticProps = wrap(async () => ({ props: { x: pool.q().length } }));\nexport default function Page({ x }) { return <p>{x}</p>; }\n",
    });
    await build({ siteDir: dir, logger: createMemoryLogger() });
    const folder = path.join(dir, '.isr', 'build', 'client', 'static', 'pages');
    for (const file of (await readdir(folder, { recursive: true })).filter((name) => name.endsWith('.js'))) {
      assert.doesNotMatch(await readFile(path.join(folder, file), 'utf8'), /db-secret-9f2|connecting|getStaticProps/, file);
    }
  });
});
