/**
 * The table of options (src/config/options.ts) is the one definition of every option: the README's
 * "Configuration" table, `isr --help`, `loadConfig` and the engine's and memory store's defaults
 * all agree with it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadConfig } from '../../src/config/config.ts';
import { defaultText, OPTION_NAMES, OPTIONS, type OptionName } from '../../src/config/options.ts';
import { IsrEngine } from '../../src/engine/engine.ts';
import { MemoryStore } from '../../src/store/memory.ts';
import { makeTempDir } from '../store/helpers.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The rows of the README's "Configuration" table, each as its cells (without the outer pipes). */
async function readmeConfigurationRows(): Promise<string[][]> {
  const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.split(/^## Configuration$/m)[1]?.split(/^## /m)[0];
  assert.ok(section, 'the README has a "## Configuration" section');
  const rows = section
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .map((line) => line.replace(/^\|\s*|\s*\|$/g, '').split(/\s+\|\s+/));
  assert.deepEqual(rows[0]?.slice(0, 4), ['Option', 'Environment', 'Unit', 'Default'], 'the table header');
  return rows.slice(2);
}

/** The command line's own variables in the README table: rows whose option is a flag, (`--port`). */
function commandRows(rows: string[][]): string[][] {
  return rows.filter((cells) => /^\(`--[a-z]+`\)$/.test(cells[0] ?? ''));
}

describe('the option table', () => {
  test("the README's Configuration table lists exactly its options, with the same environment variable, unit and default", async () => {
    const rows = await readmeConfigurationRows();
    const optionRows = rows.filter((cells) => /^`[a-zA-Z]+`$/.test(cells[0] ?? ''));
    assert.equal(optionRows.length + commandRows(rows).length, rows.length, 'every row is an option or a command line flag');
    assert.deepEqual(
      optionRows.map((cells) => cells[0]?.slice(1, -1)),
      OPTION_NAMES,
      'the same options, in the same order',
    );
    for (const [key = '', env, unit, shown] of optionRows) {
      const name = key.slice(1, -1) as OptionName;
      assert.equal(env, `\`${OPTIONS[name].env}\``, `${name}: environment variable`);
      assert.equal(unit, OPTIONS[name].unit, `${name}: unit`);
      assert.equal(shown, defaultText(name), `${name}: default`);
    }
  });

  test("isr --help lists every environment variable: each option, and the command line's own", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), '--help'], {
      cwd: ROOT,
    });
    const listed = new Set([...stdout.matchAll(/^ {2}([A-Z_]+) {2,}/gm)].map((match) => match[1]));
    const commandEnv = commandRows(await readmeConfigurationRows()).map(([, env = '']) => env.slice(1, -1));
    assert.deepEqual(commandEnv.sort(), ['HOSTNAME', 'ISR_WORKERS', 'PORT']);
    for (const env of [...OPTION_NAMES.map((name) => OPTIONS[name].env), ...commandEnv]) {
      assert.ok(listed.has(env), `isr --help lists ${env}:\n${stdout}`);
    }
    assert.equal(listed.size, OPTION_NAMES.length + commandEnv.length, 'and nothing else');
    assert.match(stdout, /ISR_REDIS_URL +redisUrl: `?redis:\/\/`? or `?rediss:\/\/`? URL; default unset\n/);
  });

  test('a configuration error stops the command with exit code 1 and one line naming the option, no stack trace', async () => {
    const cli = path.join(ROOT, 'src/cli/main.ts');
    const run = (args: string[], env: Record<string, string>) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', cli, ...args], { cwd: ROOT, env: { ...process.env, ...env } }).then(
        () => ({ code: 0, stderr: '' }),
        (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
      );
    const badOrigin = await run(['proxy', '--port', '0'], { ISR_ORIGIN: 'http://example.com/path?x' });
    assert.equal(badOrigin.code, 1);
    assert.match(badOrigin.stderr, /^isr: origin \(ISR_ORIGIN, --origin\) must be an absolute http:\/\/ or https:\/\/ URL/);
    assert.doesNotMatch(badOrigin.stderr, /\n\s+at /, 'no stack trace');
    const noOrigin = await run(['proxy', '--port', '0'], { ISR_ORIGIN: '' });
    assert.deepEqual(noOrigin, {
      code: 1,
      stderr: 'isr: isr proxy needs an origin: --origin <url>, ISR_ORIGIN, or origin in isr.config.mjs\n',
    });
    const badWorkers = await run(['start', '--port', '0', '--origin', 'http://127.0.0.1:1'], {});
    assert.equal(badWorkers.code, 2);
    assert.match(badWorkers.stderr, /^isr: --origin is an option of isr proxy, not of isr start\n/);
  });

  test("loadConfig reads each option from its environment variable, and its defaults are the table's", async () => {
    const dir = await makeTempDir();
    try {
      const defaults = await loadConfig(dir, {}, {});
      for (const name of OPTION_NAMES) {
        const option = OPTIONS[name];
        if (name === 'cacheDir') assert.equal(defaults.cacheDir, path.join(dir, '.isr', 'cache'));
        else if (name === 'redisKeyPrefix') assert.equal(defaults.redisKeyPrefix, `isr:${path.basename(dir)}:`);
        else assert.equal(defaults[name], option.default, `${name} defaults to the table's value`);
      }
      const values = {
        cacheDir: ['elsewhere', path.join(dir, 'elsewhere')],
        memoryCacheSize: ['1024', 1024],
        diskCacheSize: ['4096', 4096],
        unreadExpireTime: ['600', 600],
        expireTime: ['86400', 86400],
        revalidateToken: ['a-long-secret', 'a-long-secret'],
        debugCache: ['1', true],
        buildConcurrency: ['2', 2],
        fastPath: ['0', false],
        redisUrl: ['redis://127.0.0.1:6379', 'redis://127.0.0.1:6379'],
        redisKeyPrefix: ['shop:', 'shop:'],
        lockTimeout: ['3', 3],
        renderTimeout: ['30', 30],
        siteUrl: ['https://www.example.com/', 'https://www.example.com'],
        origin: ['http://127.0.0.1:3001', 'http://127.0.0.1:3001'],
        originConnectTimeout: ['2', 2],
        originTimeout: ['10', 10],
        staleIfError: ['0', 0],
        routes: ['[]', []],
      } satisfies Record<OptionName, [string, unknown]>;
      const env = Object.fromEntries(OPTION_NAMES.map((name) => [OPTIONS[name].env, values[name][0]]));
      const fromEnv = await loadConfig(dir, {}, env);
      assert.deepEqual(fromEnv, Object.fromEntries(OPTION_NAMES.map((name) => [name, values[name][1]])));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('an explicit option beats the environment, which beats the file; null in the file is the default; an unknown key is named with the known ones', async () => {
    const dir = await makeTempDir();
    try {
      await writeFile(path.join(dir, 'isr.config.mjs'), 'export default { expireTime: 100, buildConcurrency: 3, lockTimeout: null };\n');
      const config = await loadConfig(dir, { expireTime: 300 }, { ISR_EXPIRE_TIME: '200', ISR_BUILD_CONCURRENCY: '' });
      assert.deepEqual([config.expireTime, config.buildConcurrency, config.lockTimeout], [300, 3, OPTIONS.lockTimeout.default]);
      assert.equal((await loadConfig(dir, {}, { ISR_EXPIRE_TIME: '200' })).expireTime, 200);
      // A second site: the first one's config module stays in the import cache.
      const other = path.join(dir, 'other');
      await mkdir(other);
      await writeFile(path.join(other, 'isr.config.mjs'), 'export default { expireTime: 100, maxAge: 5 };\n');
      await assert.rejects(loadConfig(other, {}, {}), {
        name: 'ConfigError',
        message: `${path.join(other, 'isr.config.mjs')}: unknown option "maxAge" (known: ${OPTION_NAMES.join(', ')})`,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('an unknown key among the explicit options (createIsr({ config })) is refused too, not ignored', async () => {
    const dir = await makeTempDir();
    try {
      await assert.rejects(loadConfig(dir, { revalidateTokn: 'x'.repeat(12) } as never, {}), {
        name: 'ConfigError',
        message: `options: unknown option "revalidateTokn" (known: ${OPTION_NAMES.join(', ')})`,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("the engine's and the memory store's own defaults are the options' defaults", async () => {
    const dir = await makeTempDir();
    try {
      const config = await loadConfig(dir, {}, {});
      const engine = new IsrEngine({ store: new MemoryStore() });
      assert.deepEqual([engine.expireTime, engine.renderTimeout], [config.expireTime, config.renderTimeout]);
      assert.equal(new MemoryStore().maxBytes, config.memoryCacheSize);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
