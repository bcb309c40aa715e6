/**
 * The layer rule of docs/architecture.md ("Layers") is executable: `.dependency-cruiser.cjs`
 * holds the same table, `npm test` runs `depcruise` with it, and these tests check that the table
 * and the document agree, that the repository obeys it, and that an upward or sideways import
 * fails the check.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const configFile = path.join(root, '.dependency-cruiser.cjs');
const { LAYERS } = createRequire(import.meta.url)(configFile) as { LAYERS: Record<string, string[]> };
const depcruise = path.join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

/** Runs depcruise over `dir/src` with the project's rules: exit code and its report. */
async function check(dir: string): Promise<{ code: number; report: string }> {
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [depcruise, 'src', '--config', configFile, '--output-type', 'err'], {
      cwd: dir,
    });
    return { code: 0, report: stdout };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, report: failed.stdout + failed.stderr };
  }
}

/** The "may import" column of the Layers table in docs/architecture.md, by folder or file. */
function documentedLayers(): Record<string, string[]> {
  const text = readFileSync(path.join(root, 'docs/architecture.md'), 'utf8');
  const section = text.slice(text.indexOf('## Layers'));
  const rows = section
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .slice(2);
  const name = (cell: string) =>
    cell
      .replace(/[`*]/g, '')
      .trim()
      .replace(/^src\//, '')
      .replace(/\/$/, '');
  const table: Record<string, string[]> = {};
  for (const row of rows) {
    const cells = row.split('|').slice(1, -1);
    if (cells.length < 3) break;
    const imports = cells[cells.length - 1]!.replace(/[`*]/g, '').trim();
    table[name(cells[0]!)] = imports === 'nothing' ? [] : imports.split(',').map(name);
  }
  return table;
}

describe('layers (docs/architecture.md, "Layers")', () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'isr-layers-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  test('the document and .dependency-cruiser.cjs list the same folders with the same allowed imports', () => {
    const documented = documentedLayers();
    assert.deepEqual(Object.keys(documented).sort(), Object.keys(LAYERS).sort());
    for (const [layer, allowed] of Object.entries(LAYERS)) {
      assert.deepEqual([...documented[layer]!].sort(), [...allowed].sort(), `"may import" of ${layer}`);
    }
  });

  test('every folder and top-level file of src/ has a layer, and every layer exists', () => {
    const entries = readdirSync(path.join(root, 'src')).filter((name) => !name.endsWith('.d.ts'));
    assert.deepEqual(entries.sort(), Object.keys(LAYERS).sort());
  });

  test('each layer imports only layers below it: no cycle between layers', () => {
    // Folder A may import B only if B may not import A, and the relation has an order.
    const order: string[] = [];
    const remaining = new Set(Object.keys(LAYERS));
    while (remaining.size > 0) {
      const next = [...remaining].find((layer) => LAYERS[layer]!.every((dep) => !remaining.has(dep)));
      assert.ok(next, `a cycle among ${[...remaining].join(', ')}`);
      order.push(next);
      remaining.delete(next);
    }
    assert.equal(order.length, Object.keys(LAYERS).length);
  });

  test('the repository passes the check', async () => {
    const { code, report } = await check(root);
    assert.equal(code, 0, report);
    assert.match(report, /no dependency violations found/);
  });

  test('an upward import, a sideways import between the routers, and an unknown folder each fail the check, naming the file', async () => {
    const write = (file: string, text: string) => {
      mkdirSync(path.dirname(path.join(scratch, file)), { recursive: true });
      writeFileSync(path.join(scratch, file), text);
    };
    write('src/server/index.ts', 'export const server = 1;\n');
    write('src/engine/engine.ts', "import { server } from '../server/index.ts';\nexport const engine = server;\n");
    write('src/pages/render.ts', 'export const pages = 1;\n');
    write('src/app/render.ts', "import { pages } from '../pages/render.ts';\nexport const app = pages;\n");
    write(
      'src/site/site.ts',
      "import { app } from '../app/render.ts';\nimport { pages } from '../pages/render.ts';\nexport const site = app + pages;\n",
    );
    write('src/misc/thing.ts', "import { site } from '../site/site.ts';\nexport const thing = site;\n");
    const { code, report } = await check(scratch);
    assert.notEqual(code, 0, report);
    assert.match(report, /layer-engine: src\/engine\/engine\.ts → src\/server\/index\.ts/);
    assert.match(report, /layer-app: src\/app\/render\.ts → src\/pages\/render\.ts/);
    assert.match(report, /no-unknown-place: src\/misc\/thing\.ts/);
    // Downward imports (site → app, site → pages) are not reported.
    assert.doesNotMatch(report, /src\/site\/site\.ts →/);
  });
});
