#!/usr/bin/env bash
# Creates (once) and prints the path of a virtual environment holding PyPI's
# torch VERSION and the package's build tools. Kept under build-pypi/ and
# reused across runs; Debian's Python packages are never touched.
#   scripts/pypi-venv.sh 2.11.0   -> prints build-pypi/torch-2.11.0
set -euo pipefail
version="${1:?usage: pypi-venv.sh TORCH_VERSION}"
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${HQRN_PYPI_VENV_ROOT:-$root/build-pypi}/torch-$version"
python="${HQRN_VENV_PYTHON:-/usr/bin/python3}"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '$version')" 2>/dev/null; then
  echo "pypi-venv: creating $venv (torch==$version pulls about 4.7 GB of CUDA libraries)" >&2
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip >&2
  # numpy is the package's other runtime dependency; scikit-build-core and
  # ninja build it; pytest-free: the tests are plain scripts.
  "$venv/bin/pip" install -q "torch==$version" numpy "scikit-build-core>=0.10" ninja >&2
fi
echo "$venv"
