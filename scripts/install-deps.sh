#!/usr/bin/env bash
# scripts/install-deps.sh — makes sure what DupWatch needs to build, test and run is here:
# redis-server, redis-cli and the hiredis headers (installed with apt-get when one is missing:
# redis-server redis-tools libhiredis-dev), and a Swift 6 toolchain on PATH (not installed:
# says how to get it). Idempotent; prints nothing when everything is there. (jemalloc, which
# scripts/run.sh preloads when present, comes with redis-server.)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

HIREDIS_HEADER=/usr/include/hiredis/hiredis.h

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=("redis-server")
command -v redis-cli >/dev/null 2>&1 || missing+=("redis-cli")
[[ -f "$HIREDIS_HEADER" ]] || missing+=("$HIREDIS_HEADER")

if ((${#missing[@]} > 0)); then
    note "missing: ${missing[*]}; installing redis-server redis-tools libhiredis-dev with apt-get"
    command -v apt-get >/dev/null 2>&1 ||
        die "apt-get not found (not Debian/Ubuntu?): install Redis 7 (redis-server, redis-cli) and the hiredis development headers ($HIREDIS_HEADER) with your package manager, then rerun"
    sudo=()
    if [[ "$(id -u)" != 0 ]]; then
        command -v sudo >/dev/null 2>&1 ||
            die "not root and sudo is not available: as root run 'apt-get update && apt-get install -y redis-server redis-tools libhiredis-dev', then rerun"
        sudo=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq ||
        die "apt-get update failed (network? apt sources?); fix it and rerun"
    "${sudo[@]}" apt-get install -y -qq redis-server redis-tools libhiredis-dev >/dev/null ||
        die "apt-get install redis-server redis-tools libhiredis-dev failed; see the apt output above"
    command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 && [[ -f "$HIREDIS_HEADER" ]] ||
        die "still missing redis-server, redis-cli or $HIREDIS_HEADER after apt-get install"
    # Debian's package starts a system-wide redis-server on 6379; DupWatch runs its own.
    note "installed $(redis-server --version | cut -d' ' -f1-3)"
fi

if ! command -v swift >/dev/null 2>&1; then
    hint="install Swift 6 from https://www.swift.org/install/linux/ (or with swiftly: https://www.swift.org/swiftly/) and put its usr/bin on PATH"
    for candidate in /opt/swift/usr/bin /usr/share/swift/usr/bin "$HOME/.local/share/swiftly/bin"; do
        if [[ -x "$candidate/swift" ]]; then
            hint="a toolchain is at $candidate: export PATH=\"$candidate:\$PATH\""
            break
        fi
    done
    die "swift is not on PATH; $hint"
fi
