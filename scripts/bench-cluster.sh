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

scripts/install-deps.sh
note "building dupwatch and dupwatch-bench (release, $SCRATCH)"
swift build -c release --scratch-path "$SCRATCH" --product dupwatch >&2
swift build -c release --scratch-path "$SCRATCH" --product dupwatch-bench >&2
BIN="$SCRATCH/release/dupwatch-bench"
PRELOAD=()
if library="$(jemalloc_library)"; then PRELOAD=(--preload "$library"); fi

# The single node first; each one is stopped when the script exits.
start_throwaway_redis
start_throwaway_cluster "$MASTERS" 1
SEEDS=$THROWAWAY_CLUSTER_SEEDS

note "cluster with masters on ports ${THROWAWAY_CLUSTER_MASTERS[*]}, single node on $THROWAWAY_PORT"
"$BIN" cluster "${PRELOAD[@]}" --redis-url "$SEEDS" --single-url "$THROWAWAY_URL" --flush "${BENCH_ARGS[@]}"
