/**
 * The Next.js side of the benchmark: the same site tree built with `next build` and served with
 * `next start` (Next from bench/node_modules), measured like `isr build` / `isr start`.
 *
 * Next never reaches the network here: telemetry is disabled and the generated project needs no
 * download (no next/font/google, no remote images); TypeScript and the @types packages that
 * `next build` insists on for a .tsx project are bench dependencies, so Next does not try to
 * install them.
 */
import { existsSync, realpathSync } from 'node:fs';
import { cp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, parse, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CommandResult, runMeasured, startServer } from './spawn.ts';
import type { RunningServer } from './types.ts';

/** The bench package (holds node_modules/next). */
const BENCH_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BENCH_NODE_MODULES = join(BENCH_DIR, 'node_modules');
const NEXT_BIN = join(BENCH_NODE_MODULES, 'next', 'dist', 'bin', 'next');

/** Merged over the caller's env of every `next` command. */
const NEXT_ENV = { NEXT_TELEMETRY_DISABLED: '1' };

/**
 * Copies the site tree prepared by the caller (`siteDir`, containing `app/`) into `projectDir`
 * (removed first) and adds what Next needs: next.config.mjs, tsconfig.json, package.json and, when
 * `projectDir` does not already resolve packages from bench/node_modules (it is outside bench/), a
 * `node_modules` symlink to it.
 */
export async function prepareNextProject(siteDir: string, projectDir: string): Promise<void> {
  const source = resolve(siteDir);
  const target = resolve(projectDir);
  if (!existsSync(join(source, 'app'))) throw new Error(`prepareNextProject: ${source} has no app/ folder`);
  if (target === source || target.startsWith(source + sep) || source.startsWith(target + sep)) {
    throw new Error(`prepareNextProject: site ${source} and project ${target} must not contain each other`);
  }

  await rm(target, { recursive: true, force: true });
  await mkdir(target, { recursive: true });
  await cp(source, target, {
    recursive: true,
    filter: (path) => {
      const rel = relative(source, path);
      return rel !== 'node_modules' && rel !== '.next' && rel !== 'next-env.d.ts';
    },
  });

  const projectReal = realpathSync(target);
  if (needsNodeModulesLink(projectReal)) await symlink(BENCH_NODE_MODULES, join(target, 'node_modules'), 'dir');

  // Turbopack only reads files under its root, and the root must hold both the project and the
  // (real path of the) node_modules it resolves from; file tracing uses the same root.
  const root = commonAncestor(projectReal, realpathSync(BENCH_DIR));
  await writeFile(join(target, 'next.config.mjs'), nextConfig(root));
  await writeFile(join(target, 'tsconfig.json'), `${JSON.stringify(TSCONFIG, null, 2)}\n`);
  await writeFile(join(target, 'package.json'), `${JSON.stringify({ private: true, type: 'module' }, null, 2)}\n`);
}

/**
 * Runs `next build` in `projectDir` (after removing its `.next`, so every build is a cold one and
 * no fetch cache survives from the previous build) with {@link runMeasured}. `env` is merged over
 * process.env; NEXT_TELEMETRY_DISABLED=1 always. Never throws: a failed build (or a failed spawn)
 * gives `ok: false`.
 */
export async function buildNext(projectDir: string, env: Record<string, string>): Promise<CommandResult> {
  const cwd = resolve(projectDir);
  await rm(join(cwd, '.next'), { recursive: true, force: true });
  return runMeasured(process.execPath, [NEXT_BIN, 'build'], { cwd, env: { ...env, ...NEXT_ENV } });
}

/**
 * Starts `next start -p <port> -H 127.0.0.1` in `projectDir` with {@link startServer} (`env`
 * merged over process.env, NEXT_TELEMETRY_DISABLED=1 always) and resolves once `GET /` gets an
 * HTTP answer.
 *
 * @throws Error if 127.0.0.1:`port` is taken (checked before spawning); Error with Next's output if
 *   the server exits or does not answer within 60 s (it is stopped first).
 */
export function startNext(projectDir: string, port: number, env: Record<string, string>): Promise<RunningServer> {
  return startServer('next start', process.execPath, [NEXT_BIN, 'start', '-p', String(port), '-H', '127.0.0.1'], {
    cwd: resolve(projectDir),
    env: { ...env, ...NEXT_ENV },
    url: `http://127.0.0.1:${port}`,
  });
}

// --- the generated project ----------------------------------------------------------------------

/** tsconfig.json as Next would write it (so `next build` leaves it alone), with the `@/*` alias. */
const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    lib: ['dom', 'dom.iterable', 'esnext'],
    allowJs: true,
    skipLibCheck: true,
    strict: true,
    noEmit: true,
    esModuleInterop: true,
    module: 'esnext',
    moduleResolution: 'bundler',
    resolveJsonModule: true,
    isolatedModules: true,
    allowImportingTsExtensions: true,
    jsx: 'react-jsx',
    incremental: true,
    plugins: [{ name: 'next' }],
    paths: { '@/*': ['./*'] },
  },
  include: ['next-env.d.ts', '**/*.ts', '**/*.tsx', '.next/types/**/*.ts', '.next/dev/types/**/*.ts'],
  exclude: ['node_modules'],
};

function nextConfig(root: string): string {
  return `// Generated by bench/src/next.ts.
/** @type {import('next').NextConfig} */
const nextConfig = {
  // Files (the project and bench/node_modules) must lie under the Turbopack root; tracing uses the same.
  turbopack: { root: ${JSON.stringify(root)} },
  outputFileTracingRoot: ${JSON.stringify(root)},
  // isr's build does not type-check either: keep the builds comparable.
  typescript: { ignoreBuildErrors: true },
};

export default nextConfig;
`;
}

/**
 * Whether `projectDir` needs a node_modules link: the nearest node_modules folder up its ancestors
 * is not bench/node_modules (none at all, or another one that would shadow it).
 */
function needsNodeModulesLink(projectDir: string): boolean {
  const benchModules = realpathSync(BENCH_NODE_MODULES);
  for (let dir = projectDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules');
    if (existsSync(candidate)) return realpathSync(candidate) !== benchModules;
    if (dirname(dir) === dir) return true;
  }
}

/** The deepest folder holding both paths (absolute, real). */
function commonAncestor(a: string, b: string): string {
  const root = parse(a).root;
  const left = a.slice(root.length).split(sep).filter(Boolean);
  const right = b.slice(root.length).split(sep).filter(Boolean);
  const shared: string[] = [];
  for (let i = 0; i < Math.min(left.length, right.length) && left[i] === right[i]; i++) shared.push(left[i]!);
  return root + shared.join(sep);
}
