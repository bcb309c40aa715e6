/**
 * The example blog's content API: a small headless-CMS-like JSON API over `node:http`.
 *
 *   GET /posts[?limit=N]  → [{ id, title, date, category, author }] newest first
 *   GET /posts/:id        → { id, title, date, category, author, html } (404 { error } if unknown)
 *   PUT /posts/:id        ← { title?, markdown? } → edits the post, persists the edit overlay, then
 *                           calls the ISR server's revalidation webhook and reports its outcome
 *   GET /                 → { ok: true, posts: <count> } (a readiness probe)
 *
 * Run as a script: `node --import tsx examples/blog/content-api/server.ts`
 * (env: CONTENT_API_PORT, default 4000; ISR_URL, default http://127.0.0.1:3000; ISR_REVALIDATE_TOKEN).
 */
import { realpathSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { loadPosts, renderMarkdown, summary, type Post } from './posts.ts';

const here = dirname(fileURLToPath(import.meta.url));

/** The vendored Node.js blog posts (`examples/blog/content/posts`). */
export const DEFAULT_POSTS_DIR = resolve(here, '../content/posts');
/** Where edits are kept between runs (`examples/blog/.content-edits/edits.json`, gitignored). */
export const DEFAULT_EDITS_FILE = resolve(here, '../.content-edits/edits.json');

/** Largest accepted `title` or `markdown` in a PUT, in bytes of UTF-8. */
export const MAX_FIELD_BYTES = 1024 * 1024;
/** Largest accepted PUT body, in bytes (two maximal fields plus JSON overhead); above it: 413. */
const MAX_BODY_BYTES = 2 * MAX_FIELD_BYTES + 64 * 1024;
/** How long the revalidation webhook may take before it counts as failed, in milliseconds. */
const WEBHOOK_TIMEOUT_MS = 10_000;

/** Options of {@link startContentApi}. */
export interface ContentApiOptions {
  /** TCP port; 0 picks a free one. Default 4000. */
  port?: number;
  /** Interface to listen on. Default '127.0.0.1'. */
  hostname?: string;
  /** Folder of posts, one subfolder per category. Default {@link DEFAULT_POSTS_DIR}. */
  postsDir?: string;
  /**
   * JSON file holding edits made through `PUT /posts/:id`, applied over the posts at start so edits
   * survive a restart. Default {@link DEFAULT_EDITS_FILE}; `null` keeps edits in memory only.
   */
  editsFile?: string | null;
  /**
   * The ISR server's revalidation webhook, called after each edit: `POST url` with
   * `Authorization: Bearer token` and `{"paths": ["/blog/<id>", "/blog"], "tags": ["posts"]}`.
   * Default: `${ISR_URL ?? 'http://127.0.0.1:3000'}/_isr/revalidate` with token
   * `ISR_REVALIDATE_TOKEN` (if that is unset, edits report `revalidated: false`).
   * `null` disables the call. The object is read on every edit, not copied: setting its `token` to
   * `''` later turns the call off until it is set back (the example's tests edit a post unannounced).
   */
  revalidate?: { url: string; token: string } | null;
  /** Artificial delay before answering each request, in milliseconds. Default 0. */
  latencyMs?: number;
  /** Request paths (no query string) that answer 500; mutable, read on every request. */
  failPaths?: Set<string>;
  /** Where to log webhook outcomes and errors. Default `console.error` with a `[content-api]` prefix. */
  log?: (message: string) => void;
}

/** Request counters: `requests` in total, `byPath` per request path (query string excluded). */
export interface ContentApiStats {
  requests: number;
  byPath: Map<string, number>;
}

/** A running content API. */
export interface ContentApi {
  /** Base URL, e.g. `http://127.0.0.1:4000` (no trailing slash). */
  url: string;
  /** The port actually bound (useful with `port: 0`). */
  port: number;
  /** Stops accepting connections, waits for in-flight requests and pending overlay writes. */
  close(): Promise<void>;
  stats: ContentApiStats;
}

/** One post's edits in the overlay file: only the fields that were changed. */
interface Edit {
  title?: string;
  markdown?: string;
  /** ISO 8601 time of the last edit. */
  updatedAt: string;
}

type Overlay = Record<string, Edit>;

/** The outcome of a webhook call: its HTTP status when it succeeded, else false and why. */
interface WebhookResult {
  revalidated: number | false;
  error?: string;
}

/** A client error with the HTTP status to answer. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Loads the posts (and the edit overlay, if any) and starts the HTTP server.
 *
 * @returns once listening: `{ url, port, close, stats }`.
 * @throws Error if the posts cannot be loaded (duplicate ids, bad front matter), the overlay file is
 *   not valid JSON, or the port cannot be bound.
 */
export async function startContentApi(options: ContentApiOptions = {}): Promise<ContentApi> {
  const hostname = options.hostname ?? '127.0.0.1';
  const editsFile = options.editsFile === undefined ? DEFAULT_EDITS_FILE : options.editsFile;
  const revalidate = options.revalidate === undefined ? revalidateFromEnv() : options.revalidate;
  const latencyMs = options.latencyMs ?? 0;
  const failPaths = options.failPaths;
  const log = options.log ?? ((message: string) => console.error(`[content-api] ${message}`));

  const overlay: Overlay = editsFile ? await readOverlay(editsFile) : {};
  const posts = await loadPosts(options.postsDir ?? DEFAULT_POSTS_DIR);
  const byId = new Map(posts.map((post) => [post.id, post]));
  for (const [id, edit] of Object.entries(overlay)) {
    const post = byId.get(id);
    if (post) applyEdit(post, edit);
    else log(`edits file names an unknown post "${id}"; ignored`);
  }
  const htmlCache = new Map<string, string>();
  const stats: ContentApiStats = { requests: 0, byPath: new Map() };

  // Edits are applied one at a time so overlay writes never interleave.
  let editQueue: Promise<unknown> = Promise.resolve();
  function serialized<T>(task: () => Promise<T>): Promise<T> {
    const run = editQueue.then(task, task);
    editQueue = run.catch(() => undefined);
    return run;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawUrl = req.url ?? '/';
    const queryAt = rawUrl.indexOf('?');
    const path = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt);
    const query = new URLSearchParams(queryAt === -1 ? '' : rawUrl.slice(queryAt + 1));
    stats.requests += 1;
    stats.byPath.set(path, (stats.byPath.get(path) ?? 0) + 1);

    if (latencyMs > 0) await delay(latencyMs);
    if (failPaths?.has(path)) throw new HttpError(500, `Injected failure for ${path}`);

    const method = req.method ?? 'GET';
    const read = method === 'GET' || method === 'HEAD';
    if (path === '/') {
      if (!read) throw methodNotAllowed(res, 'GET, HEAD');
      return sendJson(res, 200, { ok: true, posts: posts.length });
    }
    if (path === '/posts' || path === '/posts/') {
      if (!read) throw methodNotAllowed(res, 'GET, HEAD');
      return sendJson(res, 200, posts.slice(0, parseLimit(query.get('limit'))).map(summary));
    }
    const match = /^\/posts\/([^/]+)$/.exec(path);
    if (!match) throw new HttpError(404, `No such endpoint: ${path}`);
    const id = decodeId(match[1]!);
    const post = byId.get(id);
    if (read) {
      if (!post) throw new HttpError(404, `Post not found: ${id}`);
      let html = htmlCache.get(id);
      if (html === undefined) htmlCache.set(id, (html = renderMarkdown(post.markdown)));
      return sendJson(res, 200, { ...summary(post), html });
    }
    if (method !== 'PUT') throw methodNotAllowed(res, 'GET, HEAD, PUT');
    if (!post) throw new HttpError(404, `Post not found: ${id}`);
    const changes = validateEdit(await readJson(req));

    await serialized(async () => {
      const edit: Edit = { ...overlay[id], ...changes, updatedAt: new Date().toISOString() };
      if (editsFile) await writeOverlay(editsFile, { ...overlay, [id]: edit });
      overlay[id] = edit;
      applyEdit(post, edit);
      htmlCache.delete(id);
    });
    const webhook = await callWebhook(id);
    sendJson(res, 200, { ...summary(post), updatedAt: overlay[id]!.updatedAt, ...webhook });
  }

  /** POSTs the revalidation request for one post; never throws. */
  async function callWebhook(id: string): Promise<WebhookResult> {
    if (!revalidate) return { revalidated: false, error: 'revalidation is disabled' };
    if (!revalidate.token) {
      const error = 'ISR_REVALIDATE_TOKEN is not set: the ISR server was not asked to revalidate';
      log(error);
      return { revalidated: false, error };
    }
    const body = { paths: [`/blog/${id}`, '/blog'], tags: ['posts'] };
    try {
      const res = await fetch(revalidate.url, {
        method: 'POST',
        headers: { authorization: `Bearer ${revalidate.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`answered ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`);
      log(`revalidated ${body.paths.join(', ')} and tag "posts" (${res.status})`);
      return { revalidated: res.status };
    } catch (err) {
      const cause = (err as Error & { cause?: Error }).cause;
      const error = `revalidation webhook ${revalidate.url} failed: ${(err as Error).message}${cause ? ` (${cause.message})` : ''}`;
      log(error);
      return { revalidated: false, error };
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      if (!(err instanceof HttpError)) log(`${req.method} ${req.url} failed: ${(err as Error)?.stack ?? err}`);
      if (res.headersSent) return void res.destroy();
      if (status === 413) res.setHeader('connection', 'close'); // do not read the rest of a huge body
      sendJson(res, status, { error: err instanceof Error ? err.message : String(err) });
    });
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(options.port ?? 4000, hostname, () => {
      server.off('error', rejectListen);
      resolveListen();
    });
  });
  server.on('error', (err) => log(`server error: ${err.message}`));

  const port = (server.address() as AddressInfo).port;
  const host = hostname.includes(':') ? `[${hostname}]` : hostname;
  return {
    url: `http://${host}:${port}`,
    port,
    stats,
    async close() {
      const closed = new Promise<void>((done, fail) => server.close((err) => (err ? fail(err) : done())));
      server.closeIdleConnections();
      await closed;
      await editQueue;
    },
  };
}

/** The webhook target from the environment (`ISR_URL`, `ISR_REVALIDATE_TOKEN`). */
function revalidateFromEnv(): { url: string; token: string } {
  const base = (process.env.ISR_URL ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');
  return { url: `${base}/_isr/revalidate`, token: process.env.ISR_REVALIDATE_TOKEN ?? '' };
}

function applyEdit(post: Post, edit: Edit): void {
  if (typeof edit.title === 'string') post.title = edit.title;
  if (typeof edit.markdown === 'string') post.markdown = edit.markdown;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    'cache-control': 'no-store',
  });
  res.end(payload);
}

function methodNotAllowed(res: ServerResponse, allow: string): HttpError {
  res.setHeader('allow', allow);
  return new HttpError(405, `Method not allowed; use ${allow}`);
}

/** `?limit=N`: a non-negative integer, or everything when absent. */
function parseLimit(value: string | null): number | undefined {
  if (value === null) return undefined;
  if (!/^\d+$/.test(value)) throw new HttpError(400, `limit must be a non-negative integer, got "${value}"`);
  return Number(value);
}

function decodeId(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, `Malformed post id in the URL: ${segment}`);
  }
}

/** Reads a request body of at most MAX_BODY_BYTES and parses it as JSON. */
async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `Request body is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw new HttpError(400, 'Request body is empty; send JSON { "title"?: string, "markdown"?: string }');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, `Request body is not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * Checks a PUT body: a JSON object with only `title` and/or `markdown`, each a string of at most
 * MAX_FIELD_BYTES bytes; `title` must not be blank.
 */
function validateEdit(body: unknown): { title?: string; markdown?: string } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new HttpError(400, 'Request body must be a JSON object { "title"?: string, "markdown"?: string }');
  }
  const fields = body as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((key) => key !== 'title' && key !== 'markdown');
  if (unknown.length > 0) throw new HttpError(400, `Unknown field(s): ${unknown.join(', ')}; only "title" and "markdown" can be changed`);
  const changes: { title?: string; markdown?: string } = {};
  for (const key of ['title', 'markdown'] as const) {
    const value = fields[key];
    if (value === undefined) continue;
    if (typeof value !== 'string') throw new HttpError(400, `"${key}" must be a string, got ${value === null ? 'null' : typeof value}`);
    const bytes = Buffer.byteLength(value, 'utf8');
    if (bytes > MAX_FIELD_BYTES) throw new HttpError(400, `"${key}" is ${bytes} bytes; the limit is ${MAX_FIELD_BYTES} bytes (1 MB)`);
    changes[key] = value;
  }
  if (changes.title !== undefined && changes.title.trim() === '') throw new HttpError(400, '"title" must not be blank');
  if (changes.title === undefined && changes.markdown === undefined) {
    throw new HttpError(400, 'Nothing to change: send "title" and/or "markdown"');
  }
  return changes;
}

