/**
 * nginx (Debian's package) serving the same HTML bytes as static files: the reference for what a
 * static-file server does on this machine, with one or two worker processes; and, for the proxy
 * comparison, as a caching reverse proxy (`proxy_cache`) in front of an origin.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startServer } from './spawn.ts';
import type { RunningServer } from './types.ts';

/**
 * The start of both configurations, up to the open `http {` block: `workers` worker processes in
 * the foreground, pid, error log and temporary folders in `workDir`, no access log, sendfile, and
 * keep-alive connections never closed by request count (Node's server does not close them either).
 */
function configHead(workers: number, workDir: string): string {
  return `
worker_processes ${workers};
daemon off;
pid ${join(workDir, 'nginx.pid')};
error_log ${join(workDir, 'error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000000;
  keepalive_timeout 65s;
  client_body_temp_path ${join(workDir, 'body')};
  proxy_temp_path ${join(workDir, 'proxy')};
  fastcgi_temp_path ${join(workDir, 'fastcgi')};
  uwsgi_temp_path ${join(workDir, 'uwsgi')};
  scgi_temp_path ${join(workDir, 'scgi')};`;
}

/**
 * Starts `nginx` in the foreground (its own process group) serving `root` on 127.0.0.1:`port`
 * with `workers` worker processes; its config, pid and logs live in `workDir`. Every file is
 * `text/html; charset=utf-8` (post ids such as `v8.0.0` have no real extension). Keep-alive
 * connections are never closed by request count, as Node's server does not close them either.
 */
export async function startNginx(root: string, port: number, workers: number, workDir: string): Promise<RunningServer> {
  await mkdir(workDir, { recursive: true });
  const config = `${configHead(workers, workDir)}
  types { }
  default_type "text/html; charset=utf-8";
  open_file_cache max=4096 inactive=60s;
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

/**
 * Starts `nginx` (one worker process, in the foreground, its own process group) as a shared cache
 * in front of `origin` on 127.0.0.1:`port`: `proxy_cache` in `<workDir>/cache`, configured for
 * the behaviour `isr proxy` has. How long a page is fresh comes from the origin's fields alone
 * (`Cache-Control` `s-maxage`/`max-age`, which take precedence over `proxy_cache_valid`; none is
 * set, so an answer without them is not stored), and `stale-while-revalidate` of `Cache-Control`
 * is how long it may be served stale while one request refreshes it (nginx docs,
 * ngx_http_proxy_module, `proxy_cache_valid` and `proxy_cache_use_stale`):
 *   - `proxy_cache_lock on`: one request fetches a page missing from the cache, the others wait;
 *   - `proxy_cache_background_update on` with `proxy_cache_use_stale updating`: a stale page is
 *     answered at once and refreshed by one background subrequest;
 *   - `proxy_cache_use_stale error timeout http_500 http_502 http_503 http_504`: a failing origin
 *     gets the stale page served;
 *   - `proxy_cache_revalidate on`: a stale page is refreshed with `If-None-Match` / `If-Modified-Since`.
 * nginx OSS has no purge (`proxy_cache_purge` is NGINX Plus's). Every answer carries
 * `X-Cache-Status: $upstream_cache_status` (HIT, MISS, STALE, UPDATING, REVALIDATED, EXPIRED, …).
 */
export async function startNginxProxy(origin: string, port: number, workDir: string): Promise<RunningServer> {
  await mkdir(join(workDir, 'cache'), { recursive: true });
  const config = `${configHead(1, workDir)}
  proxy_cache_path ${join(workDir, 'cache')} levels=1:2 keys_zone=pages:10m max_size=256m inactive=1h use_temp_path=off;
  upstream origin {
    server ${new URL(origin).host};
    keepalive 32;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_cache pages;
      proxy_cache_lock on;
      proxy_cache_lock_timeout 10s;
      proxy_cache_background_update on;
      proxy_cache_use_stale updating error timeout http_500 http_502 http_503 http_504;
      proxy_cache_revalidate on;
      add_header X-Cache-Status $upstream_cache_status always;
    }
  }
}
`;
  const file = join(workDir, 'nginx.conf');
  await writeFile(file, config);
  return startServer('nginx proxy_cache', 'nginx', ['-c', file, '-p', workDir], { cwd: workDir, url: `http://127.0.0.1:${port}` });
}
