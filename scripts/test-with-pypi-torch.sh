#!/usr/bin/env bash
# The whole suite against PyPI's torch VERSION (default 2.11.0, the GPU
# machines' version): a virtual environment with that torch (made once by
# scripts/pypi-venv.sh under build-pypi/), the package installed the way the
# README's Python route installs it (pip install --no-build-isolation .), the
# pip-install checks, then the C++ library and every C++ and Python test built
# and run against the same torch (its venv's Python runs the Python tests).
#   scripts/test-with-pypi-torch.sh [VERSION]
set -euo pipefail
version="${1:-2.11.0}"
root="$(cd "$(dirname "$0")/.." && pwd)"
start=$(date +%s)
"$root/scripts/install-deps.sh"  # Debian's -dev packages for the C++ library and its tests
venv="$("$root/scripts/pypi-venv.sh" "$version")"
python="$venv/bin/python"

echo "test-with-pypi-torch: pip install --no-build-isolation $root (torch $("$python" -c 'import torch; print(torch.__version__)'))"
"$python" -m pip install -q --no-build-isolation --no-deps --force-reinstall "$root"
# Outside the checkout, so that the installed package is the one imported.
(cd "$venv" && "$python" "$root/tests/test_pip_install.py" "$root")

build="${HQRN_PYPI_BUILD_DIR:-$root/build-pypi/build-$version}"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DHQRN_BUILD_BENCH=OFF \
  -DCMAKE_PREFIX_PATH="$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)')" \
  -DHQRN_PYTHON="$python"
cmake --build "$build" -j"$(nproc)"
cd "$build"
ctest --output-on-failure -j"$(nproc)"
echo "test-with-pypi-torch: torch $version, venv, install, build and tests took $(( $(date +%s) - start )) s"
