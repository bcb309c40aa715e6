/**
 * Varnish Cache (Debian's `varnish` package) as a shared cache in front of an origin: `varnishd`
 * in the foreground (`-F`), its working folder (`-n`) and VCL in a folder of the benchmark's, on
 * its own port; the package's service is never used.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startServer } from './spawn.ts';
import type { RunningServer } from './types.ts';

/**
 * The VCL (4.1) of the comparison, for the behaviour `isr proxy` has (Varnish User's Guide,
 * "Grace mode and keep", "Purging and banning"):
 *   - TTL from the origin's `Cache-Control` (`s-maxage` before `max-age`: Varnish's own rule), and
 *     grace from its `stale-while-revalidate` (Varnish parses it into `beresp.grace`; 0 s when the
 *     field is absent instead of the 10-second `default_grace`): within grace a stale object is
 *     answered at once and one background fetch refreshes it;
 *   - `beresp.keep` of 1 hour: a stale object past grace is still kept for a conditional fetch
 *     (`If-None-Match`), as nginx's `proxy_cache_revalidate`;
 *   - requests for an object being fetched wait for that fetch (Varnish's waiting list), as nginx's
 *     `proxy_cache_lock`;
 *   - `BAN` with a `Cache-Tag` header (one tag) from 127.0.0.1 invalidates every object whose
 *     `Cache-Tag` list holds that tag (a ban on `obj.http.Cache-Tag`, which the ban lurker can
 *     also apply in the background), the way the `xkey` vmod's purge does for surrogate keys;
 *     `PURGE` of a URL from 127.0.0.1 removes that object. Both answer 200 once done: the next
 *     request for a purged page is a MISS, fetched before answering.
 * Every answer carries `X-Cache`: `HIT`, `STALE` (served in grace), `MISS` or `PASS`.
 */
export function proxyVcl(origin: string): string {
  const { hostname, port } = new URL(origin);
  return `vcl 4.1;

import std;

backend origin {
  .host = "${hostname}";
  .port = "${port || '80'}";
}

acl purgers {
  "127.0.0.1";
}

sub vcl_recv {
  if (req.method == "PURGE") {
    if (client.ip !~ purgers) { return (synth(403, "Forbidden")); }
    return (purge);
  }
  if (req.method == "BAN") {
    if (client.ip !~ purgers) { return (synth(403, "Forbidden")); }
    if (!req.http.Cache-Tag || req.http.Cache-Tag !~ "^[A-Za-z0-9_.:-]+$") {
      return (synth(400, "BAN needs one Cache-Tag of letters, digits, _ . : -"));
    }
    # The tag as one element of the comma list (a ban's argument may hold no space).
    if (std.ban("obj.http.Cache-Tag ~ (^|,)[[:blank:]]*" + regsuball(req.http.Cache-Tag, "[.]", "[.]") + "[[:blank:]]*(,|$)")) {
      return (synth(200, "Banned"));
    }
    return (synth(400, std.ban_error()));
  }
}

sub vcl_backend_response {
  if (beresp.http.Cache-Control !~ "stale-while-revalidate") {
    set beresp.grace = 0s;
  }
  set beresp.keep = 1h;
}

sub vcl_deliver {
  if (req.is_hitpass || req.is_hitmiss) {
    set resp.http.X-Cache = "PASS";
  } elsif (obj.hits > 0) {
    if (obj.ttl <= 0s) {
      set resp.http.X-Cache = "STALE";
    } else {
      set resp.http.X-Cache = "HIT";
    }
  } else {
    set resp.http.X-Cache = "MISS";
  }
}
`;
}

/**
 * Starts `varnishd -F` on 127.0.0.1:`port` in front of `origin` with {@link proxyVcl}, 64 MiB of
 * malloc storage, no management port (`-T none`), and its working folder `<workDir>/varnishd`
 * (emptied first). Resolves once it answers HTTP.
 *
 * @throws Error (from startServer) if the port is taken, `varnishd` is missing or the VCL does not
 *   compile (Varnish compiles VCL with the C compiler), with varnishd's output.
 */
export async function startVarnish(origin: string, port: number, workDir: string): Promise<RunningServer> {
  await mkdir(workDir, { recursive: true });
  const instance = join(workDir, 'varnishd');
  await rm(instance, { recursive: true, force: true });
  const vcl = join(workDir, 'proxy.vcl');
  await writeFile(vcl, proxyVcl(origin));
  return startServer(
    'varnishd',
    'varnishd',
    ['-F', '-n', instance, '-a', `127.0.0.1:${port}`, '-f', vcl, '-s', 'malloc,64m', '-T', 'none'],
    { cwd: workDir, url: `http://127.0.0.1:${port}` },
  );
}
