/**
 * nginx (Debian's package) serving the same HTML bytes as static files: the reference for what a
 * static-file server does on this machine. One or two worker processes.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startServer } from './spawn.ts';
import type { RunningServer } from './types.ts';

/**
 * Starts `nginx` in the foreground (its own process group) serving `root` on 127.0.0.1:`port`
 * with `workers` worker processes; its config, pid and logs live in `workDir`. Every file is
 * `text/html; charset=utf-8` (post ids such as `v8.0.0` have no real extension). Keep-alive
 * connections are never closed by request count, as Node's server does not close them either.
 */
export async function startNginx(root: string, port: number, workers: number, workDir: string): Promise<RunningServer> {
  await mkdir(workDir, { recursive: true });
  const config = `
worker_processes ${workers};
daemon off;
pid ${join(workDir, 'nginx.pid')};
error_log ${join(workDir, 'error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
  types { }
  default_type "text/html; charset=utf-8";
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000000;
  keepalive_timeout 65s;
  open_file_cache max=4096 inactive=60s;
  client_body_temp_path ${join(workDir, 'body')};
  proxy_temp_path ${join(workDir, 'proxy')};
  fastcgi_temp_path ${join(workDir, 'fastcgi')};
  uwsgi_temp_path ${join(workDir, 'uwsgi')};
  scgi_temp_path ${join(workDir, 'scgi')};
  server {
    listen 127.0.0.1:${port};
    root ${root};
    location / { try_files $uri =404; }
  }
}
`;
  const file = join(workDir, 'nginx.conf');
  await writeFile(file, config);
  return startServer(`nginx (${workers} worker${workers > 1 ? 's' : ''})`, 'nginx', ['-c', file, '-p', workDir], {
    cwd: workDir,
    url: `http://127.0.0.1:${port}`,
  });
}
