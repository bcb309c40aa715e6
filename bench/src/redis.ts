/**
 * A throwaway `redis-server` for the purge scenario: the benchmark's own, on a fixed port (never
 * the machine's 6379), nothing persisted (`--save '' --appendonly no`), in its own process group
 * like every other server under test.
 */
import { createConnection } from 'node:net';
import { startServer } from './spawn.ts';
import type { RunningServer } from './types.ts';

/** One PING on a fresh connection: whether `+PONG` came back within `timeoutMs`. */
function ping(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolvePing) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolvePing(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
    socket.on('error', () => done(false));
    socket.on('close', () => done(false));
  });
}

/**
 * Starts `redis-server` on 127.0.0.1:`port` (working folder `workDir`, which must exist) and
 * resolves once it answers PING; `url` is `redis://127.0.0.1:<port>`.
 * @throws Error if the port is taken, redis-server is missing or exits, or no PONG within 10 s.
 */
export function startRedis(port: number, workDir: string): Promise<RunningServer> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', workDir, '--daemonize', 'no'];
  return startServer('redis-server', 'redis-server', args, {
    cwd: workDir,
    url: `redis://127.0.0.1:${port}`,
    ready: () => ping(port, 500),
    timeoutMs: 10_000,
  });
}
