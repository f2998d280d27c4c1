#!/usr/bin/env bash
# scripts/run.sh — the main job: builds DupWatch (release), starts the local Redis from
# redis.conf (scripts/start-redis.sh; reused when already running) and runs the worker in the
# foreground as the ACL user dupwatch (DUPWATCH_REDIS_URL from var/credentials.env).
# Extra arguments go to `dupwatch worker`, e.g.: scripts/run.sh --log-level debug
# Ctrl-C (SIGINT) or SIGTERM stops the worker cleanly: it finishes and commits its batch and
# hands the lease over. Redis keeps running; stop it with scripts/stop-redis.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

build_release

"$ROOT/scripts/start-redis.sh"

require_credentials
[[ -x "$ROOT/.build/release/dupwatch" ]] || die ".build/release/dupwatch is missing after the build; try: swift build -c release --product dupwatch"

note "starting the worker (Ctrl-C stops it); in another terminal: scripts/demo.sh"
# jemalloc, when present, takes a tenth off the worker's CPU per event (docs/PERFORMANCE.md);
# it is a run-time choice, not a build dependency.
if preload="$(jemalloc_library)"; then
    note "allocator: jemalloc ($preload, LD_PRELOAD)"
    export LD_PRELOAD="$preload${LD_PRELOAD:+:$LD_PRELOAD}"
fi
exec "$ROOT/.build/release/dupwatch" worker "$@"
