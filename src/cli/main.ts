/**
 * The `isr` command line:
 *
 *   isr build [dir]                                   prerender the site in dir (default .)
 *   isr start [dir] [--port N] [--hostname H] [--workers N]
 *                                                     serve it (PORT, HOSTNAME, ISR_WORKERS env too)
 *   isr proxy [dir] --origin URL [--port N] [--hostname H] [--workers N]
 *                                                     cache the origin with ISR (ISR_ORIGIN env too)
 *
 * Exit codes: 0 success, 1 failure (build error, port taken, ...), 2 usage error.
 */

import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { isClusterWorker } from '../cluster/ipc.ts';
import { runWorkers, type StartService, serveUntilStopped } from '../cluster/workers.ts';
import { ConfigError } from '../config/errors.ts';
import { defaultText, OPTION_NAMES, OPTIONS } from '../config/options.ts';
import { createConsoleLogger } from '../log.ts';
import { startProxy } from '../proxy/index.ts';
import { startServer } from '../server/index.ts';

/** The environment variables of the command line itself (not options of the site). */
const COMMAND_ENVIRONMENT = [
  { env: 'PORT', doc: 'isr start / isr proxy --port (default: 3000)' },
  { env: 'HOSTNAME', doc: 'isr start / isr proxy --hostname (default: 0.0.0.0)' },
  { env: 'ISR_WORKERS', doc: 'isr start / isr proxy --workers (default: 1)' },
];

/**
 * The environment section of `--help`: every option of config/options.ts (its variable, key,
 * unit and default, then its one-line doc), then the command line's own variables.
 */
function environmentHelp(): string {
  const width = Math.max(...OPTION_NAMES.map((name) => OPTIONS[name].env.length)) + 2;
  const plain = (text: string) => text.replaceAll('`', '');
  const options = OPTION_NAMES.map((name) => {
    const option = OPTIONS[name];
    const head = `${name}: ${plain(option.unit)}; default ${plain(defaultText(name))}`;
    return `  ${option.env.padEnd(width)}${head}\n  ${' '.repeat(width)}${option.doc}`;
  });
  const command = COMMAND_ENVIRONMENT.map(({ env, doc }) => `  ${env.padEnd(width)}${doc}`);
  return [...options, ...command].join('\n');
}

const USAGE = `Usage:
  isr build [dir]                               Prerender the site in dir (default: .)
  isr start [dir] [--port N] [--hostname H] [--workers N]
                                                Serve the built site (default port: $PORT or 3000);
                                                --workers N: N processes on that port sharing the
                                                cache folder (default: $ISR_WORKERS or 1)
  isr proxy [dir] --origin URL [--port N] [--hostname H] [--workers N]
                                                Put ISR in front of any HTTP server (docs/proxy.md):
                                                cache its responses by their headers, purge by
                                                tag or path (default port: $PORT or 3000; the
                                                options of dir/isr.config.mjs; cache folder
                                                dir/.isr/proxy-cache; --workers as isr start)
  isr --version | --help

Environment (each overrides the option of isr.config.mjs named after it; see the README):
${environmentHelp()}`;

class UsageError extends Error {}

function parsePort(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port must be an integer from 0 to 65535, got "${value}"`);
  return port;
}

/** Most worker processes `--workers` accepts. */
const MAX_WORKERS = 256;

function parseWorkers(value: string | undefined, source: string): number {
  if (value === undefined || value === '') return 1;
  const workers = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(workers) || workers < 1 || workers > MAX_WORKERS) {
    throw new UsageError(`${source} must be an integer from 1 to ${MAX_WORKERS}, got "${value}"`);
  }
  return workers;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      port: { type: 'string', short: 'p' },
      hostname: { type: 'string', short: 'H' },
      workers: { type: 'string', short: 'w' },
      origin: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
  if (values.version) {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    console.log(pkg.version);
    return 0;
  }
  const [command, dir = '.', ...extra] = positionals;
  if (values.help || command === undefined || command === 'help') {
    console.log(USAGE);
    return command === undefined && !values.help ? 2 : 0;
  }
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  const logger = createConsoleLogger();

  if (command === 'build') {
    logger.info(`building ${dir} ...`);
    // Loaded for this command only: the compilers (Vite, Rolldown, esbuild) stay out of a server's memory.
    const { build } = await import('../build/build.ts');
    // An error the site's code throws while prerendering is reported at its own file and line.
    process.setSourceMapsEnabled(true);
    let result: Awaited<ReturnType<typeof build>>;
    try {
      result = await build({ siteDir: dir, logger });
    } catch (error) {
      const { buildFailureMessage } = await import('../build/errors.ts');
      console.error(`isr: build failed: ${buildFailureMessage(error, dir)}`);
      return 1;
    }
    const routes = result.manifest.routes.map((route) => {
      const fallback =
        route.fallback === undefined ? '' : `, fallback: ${typeof route.fallback === 'string' ? `'${route.fallback}'` : route.fallback}`;
      const kind =
        route.kind === 'api'
          ? 'per request'
          : route.dynamic
            ? 'dynamic'
            : route.cacheable
              ? `ISR, ${route.prerendered.length} prerendered${fallback}`
              : 'per request';
      return `  ${route.pattern.padEnd(32)} ${route.kind.padEnd(5)} ${kind}`;
    });
    logger.info(
      `build ${result.buildId}: ${result.prerendered} page(s) prerendered in ${(result.durationMs / 1000).toFixed(1)} s\n${routes.join('\n')}`,
    );
    return 0;
  }
  if (command === 'start' || command === 'proxy') {
    if (command === 'start' && values.origin !== undefined) throw new UsageError('--origin is an option of isr proxy, not of isr start');
    const workers =
      values.workers !== undefined ? parseWorkers(values.workers, '--workers') : parseWorkers(process.env.ISR_WORKERS, 'ISR_WORKERS');
    const port = parsePort(values.port);
    const { hostname } = values;
    const start: StartService =
      command === 'start'
        ? async ({ sharedStore, logger }) => {
            const running = await startServer({ siteDir: dir, port, hostname, sharedStore, logger });
            return { description: `${dir} (build ${running.isr.site.buildId}) at ${running.url}`, close: () => running.close() };
          }
        : async ({ sharedStore, logger }) => {
            const config = values.origin === undefined ? {} : { origin: values.origin };
            const running = await startProxy({ dir, port, hostname, config, sharedStore, logger });
            return { description: `a proxy of ${running.config.origin} at ${running.url}`, close: () => running.close() };
          };
    // A forked worker re-runs this command line: it serves under runWorkers whatever N it was given.
    const code = workers > 1 || isClusterWorker() ? await runWorkers({ workers, start, logger }) : await serveUntilStopped(start, logger);
    process.exit(code);
  }
  throw new UsageError(`unknown command "${command}"`);
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`isr: ${(error as Error).message}\n\n${USAGE}`);
      process.exitCode = 2;
    } else if ((error as Error)?.name === 'CompileError' || error instanceof ConfigError) {
      console.error(`isr: ${(error as Error).message}`);
      process.exitCode = 1;
    } else {
      console.error(`isr: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      process.exitCode = 1;
    }
    // A cluster worker's IPC channel would keep it alive: exit, so the primary sees the failure.
    if (cluster.isWorker) process.exit(process.exitCode);
  },
);
