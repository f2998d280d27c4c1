#!/usr/bin/env bash
# Issue 16's cluster benchmark: partitioned workers on a throwaway local Redis Cluster (3
# masters + 3 replicas from redis.conf: AOF everysec, cluster mode, free ports, a temp dir),
# with the same workload drained first on a throwaway single redis-server for the ratios.
# `dupwatch-bench cluster` then reports events/s, CPU per event of every redis-server and
# worker, coordination commands per 1,000 events per node, CROSSSLOT errors, the rebalance time
# after a worker is SIGKILLed, the p99 alert latency and the capacity model of K masters and K
# workers, ending in one line:
#   cluster-bench partitions=… workers=… masters=… events=… events_per_s=… redis_us_per_event=… …
#
#   scripts/bench-cluster.sh                   # 500,000 events, 8 partitions, 3 workers (about 2 minutes)
#   scripts/bench-cluster.sh --events 100000 --partitions 16 --workers 4 --lease-ttl 5s --json
# Extra arguments go to `dupwatch-bench cluster` (`dupwatch-bench cluster --help` lists them).
# DUPWATCH_SCRATCH_PATH sets swift build's --scratch-path (default .build), so that a second
# checkout user can build beside another without sharing one.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
SCRATCH="${DUPWATCH_SCRATCH_PATH:-.build}"
BENCH_ARGS=("$@")
MASTERS=3
NODE_TIMEOUT=2000

scripts/install-deps.sh
note "building dupwatch and dupwatch-bench (release, $SCRATCH)"
swift build -c release --scratch-path "$SCRATCH" --product dupwatch >&2
swift build -c release --scratch-path "$SCRATCH" --product dupwatch-bench >&2
BIN="$SCRATCH/release/dupwatch-bench"
PRELOAD=()
if library="$(jemalloc_library)"; then PRELOAD=(--preload "$library"); fi

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# The single node first: start_throwaway_redis sets the EXIT trap, which the cluster's extends.
start_throwaway_redis
eval "set -- $(trap -p EXIT)"
SINGLE_CLEANUP=$3
CLUSTER_DIR=$(mktemp -d)
PORTS=()
stop_cluster() {
  local pidfile
  for pidfile in "$CLUSTER_DIR"/*/redis.pid; do
    [[ -s "$pidfile" ]] && kill "$(cat "$pidfile")" 2>/dev/null || true
  done
  rm -rf "$CLUSTER_DIR"
}
trap 'stop_cluster; eval "$SINGLE_CLEANUP"' EXIT

for _ in $(seq $((MASTERS * 2))); do
  port=$(free_port)
  bus=$(free_port)
  mkdir -p "$CLUSTER_DIR/$port"
  redis-server "$ROOT/redis.conf" --port "$port" --dir "$CLUSTER_DIR/$port" --daemonize yes \
    --pidfile "$CLUSTER_DIR/$port/redis.pid" --logfile "$CLUSTER_DIR/$port/redis.log" --aclfile "" \
    --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout "$NODE_TIMEOUT" \
    --cluster-port "$bus" >/dev/null ||
    die "could not start redis-server on port $port (see $CLUSTER_DIR/$port/redis.log)"
  PORTS+=("$port")
done
for port in "${PORTS[@]}"; do
  for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
done
redis-cli --cluster create $(printf '127.0.0.1:%s ' "${PORTS[@]}") --cluster-replicas 1 --cluster-yes >/dev/null ||
  die "redis-cli --cluster create failed (node logs in $CLUSTER_DIR/*/redis.log)"
# Every node must agree the cluster is up and every replica must be in sync before measuring.
for _ in $(seq 300); do
  ok=0; synced=0
  for port in "${PORTS[@]}"; do
    redis-cli -p "$port" cluster info 2>/dev/null | grep -q 'cluster_state:ok' && ok=$((ok + 1))
    redis-cli -p "$port" info replication 2>/dev/null | grep -q 'master_link_status:up' && synced=$((synced + 1))
  done
  ((ok == ${#PORTS[@]} && synced == MASTERS)) && break
  sleep 0.1
done
((ok == ${#PORTS[@]} && synced == MASTERS)) ||
  die "the cluster did not come up within 30 s ($ok of ${#PORTS[@]} nodes ok, $synced of $MASTERS replicas in sync)"
SEEDS=$(printf 'redis://127.0.0.1:%s,' "${PORTS[@]}")
SEEDS=${SEEDS%,}

note "cluster on ports ${PORTS[*]}, single node on $THROWAWAY_PORT"
"$BIN" cluster "${PRELOAD[@]}" --redis-url "$SEEDS" --single-url "$THROWAWAY_URL" --flush "${BENCH_ARGS[@]}"
