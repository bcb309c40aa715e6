/** This project's side: `isr build` and `isr start` of the bench site, through the compiled CLI (bin/isr.js). */
import { join } from 'node:path';
import { repoRoot } from './site.ts';
import { runMeasured, startServer, type CommandResult } from './spawn.ts';
import type { RunningServer } from './types.ts';

const cli = join(repoRoot, 'bin/isr.js');

/** `isr build <siteDir>`; the build output goes to `<siteDir>/.isr`. */
export function buildIsr(siteDir: string, env: Record<string, string>): Promise<CommandResult> {
  return runMeasured(process.execPath, [cli, 'build', siteDir], { cwd: repoRoot, env });
}

/**
 * `isr start <siteDir>` on 127.0.0.1:`port` with an empty durable cache folder (`cacheDir`), so
 * every start begins from the build's prerendered pages alone.
 */
export function startIsr(siteDir: string, port: number, cacheDir: string, env: Record<string, string>): Promise<RunningServer> {
  return startServer('isr start', process.execPath, [cli, 'start', siteDir, '--port', String(port), '--hostname', '127.0.0.1'], {
    cwd: repoRoot,
    env: { ...env, ISR_CACHE_DIR: cacheDir },
    url: `http://127.0.0.1:${port}`,
  });
}
