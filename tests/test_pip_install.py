"""The package as `pip install --no-build-isolation .` installs it (run by
scripts/test-with-pypi-torch.sh with the venv's Python, outside the checkout):
the operator libraries inside the installed package, a shipped checkpoint
loads and predicts, a wheel builds, and a torch other than the one it was
built against is refused with one message naming both versions and the fix.

Usage: PYTHON test_pip_install.py CHECKOUT. Last line: 'N passed, N failed'.
"""

import glob
import os
import subprocess
import sys
import tempfile

CHECKOUT = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else None


def run(code, cwd):
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=600)


def test_installed_package_holds_its_libraries(work):
    code = ("import os, hqrn; pkg = os.path.dirname(hqrn.__file__); "
            "print(os.path.dirname(hqrn.library_path()) == pkg, "
            "sorted(f for f in os.listdir(pkg) if f.endswith('.so')))")
    proc = run(code, work)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[0] == "True", proc.stdout
    assert "libhqrn_ops.so" in proc.stdout, proc.stdout


def test_shipped_checkpoint_predicts(work):
    path = os.path.join(CHECKOUT, "models", "pretrained", "entanglement_random_hqrn.safetensors")
    code = ("import torch, hqrn; m = hqrn.load({!r}); x = torch.eye(4, dtype=torch.complex128)[None] / 4; "
            "p = m.predict_proba(x); print(p.shape[1], abs(float(p.sum()) - 1) < 1e-12)").format(path)
    proc = run(code, work)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["2", "True"], proc.stdout


def test_other_torch_is_refused_by_name(work):
    code = "import torch; built = torch.__version__; torch.__version__ = '0.0.1'; import hqrn"
    proc = run(code, work)
    assert proc.returncode != 0, "importing under another torch did not fail"
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError"), last
    for needed in ("0.0.1", "pip install --no-build-isolation"):
        assert needed in last, "the message lacks {!r}: {}".format(needed, last)
    assert "undefined symbol" not in proc.stderr


def test_pip_wheel_builds(work):
    wheels = os.path.join(work, "wheels")
    # HQRN_PIP_BUILD_DIR: the build folder the install used (scripts/test-with-pypi-torch.sh), reused.
    build_dir = ["-C", "build-dir=" + os.environ["HQRN_PIP_BUILD_DIR"]] if os.environ.get("HQRN_PIP_BUILD_DIR") else []
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps", "-w", wheels]
                          + build_dir + [CHECKOUT], capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    built = glob.glob(os.path.join(wheels, "hqrn-*.whl"))
    assert len(built) == 1, os.listdir(wheels)
    import zipfile
    names = zipfile.ZipFile(built[0]).namelist()
    for needed in ("hqrn/__init__.py", "hqrn/libhqrn_ops.so", "hqrn/_build_info.py"):
        assert needed in names, "{} not in the wheel".format(needed)


def main():
    if not CHECKOUT:
        print("usage: test_pip_install.py CHECKOUT")
        print("0 passed, 1 failed")
        return 1
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from python_test_support import run_functions
    tests = [f for name, f in globals().items() if name.startswith("test_") and callable(f)]
    with tempfile.TemporaryDirectory() as work:
        return run_functions(tests, lambda test: test(work))


if __name__ == "__main__":
    sys.exit(main())
