#!/usr/bin/env bash
# The whole suite against PyPI's torch VERSION (default 2.11.0, the GPU
# machines' version), in a virtual environment with that torch (made once by
# scripts/pypi-venv.sh under build-pypi/): the C++ library, every C++ and
# Python test (the venv's Python runs the Python ones), then the package
# installed the way the README's Python route installs it (pip install
# --no-build-isolation .) and the pip-install checks. pip builds in the same
# folder as CMake did (same generator, same flags), so the library it installs
# is the one the suite tested and nothing compiles twice.
#   scripts/test-with-pypi-torch.sh [VERSION]
set -euo pipefail
version="${1:-2.11.0}"
root="$(cd "$(dirname "$0")/.." && pwd)"
start=$(date +%s)
"$root/scripts/install-deps.sh"  # Debian's -dev packages for the C++ library and its tests
venv="$("$root/scripts/pypi-venv.sh" "$version")"
python="$venv/bin/python"
export PATH="$venv/bin:$PATH"  # its ninja, which pip's build uses too
build="${HQRN_PYPI_BUILD_DIR:-$root/build-pypi/build-$version}"
echo "test-with-pypi-torch: torch $("$python" -c 'import torch; print(torch.__version__)') in $venv, build in $build"

# A folder left by an older version of this script (Makefiles) is rebuilt with Ninja.
if [ -f "$build/CMakeCache.txt" ] && ! grep -q "^CMAKE_GENERATOR:INTERNAL=Ninja$" "$build/CMakeCache.txt"; then
  rm -rf "$build"
fi
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DHQRN_OPS_ONLY=OFF -DHQRN_BUILD_TESTS=ON \
  -DHQRN_BUILD_BENCH=OFF -DCMAKE_PREFIX_PATH="$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)')" \
  -DHQRN_PYTHON="$python"
cmake --build "$build" -j"$(nproc)"
(cd "$build" && ctest --output-on-failure -j"$(nproc)")

echo "test-with-pypi-torch: pip install --no-build-isolation $root"
export HQRN_PIP_BUILD_DIR="$build"
"$python" -m pip install -q --no-build-isolation --no-deps --force-reinstall -C build-dir="$build" "$root"
# Outside the checkout, so that the installed package is the one imported.
(cd "$venv" && "$python" "$root/tests/test_pip_install.py" "$root")
echo "test-with-pypi-torch: torch $version, build, tests and install took $(( $(date +%s) - start )) s"
