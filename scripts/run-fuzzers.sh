#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + fuzzer instrumentation) and
# runs each for ${1:-60} seconds, starting from the seed corpora in
# tests/fuzz/corpus/<target>. New inputs go to ${HQRN_FUZZ_WORK:-build-fuzz/work};
# crashing inputs are written there as crash-*: copy them into the corpus
# (they then run in every later fuzzing session) and fix the loader.
# HQRN_FUZZ_JOBS (default: all cores) bounds the build's parallel jobs, for a
# machine that is busy with another build; HQRN_FUZZ_TARGETS (default: all)
# names the targets to build and run, separated by spaces.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
seconds="${1:-60}"
"$root/scripts/install-deps.sh"
command -v clang++ >/dev/null || { sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"; $sudo_cmd apt-get install -y -q clang libclang-rt-14-dev; }
build="${HQRN_FUZZ_BUILD_DIR:-$root/build-fuzz}"
jobs="${HQRN_FUZZ_JOBS:-$(nproc)}"
read -r -a targets <<< "${HQRN_FUZZ_TARGETS:-classical_csv state_csv checkpoint safetensors}"
cmake -S "$root" -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DHQRN_FUZZ=ON -DHQRN_BUILD_TESTS=OFF -DHQRN_BUILD_BENCH=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$build" -j"$jobs" --target "${targets[@]/#/fuzz_}"
work="${HQRN_FUZZ_WORK:-$build/work}"
status=0
for target in "${targets[@]}"; do
  mkdir -p "$work/$target"
  echo "fuzzing $target for ${seconds}s"
  ASAN_OPTIONS=detect_leaks=0 "$build/bin/fuzz_$target" "$work/$target" "$root/tests/fuzz/corpus/$target" \
    -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -artifact_prefix="$work/$target/" \
    -print_final_stats=1 || status=1
done
exit $status
