#!/usr/bin/env bash
# Issue 18's import benchmark: `dupwatch import orders` of the real Online Retail file (the
# online-retail preset) into a throwaway redis-server from redis.conf (AOF everysec), then into
# a throwaway local Redis Cluster (3 masters, 1 replica each, the same redis.conf), each under
# /usr/bin/time, printing rows/s, seconds and the importer's maximum RSS, and the CPU each
# redis-server spent. The single node is then imported again: a rerun must find every order
# stored and change nothing (DEBUG DIGEST of every key but the released leases, and the key
# count). It ends with the targets, PASS or MISS (a miss on a shared, noisy host is reported,
# not fatal), and one line:
#   import-bench rows=… single_seconds=… single_rows_per_s=… single_rss_mb=… cluster_rows_per_s=… …
#
#   scripts/bench-import.sh                            # about a minute after the build
#   scripts/bench-import.sh --partitions 16 --masters 3 --replicas 0 --file other.csv.gz --preset none
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
FILE="$ROOT/../shared/data/online-retail/online_retail_2009_2011.csv.gz"
PRESET=online-retail; PARTITIONS=8; MASTERS=3; REPLICAS=1
while [ $# -gt 0 ]; do
  case "$1" in
    --file) FILE=$2; shift 2;; --preset) PRESET=$2; shift 2;; --partitions) PARTITIONS=$2; shift 2;;
    --masters) MASTERS=$2; shift 2;; --replicas) REPLICAS=$2; shift 2;;
    *) die "unknown argument $1 (see the header of $0)";;
  esac
done
[ -r "$FILE" ] || die "cannot read $FILE: pass the order file with --file"
[ -x /usr/bin/time ] || die "/usr/bin/time is missing: apt-get install time"

build_release >&2
BIN=.build/release/dupwatch
WORK=$(mktemp -d)
on_exit "rm -rf '$WORK'"

# Seconds of CPU a redis-server has used (user + system).
redis_cpu() {
  redis-cli -p "$1" info cpu | tr -d '\r' | awk -F: '/^used_cpu_(user|sys):/ { s += $2 } END { printf "%.2f", s }'
}

# run_import NAME URL [options]: runs the import under /usr/bin/time; sets ROWS, SECONDS_WALL,
# ROWS_PER_S, RSS_MB, CPU_USER, CPU_SYS and LINE (the importer's summary line).
run_import() {
  local name="$1" url="$2"
  shift 2
  local args=(import orders "$FILE" --redis-url "$url" --rejects "$WORK/$name.rejects")
  [ "$PRESET" = none ] || args+=(--preset "$PRESET")
  /usr/bin/time -f '%e %M %U %S' -o "$WORK/$name.time" "$BIN" "${args[@]}" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" ||
    { cat "$WORK/$name.err" >&2; die "the import ($name) failed (its stderr is above)"; }
  LINE=$(grep '^import rows=' "$WORK/$name.out")
  ROWS=$(sed -E 's/.*rows=([0-9]+) .*/\1/' <<<"$LINE")
  read -r SECONDS_WALL rss_kb CPU_USER CPU_SYS <"$WORK/$name.time"
  RSS_MB=$(awk -v k="$rss_kb" 'BEGIN { printf "%.1f", k / 1024 }')
  ROWS_PER_S=$(awk -v r="$ROWS" -v s="$SECONDS_WALL" 'BEGIN { printf "%d", r / s }')
}

# verdict LABEL OK(0/1) DETAIL
verdict() {
  if [ "$2" = 1 ]; then printf '  PASS  %s (%s)\n' "$1" "$3"; else printf '  MISS  %s (%s)\n' "$1" "$3"; fi
}

# Every key but the import's released leases, hashed: equal before and after means nothing changed.
digest() {
  redis-cli -p "$1" --scan --pattern 'dupwatch:lease*' | while read -r key; do redis-cli -p "$1" del "$key" >/dev/null; done
  echo "$(redis-cli -p "$1" dbsize) keys, digest $(redis-cli -p "$1" debug digest)"
}

echo "bench-import: $(basename "$FILE") ($(du -h "$FILE" | cut -f1)), dupwatch $(git rev-parse --short HEAD)$(git diff --quiet || echo '+changes'), redis $(redis-server --version | awk '{print $3}' | cut -d= -f2), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"

