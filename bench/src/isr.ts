/** This project's side: `isr build` and `isr start` of the bench site, and `isr proxy`, through the compiled CLI (bin/isr.js). */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot } from './site.ts';
import { answers, type CommandResult, runMeasured, startServer } from './spawn.ts';
import type { RunningServer } from './types.ts';

const cli = join(repoRoot, 'bin/isr.js');

/** `isr build <siteDir>`; the build output goes to `<siteDir>/.isr`. */
export function buildIsr(siteDir: string, env: Record<string, string>): Promise<CommandResult> {
  return runMeasured(process.execPath, [cli, 'build', siteDir], { cwd: repoRoot, env });
}

/**
 * `isr start <siteDir>` on 127.0.0.1:`port` with an empty durable cache folder (`cacheDir`), so
 * every start begins from the build's prerendered pages alone. With `workers` > 1 it runs
 * `--workers N` and resolves once every worker has logged that it serves (not only the first).
 */
export function startIsr(
  siteDir: string,
  port: number,
  cacheDir: string,
  env: Record<string, string>,
  workers = 1,
): Promise<RunningServer> {
  const url = `http://127.0.0.1:${port}`;
  const args = [cli, 'start', siteDir, '--port', String(port), '--hostname', '127.0.0.1'];
  if (workers > 1) args.push('--workers', String(workers));
  return startServer(workers > 1 ? `isr start --workers ${workers}` : 'isr start', process.execPath, args, {
    cwd: repoRoot,
    env: { ...env, ISR_CACHE_DIR: cacheDir },
    url,
    // Each worker logs "worker <pid>: serving <dir> (build <id>) at <url>" once it listens.
    ready:
      workers > 1
        ? async (output) => (output.match(/: serving .* at http:\/\//g)?.length ?? 0) >= workers && (await answers(url))
        : undefined,
  });
}

/**
 * Whether this checkout has `isr proxy` (issue 15): its module `src/proxy/index.ts`, which the CLI
 * command comes with. Until it lands the proxy comparison reports isr as not available.
 */
export function hasIsrProxy(): boolean {
  return existsSync(join(repoRoot, 'src/proxy/index.ts'));
}

/**
 * `isr proxy --origin <origin>` on 127.0.0.1:`port`, with an empty cache folder (`cacheDir`,
 * emptied first) and `token` as ISR_REVALIDATE_TOKEN; no Redis (one process, its own folder).
 * Resolves once it prints `serving a proxy of <origin> at <url>` and answers HTTP.
 */
export async function startIsrProxy(origin: string, port: number, cacheDir: string, token: string): Promise<RunningServer> {
  await rm(cacheDir, { recursive: true, force: true });
  const url = `http://127.0.0.1:${port}`;
  return startServer('isr proxy', process.execPath, [cli, 'proxy', '--origin', origin, '--port', String(port), '--hostname', '127.0.0.1'], {
    cwd: repoRoot,
    env: { ISR_CACHE_DIR: cacheDir, ISR_REVALIDATE_TOKEN: token },
    url,
    ready: async (output) => /serving a proxy of .* at http:\/\//.test(output) && (await answers(url)),
  });
}