/** Reads the overlay file; a missing file is an empty overlay. */
async function readOverlay(file: string): Promise<Overlay> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new Error(`Edits file ${file} is not valid JSON (${(err as Error).message}); fix or delete it`);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new Error(`Edits file ${file} must hold a JSON object { "<post id>": { title?, markdown?, updatedAt } }`);
  }
  return data as Overlay;
}

/** Writes the overlay atomically: a temporary file in the same folder, then a rename. */
async function writeOverlay(file: string, overlay: Overlay): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(temporary, `${JSON.stringify(overlay, null, 2)}\n`);
  await rename(temporary, file);
}

/** Script entry: start on CONTENT_API_PORT (default 4000) and stop cleanly on SIGINT/SIGTERM. */
async function main(): Promise<void> {
  const portText = process.env.CONTENT_API_PORT ?? '4000';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`CONTENT_API_PORT must be a port number, got "${portText}"`);
  }
  const api = await startContentApi({ port });
  console.log(`[content-api] listening on ${api.url} (posts from ${DEFAULT_POSTS_DIR})`);
  const stop = () => {
    api.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/** True when this file is the script node was started with (symlinks resolved, as for import.meta.url). */
function isMain(): boolean {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  main().catch((err: unknown) => {
    console.error(`[content-api] ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
