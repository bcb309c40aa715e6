#!/usr/bin/env node
/**
 * `npm run demo`: the example blog end to end, from the repository root, after `npm run build`.
 *
 *   1. starts the content API (examples/blog/content-api/server.ts) on CONTENT_API_PORT (default 4000),
 *   2. runs `node bin/isr.js build examples/blog` against it (prerenders the 100 newest posts),
 *   3. starts `node bin/isr.js start examples/blog --port PORT` (default 3000),
 *   4. prints the URLs and curl commands to try, and keeps both running until Ctrl-C.
 *
 * Env: PORT, CONTENT_API_PORT, ISR_REVALIDATE_TOKEN (a random one is made for this run when unset;
 * both processes share it), MY_SECRET_TOKEN (for /api/revalidate and /api/archive/revalidate; defaults to the same token).
 * If either process dies, the other is stopped and the demo exits non-zero.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const site = 'examples/blog';
const host = '127.0.0.1';
const port = Number(process.env.PORT ?? 3000);
const apiPort = Number(process.env.CONTENT_API_PORT ?? 4000);
const token = process.env.ISR_REVALIDATE_TOKEN || randomBytes(18).toString('base64url');
const siteUrl = `http://${host}:${port}`;
const apiUrl = `http://${host}:${apiPort}`;
const READY_TIMEOUT_MS = 60_000;

const env = {
  ...process.env,
  CONTENT_API_PORT: String(apiPort),
  CONTENT_API_URL: apiUrl,
  ISR_URL: siteUrl,
  ISR_REVALIDATE_TOKEN: token,
  MY_SECRET_TOKEN: process.env.MY_SECRET_TOKEN || token,
};

/** @type {Set<import('node:child_process').ChildProcess>} */
const children = new Set();
let stopping = false;

function say(line) {
  console.log(`[demo] ${line}`);
}

/** Starts a long-running child; if it exits while the demo is not stopping, the demo fails. */
function startChild(name, args) {
  const child = spawn(process.execPath, args, { cwd: root, env, stdio: 'inherit' });
  children.add(child);
  child.on('error', (err) => fail(`could not start the ${name}: ${err.message}`));
  child.on('exit', (code, signal) => {
    children.delete(child);
    if (!stopping) fail(`the ${name} exited (${signal ?? `code ${code}`})`);
  });
  return child;
}

/** Runs a child to completion with inherited stdio; resolves with its exit code. */
function run(args) {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, args, { cwd: root, env, stdio: 'inherit' });
    children.add(child);
    child.on('error', (err) => {
      say(`could not run node ${args.join(' ')}: ${err.message}`);
      resolveRun(1);
    });
    child.on('exit', (code, signal) => {
      children.delete(child);
      resolveRun(code ?? (signal ? 1 : 0));
    });
  });
}

/** Polls `url` until it answers 2xx; throws after READY_TIMEOUT_MS. */
async function waitFor(url, name) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (stopping) return;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      await res.arrayBuffer();
      if (res.ok) return;
      last = `status ${res.status}`;
    } catch (err) {
      last = err.cause?.message ?? err.message;
    }
    await delay(250);
  }
  throw new Error(`the ${name} did not answer ${url} within ${READY_TIMEOUT_MS / 1000} s (${last})`);
}

/** Stops every child (SIGTERM, then SIGKILL after 5 s) and exits with `code`. */
async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  const exits = [...children].map(
    (child) =>
      new Promise((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once('exit', done);
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
      }),
  );
  await Promise.all(exits);
  process.exit(code);
}

function fail(message) {
  if (stopping) return;
  say(`error: ${message}`);
  void shutdown(1);
}

process.on('SIGINT', () => {
  console.log();
  say('stopping…');
  void shutdown(0);
});
process.on('SIGTERM', () => void shutdown(0));

async function main() {
  for (const [name, value] of [['PORT', port], ['CONTENT_API_PORT', apiPort]]) {
    if (!Number.isInteger(value) || value <= 0 || value > 65535) throw new Error(`${name} must be a port number`);
  }
  if (!process.env.ISR_REVALIDATE_TOKEN) say('ISR_REVALIDATE_TOKEN not set: using a random token for this run');

  say(`starting the content API on ${apiUrl}`);
  startChild('content API', ['--import', 'tsx', `${site}/content-api/server.ts`]);
  await waitFor(`${apiUrl}/`, 'content API');

  say(`building ${site} (node bin/isr.js build ${site})`);
  const built = await run(['bin/isr.js', 'build', site]);
  if (stopping) return;
  if (built !== 0) return fail(`the build failed (exit code ${built})`);

  say(`starting the site on ${siteUrl}`);
  startChild('isr server', ['bin/isr.js', 'start', site, '--port', String(port), '--hostname', host]);
  await waitFor(`${siteUrl}/blog`, 'isr server');
  if (stopping) return;

  // The newest post is among the 100 prerendered at build time.
  const newest = await fetch(`${apiUrl}/posts?limit=1`).then((res) => res.json());
  const example = newest[0]?.id ?? 'v8.0.0';
  console.log(`
  ┌─ isr example blog is running ─────────────────────────────────────────
  │ Site         ${siteUrl}/blog
  │ Archive      ${siteUrl}/archive (the same posts through the Pages Router)
  │ Content API  ${apiUrl}/posts
  │
  │ A prerendered post (look at the cache headers, run it twice):
  │   curl -i ${siteUrl}/blog/${example}
  │
  │ Edit it through the content API (it calls ${siteUrl}/_isr/revalidate):
  │   curl -X PUT ${apiUrl}/posts/${example} \\
  │     -H 'content-type: application/json' \\
  │     -d '{"title": "Edited live", "markdown": "# Edited\\n\\nThis page was regenerated on demand."}'
  │
  │ Revalidate by hand:
  │   curl -X POST ${siteUrl}/_isr/revalidate \\
  │     -H 'authorization: Bearer ${token}' \\
  │     -H 'content-type: application/json' -d '{"paths": ["/blog/${example}"], "tags": ["posts"]}'
  │   curl -X POST '${siteUrl}/api/revalidate?secret=${env.MY_SECRET_TOKEN}&tag=posts'
  │   curl -X POST '${siteUrl}/api/archive/revalidate?secret=${env.MY_SECRET_TOKEN}&id=${example}'
  │
  │ Edits are kept in ${site}/.content-edits/edits.json (delete it to reset).
  └─ Ctrl-C stops both processes ─────────────────────────────────────────
`);
}

main().catch((err) => fail(err instanceof Error ? err.message : String(err)));
