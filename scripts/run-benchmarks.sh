#!/usr/bin/env bash
# Performance report: builds hqrn_bench (Release, -DHQRN_BUILD_BENCH=ON) into
# ${HQRN_BUILD_DIR:-build-bench}, runs it, and writes benchmarks.json and
# report.md (Markdown, also printed) to the output folder.
#
#   bash scripts/run-benchmarks.sh [--out DIR] [--filter REGEX] [--min-time SECONDS]
#                                  [--threads N] [-- EXTRA_HQRN_BENCH_ARGS...]
#
# Defaults: --out out/bench, every benchmark, --min-time 0.2, --threads 0 (all
# cores). The full run takes about 5 minutes on 2 cores, plus the build.
# --filter is Google Benchmark's regex over names such as qrb_fwd/c128/n:10,
# model/aware/anc:8, memory/dense/blocks:4 (e.g. '^(copy|qrb_fwd)/c128/').
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${HQRN_BUILD_DIR:-$root/build-bench}"
invocation="bash scripts/run-benchmarks.sh$(printf ' %q' "$@")"
out="$root/out/bench"
filter=""
min_time=0.2
threads=0
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --filter) filter="$2"; shift 2 ;;
    --min-time) min_time="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "run-benchmarks: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

"$root/scripts/install-deps.sh"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE="${HQRN_BUILD_TYPE:-Release}" -DHQRN_BUILD_BENCH=ON
cmake --build "$build" -j"$(nproc)" --target hqrn_bench

mkdir -p "$out"
json="$out/benchmarks.json"
args=(--threads="$threads" --benchmark_min_time="$min_time"
      --benchmark_out="$json" --benchmark_out_format=json)
[ -n "$filter" ] && args+=(--benchmark_filter="$filter")
start=$(date +%s)
# Console progress on stdout; the JSON file is what the report reads.
"$build/bin/hqrn_bench" "${args[@]}" ${extra[@]+"${extra[@]}"}
seconds=$(( $(date +%s) - start ))

/usr/bin/python3 "$root/bench/report.py" "$json" --command "$invocation" --seconds "$seconds" > "$out/report.md"
cat "$out/report.md"
echo "run-benchmarks: benchmarks took ${seconds} s; report in $out/report.md" >&2
