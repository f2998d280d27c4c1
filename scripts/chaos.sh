#!/usr/bin/env bash
# scripts/chaos.sh — the crash-safety proof: the same seeded workload processed (A) by one
# uninterrupted `dupwatch worker --drain` and (B) by workers that are SIGKILLed again and again
# while entries keep arriving, with redis-server itself SIGKILLed and restarted from its AOF a few
# times, must give exactly the same alerts (by alert_id: none missing, none doubled, none extra),
# the same dead letters and the same customer state, with nothing left pending.
#
# Usage: scripts/chaos.sh [--seed S] [--events N] [--customers C] [--worker-kills K]
#                         [--redis-kills R] [--binary PATH] [--keep]
#   --seed          workload seed (default: random)                  --events   default 50000
#   --customers     default events/10 (min 100)                      --worker-kills default 30
#   --redis-kills   default 3                                        --binary   default: build release
#   --keep          keep the temp dir (logs, AOFs) and print its path
#
# Prints the differences (if any), then one summary line:
#   events=… worker_kills=… redis_kills=… alerts_expected=… alerts_got=… missing=0 doubled=0 deadletter=… max_recovery_ms=…
# and exits non-zero on any mismatch.
#
# --cluster: the same proof on a real Redis Cluster (scripts/chaos_cluster.py has the details):
#   scripts/chaos.sh --cluster [--seed S] [--events N] [--customers C] [--worker-kills K]
#                    [--master-kills M] [--partitions P] [--binary PATH] [--keep]
# A throwaway 6-node cluster (3 masters, 3 replicas), `dupwatch route` and 3 workers sharing
# P partitions (default 8); the producer pushes with `XADD *`; K worker SIGKILLs (default 24),
# workers added and stopped, router SIGKILLs and M master SIGKILLs (default 2) with failover;
# then the cluster's input, under the cluster's ids, is drained by one worker on one Redis and
# everything is compared. Last line:
#   cluster-chaos events=… worker_kills=… master_kills=… rebalances=… alerts_expected=… alerts_got=… missing=0 doubled=0 state_ok=yes
#
# Both servers run with the project's redis.conf (AOF on, appendfsync everysec,
# aof-load-truncated yes) when it exists, else with equivalent flags.
# B's input is A's input replayed with the same entry ids (see scripts/chaos_verify.py for why),
# 10% before the first worker and the rest while the workers are being killed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SEED=""
EVENTS=50000
CUSTOMERS=""
WORKER_KILLS=30
REDIS_KILLS=3
BINARY=""
KEEP=0
CLUSTER=0
WORKER_KILLS_SET=0
MASTER_KILLS=2
PARTITIONS=8

usage() { sed -n '2,31p' "$0" | sed 's/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
    case "$1" in
        --seed) SEED="$2"; shift 2 ;;
        --events) EVENTS="$2"; shift 2 ;;
        --customers) CUSTOMERS="$2"; shift 2 ;;
        --worker-kills) WORKER_KILLS="$2"; WORKER_KILLS_SET=1; shift 2 ;;
        --redis-kills) REDIS_KILLS="$2"; shift 2 ;;
        --binary) BINARY="$2"; shift 2 ;;
        --keep) KEEP=1; shift ;;
        --cluster) CLUSTER=1; shift ;;
        --master-kills) MASTER_KILLS="$2"; shift 2 ;;
        --partitions) PARTITIONS="$2"; shift 2 ;;
        -h | --help) usage; exit 0 ;;
        *) echo "chaos.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
for value in "$EVENTS" "$WORKER_KILLS" "$REDIS_KILLS" "$MASTER_KILLS" "$PARTITIONS" ${SEED:+"$SEED"} ${CUSTOMERS:+"$CUSTOMERS"}; do
    [[ "$value" =~ ^[0-9]+$ ]] || { echo "chaos.sh: '$value' is not a non-negative integer" >&2; exit 2; }
done
[[ -n "$SEED" ]] || SEED=$((RANDOM * 32768 + RANDOM))
[[ -n "$CUSTOMERS" ]] || CUSTOMERS=$((EVENTS / 10 > 100 ? EVENTS / 10 : 100))

