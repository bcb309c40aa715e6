/** A content API the fixture sites read, with per-item answers, statuses and delays the tests control. */

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A controllable content API for the fixture site: `GET /item/:id` answers
 * `{ id, text }` from `items` (read on arrival), or the status set in `statuses`, after the
 * delay in `delays`. Counts calls per id.
 */
export interface FixtureApi {
  url: string;
  items: Map<string, string>;
  statuses: Map<string, number>;
  /** Calls per item id. */
  calls: Map<string, number>;
  /** Milliseconds to wait before answering (per item id, or `*` for all). */
  delays: Map<string, number>;
  callsFor(id: string): number;
  close(): Promise<void>;
}

export async function startFixtureApi(initial: Record<string, string> = {}): Promise<FixtureApi> {
  const items = new Map(Object.entries(initial));
  const statuses = new Map<string, number>();
  const calls = new Map<string, number>();
  const delays = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const match = /^\/item\/([^/?]+)/.exec(req.url ?? '');
    if (!match) {
      res.writeHead(404).end();
      return;
    }
    const id = decodeURIComponent(match[1]!);
    calls.set(id, (calls.get(id) ?? 0) + 1);
    const delay = delays.get(id) ?? delays.get('*') ?? 0;
    // The data is read when the request arrives, then answered after the delay: a slow origin.
    const status = statuses.get(id);
    // `whoami` answers with the request's Authorization header (per-user data).
    const text = id === 'whoami' ? req.headers.authorization : items.get(id);
    setTimeout(() => {
      if (status !== undefined) {
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: status }));
        return;
      }
      if (text === undefined) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id, text }));
    }, delay);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    items,
    statuses,
    calls,
    delays,
    callsFor: (id) => calls.get(id) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
