#!/usr/bin/env bash
# scripts/test.sh — runs DupWatch's test suite: installs what is missing (scripts/install-deps.sh),
# builds the package and its tests, then runs `swift test` with any extra arguments, e.g.
#   scripts/test.sh --filter DupWatchCoreTests
# The tests start their own throwaway redis-server on free ports: no running Redis is needed
# (and the one from scripts/start-redis.sh is not touched). Exits with swift test's code.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

"$ROOT/scripts/install-deps.sh"

note "building the package and its tests (swift build --build-tests)"
swift build --build-tests ||
    die "swift build --build-tests failed (see the compiler output above); fix the build, then rerun"

note "running the tests (swift test${*:+ $*})"
status=0
swift test "$@" || status=$?
if ((status != 0)); then
    note "swift test failed (exit $status); rerun one suite with e.g. scripts/test.sh --filter RedisClientTests"
fi
exit "$status"