log() { printf 'chaos.sh: %s\n' "$*" >&2; }
die() { printf 'chaos.sh: error: %s\n' "$*" >&2; exit 1; }

command -v redis-server >/dev/null || die "redis-server not found (apt-get install redis-server)"
command -v python3 >/dev/null || die "python3 not found"

if [[ -z "$BINARY" ]]; then
    log "building release (swift build -c release --product dupwatch, --product dupwatch-bench)"
    (cd "$ROOT" && swift build -c release --product dupwatch >&2 && swift build -c release --product dupwatch-bench >&2) ||
        die "release build failed"
    BINARY="$ROOT/.build/release/dupwatch"
fi
[[ -x "$BINARY" ]] || die "no executable at $BINARY"
# The workload generator is a benchmark tool, built beside the worker.
GENERATOR="$(dirname "$BINARY")/dupwatch-bench"
[[ -x "$GENERATOR" ]] || die "no dupwatch-bench beside $BINARY (swift build -c release --product dupwatch-bench)"
VERIFY=(python3 "$ROOT/scripts/chaos_verify.py")

TMP="$(mktemp -d "${TMPDIR:-/tmp}/dupwatch-chaos.XXXXXX")"
mkdir -p "$TMP/a" "$TMP/b"
# A private copy: both runs use the very same build even if .build is rebuilt meanwhile.
cp "$BINARY" "$TMP/dupwatch"
BINARY="$TMP/dupwatch"
cp "$GENERATOR" "$TMP/dupwatch-bench"
GENERATOR="$TMP/dupwatch-bench"