# 1. A single Redis, one partition.
start_throwaway_redis --enable-debug-command local
redis0=$(redis_cpu "$THROWAWAY_PORT")
run_import single "$THROWAWAY_URL"
SINGLE=("$ROWS" "$SECONDS_WALL" "$ROWS_PER_S" "$RSS_MB")
single_redis=$(awk -v a="$redis0" -v b="$(redis_cpu "$THROWAWAY_PORT")" 'BEGIN { printf "%.2f", b - a }')
printf 'single node, 1 partition: rows=%s seconds=%s rows_per_s=%s max_rss_mb=%s importer_cpu_s=%s+%s redis_cpu_s=%s\n' \
  "$ROWS" "$SECONDS_WALL" "$ROWS_PER_S" "$RSS_MB" "$CPU_USER" "$CPU_SYS" "$single_redis"
echo "  $LINE"

# 2. The same file again: every order is found stored, nothing changes.
before=$(digest "$THROWAWAY_PORT")
run_import again "$THROWAWAY_URL"
after=$(digest "$THROWAWAY_PORT")
stored=$(grep -o '[0-9]* of the [0-9]* orders were stored already' "$WORK/again.err" || echo "no order was stored already")
printf 'single node, again: seconds=%s; %s; before: %s; after: %s\n' "$SECONDS_WALL" "$stored" "$before" "$after"
IDEMPOTENT=0
[ "$before" = "$after" ] && IDEMPOTENT=1

# 3. A cluster: MASTERS masters with REPLICAS replicas each, PARTITIONS partitions.
start_throwaway_cluster "$MASTERS" "$REPLICAS"
declare -A cpu0
for port in "${THROWAWAY_CLUSTER_MASTERS[@]}"; do cpu0[$port]=$(redis_cpu "$port"); done
run_import cluster "$THROWAWAY_CLUSTER_SEEDS" --partitions "$PARTITIONS"
per_master=$((ROWS_PER_S / ${#THROWAWAY_CLUSTER_MASTERS[@]}))
master_cpu=""
busiest=0
for port in "${THROWAWAY_CLUSTER_MASTERS[@]}"; do
  used=$(awk -v a="${cpu0[$port]}" -v b="$(redis_cpu "$port")" 'BEGIN { printf "%.2f", b - a }')
  master_cpu+="${master_cpu:+ }$used"
  busiest=$(awk -v a="$busiest" -v b="$used" 'BEGIN { print (b > a ? b : a) }')
done
# What each master could take if it had a core of its own: rows over the busiest master's CPU.
bound=$(awk -v r="$ROWS" -v c="$busiest" 'BEGIN { printf "%d", (c > 0 ? r / c : 0) }')
printf 'cluster, %s masters + %s replicas each, %s partitions: rows=%s seconds=%s rows_per_s=%s per_master=%s max_rss_mb=%s importer_cpu_s=%s+%s\n' \
  "${#THROWAWAY_CLUSTER_MASTERS[@]}" "$REPLICAS" "$PARTITIONS" "$ROWS" "$SECONDS_WALL" "$ROWS_PER_S" "$per_master" "$RSS_MB" "$CPU_USER" "$CPU_SYS"
printf '  masters'"'"' redis_cpu_s: %s (rows per busiest-master CPU second: %s)\n' "$master_cpu" "$bound"
echo "  $LINE"

echo "targets (issue 18):"
verdict "single node >= 200,000 rows/s" "$(awk -v v="${SINGLE[2]}" 'BEGIN { print (v >= 200000) }')" "${SINGLE[2]} rows/s"
verdict "single node: the file in <= 6 s" "$(awk -v v="${SINGLE[1]}" 'BEGIN { print (v <= 6) }')" "${SINGLE[1]} s"
verdict "single node: <= 64 MB RSS" "$(awk -v v="${SINGLE[3]}" 'BEGIN { print (v <= 64) }')" "${SINGLE[3]} MB"
verdict "single node: a rerun writes nothing" "$IDEMPOTENT" "$stored"
verdict "cluster >= 200,000 rows/s per master" "$(awk -v v="$per_master" 'BEGIN { print (v >= 200000) }')" \
  "$per_master rows/s per master, $ROWS_PER_S in all, on $(nproc) CPUs shared by the importer and $((${#THROWAWAY_CLUSTER_MASTERS[@]} * (1 + REPLICAS))) redis-servers"
verdict "cluster: <= 64 MB RSS" "$(awk -v v="$RSS_MB" 'BEGIN { print (v <= 64) }')" "$RSS_MB MB"
echo "import-bench rows=${SINGLE[0]} single_seconds=${SINGLE[1]} single_rows_per_s=${SINGLE[2]} single_rss_mb=${SINGLE[3]} idempotent=$IDEMPOTENT" \
  "cluster_masters=${#THROWAWAY_CLUSTER_MASTERS[@]} cluster_partitions=$PARTITIONS cluster_seconds=$SECONDS_WALL cluster_rows_per_s=$ROWS_PER_S" \
  "cluster_rows_per_s_per_master=$per_master cluster_rss_mb=$RSS_MB"
