#!/usr/bin/env bash
# The HTTP server (`dupwatch serve`) against issue 17's targets, on a throwaway Redis in a temp
# dir, with a `dupwatch worker` and `dupwatch serve` from a release build (.build-bench):
#
#   1. warm store: CUSTOMERS customers (default 100,000), each with two stored orders (the older
#      one holds MILK-1L) and a cart line, XADDed through `redis-cli --pipe` and drained by
#      `dupwatch worker --drain`;
#   2. check: wrk (-t 2 -c 64, --latency, scripts/bench_http.lua) POSTing
#      /v1/customers/{random}/check with MILK-1L and a random SKU (every check finds a duplicate),
#      with the CPU per request of serve and redis-server (utime + stime from /proc/PID/stat);
#   3. check_spawn: `dupwatch check C --items … --json` run sequentially, a process per check;
#   4. ingest: wrk POSTing valid cart `add` events (unique event_ids) to /v1/cart-events;
#   5. sse, sse_idle: scripts/bench_sse.py, 5,000 live streams (1,000 customers that get alerts),
#      orders XADDed at 2,000/s, each raising one alert; latency XADD -> SSE bytes received.
#
# It prints one line per target and a final line (with --json: one JSON object instead):
#   check requests_per_s=… p50_ms=… p99_ms=… clients=64 customers=… server_cpu_us_per_req=… redis_cpu_us_per_req=… ceiling_2_cores_req_per_s=… …
#   check_spawn requests_per_s=… ratio=…x runs=…
#   ingest events_per_s=… p99_ms=… …
#   sse p50_ms=… p99_ms=… events_per_s=2000 connections=5000 alerts=received/expected …
#   sse_idle connections=5000 server_rss_mb=… …
#   targets met=N/6 …
# Progress and notes go to stderr.
#
#   scripts/bench-http.sh [--quick] [--json] [--no-build] [--customers N] [--duration S]
#                         [--connections N] [--jemalloc] [--keep] [--serve-arg ARG]...
#
#   --quick         3 s wrk runs, 20 spawned checks, 3 s of SSE load (about 30 s after the build;
#                   the full run takes about a minute and a half)
#   --no-build      use the existing .build-bench/release/dupwatch
#   --duration S    seconds of each wrk run (default 10)
#   --connections N live streams in all (default 5000; 1,000 of them get alerts)
#   --jemalloc      preload jemalloc into serve too (the worker always gets it when installed,
#                   as scripts/run.sh starts it; the systemd unit starts serve without it)
#   --serve-arg ARG pass ARG to `dupwatch serve`, e.g. --serve-arg --redis-lanes --serve-arg 16
#   --keep          keep the temp dir (logs, wrk output) and print its path
#
# DUPWATCH_* variables of the caller are ignored (unset), so that the run is the same anywhere.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

QUICK=0; JSON=0; BUILD=1; KEEP=0; JEMALLOC_SERVE=0
CUSTOMERS=100000; SKUS=2000; DURATION=""; CONNECTIONS=5000; SUBSCRIBED=1000; SSE_RATE=2000
CLIENTS=64; THREADS=2
SERVE_ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1; shift;;
    --json) JSON=1; shift;;
    --no-build) BUILD=0; shift;;
    --keep) KEEP=1; shift;;
    --jemalloc) JEMALLOC_SERVE=1; shift;;
    --customers) CUSTOMERS=${2:?--customers needs a number}; shift 2;;
    --duration) DURATION=${2:?--duration needs seconds}; shift 2;;
    --connections) CONNECTIONS=${2:?--connections needs a number}; shift 2;;
    --serve-arg) SERVE_ARGS+=("${2:?--serve-arg needs an argument}"); shift 2;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0;;
    *) die "unknown option $1 (scripts/bench-http.sh --help lists them)";;
  esac
done
for n in "$CUSTOMERS" "$CONNECTIONS" ${DURATION:+"$DURATION"}; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "'$n' is not a positive whole number"
done
[ "$CUSTOMERS" -ge 1000 ] || die "--customers must be at least 1000"
[ "$CONNECTIONS" -ge "$SUBSCRIBED" ] || die "--connections must be at least $SUBSCRIBED (the customers that get alerts)"
if [ "$QUICK" = 1 ]; then
  DURATION=${DURATION:-3}; WARMUP=1; SPAWN_RUNS=20; SSE_SECONDS=3
