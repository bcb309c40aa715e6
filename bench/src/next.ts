/**
 * The Next.js side of the benchmark: the same site tree built with `next build` and served with
 * `next start` (Next from bench/node_modules), measured like `isr build` / `isr start`.
 *
 * Next never reaches the network here: telemetry is disabled and the generated project needs no
 * download (no next/font/google, no remote images); TypeScript and the @types packages that
 * `next build` insists on for a .tsx project are bench dependencies, so Next does not try to
 * install them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { cp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { dirname, join, parse, relative, resolve, sep } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { samplePeakRss, treeRssBytes } from './proc.ts';

/** The outcome of one build. */
export interface BuildResult {
  /** The build exited with status 0. */
  ok: boolean;
  /** Wall-clock time from spawn to exit, in milliseconds. */
  wallMs: number;
  /** Highest sum of RSS over the build's process tree (sampled every 100 ms), in bytes. */
  peakRssBytes: number;
  /** The last 4 KB of stdout and stderr, interleaved as received. */
  output: string;
}

/** A server started by the benchmark. */
export interface RunningServer {
  /** Pid of the server's main process (also its process group id). */
  pid: number;
  /** Base URL, e.g. `http://127.0.0.1:3200` (no trailing slash). */
  url: string;
  /** Current sum of RSS over the server's process tree, in bytes (0 once stopped). */
  rssBytes(): number;
  /** SIGTERM to the process group, SIGKILL after 5 s; resolves once the main process has exited. */
  stop(): Promise<void>;
}

/** The bench package (holds node_modules/next). */
const BENCH_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BENCH_NODE_MODULES = join(BENCH_DIR, 'node_modules');
const NEXT_BIN = join(BENCH_NODE_MODULES, 'next', 'dist', 'bin', 'next');

/** How much of a child's output is kept, in bytes. */
const OUTPUT_LIMIT = 4096;
const RSS_SAMPLE_MS = 100;
const START_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5_000;

/** Process groups still running, killed if the benchmark exits without stopping them. */
const liveGroups = new Set<number>();
process.on('exit', () => {
  for (const pgid of liveGroups) killGroup(pgid, 'SIGKILL');
});

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
 * no fetch cache survives from the previous build). `env` is merged over process.env;
 * NEXT_TELEMETRY_DISABLED=1 always. Never throws: a failed build (or a failed spawn) gives `ok: false`.
 */
export async function buildNext(projectDir: string, env: Record<string, string>): Promise<BuildResult> {
  const cwd = resolve(projectDir);
  await rm(join(cwd, '.next'), { recursive: true, force: true });
  const output = new OutputTail(OUTPUT_LIMIT);
  const started = performance.now();
  let child: ChildProcess;
  try {
    child = spawnNext(['build'], cwd, env, output);
  } catch (error) {
    return { ok: false, wallMs: performance.now() - started, peakRssBytes: 0, output: String(error) };
  }
  const pid = child.pid;
  const sampler = pid === undefined ? null : samplePeakRss(pid, RSS_SAMPLE_MS);
  const code = await exited(child, output);
  const wallMs = performance.now() - started;
  const peakRssBytes = sampler ? sampler.stop() : 0;
  if (pid !== undefined) {
    killGroup(pid, 'SIGKILL'); // workers left behind, if any
    liveGroups.delete(pid);
  }
  return { ok: code === 0, wallMs, peakRssBytes, output: output.text() };
}

/**
 * Starts `next start -p <port> -H 127.0.0.1` in `projectDir` (`env` merged over process.env,
 * NEXT_TELEMETRY_DISABLED=1 always) and resolves once `GET /` gets an HTTP answer.
 *
 * @throws Error (with Next's output) if the port is taken, the server exits, or it does not answer
 *   within 60 s (it is killed first).
 */
