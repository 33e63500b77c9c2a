#!/usr/bin/env bash
# Builds the C++ test suites (operators, loaders, models) with AddressSanitizer
# and UndefinedBehaviorSanitizer and runs them. Leak checking is off: LibTorch
# keeps process-lifetime allocations that LeakSanitizer would report.
# The phases study's suite links the application layer (hqrn_app), whose
# sanitized build would add minutes to CI; the layers under it (operators,
# vectors execution, the cluster-Ising generator) are covered here.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
start=$(date +%s)
"$root/scripts/install-deps.sh"
build="${HQRN_SANITIZE_BUILD_DIR:-$root/build-sanitize}"
cmake -S "$root" -B "$build" -DHQRN_SANITIZE=ON -DHQRN_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$build" -j"$(nproc)" --target hqrn_op_tests hqrn_data_tests hqrn_model_tests hqrn_cluster_ising_tests
cd "$build"
ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --output-on-failure -j"$(nproc)" -E "_python$|^phases:|^hqrn_phases_tests_NOT_BUILT$"
echo "run-sanitized-tests: build and tests took $(( $(date +%s) - start )) s"
