#!/usr/bin/env bash
# scripts/stop-redis.sh — stops the local Redis started by scripts/start-redis.sh (port
# $DUPWATCH_REDIS_PORT, default 6379): SHUTDOWN as the admin user (the AOF is flushed and
# fsynced first), or SIGTERM to the pid in var/redis/redis.pid when that fails. Waits until
# the process is gone. Exits 0 when nothing was running.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

STOP_TIMEOUT="${DUPWATCH_REDIS_STOP_TIMEOUT:-60}"

pid="$(redis_pid || true)"

command -v redis-cli >/dev/null 2>&1 || die "redis-cli not found; run scripts/install-deps.sh"

shutdown_sent=false
if load_credentials; then
    reply="$(rcli admin --no-auth-warning PING 2>&1 || true)"
    if [[ "$reply" == "PONG" ]]; then
        # The connection closes as Redis exits; redis-cli's reply to that is not an error.
        rcli admin --no-auth-warning SHUTDOWN >/dev/null 2>&1 || true
        shutdown_sent=true
    fi
fi

if [[ -z "$pid" ]] && ! $shutdown_sent; then
    note "no DupWatch Redis is running on port $REDIS_PORT (no live pid in ${REDIS_PIDFILE#"$ROOT"/}); nothing to stop"
    exit 0
fi

if ! $shutdown_sent; then
    note "SHUTDOWN as admin was not possible (credentials missing or not answering); sending SIGTERM to pid $pid"
    kill -TERM "$pid" 2>/dev/null || true
fi

if [[ -n "$pid" ]]; then
    deadline=$((SECONDS + STOP_TIMEOUT))
    while redis_pid >/dev/null; do
        if ((SECONDS >= deadline)); then
            die "Redis (pid $pid) is still running ${STOP_TIMEOUT}s after the shutdown request; see ${REDIS_LOG#"$ROOT"/} (kill -9 $pid loses at most the last second of writes)"
        fi
        sleep 0.2
    done
else
    # No pid file: wait until the port stops answering.
    deadline=$((SECONDS + STOP_TIMEOUT))
    while [[ "$(rcli admin --no-auth-warning PING 2>&1 || true)" == "PONG" ]]; do
        ((SECONDS < deadline)) || die "Redis on port $REDIS_PORT still answers ${STOP_TIMEOUT}s after SHUTDOWN; see ${REDIS_LOG#"$ROOT"/}"
        sleep 0.2
    done
fi
rm -f "$REDIS_PIDFILE"
echo "Redis on port $REDIS_PORT stopped; data kept in ${REDIS_DIR#"$ROOT"/}"
