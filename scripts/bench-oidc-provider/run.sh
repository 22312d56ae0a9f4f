#!/usr/bin/env bash
# Side by side: Latchkey and node oidc-provider issuing RS256 JWT access
# tokens through client_credentials, each measured by `latchkey bench`
# (the same load generator, connections and duration), three rounds,
# alternating. Prints Markdown rows for docs/benchmarks.md.
#
#   scripts/bench-oidc-provider/run.sh [-c 32] [-d 10s] [-r 3]
#
# Needs Go, Node.js 20 or later and the npm registry (oidc-provider is
# installed here from it, version pinned in package.json).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
conc=32 dur=10s rounds=3
while getopts "c:d:r:" o; do
  case "$o" in c) conc="$OPTARG" ;; d) dur="$OPTARG" ;; r) rounds="$OPTARG" ;; *) exit 2 ;; esac
done

work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

(cd "$here" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
(cd "$root" && go build -o "$work/latchkey" ./cmd/latchkey)

secret="$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"
admin="$(head -c 32 /dev/urandom | base64 | tr -d '/+=')"

CLIENT_SECRET="$secret" PORT=3900 NODE_ENV=production node "$here/server.mjs" >"$work/oidc-provider.log" 2>&1 &
node_pid=$!; pids+=("$node_pid")
LATCHKEY_ADMIN_TOKEN="$admin" LATCHKEY_DATA_DIR="$work/data" LATCHKEY_LOG_LEVEL=warn \
  "$work/latchkey" serve --listen 127.0.0.1:3901 >"$work/latchkey.log" 2>&1 &
pids+=("$!")

for _ in $(seq 1 100); do
  curl -fsS -o /dev/null http://127.0.0.1:3901/readyz 2>/dev/null &&
    curl -fsS -o /dev/null http://127.0.0.1:3900/.well-known/openid-configuration 2>/dev/null && break
  sleep 0.2
done

for round in $(seq 1 "$rounds"); do
  echo "== round $round" >&2
  LATCHKEY_ADMIN_TOKEN="$admin" "$work/latchkey" bench --server http://127.0.0.1:3901 \
    --algs RS256 --introspect=false -c "$conc" -d "$dur" --markdown
  LATCHKEY_BENCH_EXTERNAL_SECRET="$secret" "$work/latchkey" bench --external-token-url http://127.0.0.1:3900/oauth2/token \
    --external-name oidc-provider --external-client-id bench --external-pid "$node_pid" -c "$conc" -d "$dur" --markdown
done
