#!/usr/bin/env bash
# The whole performance comparison in one go: a fresh local Redis from the project's redis.conf
# (AOF everysec), `dupwatch bench` (drain, memory, latency, and the host's latency floor), the
# latency again in a warm store (--warm N entries drained before each window, so customers
# have carts and orders), and the peer workers of ../shared/peers on the same seeded input,
# then one summary line.
#   scripts/bench.sh [--events N] [--peer-events N] [--seed S] [--runs R] [--warm N] [--plot FILE.svg]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
EVENTS=1000000; PEER_EVENTS=50000; SEED=42; RUNS=3; WARM=300000; PLOT=var/bench.svg; EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --events) EVENTS=$2; shift 2;; --peer-events) PEER_EVENTS=$2; shift 2;; --seed) SEED=$2; shift 2;;
    --runs) RUNS=$2; shift 2;; --warm) WARM=$2; shift 2;; --plot) PLOT=$2; shift 2;; *) EXTRA+=("$1"); shift;;
  esac
done
scripts/install-deps.sh
swift build -c release >&2
BIN=.build/release/dupwatch
PEER=../shared/peers/py_worker.py

start_throwaway_redis
PORT=$THROWAWAY_PORT; URL=$THROWAWAY_URL
mkdir -p var
echo "bench: redis-server $(redis-server --version | awk '{print $3}') on port $PORT, AOF $(redis-cli -p "$PORT" config get appendfsync | tail -1)" >&2

"$BIN" bench --redis-url "$URL" --flush --events "$EVENTS" --seed "$SEED" --runs "$RUNS" --plot "$PLOT" --floor --json "${EXTRA[@]}" > var/bench-dupwatch.json
"$BIN" bench --redis-url "$URL" --flush --events "$PEER_EVENTS" --seed "$SEED" --runs "$RUNS" --rate 0 --memory-customers 0 \
  --label dupwatch-small --json > var/bench-dupwatch-small.json
"$BIN" bench --redis-url "$URL" --flush --events 1000 --seed "$SEED" --runs "$RUNS" --memory-customers 0 \
  --latency-warm-events "$WARM" --label dupwatch-warm --json > var/bench-dupwatch-warm.json

best=0; best_name=none
if [ -f "$PEER" ]; then
  [ -x .venv/bin/python ] || { python3 -m venv .venv && .venv/bin/pip install -q redis hiredis; }
  for mode in simple lua; do
    "$BIN" bench --redis-url "$URL" --flush --events "$PEER_EVENTS" --seed "$SEED" --runs "$RUNS" --rate 0 --memory-customers 0 \
      --label "py_worker-$mode" --worker ".venv/bin/python $PEER worker --redis-url {url} --drain --mode $mode" --json \
      > "var/bench-peer-$mode.json"
    eps=$(python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["events_per_s_median"]))' "var/bench-peer-$mode.json")
    echo "peer py_worker --mode $mode: $eps events/s on $PEER_EVENTS events" >&2
    if [ "$eps" -gt "$best" ]; then best=$eps; best_name="py_worker-$mode"; fi
  done
else
  echo "bench: $PEER not found; peers skipped" >&2
fi

python3 - "$best" "$best_name" <<'PY'
import json, sys
d = json.load(open("var/bench-dupwatch.json")); small = json.load(open("var/bench-dupwatch-small.json"))
warm = json.load(open("var/bench-dupwatch-warm.json"))
best, name = int(sys.argv[1]), sys.argv[2]
def percentiles(result, prefix=""):
    return " / ".join(str(result.get(prefix + key)) for key in ("p50_ms", "p99_ms", "p999_ms"))
rows = [("events/s (median)", d["events_per_s_median"]), ("runs", d["events_per_s_runs"]),
        ("same input as peers (%s-event): events/s" % small["events"], small["events_per_s_median"]),
        ("best peer (%s) events/s" % name, best), ("alerts / dead letters", "%s / %s" % (d["alerts"], d["deadletters"])),
        ("redis CPU µs/event", d["redis_us_per_event"]), ("worker CPU µs/event", d["worker_us_per_event"]),
        ("worker peak RSS MB", d["worker_peak_rss_mb"]), ("AOF bytes/event (rewrites during the drain)", "%s (%s)" % (d["aof_bytes_per_event"], d.get("aof_rewrites"))),
        ("bytes/customer (cart 5 + 5×3 orders)", d.get("bytes_per_customer")),
        ("latency p50/p99/p99.9/max ms @ %s/s (median run)" % d.get("latency_rate"), "%s / %s / %s / %s" % (d.get("p50_ms"), d.get("p99_ms"), d.get("p999_ms"), d.get("max_ms"))),
        ("latency p99 ms of each run", d.get("p99_ms_runs")),
        ("latency alerts over 100 ms, each run", d.get("alerts_over_100ms_runs")),
        ("warm store (%s entries drained first): p50/p99/p99.9 ms" % warm.get("latency_warm_events"), percentiles(warm)),
        ("warm store: latency p99 ms of each run", warm.get("p99_ms_runs")),
        ("warm store: alerts over 100 ms, each run", warm.get("alerts_over_100ms_runs")),
        ("floor: relay XREAD+EXEC p50/p99/p99.9 ms", percentiles(d, "floor_")),
        ("floor: relay + 1 state read p50/p99/p99.9 ms", percentiles(d, "floor_read_")),
        ("floor: the same + reader thread p50/p99/p99.9 ms", percentiles(d, "floor_read_handover_")),
        ("floor: relay shaped like DupWatch p50/p99/p99.9 ms", percentiles(d, "floor_shaped_"))]
for k, v in rows: print(f"{k:<48} {v}")
ratio = (small["events_per_s_median"] / best) if best else float("nan")
print(f'bench events/s={d["events_per_s_median"]} vs_best_peer={ratio:.1f}x redis_us_per_event={d["redis_us_per_event"]} p99_ms={d.get("p99_ms")} bytes_per_customer={d.get("bytes_per_customer")}')
PY
