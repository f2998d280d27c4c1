#!/usr/bin/env bash
# Does throughput stay flat as the data grows? Drains 100,000 to 10,000,000 entries with the
# number of customers growing with them (--events-per-customer, default 10), so that each
# customer's activity, and so the work per event, stays the same while streams, keys and the
# AOF grow. (With a fixed 100,000 customers each customer gets busier as N grows: bigger carts
# and more alerts per event; docs/DESIGN.md, "Throughput as the data grows".)
#   scripts/bench-scale.sh [--sizes "100000 1000000 3000000 10000000"] [--events-per-customer 10]
# Uses a throwaway redis-server from redis.conf with maxmemory raised to 16gb (10M entries of
# input alone pass redis.conf's 1gb). Needs about 8 GB of free memory for the 10M step.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
SIZES="100000 1000000 3000000 10000000"; PER_CUSTOMER=10
while [ $# -gt 0 ]; do
  case "$1" in
    --sizes) SIZES=$2; shift 2;; --events-per-customer) PER_CUSTOMER=$2; shift 2;;
    *) die "unknown option $1 (see the header of $0)";;
  esac
done
scripts/install-deps.sh
swift build -c release --product dupwatch >&2
swift build -c release --product dupwatch-bench >&2
BIN=.build/release/dupwatch-bench
PRELOAD=()
if library="$(jemalloc_library)"; then PRELOAD=(--preload "$library"); fi
start_throwaway_redis --maxmemory 16gb
summary=()
for n in $SIZES; do
  customers=$(( n / PER_CUSTOMER ))
  json=$("$BIN" bench "${PRELOAD[@]}" --redis-url "$THROWAWAY_URL" --flush --events "$n" --customers "$customers" --runs 1 --rate 0 \
    --memory-customers 0 --json)
  line=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print("events=%d customers=%s events/s=%d redis_us_per_event=%.2f worker_us_per_event=%.2f worker_rss_mb=%.1f alerts=%d" % (d["events"], sys.argv[2], d["events_per_s_median"], d["redis_us_per_event"], d["worker_us_per_event"], d["worker_peak_rss_mb"], d["alerts"]))' "$json" "$customers")
  echo "$line"
  summary+=("$n=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["events_per_s_median"])' "$json")")
done
echo "scale events/s ${summary[*]}"
