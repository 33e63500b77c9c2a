#!/usr/bin/env bash
# Installs the Debian packages HQRN builds and tests with, only when missing.
set -euo pipefail
packages=(
  build-essential cmake
  libtorch-dev libeigen3-dev libfmt-dev libgtest-dev libbenchmark-dev
  libcli11-dev nlohmann-json3-dev zlib1g-dev libssl-dev libgloo-dev libspectra-dev
  python3 python3-torch python3-numpy python3-matplotlib python3-venv python3-setuptools python3-wheel
  # LibTorch's matrix products go through libblas.so.3: Debian's default is the
  # reference BLAS; OpenBLAS on OpenMP takes LibTorch's thread count and makes
  # training about 1.7x faster (docs/performance.md).
  libopenblas0-openmp
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
