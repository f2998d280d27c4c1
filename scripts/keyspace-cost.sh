#!/usr/bin/env bash
# What does a Redis command cost as the data grows, with DupWatch out of the picture? Fills a
# throwaway Redis with DupWatch's per-customer layout (a cart hash of 5 lines, the last-5 list,
# 5 order hashes, each with a TTL: 7 keys per customer), then times the commands DupWatch sends
# most, each aimed at random customers among the first W, for W = a small and a large working set,
# alternating, ROUNDS times. Same process, same keys, same memory: only how many customers the
# commands spread over changes, as it does from the 100k to the 10M step of scripts/bench-scale.sh
# (10,000, 100,000 and 1,000,000 customers). docs/DESIGN.md, "Throughput as the data grows", reads it.
#   scripts/keyspace-cost.sh [--customers 1000000] [--working-sets "10000 100000 1000000"] [--rounds 5] [--ops 300000]
# Prints per command the median of Redis's own time per call (INFO commandstats usec_per_call,
# execution only) and of its main thread's CPU per call (INFO cpu, parsing and replies too).
# The AOF is off here, so that what is timed is the key lookups and the data structures. Needs
# redis-benchmark (redis-tools) and about 3 GB of free memory for 1,000,000 customers.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
CUSTOMERS=1000000; WORKING_SETS="10000 100000 1000000"; ROUNDS=5; OPS=300000
while [ $# -gt 0 ]; do
  case "$1" in
    --customers) CUSTOMERS=$2; shift 2;; --working-sets) WORKING_SETS=$2; shift 2;;
    --rounds) ROUNDS=$2; shift 2;; --ops) OPS=$2; shift 2;;
    *) die "unknown option $1 (see the header of $0)";;
  esac
done
for w in $WORKING_SETS; do
  (( w <= CUSTOMERS )) || die "working set $w is larger than --customers $CUSTOMERS"
done
scripts/install-deps.sh
command -v redis-benchmark >/dev/null || die "redis-benchmark not found: apt-get install -y redis-tools"
start_throwaway_redis --maxmemory 0 --appendonly no
rc() { redis-cli -p "$THROWAWAY_PORT" "$@"; }

# Customer ids as redis-benchmark writes __rand_int__: 12 digits, zero-padded.
note "filling $CUSTOMERS customers (7 keys each)"
awk -v K="$CUSTOMERS" '
  function bulk(s) { return "$" length(s) "\r\n" s "\r\n" }
  function cmd(n, a,   s, i) { s = "*" n "\r\n"; for (i = 1; i <= n; i++) s = s bulk(a[i]); return s }
  BEGIN {
    ts = "1764000000000"; ttl = "7776000000" # strings: mawk prints big numbers as 7.776e+09
    for (c = 0; c < K; c++) {
      id = sprintf("%012d", c)
      n = split("HSET|cart:{" id "}|85123A|2 " ts "|71053|1 " ts "|84406B|1 " ts "|84029G|3 " ts "|22752|1 " ts, a, "|"); printf "%s", cmd(n, a)
      n = split("PEXPIRE|cart:{" id "}|" ttl, a, "|"); printf "%s", cmd(n, a)
      n = split("RPUSH|orders:{" id "}|536365|536366|536367|536368|536369", a, "|"); printf "%s", cmd(n, a)
      n = split("PEXPIRE|orders:{" id "}|" ttl, a, "|"); printf "%s", cmd(n, a)
      for (o = 536365; o <= 536369; o++) {
        n = split("HSET|order:{" id "}:" o "|ts|" ts "|status|placed|items|85123A:2\t71053:1\t84406B:1", a, "|"); printf "%s", cmd(n, a)
        n = split("PEXPIRE|order:{" id "}:" o "|" ttl, a, "|"); printf "%s", cmd(n, a)
      }
    }
  }' | rc --pipe >/dev/null
note "$(rc dbsize) keys, used_memory $(rc info memory | awk -F: '/^used_memory_human:/ {print $2}' | tr -d '\r')"

COMMANDS=(
  "HGETALL cart:{__rand_int__}"
  "LRANGE orders:{__rand_int__} 0 4"
  "HGETALL order:{__rand_int__}:536367"
  "HSET cart:{__rand_int__} 22752 1"
  "PEXPIRE cart:{__rand_int__} 7776000000"
)
main_thread_cpu() { rc info cpu | awk -F: '/^used_cpu_(user|sys)_main_thread:/ {s += $2} END {printf "%.6f", s}'; }
samples=$(mktemp)
# Round 0 warms up (the fill may leave a rehash running) and is not counted.
for round in $(seq 0 "$ROUNDS"); do
  for w in $WORKING_SETS; do
    for command in "${COMMANDS[@]}"; do
      name=$(tr 'A-Z' 'a-z' <<<"${command%% *}")
      rc config resetstat >/dev/null
      before=$(main_thread_cpu)
      # shellcheck disable=SC2086 # the command's words are redis-benchmark's arguments
      redis-benchmark -p "$THROWAWAY_PORT" -c 4 -P 32 -r "$w" -n "$OPS" -q $command >/dev/null 2>&1
      after=$(main_thread_cpu)
      usec=$(rc info commandstats | awk -F'[:=,]' -v c="cmdstat_$name" '$1 == c {print $7}')
      if ((round > 0)); then printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$w" "${command//__rand_int__/C}" "$usec" "$before" "$after" >>"$samples"; fi
    done
  done
  if ((round > 0)); then note "round $round of $ROUNDS done"; fi
done
python3 - "$samples" "$OPS" "$WORKING_SETS" <<'EOF'
import statistics, sys
path, ops, sets = sys.argv[1], int(sys.argv[2]), [int(w) for w in sys.argv[3].split()]
usec, cpu, order = {}, {}, []
for line in open(path):
    _, w, command, u, before, after = line.rstrip("\n").split("\t")
    if command not in order: order.append(command)
    usec.setdefault((command, int(w)), []).append(float(u))
    cpu.setdefault((command, int(w)), []).append((float(after) - float(before)) * 1e6 / ops)
small = sets[0]
print("Redis time per call, medians of %d rounds: usec_per_call | main-thread CPU per call, by working set"
      % len(usec[(order[0], small)]))
print("(x: usec_per_call against %d customers)" % small)
print("%-28s" % "command" + "".join("%28s" % ("%d customers" % w) for w in sets))
ratios = {w: [] for w in sets}
for command in order:
    cells = []
    for w in sets:
        u = statistics.median(usec[(command, w)])
        ratio = u / statistics.median(usec[(command, small)])
        ratios[w].append(ratio)
        cells.append("%5.2f | %5.2f µs (%.2fx)" % (u, statistics.median(cpu[(command, w)]), ratio))
    print("%-28s" % command + "".join("%28s" % c for c in cells))
print("keyspace usec_per_call_ratio " + " ".join(
    "%d=%.2fx" % (w, statistics.geometric_mean(ratios[w])) for w in sets[1:])
    + " (geometric mean over %d commands, against %d customers)" % (len(order), small))
EOF
rm -f "$samples"
