/**
 * How `isr build` reports a failure: one message a user can act on, never isr's own stack.
 *
 * - What isr refuses or cannot compile (`SiteError`, `ConfigError`, `CompileError`) names the
 *   file, the feature and what to do: the message alone.
 * - An error the site's own code threw (a page that throws while prerendering,
 *   `generateStaticParams` rejecting) is the message, then the stack frames of the site's own
 *   source files that threw it, mapped back to them by the server bundles' source maps (the CLI
 *   enables them for `isr build`), relative to the site, as `next build` prints its "Error occurred
 *   prerendering page" (https://nextjs.org/docs/messages/prerender-error). Frames of isr, of
 *   React and of the site's packages are left out.
 * - Anything else is an error inside isr: its whole stack, to report.
 */

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, SiteError } from '../config/errors.ts';
import { CompileError } from './compile.ts';

/** The frames of a stack listed in {@link buildFailureMessage}, at most. */
const MAX_SITE_FRAMES = 8;

/** The file a V8 stack frame line points at (`at f (file:///a/b.js:1:2)` or `at /a/b.js:1:2`), or undefined. */
function frameFile(line: string): string | undefined {
  const location = /\(([^()]+):\d+:\d+\)$/.exec(line)?.[1] ?? /^\s*at (?:async )?([^\s()]+):\d+:\d+$/.exec(line)?.[1];
  if (location === undefined) return undefined;
  if (location.startsWith('file://')) {
    try {
      return fileURLToPath(location);
    } catch {
      return undefined;
    }
  }
  return path.isAbsolute(location) ? location : undefined;
}

/**
 * The frames of `error`'s stack in the site's own source files under `siteDir` (not its
 * `node_modules`, not the build output in `.isr`), with paths relative to `siteDir`.
 */
export function siteFrames(error: unknown, siteDir: string): string[] {
  const stack = error instanceof Error ? error.stack : undefined;
  if (stack === undefined) return [];
  const root = path.resolve(siteDir);
  const frames: string[] = [];
  for (const line of stack.split('\n').slice(1)) {
    const file = frameFile(line);
    if (file === undefined) continue;
    const relative = path.relative(root, file);
    if (relative.startsWith('..') || path.isAbsolute(relative)) continue;
    const [top] = relative.split(path.sep);
    if (top === 'node_modules' || top === '.isr' || relative.split(path.sep).includes('node_modules')) continue;
    frames.push(`    ${line.trim().replace(/file:\/\/[^\s()]+|\/[^\s()]+/, (location) => relativeLocation(location, root))}`);
    if (frames.length === MAX_SITE_FRAMES) break;
  }
  return frames;
}

function relativeLocation(location: string, root: string): string {
  const absolute = location.startsWith('file://') ? fileURLToPath(location.replace(/:\d+:\d+$/, '')) : location.replace(/:\d+:\d+$/, '');
  const position = /:\d+:\d+$/.exec(location)?.[0] ?? '';
  return `${path.relative(root, absolute)}${position}`;
}

/** `error` and its causes, outermost first. */
function causeChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let current = error; current !== undefined && chain.length < 10; current = (current as { cause?: unknown }).cause) {
    chain.push(current);
    if (!(current instanceof Error)) break;
  }
  return chain;
}

/**
 * What `isr build` prints when building `siteDir` fails with `error` (see the module's rules).
 * @returns the text, without the `isr: ` prefix the CLI adds.
 */
export function buildFailureMessage(error: unknown, siteDir: string): string {
  if (!(error instanceof Error)) return String(error);
  const known = error instanceof SiteError || error instanceof ConfigError || error instanceof CompileError;
  // The innermost cause with frames in the site's code is where the site threw.
  const frames = causeChain(error)
    .map((item) => siteFrames(item, siteDir))
    .filter((list) => list.length > 0)
    .at(-1);
  if (frames !== undefined) return `${error.message}\n${frames.join('\n')}`;
  if (known) return error.message;
  return `internal error (please report it): ${error.stack ?? error.message}`;
}
