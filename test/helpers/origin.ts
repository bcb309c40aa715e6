/**
 * A plain `node:http` origin for the proxy's tests: each path answers what the test sets for it
 * (status, headers, body, a delay, or a hang), every request is recorded, and the body says which
 * request of its path produced it (`<path> #<n>`), so a test can tell a stored answer from a new one.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Route {
  status?: number;
  headers?: Record<string, string | string[]>;
  /** The body; default `<path> #<n>` (n counts this path's requests). */
  body?: string | ((n: number) => string);
  /** Milliseconds before answering. */
  delayMs?: number;
  /** Never answer (the connection stays open). */
  hang?: boolean;
  /** Answer 304 (no body) to a request whose If-None-Match equals this. */
  etag?: string;
}

export interface Recorded {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface TestOrigin {
  url: string;
  port: number;
  /** Every request received, in order. */
  requests: Recorded[];
  /** Requests received for `url` (path and query), any method. */
  count(url: string): number;
  /** Sets how `path` (without query) answers; unset paths answer 200 with `public, s-maxage=60`. */
  route(path: string, route: Route): void;
  /** Closes every connection and the server. */
  close(): Promise<void>;
  server: Server;
}

/** Starts a test origin on a free 127.0.0.1 port. */
export async function startOrigin(): Promise<TestOrigin> {
  const routes = new Map<string, Route>();
  const requests: Recorded[] = [];
  const perPath = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = req.url ?? '/';
      requests.push({ method: req.method ?? 'GET', url, headers: req.headers, body: Buffer.concat(chunks).toString() });
      const path = url.split('?')[0]!;
      const n = (perPath.get(url) ?? 0) + 1;
      perPath.set(url, n);
      const route = routes.get(path) ?? {};
      if (route.hang) return;
      const answer = () => {
        if (route.etag !== undefined && req.headers['if-none-match'] === route.etag) {
          res.writeHead(304, { etag: route.etag, ...(route.headers ?? { 'cache-control': 'public, s-maxage=60' }) });
          res.end();
          return;
        }
        const body = typeof route.body === 'function' ? route.body(n) : (route.body ?? `${url} #${n}`);
        res.writeHead(route.status ?? 200, {
          'content-type': 'text/plain; charset=utf-8',
          ...(route.etag === undefined ? {} : { etag: route.etag }),
          ...(route.headers ?? { 'cache-control': 'public, s-maxage=60' }),
        });
        res.end(req.method === 'HEAD' ? undefined : body);
      };
      if (route.delayMs) setTimeout(answer, route.delayMs);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    server,
    count: (url) => requests.filter((request) => request.url === url).length,
    route: (path, route) => routes.set(path, route),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
