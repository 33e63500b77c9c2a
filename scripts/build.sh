#!/usr/bin/env bash
# Installs missing Debian packages, then configures and builds HQRN into
# ${HQRN_BUILD_DIR:-build} (Release, all cores).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/install-deps.sh"
build="${HQRN_BUILD_DIR:-$root/build}"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE="${HQRN_BUILD_TYPE:-Release}" "$@"
cmake --build "$build" -j"$(nproc)"
