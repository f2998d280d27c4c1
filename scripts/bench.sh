#!/usr/bin/env bash
# The whole performance comparison in one go: a fresh local Redis from the project's redis.conf
# (AOF everysec), `dupwatch-bench bench` (drain, memory, latency, and the host's latency floor),
# the latency again in a warm store (--warm N entries drained before each window, so customers
# have carts and orders), and the peer workers of ../shared/peers on the same seeded input,
# the analytics' cost (the same drain with the worker's analytics and with --no-stats), then a
# summary ending in one line:
#   bench events/s=… vs_best_peer=… redis_us_per_event=… p99_ms=… bytes_per_customer=… analytics_ratio=…
#
#   scripts/bench.sh --quick     # about a minute: 100k-entry drain, one run, 5 s latency, no floor
#   scripts/bench.sh             # the full run (about 8 minutes) that docs/PERFORMANCE.md quotes
#   scripts/bench.sh [--events N] [--peer-events N] [--seed S] [--runs R] [--warm N] [--plot FILE.svg]
# Extra arguments go to the main `dupwatch-bench bench` run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
EVENTS=1000000; PEER_EVENTS=50000; ANALYTICS_EVENTS=300000; SEED=42; RUNS=3; WARM=300000; PLOT=var/bench.svg; QUICK=0; EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1; shift;;
    --events) EVENTS=$2; shift 2;; --peer-events) PEER_EVENTS=$2; shift 2;; --seed) SEED=$2; shift 2;;
    --runs) RUNS=$2; shift 2;; --warm) WARM=$2; shift 2;; --plot) PLOT=$2; shift 2;; *) EXTRA+=("$1"); shift;;
  esac
done
MAIN_OPTIONS=(--floor)
# The worker runs with jemalloc, as scripts/run.sh starts it (when it is installed).
PRELOAD=()
if library="$(jemalloc_library)"; then PRELOAD=(--preload "$library"); fi
if ((QUICK)); then
  EVENTS=100000; PEER_EVENTS=20000; ANALYTICS_EVENTS=100000; RUNS=1; WARM=0; MAIN_OPTIONS=(--latency-seconds 5)
fi

scripts/install-deps.sh
note "building dupwatch and dupwatch-bench (release)"
swift build -c release --product dupwatch >&2
swift build -c release --product dupwatch-bench >&2
BIN=.build/release/dupwatch-bench
PEER=../shared/peers/py_worker.py

start_throwaway_redis
URL=$THROWAWAY_URL
mkdir -p var
note "redis-server $(redis-server --version | awk '{print $3}') on port $THROWAWAY_PORT, AOF $(redis-cli -p "$THROWAWAY_PORT" config get appendfsync | tail -1)"

"$BIN" bench "${PRELOAD[@]}" --redis-url "$URL" --flush --events "$EVENTS" --seed "$SEED" --runs "$RUNS" --plot "$PLOT" "${MAIN_OPTIONS[@]}" \
  --json "${EXTRA[@]}" > var/bench-dupwatch.json
"$BIN" bench "${PRELOAD[@]}" --redis-url "$URL" --flush --events "$PEER_EVENTS" --seed "$SEED" --runs "$RUNS" --rate 0 --memory-customers 0 \
  --label dupwatch-small --json > var/bench-dupwatch-small.json
SUMMARY=(--main var/bench-dupwatch.json --same-input var/bench-dupwatch-small.json)
if ((WARM > 0)); then
  "$BIN" bench "${PRELOAD[@]}" --redis-url "$URL" --flush --events 1000 --seed "$SEED" --runs "$RUNS" --memory-customers 0 \
    --latency-warm-events "$WARM" --label dupwatch-warm --json > var/bench-dupwatch-warm.json
  SUMMARY+=(--warm var/bench-dupwatch-warm.json)
fi

# The analytics' cost: the same drain with and without them, one run of each in turn.
WORKER_BIN="$ROOT/.build/release/dupwatch"
for run in $(seq 1 "$RUNS"); do
  for analytics in stats no-stats; do
    "$BIN" bench "${PRELOAD[@]}" --redis-url "$URL" --flush --events "$ANALYTICS_EVENTS" --seed "$SEED" --runs 1 --rate 0 --memory-customers 0 \
      --label "dupwatch-$analytics" --worker "$WORKER_BIN worker --redis-url {url} --drain --log-level error --$analytics" --json \
      > "var/bench-analytics-$analytics-$run.json"
  done
  SUMMARY+=(--analytics-on "var/bench-analytics-stats-$run.json" --analytics-off "var/bench-analytics-no-stats-$run.json")
done

if [ -f "$PEER" ]; then
  [ -x .venv/bin/python ] || { python3 -m venv .venv && .venv/bin/pip install -q redis hiredis; }
  for mode in simple lua; do
    "$BIN" bench --redis-url "$URL" --flush --events "$PEER_EVENTS" --seed "$SEED" --runs "$RUNS" --rate 0 --memory-customers 0 \
      --label "py_worker-$mode" --worker ".venv/bin/python $PEER worker --redis-url {url} --drain --mode $mode" --json \
      > "var/bench-peer-$mode.json"
    SUMMARY+=(--peer "var/bench-peer-$mode.json")
  done
else
  note "$PEER not found: the peers are skipped"
fi

"$BIN" summary "${SUMMARY[@]}"