# Every process we start has a pid file in $TMP; cleanup kills exactly those (after checking
# that the pid still is a redis-server or dupwatch process) and removes the directory.
cleanup() {
    local status=$?
    trap - EXIT INT TERM
    local file pid
    for file in "$TMP"/*.pid; do
        [[ -f "$file" ]] || continue
        pid="$(cat "$file" 2>/dev/null || true)"
        [[ "$pid" =~ ^[0-9]+$ ]] || continue
        if [[ -r "/proc/$pid/cmdline" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qE 'redis-server|dupwatch|chaos_verify|chaos_cluster'; then
            kill -9 "$pid" 2>/dev/null || true
        fi
    done
    wait 2>/dev/null || true
    if [[ "$KEEP" == 1 || ( $status -ne 0 && -n "${CHAOS_KEEP_ON_FAILURE:-}" ) ]]; then
        log "kept $TMP"
    else
        rm -rf "$TMP"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# How to start one server: the project's redis.conf plus the per-run overrides.
redis_argv() { # port dir
    local port="$1" dir="$2"
    local argv=(redis-server)
    if [[ -f "$ROOT/redis.conf" ]]; then
        argv+=("$ROOT/redis.conf")
    fi
    argv+=(--port "$port" --bind 127.0.0.1 --dir "$dir" --daemonize no --logfile "$dir/redis.log"
        --appendonly yes --appendfsync everysec --aof-load-truncated yes --save "")
    printf '%s\n' "${argv[@]}"
}

start_redis() { # name port dir -> pid file $TMP/redis-<name>.pid
    local name="$1" port="$2" dir="$3"
    local argv
    mapfile -t argv < <(redis_argv "$port" "$dir")
    "${argv[@]}" >>"$TMP/redis-$name.out" 2>&1 </dev/null &
    echo $! >"$TMP/redis-$name.pid"
    disown  # no "Killed" job notice when it is SIGKILLed
    local i
    for i in $(seq 1 250); do
        if redis-cli -p "$port" ping 2>/dev/null | grep -q PONG; then
            return 0
        fi
        kill -0 "$(cat "$TMP/redis-$name.pid")" 2>/dev/null || break
        sleep 0.02
    done
    cat "$TMP/redis-$name.out" "$dir/redis.log" 2>/dev/null | tail -20 >&2
    die "redis-server $name did not start on port $port"
}

if [[ "$CLUSTER" == 1 ]]; then
    command -v redis-cli >/dev/null || die "redis-cli not found (apt-get install redis-tools)"
    PORT_A="$(free_port)"
    start_redis a "$PORT_A" "$TMP/a"
    [[ "$WORKER_KILLS_SET" == 1 ]] || WORKER_KILLS=24
    log "cluster: seed $SEED, $EVENTS events, $CUSTOMERS customers, $PARTITIONS partitions, $WORKER_KILLS worker kills, $MASTER_KILLS master kills; reference on $PORT_A; $TMP"
    status=0
    python3 "$ROOT/scripts/chaos_cluster.py" run --root "$ROOT" --binary "$BINARY" --generator "$GENERATOR" \
        --ref-url "redis://127.0.0.1:$PORT_A" --state-dir "$TMP" --seed "$SEED" --events "$EVENTS" \
        --customers "$CUSTOMERS" --partitions "$PARTITIONS" --worker-kills "$WORKER_KILLS" --master-kills "$MASTER_KILLS" &
    echo $! >"$TMP/supervisor.pid"
    wait "$(cat "$TMP/supervisor.pid")" || status=$?
    [[ $status -eq 0 ]] || log "mismatch or failure; process logs: $TMP/processes.log (use --keep or CHAOS_KEEP_ON_FAILURE=1 to keep them)"
    exit "$status"
fi

PORT_A="$(free_port)"
start_redis a "$PORT_A" "$TMP/a"
PORT_B="$(free_port)"
while [[ "$PORT_B" == "$PORT_A" ]]; do PORT_B="$(free_port)"; done
start_redis b "$PORT_B" "$TMP/b"
URL_A="redis://127.0.0.1:$PORT_A"
URL_B="redis://127.0.0.1:$PORT_B"
[[ "$(redis-cli -p "$PORT_B" config get appendonly | tail -1)" == yes ]] || die "AOF is not on for the chaos server"
log "seed $SEED, $EVENTS events, $CUSTOMERS customers, $WORKER_KILLS worker kills, $REDIS_KILLS redis kills; A=$PORT_A B=$PORT_B; $TMP"

# (A) the reference: generate, then one uninterrupted drain.
"$GENERATOR" generate --redis-url "$URL_A" --seed "$SEED" --events "$EVENTS" --customers "$CUSTOMERS" >"$TMP/generate.out" 2>&1 \
    || { cat "$TMP/generate.out" >&2; die "dupwatch-bench generate failed"; }
log "$(cat "$TMP/generate.out")"
"${VERIFY[@]}" export --url "$URL_A" --out "$TMP/input.jsonl"
start_ms=$(date +%s%3N)
"$BINARY" worker --drain --redis-url "$URL_A" --log-level warning >"$TMP/reference.log" 2>&1 \
    || { tail -20 "$TMP/reference.log" >&2; die "the reference drain failed"; }
log "reference drained in $(( $(date +%s%3N) - start_ms )) ms"

# (B) the chaos run (the supervisor restarts redis B with the same argv; it updates redis-b.pid).
mapfile -t ARGV_B < <(redis_argv "$PORT_B" "$TMP/b")
ARGV_B_JSON="$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1:]))' "${ARGV_B[@]}")"
"${VERIFY[@]}" chaos --url "$URL_B" --input "$TMP/input.jsonl" --binary "$BINARY" --redis-argv "$ARGV_B_JSON" \
    --state-dir "$TMP" --worker-kills "$WORKER_KILLS" --redis-kills "$REDIS_KILLS" --seed "$SEED" &
echo $! >"$TMP/supervisor.pid"
wait "$(cat "$TMP/supervisor.pid")" || die "the chaos supervisor failed"

# The verdict.
status=0
"${VERIFY[@]}" verify --ref "$URL_A" --got "$URL_B" --chaos-json "$TMP/chaos.json" --events "$EVENTS" || status=$?
if [[ $status -ne 0 ]]; then
    log "mismatch; worker logs: $TMP/workers.log (use --keep or CHAOS_KEEP_ON_FAILURE=1 to keep them)"
    grep -iE 'error|fatal|crash' "$TMP/workers.log" | grep -v 'dead-lettered' | tail -5 >&2 || true
fi
exit "$status"
