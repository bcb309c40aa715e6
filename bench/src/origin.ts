/**
 * The origin of the proxy comparison (bench/src/shared-caches.ts): a plain node:http server, in the
 * benchmark's process, that every shared cache under test sits in front of. Each path is a page of
 * a few KB whose content has a version (bumped by {@link Origin.edit}); answers carry the caching
 * fields a shared cache follows — `Cache-Control: public, s-maxage=<N>, stale-while-revalidate=<M>`
 * (RFC 9111 section 5.2.2.10, RFC 5861 section 3), `Cache-Tag` (a comma list of purge tags, the
 * convention of Cloudflare and of `isr proxy`), a strong `ETag` (RFC 9110 section 8.8.3) — and it
 * answers `If-None-Match` with 304 (RFC 9110 section 13.1.2), so a cache that revalidates
 * conditionally can. Every answer waits `latencyMs` first: a herd of requests reaching the origin
 * then overlaps in time, which makes it countable.
 *
 * The origin counts its requests per path (conditional or not). `GET /_origin/stats` answers those
 * counts as JSON (`{ "byPath": { "/herd/a": 2 }, "total": 2 }`; not counted itself), for a look from outside; the
 * benchmark reads {@link Origin.calls} directly.
 */
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

/** Caching policy of one path: the `Cache-Control` windows sent, in seconds. */
export interface PagePolicy {
  /** `s-maxage`: how long a shared cache may serve the page without asking the origin, in seconds. */
  sMaxageSec: number;
  /** `stale-while-revalidate`: how long after that it may serve it stale while it refetches, in seconds. */
  staleWhileRevalidateSec: number;
}

export interface OriginOptions {
  /** Port on 127.0.0.1; 0 for any free one. */
  port: number;
  /** Delay before every answer (including 304s and the stats), in milliseconds. */
  latencyMs: number;
  /** Size of a page's body, about (the filler is cut to it), in bytes. */
  pageBytes: number;
  /** The policy of a path (a page's path, e.g. `/herd/3`). */
  policy: (path: string) => PagePolicy;
}

export interface Origin {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  url: string;
  port: number;
  /** Requests received for `path` so far (its query string excluded), any method and answer. */
  calls(path: string): number;
  /** The requests received per path, their statuses counted: `{ 200: n, 304: m }`. */
  statuses(path: string): Record<string, number>;
  /** Changes the content of `path` (its version goes up by one); returns the marker the new body contains. */
  edit(path: string): string;
  /** The marker the current body of `path` contains (`data-version="<path>#<n>"`). */
  marker(path: string): string;
  /** The tags `path` is sent with: `page<path>` with every run of other characters than letters and digits as `-` (`/herd/a` → `page-herd-a`), and `pages`. */
  tags(path: string): string[];
  close(): Promise<void>;
}

const STATS_PATH = '/_origin/stats';

/**
 * Starts the origin on 127.0.0.1. Any GET or HEAD of a path other than `/_origin/stats` answers
 * 200 with that path's page (or 304 when `If-None-Match` names its current ETag); other methods
 * answer 405.
 *
 * @throws Error if the port is taken (the server's `listen` error).
 */
export async function startOrigin(options: OriginOptions): Promise<Origin> {
  const versions = new Map<string, number>();
  const counts = new Map<string, Record<string, number>>();
  const filler = 'lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(Math.ceil(options.pageBytes / 56));
  const marker = (path: string) => `data-version="${path}#${versions.get(path) ?? 0}"`;
  const tags = (path: string) => [`page${path.replace(/[^A-Za-z0-9]+/g, '-')}`, 'pages'];

  const page = (path: string): { body: Buffer; etag: string } => {
    const head = `<!doctype html><html><head><title>${path}</title></head><body><main ${marker(path)}><h1>${path}</h1><p>`;
    const tail = '</p></main></body></html>\n';
    const body = Buffer.from(head + filler.slice(0, Math.max(0, options.pageBytes - head.length - tail.length)) + tail);
    return { body, etag: `"${createHash('sha1').update(body).digest('base64url').slice(0, 16)}"` };
  };

  const server = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    await delay(options.latencyMs);
    if (path === STATS_PATH) {
      const byPath = Object.fromEntries([...counts].map(([p, s]) => [p, Object.values(s).reduce((a, b) => a + b, 0)]));
      const total = Object.values(byPath).reduce((a, b) => a + b, 0);
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify({ byPath, total }));
      return;
    }
    const count = (status: number) => {
      const s = counts.get(path) ?? {};
      s[status] = (s[status] ?? 0) + 1;
      counts.set(path, s);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      count(405);
      res.writeHead(405, { allow: 'GET, HEAD', 'cache-control': 'no-store' }).end();
      return;
    }
    const { sMaxageSec, staleWhileRevalidateSec } = options.policy(path);
    const { body, etag } = page(path);
    const headers = {
      'cache-control': `public, s-maxage=${sMaxageSec}, stale-while-revalidate=${staleWhileRevalidateSec}`,
      'cache-tag': tags(path).join(','),
      etag,
    };
    if (req.headers['if-none-match'] === etag) {
      count(304);
      res.writeHead(304, headers).end();
      return;
    }
    count(200);
    res.writeHead(200, { ...headers, 'content-type': 'text/html; charset=utf-8', 'content-length': body.length });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    calls: (path) => Object.values(counts.get(path) ?? {}).reduce((a, b) => a + b, 0),
    statuses: (path) => ({ ...counts.get(path) }),
    edit: (path) => {
      versions.set(path, (versions.get(path) ?? 0) + 1);
      return marker(path);
    },
    marker,
    tags,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
