#!/usr/bin/env bash
# scripts/stop-cluster.sh — stops the local Redis Cluster of scripts/start-cluster.sh: SHUTDOWN
# (which writes the AOF) on every node, as admin; nodes that do not answer get SIGTERM through
# their pid file. The data stays in var/cluster/ for the next start; delete that folder (with
# the cluster stopped) to start from scratch.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

BASE_PORT="${DUPWATCH_CLUSTER_PORT:-7000}"
CLUSTER_DIR="$VAR_DIR/cluster"
[[ -d "$CLUSTER_DIR" ]] || { note "no cluster in ${CLUSTER_DIR#"$ROOT"/}; nothing to stop"; exit 0; }
if [[ -r "$CLUSTER_DIR/credentials.env" ]]; then
    # shellcheck disable=SC1091
    source "$CLUSTER_DIR/credentials.env"
fi
stopped=0
for i in 0 1 2 3 4 5; do
    port=$((BASE_PORT + i))
    pidfile="$CLUSTER_DIR/$port/redis.pid"
    pid="$(cat "$pidfile" 2>/dev/null || true)"
    REDISCLI_AUTH="${DUPWATCH_ADMIN_PASSWORD:-}" redis-cli -h 127.0.0.1 -p "$port" --user admin SHUTDOWN >/dev/null 2>&1 || true
    if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$pid" 2>/dev/null && grep -q redis "/proc/$pid/comm" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
        fi
    fi
    stopped=$((stopped + 1))
done
note "stopped the cluster's nodes on ports $BASE_PORT..$((BASE_PORT + 5))"
