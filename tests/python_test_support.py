"""What the Python test scripts share (standard library only, so it also runs
in the PyPI virtual environments, which have no torch):

- run_suite: runs test cases with per-test timings and ends with the line
  'N passed, N failed' that CTest's logs are read by; run_functions does the
  same for plain test_* functions;
- ensure_venv: makes (or reuses) a virtual environment with pinned PyPI
  packages; when PyPI cannot be reached the test fails and says so.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import unittest

# pip's words for a registry it could not reach.
NETWORK_ERRORS = ("NewConnectionError", "Failed to establish a new connection", "Temporary failure in name resolution",
                  "Name or service not known", "Max retries exceeded", "ConnectTimeoutError", "ReadTimeoutError",
                  "Network is unreachable", "Connection refused", "ProxyError", "SSLError", "timed out",
                  "No matching distribution found", "Could not fetch URL")


class CountingResult(unittest.TextTestResult):
    """Counts a test with a failing subtest once, and prints each test's time."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.failed_tests = set()

    def startTest(self, test):
        self._started = time.time()
        super().startTest(test)

    def stopTest(self, test):
        super().stopTest(test)
        self.stream.write("    ({:.1f} s)\n".format(time.time() - self._started))
        self.stream.flush()

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self.failed_tests.add(test.id())

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self.failed_tests.add(test.id())

    def addError(self, test, err):
        super().addError(test, err)
        self.failed_tests.add(test.id())


def free_port():
    """A TCP port free on the loopback interface now (for a rendezvous)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rank_environment(rank, world, port, **extra):
    """The environment torchrun would give `rank` of `world` ranks on this machine."""
    return dict(os.environ, RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank), LOCAL_WORLD_SIZE=str(world),
                MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), **extra)


def run_suite(cases, started=None):
    """Runs the TestCase classes; prints the time and 'N passed, N failed'; returns the exit code."""
    started = time.time() if started is None else started
    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    for case in cases:
        suite.addTests(loader.loadTestsFromTestCase(case))
    result = unittest.TextTestRunner(stream=sys.stdout, verbosity=2, resultclass=CountingResult).run(suite)
    passed = result.testsRun - len(result.failed_tests) - len(result.skipped)
    failed = len(result.failed_tests) + len(result.unexpectedSuccesses)
    print("time: {:.1f} s".format(time.time() - started))
    print("{} passed, {} failed".format(passed, failed))
    return 1 if failed else 0


def run_functions(tests, call=lambda test: test()):
    """Runs each test function through `call`, every one even after a failure (ok or FAIL
    and the traceback); ends with 'N passed, N failed'; returns the exit code.
    HQRN_TEST_ONLY=WORD runs only the tests whose name contains WORD."""
    import traceback
    only = os.environ.get("HQRN_TEST_ONLY")
    passed = failed = 0
    for test in tests:
        if only and only not in test.__name__:
            continue
        try:
            call(test)
        except Exception:
            failed += 1
            print("FAIL", test.__name__)
            traceback.print_exc()
        else:
            passed += 1
            print("ok  ", test.__name__)
        sys.stdout.flush()
    print("{} passed, {} failed".format(passed, failed))
    return 1 if failed else 0


def fail(script, message):
    """Ends a test script that cannot run, in the form CTest's logs are read by."""
    print("{}: {}".format(script, message), file=sys.stderr)
    print("0 passed, 1 failed")
    sys.stdout.flush()
    sys.exit(1)


def ensure_venv(venv, requirements, imports, script, pip_options=()):
    """The python of a virtual environment in `venv` with `requirements` installed from PyPI.

    A finished environment carries a marker naming the Python version and the
    requirements; it is reused while they match, else rebuilt (an interrupted
    install has no marker). `imports` is checked after installing."""
    python = os.path.join(venv, "bin", "python")
    marker = os.path.join(venv, "hqrn-venv.json")
    marker_text = json.dumps({"python": sys.version.split()[0], "requirements": list(requirements)}, indent=1) + "\n"
    try:
        with open(marker) as f:
            if f.read() == marker_text and os.access(python, os.X_OK):
                print("reusing the environment in " + venv)
                return python
    except OSError:
        pass
    # Rebuilt only when it is one: any other folder given by mistake stays.
    if os.path.isdir(venv) and os.listdir(venv) and not os.path.exists(os.path.join(venv, "pyvenv.cfg")):
        fail(script, "{} exists and is not a virtual environment; give another folder".format(venv))
    start = time.time()
    print("making the environment in " + venv)
    shutil.rmtree(venv, ignore_errors=True)
    proc = subprocess.run([sys.executable, "-m", "venv", venv], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True)
    if proc.returncode != 0:
        fail(script, "'{} -m venv {}' failed (on Debian it needs the package python3-venv, which "
                     "scripts/install-deps.sh installs):\n{}".format(sys.executable, venv, proc.stdout[-2000:]))
    pip = [python, "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "--timeout", "30",
           "--retries", "2"] + list(pip_options)
    try:
        proc = subprocess.run(pip + list(requirements), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True, timeout=540)
        output, failed = proc.stdout, proc.returncode != 0
    except subprocess.TimeoutExpired as e:
        output, failed = str(e.output or "") + "\n(pip ran for 540 s)", True
    if failed:
        if any(word in output for word in NETWORK_ERRORS):
            fail(script, "PyPI could not be reached, so {} could not be installed and this test cannot run. pip "
                         "said:\n{}".format(", ".join(requirements), output[-3000:]))
        fail(script, "pip could not install {} from PyPI:\n{}".format(", ".join(requirements), output[-3000:]))
    proc = subprocess.run([python, "-c", "import " + ", ".join(imports)], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True)
    if proc.returncode != 0:
        fail(script, "the installed packages do not import:\n" + proc.stdout[-3000:])
    with open(marker, "w") as f:  # last: an interrupted install has no marker and is redone
        f.write(marker_text)
    print("installed {} in {:.0f} s".format(", ".join(requirements), time.time() - start))
    return python
