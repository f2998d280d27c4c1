#!/usr/bin/env bash
# The router's throughput on one Redis: a seeded workload in the unpartitioned input streams,
# then `dupwatch route --drain` into the partitions' streams, timed, with the CPU per event of
# redis-server (INFO cpu, main thread) and of the router (time(1)), and the router's peak RSS:
#   route events=… partitions=… seconds=… events_per_s=… redis_us_per_event=… router_us_per_event=… router_rss_mb=…
#   scripts/bench-route.sh [--events N] [--partitions N]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
EVENTS=1000000; PARTITIONS=16
while [ $# -gt 0 ]; do
  case "$1" in
    --events) EVENTS=$2; shift 2;; --partitions) PARTITIONS=$2; shift 2;;
    *) die "unknown option $1 (see the header of $0)";;
  esac
done
command -v /usr/bin/time >/dev/null || die "/usr/bin/time not found (apt-get install time)"
scripts/install-deps.sh
swift build -c release --product dupwatch >&2
swift build -c release --product dupwatch-bench >&2
start_throwaway_redis
.build/release/dupwatch-bench generate --redis-url "$THROWAWAY_URL" --events "$EVENTS" --customers $((EVENTS / 10)) >/dev/null
cpu() { redis-cli -p "$THROWAWAY_PORT" info cpu | tr -d '\r' | awk -F: '/used_cpu_(sys|user)_main_thread/ {s+=$2} END {print s}'; }
preload=()
if library="$(jemalloc_library)"; then preload=(env LD_PRELOAD="$library"); fi
times="$(mktemp)"
before=$(cpu)
start=$(date +%s.%N)
/usr/bin/time -f "%U %S %M" -o "$times" "${preload[@]}" .build/release/dupwatch route --redis-url "$THROWAWAY_URL" \
  --partitions "$PARTITIONS" --drain --log-level warning
end=$(date +%s.%N)
after=$(cpu)
read -r user sys rss <"$times"
rm -f "$times"
python3 - "$EVENTS" "$PARTITIONS" "$start" "$end" "$before" "$after" "$user" "$sys" "$rss" <<'PY'
import sys
n, p = int(sys.argv[1]), sys.argv[2]
start, end, before, after, user, system, rss = map(float, sys.argv[3:])
wall = end - start
print(f"route events={n} partitions={p} seconds={wall:.2f} events_per_s={n / wall:.0f} "
      f"redis_us_per_event={(after - before) * 1e6 / n:.2f} router_us_per_event={(user + system) * 1e6 / n:.2f} "
      f"router_rss_mb={rss / 1024:.1f}")
PY
