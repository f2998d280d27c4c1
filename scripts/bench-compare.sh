#!/usr/bin/env bash
# Is this build as fast as an earlier one? Builds the dupwatch of git revision REV in a worktree
# (var/compare/REV, its own .build), then drains the same seeded input with that worker and with
# this tree's, interleaved round by round (alternating which goes first) against one throwaway
# Redis, so that both see the same spells of a shared host. Prints one line per drain, then the
# medians and their ratio:
#   compare base=<rev> rounds=4 events=1000000 base_events_per_s=… this_events_per_s=… ratio=…
#   scripts/bench-compare.sh [--rounds R] [--events N] REV
# Both workers run with jemalloc preloaded when it is installed (as scripts/run.sh starts them).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
ROUNDS=4; EVENTS=1000000; REV=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift 2;; --events) EVENTS=$2; shift 2;;
    -*) die "unknown option $1 (see the header of $0)";;
    *) REV=$1; shift;;
  esac
done
[[ -n "$REV" ]] || die "which revision? e.g. scripts/bench-compare.sh HEAD~3"
base_commit="$(git rev-parse --verify "$REV^{commit}")" || die "$REV is not a commit of this repository"

scripts/install-deps.sh
note "building this tree (release)"
swift build -c release --product dupwatch >&2
swift build -c release --product dupwatch-bench >&2
BASE_DIR="$VAR_DIR/compare/${base_commit:0:12}"
if [[ ! -x "$BASE_DIR/.build/release/dupwatch" ]]; then
  note "building $REV (${base_commit:0:12}) in $BASE_DIR"
  rm -rf "$BASE_DIR"
  git worktree prune
  git worktree add --detach "$BASE_DIR" "$base_commit" >&2
  (cd "$BASE_DIR" && swift build -c release --product dupwatch >&2) || die "the build of $REV failed"
fi
# Copies, so that a rebuild during the run cannot change what is measured.
work="$(mktemp -d)"
cp "$BASE_DIR/.build/release/dupwatch" "$work/dupwatch-base"
cp .build/release/dupwatch "$work/dupwatch-this"
cp .build/release/dupwatch-bench "$work/dupwatch-bench"
preload=""
if library="$(jemalloc_library)"; then preload="env LD_PRELOAD=$library "; fi

start_throwaway_redis
for round in $(seq "$ROUNDS"); do
  # Alternate which goes first (base this, this base, ...): a host that slows down or speeds
  # up during a round then favours neither.
  order="base this"; ((round % 2 == 0)) && order="this base"
  for which in $order; do
    "$work/dupwatch-bench" bench --redis-url "$THROWAWAY_URL" --flush --events "$EVENTS" --runs 1 --rate 0 --memory-customers 0 \
      --label "$which" --worker "${preload}$work/dupwatch-$which worker --redis-url {url} --drain --log-level warning" --json \
      > "$work/$which-$round.json"
    python3 - "$work/$which-$round.json" "$which" "$round" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print("round %s %-4s events/s=%d redis_us_per_event=%.2f worker_us_per_event=%.2f rss_mb=%.1f alerts=%d deadletters=%d"
      % (sys.argv[3], sys.argv[2], d["events_per_s_median"], d["redis_us_per_event"], d["worker_us_per_event"],
         d["worker_peak_rss_mb"], d["alerts"], d["deadletters"]))
PY
  done
done
python3 - "$work" "$ROUNDS" "$REV" "$EVENTS" <<'PY'
import json, statistics, sys
work, rounds, rev, events = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
med = {w: statistics.median(json.load(open(f"{work}/{w}-{r}.json"))["events_per_s_median"] for r in range(1, rounds + 1))
       for w in ("base", "this")}
print(f"compare base={rev} rounds={rounds} events={events} base_events_per_s={med['base']:.0f} "
      f"this_events_per_s={med['this']:.0f} ratio={med['this'] / med['base']:.2f}")
PY
rm -rf "$work"
