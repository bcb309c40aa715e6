/**
 * A local stand-in for `https://api.vercel.app/blog`, the JSON API the Next.js documentation's ISR
 * examples fetch, and a way to route this process's `fetch` of that origin to it.
 *
 *   GET /blog       → [{ id, title, content, author, date, category }, …] in id order
 *   GET /blog/:id   → that post, or 404 { "error": "not found" }
 *   anything else   → 404 { "error": "not found" }; methods other than GET/HEAD → 405
 *
 * The posts are real: the newest `count` posts of the vendored Node.js blog
 * (`examples/blog/content/posts`), id 1 the newest, `content` a short plain-text excerpt of the body.
 * What the real api.vercel.app answers for an unknown id is not known here; a JSON 404 stands in.
 *
 * Routing: Node's built-in `fetch` sends every request through the dispatcher stored at
 * `globalThis[Symbol.for('undici.globalDispatcher.1')]`, which the npm `undici` package's
 * `setGlobalDispatcher` sets (undici is pinned to the version bundled with Node 20, 6.24.1).
 * {@link routeVercelApiTo} installs a dispatcher that hands requests for `https://api.vercel.app` to an
 * undici `Agent` whose `connect` returns a plain TCP socket to the stand-in (undici then speaks
 * HTTP/1.1 over it, no TLS), and forwards every other request to the dispatcher that was installed
 * before. `globalThis.fetch` itself is never replaced.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo, connect as netConnect } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, Dispatcher, getGlobalDispatcher, setGlobalDispatcher } from 'undici';
import { loadPosts, type Post, renderMarkdown } from '../../examples/blog/content-api/posts.ts';

/** One post as api.vercel.app/blog serves it. `date` is an ISO 8601 timestamp in UTC. */
export interface BlogPost {
  id: number;
  title: string;
  content: string;
  author: string;
  date: string;
  category: string;
}

/** A running stand-in for api.vercel.app (see {@link startVercelBlogApi}). */
export interface VercelBlogApi {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** The posts served, by id; read on every request, so tests may edit, add and remove posts. */
  posts: Map<number, BlogPost>;
  /** Requests received, e.g. 'GET /blog', 'GET /blog/3' (for asserting how often getStaticProps ran). */
  requests: string[];
  /** The next `n` requests (any path) answer with `status` (default 500) and a JSON error body. */
  failNext(n: number, status?: number): void;
  /** Stops the server, closing any open (keep-alive) connections. */
  close(): Promise<void>;
}

/** The origin the Next.js docs' examples fetch. */
export const VERCEL_API_ORIGIN = 'https://api.vercel.app';

const POSTS_DIR = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../examples/blog/content/posts');
/** Longest `content` excerpt, in characters (before the trailing ellipsis). */
const EXCERPT_CHARS = 280;

let corpus: Promise<Post[]> | undefined;

