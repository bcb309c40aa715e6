/** This project's side: `isr build` and `isr start` of the bench site, through the compiled CLI (bin/isr.js). */
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