export async function startNext(projectDir: string, port: number, env: Record<string, string>): Promise<RunningServer> {
  await assertPortFree(port);
  const output = new OutputTail(OUTPUT_LIMIT);
  const child = spawnNext(['start', '-p', String(port), '-H', '127.0.0.1'], resolve(projectDir), env, output);
  const pid = child.pid;
  if (pid === undefined) {
    const code = await exited(child, output);
    throw new Error(`next start did not spawn (exit ${code}):\n${output.text()}`);
  }
  const exit = exited(child, output);
  let done = false;
  void exit.then(() => {
    done = true;
  });

  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (!done) {
      killGroup(pid, 'SIGTERM');
      const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), STOP_GRACE_MS);
      await exit;
      clearTimeout(timer);
    }
    killGroup(pid, 'SIGKILL'); // anything of the group still alive after the main process exited
    liveGroups.delete(pid);
  };

  const deadline = performance.now() + START_TIMEOUT_MS;
  for (;;) {
    if (done) {
      killGroup(pid, 'SIGKILL');
      liveGroups.delete(pid);
      throw new Error(`next start exited (status ${await exit}) before answering on ${url}:\n${output.text()}`);
    }
    if (await answers(`${url}/`)) break;
    if (performance.now() > deadline) {
      await stop();
      throw new Error(`next start did not answer GET ${url}/ within ${START_TIMEOUT_MS / 1000} s:\n${output.text()}`);
    }
    await delay(100);
  }
  return { pid, url, rssBytes: () => treeRssBytes(pid), stop };
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

// --- processes ------------------------------------------------------------------------------------

/** Keeps the last `limit` bytes of what is appended. */
class OutputTail {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly limit: number) {}
  append(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.chunks.length > 1 && this.size - this.chunks[0]!.length >= this.limit) {
      this.size -= this.chunks.shift()!.length;
    }
  }
  text(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - this.limit)).toString('utf8');
  }
}

/** Spawns `node next <args>` (no shell) as the leader of a new process group. */
function spawnNext(args: string[], cwd: string, env: Record<string, string>, output: OutputTail): ChildProcess {
  const child = spawn(process.execPath, [NEXT_BIN, ...args], {
    cwd,
    env: { ...process.env, ...env, NEXT_TELEMETRY_DISABLED: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  if (child.pid !== undefined) liveGroups.add(child.pid);
  child.stdout?.on('data', (chunk: Buffer) => output.append(chunk));
  child.stderr?.on('data', (chunk: Buffer) => output.append(chunk));
  return child;
}

/**
 * Resolves with the exit status (null if killed by a signal, -1 if it could not be spawned) once the
 * process has exited and its output is drained (at most 1 s more: a worker left behind may hold the pipes).
 */
function exited(child: ChildProcess, output: OutputTail): Promise<number | null> {
  return new Promise((resolveExit) => {
    let closed = false;
    child.once('close', () => {
      closed = true;
    });
    const onExit = (code: number | null): void => {
      if (closed) return resolveExit(code);
      const timer = setTimeout(() => resolveExit(code), 1_000);
      child.once('close', () => {
        clearTimeout(timer);
        resolveExit(code);
      });
    };
    if (child.exitCode !== null || child.signalCode !== null) return onExit(child.exitCode);
    child.once('exit', onExit);
    child.once('error', (error) => {
      output.append(Buffer.from(`\n[bench] ${error.message}\n`));
      if (child.pid === undefined) resolveExit(-1);
    });
  });
}

/** Sends `signal` to the process group `pgid`; ignores a group that is already gone. */
function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: nothing left in the group
  }
}

/** Whether `url` gives any HTTP answer within 2 s. */
function answers(url: string): Promise<boolean> {
  return new Promise((resolveAnswer) => {
    const req = request(url, { method: 'GET', agent: false, timeout: 2_000 }, (res) => {
      res.resume();
      resolveAnswer(true);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolveAnswer(false));
    req.end();
  });
}

/** Throws if something already listens on 127.0.0.1:`port` (it would answer in Next's place). */
function assertPortFree(port: number): Promise<void> {
  return new Promise((resolveFree, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(new Error(`startNext: port ${port} on 127.0.0.1 is not free (${error.code ?? error.message})`));
    });
    server.listen(port, '127.0.0.1', () => server.close(() => resolveFree()));
  });
}
