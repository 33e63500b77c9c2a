#!/usr/bin/env bash
# Fresh-machine test command: installs what is missing, builds, runs every
# test (C++ and Python) through CTest.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
start=$(date +%s)
"$root/scripts/build.sh"
build="${HQRN_BUILD_DIR:-$root/build}"
cd "$build"
ctest --output-on-failure -j"$(nproc)"
echo "run-tests: build and tests took $(( $(date +%s) - start )) s"
