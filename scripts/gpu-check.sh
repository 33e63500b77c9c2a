#!/usr/bin/env bash
# The GPU check of issue 31, one command on a GPU machine that has Python 3.12,
# torch 2.11.0+cu130, nvcc 13.0, cmake, ninja and scikit-build-core and no
# network: builds the package with that torch through the pip install path
# (pyproject.toml, HQRN_OPS_ONLY, CUDA kernels forced on for this card's
# architecture), runs the GPU tests (tests/test_cuda.py) and the GPU benchmark
# (bench/gpu_bench.py), and writes every log and result under the results
# folder: $OUT if set, else the first argument, else ./gpu-check-results.
# Budget: under 8 minutes (build <= 4, tests <= 2, each benchmark <= 1 as
# hard limits; typically much less). The CPU side of the training figure:
# bench/train_throughput.py --device cpu on the machine to compare with.
#   scripts/gpu-check.sh [RESULTS_DIR]
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${OUT:-${1:-$PWD/gpu-check-results}}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
python="${PYTHON:-python3}"
start=$(date +%s)
summary="$out/summary.txt"
: >"$summary"
note() { echo "$*" | tee -a "$summary"; }

note "gpu-check: $(date -u +%FT%TZ), checkout $root ($(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?'))"
{ nvidia-smi || true; nvcc --version || true; cmake --version | head -1; "$python" --version; } >"$out/machine.txt" 2>&1
"$python" - >>"$out/machine.txt" 2>&1 <<'EOF'
import torch
print("torch", torch.__version__, "CUDA", torch.version.cuda, "available", torch.cuda.is_available())
if torch.cuda.is_available():
    print(torch.cuda.get_device_name(0), torch.cuda.get_device_capability(0))
EOF
arch="$("$python" -c 'import torch; c = torch.cuda.get_device_capability(0); print(f"{c[0]}{c[1]}")' 2>/dev/null || echo 90)"
note "gpu-check: $(grep -m1 '^torch' "$out/machine.txt"), CUDA architecture $arch"

# A virtual environment over the machine's packages (torch, scikit-build-core,
# ninja): pip installs the package there without network or build isolation.
venv="$out/venv"
"$python" -m venv --system-site-packages "$venv"
vpython="$venv/bin/python"
build="$out/build"
t0=$(date +%s)
timeout 240 "$vpython" -m pip install -v --no-build-isolation --no-deps --no-index --force-reinstall \
  -C build-dir="$build" -C cmake.define.HQRN_CUDA=ON -C cmake.define.HQRN_CUDA_ARCHITECTURES="$arch" \
  "$root" >"$out/build.log" 2>&1
build_rc=$?
note "build: exit $build_rc in $(( $(date +%s) - t0 )) s (log: build.log)"
if [ "$build_rc" -ne 0 ]; then
  tail -40 "$out/build.log"
  note "gpu-check: the build failed; nothing else ran ($(( $(date +%s) - start )) s)"
  exit 1
fi

# Outside the checkout, so that the installed package is the one imported.
cd "$out"
t0=$(date +%s)
timeout 120 "$vpython" "$root/tests/test_cuda.py" - >"$out/test_cuda.log" 2>&1
test_rc=$?
note "tests: exit $test_rc in $(( $(date +%s) - t0 )) s: $(tail -1 "$out/test_cuda.log") (log: test_cuda.log)"

t0=$(date +%s)
timeout 60 "$vpython" "$root/bench/gpu_bench.py" - --out "$out" >"$out/gpu_bench.log" 2>&1
bench_rc=$?
note "benchmark: exit $bench_rc in $(( $(date +%s) - t0 )) s (gpu_bench.md, gpu_bench.json, gpu_bench.log)"
[ -f "$out/gpu_bench.md" ] && cat "$out/gpu_bench.md" | tee -a "$summary"

t0=$(date +%s)
timeout 60 "$vpython" "$root/bench/train_throughput.py" - --device cuda --out "$out" >"$out/train_throughput.log" 2>&1
train_rc=$?
note "training throughput: exit $train_rc in $(( $(date +%s) - t0 )) s (train_throughput_cuda.json, train_throughput.log)"
tail -5 "$out/train_throughput.log" | tee -a "$summary"

rm -rf "$venv" "$build"  # leave only results
note "gpu-check: done in $(( $(date +%s) - start )) s"
[ "$test_rc" -eq 0 ] && [ "$bench_rc" -eq 0 ] && [ "$train_rc" -eq 0 ]
