/**
 * Runs a real public Next.js app (test/fixtures/real-apps/<name>) the two ways a user would: with
 * isr (`isr build`, `isr start`, the CLI from dist/) and with Next.js itself (`next build`, `next
 * start`, the version the app's lock file installs), each on a free port of 127.0.0.1, so a test
 * can drive both in Chromium and compare what a person would see.
 */

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before } from 'node:test';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { launchChromium } from './browser.ts';
import { newestMtime } from './examples.ts';
import { freePort, ROOT } from './instances.ts';
import { FIXTURES } from './site.ts';

const run = promisify(execFile);
const ENV = { ...process.env, NEXT_TELEMETRY_DISABLED: '1' };
const CLI = path.join(ROOT, 'bin', 'isr.js');

export interface RunningApp {
  url: string;
  /** What the server printed, for failure messages. */
  log(): string;
  close(): Promise<void>;
}

/** The folder of real app `name`. */
export function realAppDir(name: string): string {
  return path.join(FIXTURES, 'real-apps', name);
}

/**
 * Installs the app's packages from its lock file (`npm ci`, install scripts off: every binary these
 * apps need comes as an npm package) when its node_modules is missing or older than the lock file.
 * @throws Error with npm's output when the install fails (up to 5 minutes).
 */
export async function installApp(dir: string): Promise<void> {
  const marker = path.join(dir, 'node_modules', '.package-lock.json');
  if (existsSync(marker) && statSync(marker).mtimeMs >= newestMtime(path.join(dir, 'package-lock.json'))) return;
  await run('npm', ['ci', '--include=dev', '--no-audit', '--no-fund', '--ignore-scripts'], {
    cwd: dir,
    timeout: 300_000,
    maxBuffer: 32 << 20,
  });
}

/** Spawns `command` in its own process group and resolves once `url` answers (any status). */
async function serve(command: string[], dir: string, url: string, env = ENV, timeoutMs = 60_000): Promise<RunningApp> {
  const child: ChildProcess = spawn(process.execPath, command, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        // Already gone.
      }
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
    }
  };
  const began = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${command.join(' ')} exited with ${child.exitCode}:\n${output}`);
    try {
      await fetch(url, { signal: AbortSignal.timeout(2_000) });
      return { url, log: () => output, close };
    } catch {
      if (Date.now() - began > timeoutMs) {
        await close();
        throw new Error(`${command.join(' ')} did not answer at ${url} within ${timeoutMs} ms:\n${output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/**
 * `isr build`, then `isr start` on a free port.
 * @throws Error with the CLI's output when the build fails or the server does not answer.
 */
export async function startWithIsr(dir: string): Promise<RunningApp> {
  if (!existsSync(path.join(ROOT, 'dist', 'cli', 'main.js')))
    throw new Error('dist/ is missing: run `npm run build` at the repository root first');
  try {
    await run(process.execPath, [CLI, 'build'], { cwd: dir, env: ENV, timeout: 300_000, maxBuffer: 32 << 20 });
  } catch (error) {
    const failure = error as { stdout?: string; stderr?: string };
    throw new Error(`isr build failed in ${dir}:\n${failure.stdout ?? ''}${failure.stderr ?? ''}`, { cause: error });
  }
  const port = await freePort();
  return serve([CLI, 'start', '--port', String(port), '--hostname', '127.0.0.1'], dir, `http://127.0.0.1:${port}`);
}

/**
 * The folder an app would be the root of as its own repository: its folder under real-apps/ (the
 * workspace's for `turborepo-hono/apps/web`, whose packages/ it imports).
 */
function ownRoot(dir: string): string {
  const apps = path.join(FIXTURES, 'real-apps');
  return path.join(apps, path.relative(apps, dir).split(path.sep)[0]!);
}

/**
 * `next build`, then `next start` on a free port. The files `next build` rewrites in the app's
 * folder (tsconfig.json, next-env.d.ts) are put back as vendored. Next.js takes the folder of the
 * outermost lock file above the app for its root (this repository's, whose node_modules is a link
 * out of it in a git worktree, which Turbopack refuses), so the root is set to the app's own
 * (`NEXT_PRIVATE_OUTPUT_TRACE_ROOT`, the default of `outputFileTracingRoot` and `turbopack.root`).
 * @throws Error with Next's output when the build fails or the server does not answer.
 */
export async function startWithNext(dir: string): Promise<RunningApp> {
  const env = { ...ENV, NEXT_PRIVATE_OUTPUT_TRACE_ROOT: ownRoot(dir) };
  const next = path.join(dir, 'node_modules', 'next', 'dist', 'bin', 'next');
  const kept = new Map<string, string>();
  for (const name of ['tsconfig.json', 'next-env.d.ts']) {
    const file = path.join(dir, name);
    if (existsSync(file)) kept.set(file, await readFile(file, 'utf8'));
  }
  try {
    await run(process.execPath, [next, 'build'], { cwd: dir, env, timeout: 300_000, maxBuffer: 32 << 20 });
  } catch (error) {
    const failure = error as { stdout?: string; stderr?: string };
    throw new Error(`next build failed in ${dir}:\n${failure.stdout ?? ''}${failure.stderr ?? ''}`, { cause: error });
  } finally {
    for (const [file, text] of kept) await writeFile(file, text);
  }
  const port = await freePort();
  return serve([next, 'start', '-p', String(port), '-H', '127.0.0.1'], dir, `http://127.0.0.1:${port}`, env);
}

export interface BothServers {
  isr: RunningApp;
  next: RunningApp;
  browser: Browser;
}

/**
 * Registers the test file's `before` and `after` hooks: installs real app `name`, serves it with
 * isr and with Next.js, launches Chromium; all stopped after.
 * @returns the servers and the browser, set once `before` ran.
 */
export function serveBothWays(name: string): BothServers {
  const both = {} as BothServers;
  before(async () => {
    const dir = realAppDir(name);
    await installApp(dir);
    both.isr = await startWithIsr(dir);
    both.next = await startWithNext(dir);
    both.browser = await launchChromium();
  });
  after(async () => {
    await both.browser?.close();
    await both.isr?.close();
    await both.next?.close();
  });
  return both;
}