else
  DURATION=${DURATION:-10}; WARMUP=2; SPAWN_RUNS=100; SSE_SECONDS=10
fi

for v in $(compgen -v DUPWATCH_ || true); do unset "$v"; done

for tool in wrk redis-server redis-cli python3 curl; do
  command -v "$tool" >/dev/null || die "$tool is not installed (Debian: apt-get install wrk redis-server redis-tools python3 curl)"
done
# Each live stream is a descriptor in this script's python client and in the server.
need_files=$((CONNECTIONS + 1000))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$need_files" ]; then
  ulimit -n "$need_files" 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  [ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge "$need_files" ] ||
    die "$CONNECTIONS live streams need $need_files open files, but the limit is $(ulimit -n) (hard $(ulimit -Hn)); raise the hard limit (limits.conf, or ulimit -Hn as root) or pass fewer --connections"
fi

BIN="$ROOT/.build-bench/release/dupwatch"
if [ "$BUILD" = 1 ]; then
  note "building dupwatch (release, --scratch-path .build-bench)"
  swift build -c release --product dupwatch --scratch-path .build-bench >&2 ||
    die "the release build failed (above); fix it, or pass --no-build to use the last build in .build-bench"
fi
[ -x "$BIN" ] || die "$BIN is missing: run without --no-build"
CLK_TCK=$(getconf CLK_TCK)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/dupwatch-bench-http.XXXXXX")
REDIS_PID=""; WORKER_PID=""; SERVE_PID=""
stop_process() { # pid: SIGTERM, then SIGKILL after 5 s
  local pid=$1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  [ -n "$REDIS_PID" ] || REDIS_PID=$(cat "$WORK/redis/redis.pid" 2>/dev/null || true)
  stop_process "$SERVE_PID"; stop_process "$WORKER_PID"; stop_process "$REDIS_PID"
  wait 2>/dev/null || true
  if [ "$KEEP" = 1 ]; then
    note "logs and wrk output kept in $WORK"
  else
    rm -rf "$WORK"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'note "interrupted; stopping what it started"; exit 130' INT
trap 'note "terminated; stopping what it started"; exit 143' TERM

show_log() { # file: its last lines on stderr
  [ -s "$1" ] && { printf -- '--- last lines of %s:\n' "$(basename "$1")" >&2; tail -n 20 "$1" >&2; }
  return 0
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ticks() { # pid: utime + stime of the whole process, in clock ticks
  awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}
host_ticks() { # busy (user, nice, system, irq, softirq) and steal ticks of all CPUs
  awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $9 }' /proc/stat
}
alive() { # name pid log: dies when the process is gone
  kill -0 "$2" 2>/dev/null || { show_log "$3"; die "$1 (pid $2) stopped unexpectedly; its log is above"; }
}

# --- Redis, worker, server ------------------------------------------------------------------
REDIS_PORT=$(free_port)
REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
mkdir -p "$WORK/redis"
redis-server "$ROOT/redis.conf" --port "$REDIS_PORT" --dir "$WORK/redis" --daemonize yes \
  --pidfile "$WORK/redis/redis.pid" --aclfile "" --logfile "$WORK/redis/redis.log" --maxmemory 4gb >/dev/null ||
  { show_log "$WORK/redis/redis.log"; die "redis-server did not start on port $REDIS_PORT (log above)"; }
for _ in $(seq 100); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 || { show_log "$WORK/redis/redis.log"; die "redis-server on port $REDIS_PORT does not answer PING"; }
REDIS_PID=$(cat "$WORK/redis/redis.pid")

WORKER_PRELOAD=(); SERVE_PRELOAD=()
if library="$(jemalloc_library)"; then
  WORKER_PRELOAD=(env LD_PRELOAD="$library")
  [ "$JEMALLOC_SERVE" = 1 ] && SERVE_PRELOAD=(env LD_PRELOAD="$library")
elif [ "$JEMALLOC_SERVE" = 1 ]; then
  die "--jemalloc: libjemalloc.so.2 is not installed (apt-get install libjemalloc2)"
fi

# The server first, so that a bad --serve-arg fails before the seeding.
API_KEY="bench-$(random_password)"
printf '%s read,ingest\n' "$API_KEY" >"$WORK/api-keys"
chmod 600 "$WORK/api-keys"
HTTP_PORT=$(free_port)
URL="http://127.0.0.1:$HTTP_PORT"
"${SERVE_PRELOAD[@]}" "$BIN" serve --redis-url "$REDIS_URL" --port "$HTTP_PORT" --api-keys "$WORK/api-keys" \
  --max-streams-per-key $((CONNECTIONS + 100)) --max-streams $((CONNECTIONS + 1000)) --log-level warning \
  ${SERVE_ARGS[@]+"${SERVE_ARGS[@]}"} >"$WORK/serve.log" 2>&1 &
SERVE_PID=$!
for _ in $(seq 200); do
  curl -sf "$URL/readyz" >/dev/null 2>&1 && break
  alive "dupwatch serve" "$SERVE_PID" "$WORK/serve.log"
  sleep 0.1
done
curl -sf "$URL/readyz" >/dev/null 2>&1 || { show_log "$WORK/serve.log"; die "dupwatch serve on $URL is not ready after 20 s (GET /readyz; log above)"; }
note "warm store: $CUSTOMERS customers, 2 orders and a cart line each"
python3 - "$CUSTOMERS" "$SKUS" <<'PY' | redis-cli -p "$REDIS_PORT" --pipe >"$WORK/seed.log" 2>&1 ||
import random, sys, time
customers, skus = int(sys.argv[1]), int(sys.argv[2])
rng = random.Random(17)
now = int(time.time() * 1000)
day = 86_400_000
out = sys.stdout.buffer
def cmd(*args):
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        b = a.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(parts)
def sku():
    return "SKU-%05d" % rng.randrange(skus)
chunk = []
for i in range(customers):
    c = "cust-%06d" % i
    first = '[{"sku":"MILK-1L","qty":2,"title":"Organic Milk 1L"},{"sku":"%s","qty":1},{"sku":"%s","qty":3}]' % (sku(), sku())
    second = '[{"sku":"%s","qty":1},{"sku":"%s","qty":2}]' % (sku(), sku())
    chunk.append(cmd("XADD", "stream:order:placed", "*", "order_id", "O-%s-1" % c, "customer_id", c,
                     "items", first, "ts", str(now - 20 * day + i)))
    chunk.append(cmd("XADD", "stream:order:placed", "*", "order_id", "O-%s-2" % c, "customer_id", c,
                     "items", second, "ts", str(now - 10 * day + i)))
    chunk.append(cmd("XADD", "stream:cart:events", "*", "type", "add", "customer_id", c, "sku", sku(),
                     "qty", "1", "ts", str(now - day + i)))
    if len(chunk) >= 3000:
        out.write(b"".join(chunk)); chunk = []
out.write(b"".join(chunk))
PY
  { show_log "$WORK/seed.log"; die "seeding the warm store with redis-cli --pipe failed (above)"; }
grep -q 'errors: 0,' "$WORK/seed.log" || { show_log "$WORK/seed.log"; die "redis-cli --pipe reported errors while seeding (above)"; }
seed_events=$((CUSTOMERS * 3))
start=$(date +%s.%N)
"${WORKER_PRELOAD[@]}" "$BIN" worker --redis-url "$REDIS_URL" --drain --log-level warning >"$WORK/drain.log" 2>&1 ||
  { show_log "$WORK/drain.log"; die "dupwatch worker --drain failed on the warm store (log above)"; }
end=$(date +%s.%N)
note "$(python3 -c "import sys; s=float(sys.argv[2])-float(sys.argv[1]); print(f'warm store drained: {int(sys.argv[3])} events in {s:.1f} s ({int(sys.argv[3])/s:,.0f} events/s)')" "$start" "$end" "$seed_events")"

"${WORKER_PRELOAD[@]}" "$BIN" worker --redis-url "$REDIS_URL" --log-level warning >"$WORK/worker.log" 2>&1 &
WORKER_PID=$!
sleep 0.5
alive "dupwatch worker" "$WORKER_PID" "$WORK/worker.log"

CHECK_ITEMS='[{"sku":"MILK-1L","qty":1},{"sku":"SKU-00042","qty":2}]'
answer=$(curl -s -X POST -H "Authorization: Bearer $API_KEY" -H 'Content-Type: application/json' \
  -d "{\"items\":$CHECK_ITEMS}" "$URL/v1/customers/cust-000001/check")
[[ "$answer" == *'"match":"order"'* ]] ||
  die "a check of cust-000001 found no stored order (the warm store is not what the worker should have written): $answer"

# --- wrk ------------------------------------------------------------------------------------
# Runs wrk in MODE for SECONDS and sets W_* from its BENCH line, the CPU ticks of serve,
# redis-server and the worker during the run, and wrk's own CPU seconds.
run_wrk() { # name mode seconds
  local name=$1 mode=$2 seconds=$3 out="$WORK/wrk-$1.out" s0 r0 k0 h0 st0 h1 st1 status
  s0=$(ticks "$SERVE_PID"); r0=$(ticks "$REDIS_PID"); k0=$(ticks "$WORKER_PID"); read -r h0 st0 < <(host_ticks)
  local TIMEFORMAT='%U %S'
  set +e
  { time wrk -t "$THREADS" -c "$CLIENTS" -d "${seconds}s" --timeout 5s --latency -s "$ROOT/scripts/bench_http.lua" "$URL" \
      -- "$mode" "$API_KEY" "$CUSTOMERS" "$SKUS" "$name-$$-$RANDOM" >"$out" 2>"$WORK/wrk-$name.err"; } 2>"$WORK/wrk-$name.time"
  status=$?
  set -e
  [ "$status" = 0 ] || { show_log "$WORK/wrk-$name.err"; show_log "$out"; die "wrk ($name) failed with status $status (output above)"; }
  W_SERVE=$(( $(ticks "$SERVE_PID") - s0 )); W_REDIS=$(( $(ticks "$REDIS_PID") - r0 )); W_WORKER=$(( $(ticks "$WORKER_PID") - k0 ))
  read -r h1 st1 < <(host_ticks); W_HOST=$((h1 - h0)); W_STEAL=$((st1 - st0))
  read -r W_USER W_SYS <"$WORK/wrk-$name.time"
  W_LINE=$(grep '^BENCH ' "$out") || { show_log "$out"; die "wrk ($name) printed no BENCH line (is scripts/bench_http.lua intact?)"; }
  alive "dupwatch serve" "$SERVE_PID" "$WORK/serve.log"
  alive "dupwatch worker" "$WORKER_PID" "$WORK/worker.log"
}
# The figures of the last run_wrk as one JSON object.
wrk_json() {
  python3 - "$W_LINE" "$W_SERVE" "$W_REDIS" "$W_WORKER" "$W_USER" "$W_SYS" "$CLK_TCK" "$W_HOST" "$W_STEAL" <<'PY'
import json, sys
fields = dict(kv.split("=") for kv in sys.argv[1].split()[1:])
n = int(fields["requests"]); seconds = int(fields["duration_us"]) / 1e6
serve, redis, worker = (int(x) for x in sys.argv[2:5]); user, system = float(sys.argv[5]), float(sys.argv[6])
tick_us = 1e6 / int(sys.argv[7])
host, steal = int(sys.argv[8]) * tick_us / 1e6, int(sys.argv[9]) * tick_us / 1e6  # CPU seconds
ours = (serve + redis + worker) * tick_us / 1e6 + user + system
errors = sum(int(fields[k]) for k in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts"))
print(json.dumps({
    "requests": n, "seconds": seconds, "requests_per_s": n / seconds,
    "p50_ms": int(fields["p50_us"]) / 1e3, "p90_ms": int(fields["p90_us"]) / 1e3,
    "p99_ms": int(fields["p99_us"]) / 1e3, "max_ms": int(fields["max_us"]) / 1e3,
    "errors": errors, "status_errors": int(fields["status_errors"]),
    "server_cpu_us_per_req": serve * tick_us / n, "redis_cpu_us_per_req": redis * tick_us / n,
    "worker_cpu_us_per_req": worker * tick_us / n, "wrk_cpu_us_per_req": (user + system) * 1e6 / n,
    "server_cpu_pct": 100 * serve * tick_us / 1e6 / seconds, "redis_cpu_pct": 100 * redis * tick_us / 1e6 / seconds,
    "worker_cpu_pct": 100 * worker * tick_us / 1e6 / seconds, "wrk_cpu_pct": 100 * (user + system) / seconds,
    # Everything else the host's CPUs ran meanwhile (other tenants' jobs), and the time the
    # hypervisor gave to other VMs: both in % of one core.
    "others_cpu_pct": max(0.0, 100 * (host - ours) / seconds), "steal_pct": 100 * steal / seconds,
}))
PY
}
check_errors() { # name json-file: dies when more than 1% of the requests failed
  python3 - "$1" "$2" <<'PY' || return 1
import json, sys
r = json.load(open(sys.argv[2]))
if r["errors"] > 0.01 * r["requests"]:
    sys.exit(f"bench-http.sh: error: {r['errors']} of {r['requests']} {sys.argv[1]} requests failed "
             f"({r['status_errors']} with a status >= 400); the server's log and one answer follow")
PY
}

note "check: wrk -t $THREADS -c $CLIENTS, ${WARMUP} s warm-up, then ${DURATION} s"
run_wrk check-warmup check "$WARMUP"
run_wrk check check "$DURATION"
wrk_json >"$WORK/check.json"
check_errors check "$WORK/check.json" || { show_log "$WORK/serve.log"; curl -s -X POST -H "Authorization: Bearer $API_KEY" \
  -d "{\"items\":$CHECK_ITEMS}" "$URL/v1/customers/cust-000001/check" >&2; echo >&2; exit 1; }

note "check_spawn: $SPAWN_RUNS x dupwatch check, one after another"
spawn_start=$(date +%s.%N)
for i in $(seq "$SPAWN_RUNS"); do
  customer=$(printf 'cust-%06d' $(( (RANDOM * 32768 + RANDOM) % CUSTOMERS )))
  "$BIN" check "$customer" --items "$CHECK_ITEMS" --json --redis-url "$REDIS_URL" >"$WORK/spawn.out" 2>"$WORK/spawn.err" ||
    { show_log "$WORK/spawn.err"; die "dupwatch check $customer failed (run $i; its stderr is above)"; }
done
spawn_end=$(date +%s.%N)
grep -q '"match"' "$WORK/spawn.out" || die "dupwatch check --json printed no alert for $customer: $(head -c 300 "$WORK/spawn.out")"

note "ingest: wrk -t $THREADS -c $CLIENTS, ${DURATION} s of cart adds (the worker runs meanwhile)"
run_wrk ingest ingest "$DURATION"
wrk_json >"$WORK/ingest.json"
check_errors ingest "$WORK/ingest.json" || { show_log "$WORK/serve.log"; exit 1; }

note "sse: $CONNECTIONS live streams ($SUBSCRIBED get alerts), $SSE_RATE orders/s for ${SSE_SECONDS} s"
python3 "$ROOT/scripts/bench_sse.py" --url "$URL" --key "$API_KEY" --redis-port "$REDIS_PORT" --serve-pid "$SERVE_PID" \
  --redis-pid "$REDIS_PID" --worker-pid "$WORKER_PID" --subscribed "$SUBSCRIBED" --connections "$CONNECTIONS" \
  --rate "$SSE_RATE" --seconds "$SSE_SECONDS" --json >"$WORK/sse.json" ||
  { show_log "$WORK/serve.log"; show_log "$WORK/worker.log"; die "scripts/bench_sse.py failed (its message is above)"; }
alive "dupwatch serve" "$SERVE_PID" "$WORK/serve.log"

# --- report ---------------------------------------------------------------------------------
python3 - "$WORK" "$JSON" "$CUSTOMERS" "$CLIENTS" "$SPAWN_RUNS" "$spawn_start" "$spawn_end" "${SERVE_ARGS[*]:-}" "$JEMALLOC_SERVE" <<'PY'
import json, sys
work, as_json, customers, clients, runs = sys.argv[1], sys.argv[2] == "1", int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
spawn_s = float(sys.argv[7]) - float(sys.argv[6])
check = json.load(open(f"{work}/check.json"))
ingest = json.load(open(f"{work}/ingest.json"))
sse = json.load(open(f"{work}/sse.json"))
cpu_per_req = check["server_cpu_us_per_req"] + check["redis_cpu_us_per_req"]
check["ceiling_2_cores_req_per_s"] = 2e6 / cpu_per_req if cpu_per_req else None
check["ceiling_2_cores_with_client_req_per_s"] = 2e6 / (cpu_per_req + check["wrk_cpu_us_per_req"])
spawn = {"runs": runs, "seconds": spawn_s, "requests_per_s": runs / spawn_s}
spawn["ratio"] = check["requests_per_s"] / spawn["requests_per_s"]
targets = {
    "check_rps": check["requests_per_s"] >= 15000,
    "check_p99": check["p99_ms"] <= 10,
    "spawn_ratio": spawn["ratio"] >= 50,
    "sse_p99": sse["p99_ms"] <= 20 and sse["received"] == sse["expected"],
    "sse_rss": sse["connections"] >= 5000 and sse["server_rss_mb"] <= 256,
    "ingest": ingest["requests_per_s"] >= 10000,
}
if as_json:
    print(json.dumps({"check": check, "check_spawn": spawn, "ingest": ingest, "sse": sse, "targets": targets,
                      "customers": customers, "clients": clients, "serve_args": sys.argv[8],
                      "serve_jemalloc": sys.argv[9] == "1"}, indent=1))
    sys.exit(0)
f = lambda v, d=2: "n/a" if v is None else f"{v:.{d}f}"
print(f"check requests_per_s={check['requests_per_s']:.0f} p50_ms={f(check['p50_ms'])} p99_ms={f(check['p99_ms'])} "
      f"clients={clients} customers={customers} server_cpu_us_per_req={f(check['server_cpu_us_per_req'], 1)} "
      f"redis_cpu_us_per_req={f(check['redis_cpu_us_per_req'], 1)} ceiling_2_cores_req_per_s={f(check['ceiling_2_cores_req_per_s'], 0)} "
      f"wrk_cpu_us_per_req={f(check['wrk_cpu_us_per_req'], 1)} errors={check['errors']} others_cpu_pct={check['others_cpu_pct']:.0f}")
print(f"check_spawn requests_per_s={spawn['requests_per_s']:.1f} ratio={spawn['ratio']:.0f}x runs={runs}")
print(f"ingest events_per_s={ingest['requests_per_s']:.0f} p50_ms={f(ingest['p50_ms'])} p99_ms={f(ingest['p99_ms'])} "
      f"clients={clients} server_cpu_us_per_req={f(ingest['server_cpu_us_per_req'], 1)} "
      f"redis_cpu_us_per_req={f(ingest['redis_cpu_us_per_req'], 1)} worker_cpu_us_per_req={f(ingest['worker_cpu_us_per_req'], 1)} "
      f"wrk_cpu_us_per_req={f(ingest['wrk_cpu_us_per_req'], 1)} errors={ingest['errors']} others_cpu_pct={ingest['others_cpu_pct']:.0f}")
cpu = sse["cpu_pct"]
print(f"sse p50_ms={f(sse['p50_ms'])} p99_ms={f(sse['p99_ms'])} max_ms={f(sse['max_ms'])} events_per_s={sse['events_per_s']:.0f} "
      f"connections={sse['connections']} alerts={sse['received']}/{sse['expected']} worker_p99_ms={f(sse['worker_p99_ms'], 0)} "
      f"hub_p99_ms={f(sse['hub_p99_ms'], 0)} send_lag_p99_ms={f(sse['send_lag_p99_ms'])} "
      + " ".join(f"{k}_cpu_pct={v:.0f}" for k, v in cpu.items()))
print(f"sse_idle connections={sse['connections']} server_rss_mb={f(sse['server_rss_mb'], 1)} "
      f"server_rss_mb_no_streams={f(sse['server_rss_mb_no_streams'], 1)} server_rss_mb_peak_load={f(sse['server_rss_mb_peak_load'], 1)}")
missed = [k for k, ok in targets.items() if not ok]
print(f"targets met={len(targets) - len(missed)}/{len(targets)} missed={','.join(missed) or 'none'}")
PY
