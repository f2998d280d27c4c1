#!/usr/bin/env bash
# scripts/demo-web.sh — the storefront story in a browser: builds DupWatch (release), starts
# the local Redis (scripts/start-redis.sh; reused when running), a worker and `dupwatch serve`
# on http://127.0.0.1:${DUPWATCH_DEMO_PORT:-8080} (the worker's metrics on
# ${DUPWATCH_DEMO_METRICS_PORT:-9464}), and prints the demo page's URL with a
# read+ingest API key in its fragment. On the page: pick a customer, add milk, place the
# order, "come back 3 days later", add milk again: the "Already ordered?" dialog appears live,
# and "Keep both" / "Remove" post feedback to stream:alerts:feedback.
# The keys are in var/api-keys (created once, mode 600). Ctrl-C stops the worker and the
# server; Redis keeps running (scripts/stop-redis.sh). Logs: var/demo/{worker,serve}.log.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PORT="${DUPWATCH_DEMO_PORT:-8080}"
METRICS_PORT="${DUPWATCH_DEMO_METRICS_PORT:-9464}"
KEYS="$VAR_DIR/api-keys"
LOGS="$VAR_DIR/demo"

build_release
"$ROOT/scripts/start-redis.sh"
require_credentials
command -v curl >/dev/null 2>&1 || die "curl not found; install it (apt-get install curl), then rerun"

mkdir -p "$LOGS"
if [[ ! -s "$KEYS" ]]; then
    (umask 077 && printf '# KEY SCOPE[,SCOPE] (scripts/demo-web.sh)\n%s read,ingest\n%s admin\n' \
        "demo-$(openssl rand -hex 16)" "admin-$(openssl rand -hex 16)" >"$KEYS")
    note "wrote API keys to $KEYS"
fi
demo_key="$(awk '$2 == "read,ingest" { print $1; exit }' "$KEYS")"
[[ -n "$demo_key" ]] || die "$KEYS has no 'KEY read,ingest' line; add one or delete the file to have it recreated"

pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

"$ROOT/.build/release/dupwatch" worker --metrics-port "$METRICS_PORT" >"$LOGS/worker.log" 2>&1 &
pids+=($!)
"$ROOT/.build/release/dupwatch" serve --host 127.0.0.1 --port "$PORT" --api-keys "$KEYS" >"$LOGS/serve.log" 2>&1 &
pids+=($!)

for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
    kill -0 "${pids[1]}" 2>/dev/null || die "dupwatch serve stopped; see $LOGS/serve.log (port $PORT taken? set DUPWATCH_DEMO_PORT)"
    sleep 0.1
done
curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 || die "dupwatch serve is not ready after 10 s; see $LOGS/serve.log"

cat <<MSG

  The storefront demo is up. Open:

    http://127.0.0.1:$PORT/demo#key=$demo_key
    http://127.0.0.1:$PORT/dashboard#key=$demo_key   (analytics: alerts, orders, cancellations, top SKUs)

  API: http://127.0.0.1:$PORT/v1/openapi.json
  Metrics: http://127.0.0.1:$PORT/metrics (server), http://127.0.0.1:$METRICS_PORT/metrics (worker: alerts, lag)
  Try: curl -H "Authorization: Bearer $demo_key" http://127.0.0.1:$PORT/v1/customers/c42/orders

  Ctrl-C stops the worker and the server (Redis keeps running: scripts/stop-redis.sh).

MSG
wait
