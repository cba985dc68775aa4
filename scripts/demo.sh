#!/usr/bin/env bash
# The main job: start a server, deploy examples/hello-ts, invoke it twice, stop the server.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
work="$root/.fnts-demo"
rm -rf "$work"
mkdir -p "$work"
cp -r examples/hello-ts "$work/hello-ts"
port="${FNTS_DEMO_PORT:-8080}"
export FNTS_API_URL="http://127.0.0.1:$port"
fnts() { "$root/packages/cli/dist/bin/fnts" "$@"; }

FNTS_DB="$work/fnts.db" FNTS_PORT="$port" FNTS_LOG_LEVEL=warn "$root/packages/cli/dist/bin/fnts" start >"$work/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do
  grep -q "listening on" "$work/server.log" && break
  if ! kill -0 "$server" 2>/dev/null; then cat "$work/server.log" >&2; exit 1; fi
  sleep 0.2
done
echo "server: $FNTS_API_URL (pid $server)" >&2

(cd "$work/hello-ts" && fnts deploy --app demo --create-app)
echo "\$ fnts invoke demo hello" >&2
fnts invoke demo hello </dev/null
echo "\$ echo '{\"name\":\"fnts\"}' | fnts invoke demo hello" >&2
echo '{"name":"fnts"}' | fnts invoke demo hello
