#!/usr/bin/env bash
# scripts/install-deps.sh — makes sure what DupWatch needs to build, test and run is here:
# redis-server, redis-cli and the hiredis headers (redis-server redis-tools libhiredis-dev); the
# zlib headers for `dupwatch import`'s .gz files (zlib1g-dev);
# for the demo page's browser test headless Chromium, its driver and Debian's Selenium
# (chromium chromium-driver python3-selenium); wrk for the HTTP load test. Only the packages
# whose piece is missing are installed, with apt-get. A Swift 6 toolchain on PATH is checked,
# not installed (says how to get it). Idempotent; prints nothing when everything is there.
# (jemalloc, which scripts/run.sh preloads when present, comes with redis-server.)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

HIREDIS_HEADER=/usr/include/hiredis/hiredis.h
ZLIB_HEADER=/usr/include/zlib.h
CHROMEDRIVER=/usr/bin/chromedriver
SYSTEM_PYTHON=/usr/bin/python3

# What is missing, and the Debian package that brings it.
missing=()
packages=()
need() { missing+=("$1"); packages+=("$2"); }
command -v redis-server >/dev/null 2>&1 || need redis-server redis-server
command -v redis-cli >/dev/null 2>&1 || need redis-cli redis-tools
[[ -f "$HIREDIS_HEADER" ]] || need "$HIREDIS_HEADER" libhiredis-dev
[[ -f "$ZLIB_HEADER" ]] || need "$ZLIB_HEADER" zlib1g-dev
command -v chromium >/dev/null 2>&1 || need chromium chromium
[[ -x "$CHROMEDRIVER" ]] || need "$CHROMEDRIVER" chromium-driver
# The browser test runs Debian's python3 (python3-selenium is installed for it, not for a pyenv's).
"$SYSTEM_PYTHON" -c 'import selenium' >/dev/null 2>&1 || need "selenium for $SYSTEM_PYTHON" python3-selenium
command -v wrk >/dev/null 2>&1 || need wrk wrk

if ((${#packages[@]} > 0)); then
    note "missing: ${missing[*]}; installing ${packages[*]} with apt-get"
    command -v apt-get >/dev/null 2>&1 ||
        die "apt-get not found (not Debian/Ubuntu?): install Redis 7 (redis-server, redis-cli), the hiredis and zlib development headers ($HIREDIS_HEADER, $ZLIB_HEADER), Chromium with its chromedriver, Selenium for python3 and wrk with your package manager, then rerun"
    sudo=()
    if [[ "$(id -u)" != 0 ]]; then
        command -v sudo >/dev/null 2>&1 ||
            die "not root and sudo is not available: as root run 'apt-get update && apt-get install -y ${packages[*]}', then rerun"
        sudo=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq ||
        die "apt-get update failed (network? apt sources?); fix it and rerun"
    "${sudo[@]}" apt-get install -y -qq "${packages[@]}" >/dev/null ||
        die "apt-get install ${packages[*]} failed; see the apt output above"
    command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 && [[ -f "$HIREDIS_HEADER" ]] ||
        die "still missing redis-server, redis-cli or $HIREDIS_HEADER after apt-get install"
    command -v chromium >/dev/null 2>&1 && [[ -x "$CHROMEDRIVER" ]] && "$SYSTEM_PYTHON" -c 'import selenium' >/dev/null 2>&1 ||
        die "still missing chromium, $CHROMEDRIVER or selenium for $SYSTEM_PYTHON after apt-get install"
    command -v wrk >/dev/null 2>&1 || die "still missing wrk after apt-get install"
    # Debian's package starts a system-wide redis-server on 6379; DupWatch runs its own.
    note "installed ${packages[*]}"
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
