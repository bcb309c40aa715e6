#!/usr/bin/env bash
# Installs what the benchmark needs beyond the repository's own packages:
#   - wrk, nginx, varnish and redis-server, Debian packages (apt-get; needs root or sudo), when
#     missing (the benchmark starts its own redis-server and varnishd on their own ports; it never
#     uses a running one, and the packages' services are kept from starting);
#   - bench/'s npm packages (next, react, react-dom), from bench/package-lock.json.
# Run by `npm run bench`; safe to run again. `bash bench/setup.sh --wrk-only` (run by `npm run soak`)
# installs wrk alone: the soak test needs neither nginx, varnish, redis-server nor Next.js.
set -euo pipefail
wrk_only=false
[ "${1:-}" = "--wrk-only" ] && wrk_only=true
cd "$(dirname "$0")"
export PATH="$PATH:/usr/sbin:/sbin"

missing=()
command -v wrk >/dev/null || missing+=(wrk)
if [ "$wrk_only" = false ]; then
  command -v nginx >/dev/null || missing+=(nginx)
  command -v varnishd >/dev/null || missing+=(varnish)
  command -v redis-server >/dev/null || missing+=(redis-server)
fi
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "bench/setup.sh: installing ${missing[*]} with apt-get"
  $sudo apt-get update -qq
  # Debian's nginx, varnish and redis-server packages would start services (ports 80, 6081, 6379):
  # keep them from starting.
  printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
  $sudo chmod +x /usr/sbin/policy-rc.d
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  $sudo rm -f /usr/sbin/policy-rc.d
fi

[ "$wrk_only" = true ] && exit 0

if [ ! -d node_modules/next ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # Not `npm ci`: it refuses this lock file, whose Mac and Windows builds of @next/swc the registry
  # here does not list; `install --no-save` installs the locked versions and leaves the file alone.
  npm install --no-save --no-audit --no-fund
fi