/** The vendored corpus, newest first, loaded once per process (it takes most of a second). */
function loadCorpus(): Promise<Post[]> {
  corpus ??= loadPosts(POSTS_DIR);
  return corpus;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/**
 * A short plain-text excerpt of a Markdown body: rendered to HTML, tags dropped, entities decoded,
 * whitespace collapsed, a leading repeat of the title dropped, cut at a word boundary.
 */
function excerpt(markdown: string, title: string): string {
  let text = renderMarkdown(markdown)
    // Block boundaries become spaces; inline tags vanish so "a <a>link</a>, b" stays "a link, b".
    .replace(/<\/?(?:p|h[1-6]|li|ul|ol|pre|blockquote|div|table|tr|td|th|br|hr)\b[^>]*>/gi, ' ')
    .replace(/<[^>]*>/g, '')
    .replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, name: string) => {
      if (name[0] === '#') {
        const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
        return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
      }
      return ENTITIES[name.toLowerCase()] ?? whole;
    })
    .replace(/\s+/g, ' ')
    .trim();
  if (text.startsWith(title)) text = text.slice(title.length).trim();
  if (text.length <= EXCERPT_CHARS) return text;
  const cut = text.slice(0, EXCERPT_CHARS + 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > EXCERPT_CHARS / 2 ? cut.slice(0, space) : cut.slice(0, EXCERPT_CHARS)).trimEnd()}…`;
}

/** Writes a JSON answer with an explicit length (Node omits the body itself for HEAD). */
function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    ...headers,
  });
  res.end(body);
}

/**
 * Starts the stand-in on a free port on 127.0.0.1 with `count` posts (default 25, as in the docs):
 * the newest `count` posts of the vendored Node.js blog, ids 1..count, id 1 the newest.
 *
 * @throws RangeError if `count` is not an integer between 0 and the number of posts in the corpus.
 */
export async function startVercelBlogApi(count = 25): Promise<VercelBlogApi> {
  const all = await loadCorpus();
  if (!Number.isInteger(count) || count < 0 || count > all.length) {
    throw new RangeError(`count must be an integer from 0 to ${all.length}, got ${count}`);
  }
  const posts = new Map<number, BlogPost>();
  all.slice(0, count).forEach((post, i) => {
    posts.set(i + 1, {
      id: i + 1,
      title: post.title,
      content: excerpt(post.markdown, post.title),
      author: post.author,
      date: post.date,
      category: post.category,
    });
  });

  const requests: string[] = [];
  let failures = 0;
  let failStatus = 500;

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const method = req.method ?? 'GET';
    const target = req.url ?? '/';
    requests.push(`${method} ${target}`);
    if (failures > 0) {
      failures--;
      sendJson(res, failStatus, { error: 'injected failure', status: failStatus });
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') {
      sendJson(res, 405, { error: 'method not allowed' }, { allow: 'GET, HEAD' });
      return;
    }
    const path = target.split('?', 1)[0]!;
    if (path === '/blog' || path === '/blog/') {
      sendJson(
        res,
        200,
        [...posts.values()].sort((a, b) => a.id - b.id),
      );
      return;
    }
    const match = /^\/blog\/(\d+)\/?$/.exec(path);
    const post = match ? posts.get(Number(match[1])) : undefined;
    if (post === undefined) {
      sendJson(res, 404, { error: 'not found' });
      return;
    }
    sendJson(res, 200, post);
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    posts,
    requests,
    failNext(n: number, status = 500) {
      if (!Number.isInteger(n) || n < 0) throw new RangeError(`n must be a non-negative integer, got ${n}`);
      failures = n;
      failStatus = status;
    },
    close: () =>
      new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        server.closeAllConnections();
      }),
  };
}

/**
 * The global dispatcher while routed: requests for {@link VERCEL_API_ORIGIN} go to `routed`, all
 * others to `fallback` (the dispatcher installed before), so other origins keep their connection
 * pools and any dispatcher a test set up.
 */
class VercelApiRouter extends Dispatcher {
  constructor(
    private readonly routed: Agent,
    private readonly fallback: Dispatcher,
  ) {
    super();
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandlers): boolean {
    let origin = '';
    try {
      if (options.origin !== undefined) origin = new URL(String(options.origin)).origin;
    } catch {
      // Not a URL: not ours; let the previous dispatcher report it.
    }
    return (origin === VERCEL_API_ORIGIN ? this.routed : this.fallback).dispatch(options, handler);
  }

  /** Closes only the routing agent; the previous dispatcher belongs to whoever installed it. */
  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | void {
    const done = this.routed.close();
    if (callback === undefined) return done;
    done.then(callback, callback);
  }

  /** Destroys only the routing agent (see {@link VercelApiRouter.close}). */
  override destroy(): Promise<void>;
  override destroy(err: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(err: Error | null, callback: () => void): void;
  override destroy(errOrCallback?: Error | null | (() => void), callback?: () => void): Promise<void> | void {
    const err = typeof errOrCallback === 'function' ? null : (errOrCallback ?? null);
    const cb = typeof errOrCallback === 'function' ? errOrCallback : callback;
    const done = this.routed.destroy(err);
    if (cb === undefined) return done;
    done.then(cb, cb);
  }
}

/**
 * Routes this process's fetch of `https://api.vercel.app/*` to `api` over a real socket; every other
 * origin is untouched. Returns a function that restores the previous global dispatcher.
 *
 * Works for Node's built-in `fetch` (and the npm `undici` API), which read the global dispatcher on
 * every request; `globalThis.fetch` is not replaced, so code that wraps it keeps working. The
 * connection is plain HTTP/1.1 to `api.url` (the request still says `Host: api.vercel.app`).
 * Restoring is idempotent and closes the routing agent's connections once in-flight requests end.
 */
export function routeVercelApiTo(api: VercelBlogApi): () => void {
  const target = new URL(api.url);
  const host = target.hostname;
  const port = Number(target.port);
  const routed = new Agent({
    connect(_options, callback) {
      const socket = netConnect({ host, port });
      socket.setNoDelay(true);
      const onError = (err: Error) => callback(err, null);
      socket.once('error', onError);
      socket.once('connect', () => {
        socket.off('error', onError);
        callback(null, socket);
      });
    },
  });
  const previous = getGlobalDispatcher();
  setGlobalDispatcher(new VercelApiRouter(routed, previous));
  let restored = false;
  return () => {
    if (restored) return;
    restored = true;
    setGlobalDispatcher(previous);
    routed.close().catch(() => {});
  };
}
