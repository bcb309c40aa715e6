/**
 * Listening on a TCP port, for both servers.
 */
import type { AddressInfo, Server } from 'node:net';

/**
 * Starts `server` listening on `port` (default `PORT` or 3000; `0` picks a free one) and
 * `hostname` (default `HOSTNAME` or `0.0.0.0`).
 * @returns the interface and port it listens on, and its URL as a client on this machine reaches
 *   it (`127.0.0.1` for every interface; an IPv6 address in brackets).
 * @throws the server's error (port taken, address unavailable).
 */
export async function listen(server: Server, port?: number, hostname?: string): Promise<{ hostname: string; port: number; url: string }> {
  const wanted = port ?? Number(process.env.PORT ?? 3000);
  const host = hostname ?? process.env.HOSTNAME ?? '0.0.0.0';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(wanted, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return { hostname: host, port: address.port, url: `http://${shown}:${address.port}` };
}
