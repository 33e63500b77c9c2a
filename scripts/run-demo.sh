#!/usr/bin/env bash
# Fresh-machine main job: installs what is missing, builds, runs the
# end-to-end demo; results land in ${1:-out/demo}.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/build.sh"
build="${HQRN_BUILD_DIR:-$root/build}"
"$build/bin/hqrn" demo --out "${1:-$root/out/demo}"
