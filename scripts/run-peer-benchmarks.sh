#!/usr/bin/env bash
# HQRN against the simulators a researcher would use instead (PennyLane
# default.mixed, Qiskit Aer, QuTiP), on the same work: one exported HQRN branch
# program (2 data qubits, n - 2 ancillas, one block) applied to B input density
# matrices, n = 2, 4, 6, 8, 10 and B = 1, 64; the readout distribution (forward)
# and, where the peer can differentiate, the gradient of a loss of it with
# respect to every rotation weight. Not part of the test suite.
#
#   bash scripts/run-peer-benchmarks.sh --out DIR [--quick] [--threads N]
#   bash scripts/run-peer-benchmarks.sh --pure --out DIR [--quick] [--threads N]
#                                       [--time-limit S] [--memory-limit-gib G]
#
# --quick: n <= 6 (a few minutes). --threads: for every system (default 2).
# Writes DIR/peers.json (one record per peer, n, batch, what), DIR/peers-meta.json
# (versions, settings, machine) and DIR/peers.md (the table, also printed).
# The peers come from PyPI, pinned, into build/peer-venv (reused once complete).
#
# --pure: pure inputs at state-vector cost (issue 33): the program of a network
# of n data qubits, no ancillas, one block sweeping every qubit, on B random pure
# states, n = 8, 10, 12, 14, 16 (--quick: 8, 10) and B = 1, 16, forward only;
# HQRN's vectors execution (aware and dense up to 256 MiB of density matrices)
# against PennyLane default.qubit and lightning.qubit (mid-circuit measurements
# deferred, and by tree traversal) and Qiskit Aer's statevector method (outcomes
# averaged exactly). Every case runs in its own process, with --time-limit
# seconds for its first forward call (default 60) and --memory-limit-gib of
# resident memory (default 8); its peak memory is recorded. Writes
# DIR/peers-pure.json, DIR/peers-pure-meta.json and DIR/peers-pure.md.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${HQRN_BUILD_DIR:-$root/build}"
invocation="bash scripts/run-peer-benchmarks.sh$(printf ' %q' "$@")"
out=""
quick=0
pure=0
threads=2
time_limit=60
memory_limit_gib=8
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --quick) quick=1; shift ;;
    --pure) pure=1; shift ;;
    --threads) threads="$2"; shift 2 ;;
    --time-limit) time_limit="$2"; shift 2 ;;
    --memory-limit-gib) memory_limit_gib="$2"; shift 2 ;;
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
    *) echo "run-peer-benchmarks: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ -n "$out" ] || { echo "run-peer-benchmarks: --out DIR is required" >&2; exit 2; }
for needed in "$build/bin/hqrn" "$build/python/hqrn/__init__.py"; do
  [ -e "$needed" ] || { echo "run-peer-benchmarks: $needed is missing: build the project first (scripts/build.sh)" >&2; exit 1; }
done
mkdir -p "$out/work"
out="$(cd "$out" && pwd)"
# Every library's own thread pools (BLAS, OpenMP) get the same count.
export OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads" MKL_NUM_THREADS="$threads"
peers="$root/scripts/peers"
start=$(date +%s)

if [ "$pure" = 1 ]; then
  if [ "$quick" = 1 ]; then qubits=(8 10); else qubits=(8 10 12 14 16); fi
  batches=(1 16)
  limits=(--time-limit "$time_limit" --memory-limit-gib "$memory_limit_gib")
  echo "run-peer-benchmarks: HQRN on pure inputs (networks, programs, inputs, reference results, timings)" >&2
  PYTHONPATH="$build/python:$peers" /usr/bin/python3 "$peers/hqrn_side.py" --pure --hqrn "$build/bin/hqrn" \
    --work "$out/work" --qubits "${qubits[@]}" --batches "${batches[@]}" --threads "$threads" "${limits[@]}"
  echo "run-peer-benchmarks: the state-vector peers (in $build/peer-venv)" >&2
  /usr/bin/python3 "$peers/peer_side.py" --pure --venv "$build/peer-venv" --work "$out/work" \
    --qubits "${qubits[@]}" --batches "${batches[@]}" --threads "$threads" "${limits[@]}" 1>&2
  seconds=$(( $(date +%s) - start ))
  /usr/bin/python3 "$peers/report.py" --pure --work "$out/work" --out "$out" --command "$invocation" \
    --seconds "$seconds"
  echo "run-peer-benchmarks: ${seconds} s; $out/peers-pure.json, $out/peers-pure-meta.json, $out/peers-pure.md" >&2
  exit 0
fi
if [ "$quick" = 1 ]; then qubits=(2 4 6); else qubits=(2 4 6 8 10); fi
batches=(1 64)

echo "run-peer-benchmarks: HQRN (networks, programs, inputs, reference results, timings)" >&2
# Debian's Python has torch; the HQRN package from the build.
PYTHONPATH="$build/python:$peers" /usr/bin/python3 "$peers/hqrn_side.py" --hqrn "$build/bin/hqrn" \
  --work "$out/work" --qubits "${qubits[@]}" --batches "${batches[@]}" --threads "$threads"

echo "run-peer-benchmarks: the peers (in $build/peer-venv)" >&2
# pip's and the environment's messages are progress too: stdout is for the table.
/usr/bin/python3 "$peers/peer_side.py" --venv "$build/peer-venv" --work "$out/work" \
  --qubits "${qubits[@]}" --batches "${batches[@]}" --threads "$threads" 1>&2

seconds=$(( $(date +%s) - start ))
/usr/bin/python3 "$peers/report.py" --work "$out/work" --out "$out" --command "$invocation" --seconds "$seconds"
echo "run-peer-benchmarks: ${seconds} s; $out/peers.json, $out/peers-meta.json, $out/peers.md" >&2
