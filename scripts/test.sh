#!/usr/bin/env bash
# scripts/test.sh — runs DupWatch's test suite: installs what is missing (scripts/install-deps.sh),
# builds the package and its tests (failing on any warning of the project's code), then runs
# `swift test` with any extra arguments, e.g.
#   scripts/test.sh --filter DupWatchCoreTests
# The tests start their own throwaway redis-server on free ports: no running Redis is needed
# (and the one from scripts/start-redis.sh is not touched). Exits with swift test's code.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

"$ROOT/scripts/install-deps.sh"

note "building the package and its tests (swift build --build-tests)"
build_log="$(mktemp)"
trap 'rm -f "$build_log"' EXIT
# With pipefail (set above), the pipeline fails when the build does.
if ! swift build --build-tests 2>&1 | tee "$build_log"; then
    die "swift build --build-tests failed (see the compiler output above); fix the build, then rerun"
fi
# The build of the project's own code must be warning-free, so that a newcomer can tell noise
# from trouble (a file compiled in an earlier build is not compiled, so not checked, again).
# A dependency's own warnings (its files under .build/, or its manifest: "warning:
# 'swift-distributed-tracing': found 1 file(s) which are unhandled") are not ours to fix.
dependencies="$(ls "$ROOT/.build/checkouts" 2>/dev/null | tr '[:upper:]' '[:lower:]' | paste -sd'|' -)"
if grep -v '/.build/' "$build_log" | grep -E '(^|: )warning: ' | grep -Ev "^warning: '(${dependencies:-none})': " >&2; then
    die "the build printed the warnings above; fix them (the build is kept warning-free), then rerun"
fi

note "running the tests (swift test${*:+ $*})"
status=0
swift test "$@" || status=$?
if ((status != 0)); then
    note "swift test failed (exit $status); rerun one suite with e.g. scripts/test.sh --filter RedisClientTests"
fi
exit "$status"
