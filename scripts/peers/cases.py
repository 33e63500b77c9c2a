"""One benchmark case in its own process, with a time limit and a memory limit (standard library only).

Used by the pure-state benchmark (`run-peer-benchmarks.sh --pure`) on both
sides, so that HQRN and every peer are measured the same way:

- the parent starts the case as a child process (`run`) and reads the
  phases it reports on stdout, one JSON object a line: {"ready": ...} once
  the system is imported and the circuit or network is built (not timed),
  {"checked": s} after the first forward call (whose result the child has
  written for the check), {"timed": s, "repeats": k} at the end;
- the first forward call must finish within `time_limit` seconds of
  "ready", else the child is killed and the case "stopped: time";
- the child's resident memory is polled (VmRSS, every POLL_SECONDS); over
  `memory_limit` bytes it is killed and the case "stopped: memory";
- the peak is the child's own high-water mark (VmHWM of /proc/PID/status,
  reset by exec, unlike getrusage's ru_maxrss, which can carry the forking
  parent's), read at each poll and reported by the child at the end;
  `ready_rss` is its resident memory at "ready", so peak - ready_rss is
  what the forward calls added.

The child side is `serve(setup, forward, save)`.
"""

import json
import os
import select
import signal
import subprocess
import sys
import time

import timing

POLL_SECONDS = 0.05
SETUP_LIMIT_SECONDS = 180.0  # imports and circuit building, before the limit on the forward call starts
# A first call slower than this is the timing too (one run): repeating it would double the case.
ONE_RUN_SECONDS = 10.0
TIMING_ALLOWANCE_SECONDS = 60.0  # the repeats after a first call under ONE_RUN_SECONDS


def memory_of(pid, field):
    """A /proc/PID/status memory field (VmRSS, VmHWM) in bytes, or None once the process is gone."""
    try:
        with open("/proc/{}/status".format(pid)) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def describe(record):
    """One progress line's worth of a case record (both sides' records)."""
    if record["status"] != "ok":
        return "{}: {}".format(record["status"], record.get("message") or record.get("note"))
    diff = record["max_abs_difference"]
    return "{:.3g} s, peak {:.0f} MiB (ready {:.0f} MiB), max |diff| {}".format(
        record["seconds"], (record["peak_rss"] or 0) / 2 ** 20, (record["ready_rss"] or 0) / 2 ** 20,
        "—" if diff is None else "{:.2g}".format(diff))


# ----------------------------------------------------------------------------
# Child side.


def report(**phase):
    sys.stdout.write(json.dumps(phase) + "\n")
    sys.stdout.flush()


def serve(setup, forward, save):
    """Run one case in this process: setup() -> state; forward(state) -> result; save(result).
    A failed allocation is reported as such (exit status 3); other errors propagate."""
    try:
        _serve(setup, forward, save)
    except (MemoryError, RuntimeError) as e:  # torch: RuntimeError "... can't allocate memory ..."
        if not isinstance(e, MemoryError) and "allocate" not in str(e):
            raise
        report(error="memory", message="{}: {}".format(type(e).__name__, str(e)[:200]))
        sys.exit(3)


def _serve(setup, forward, save):
    state = setup()
    report(ready=True, rss=memory_of(os.getpid(), "VmRSS"))
    result, check_seconds = timing.timed(lambda: forward(state))
    save(result)
    del result
    report(checked=check_seconds, peak=memory_of(os.getpid(), "VmHWM"))
    if check_seconds > ONE_RUN_SECONDS:
        seconds, repeats = check_seconds, 1
    else:
        times = []

        def once():
            start = time.perf_counter()
            forward(state)
            times.append(time.perf_counter() - start)

        seconds = timing.median_seconds(once, check_seconds)
        repeats = len(times)
    report(timed=seconds, repeats=repeats, peak=memory_of(os.getpid(), "VmHWM"))


# ----------------------------------------------------------------------------
# Parent side.


class Stops:
    """Where each system stops. The cases of one system run in order of n; a case is not run when
    the same system, at the same batch and a smaller n, stopped (time or memory), or is predicted
    to need more than SKIP_FACTOR times a limit here, or when a smaller batch at the same n did
    not run or stopped. The prediction scales the last finished case's first call by the growth
    per two qubits that the system's last two finished cases show (at this batch, else at
    another; at least MIN_GROWTH: 2^n amplitudes), or by `growth` before there are two; its
    memory over "ready" grows by `growth`. Between the limit and SKIP_FACTOR times it the case
    is tried, and it stops at the limit itself."""

    SKIP_FACTOR = 3.0
    MIN_GROWTH = 4.0

    def __init__(self, time_limit, memory_limit, growth):
        self.time_limit, self.memory_limit, self.growth = time_limit, memory_limit, growth
        self.history = {}  # (system, batch) -> [(n, record)] in the order they ran
        self.not_done = set()  # (system, n, batch) that did not run or stopped

    def reason_to_skip(self, system, n, batch):
        for (s, m, b) in self.not_done:
            if s == system and m == n and b < batch:
                return "not run: B = {} did not finish at this n".format(b)
        history = self.history.get((system, batch), [])
        if not history:
            return None
        n0, r = history[-1]
        if r["status"] != "ok":
            return "not run: stopped at n = {} ({})".format(n0, r["status"])
        growth, source = self.growth_of(system, batch, n)
        seconds = r["check_seconds"] * growth ** ((n - n0) / 2.0)
        if seconds > self.SKIP_FACTOR * self.time_limit:
            return "not run: {:.3g} s at n = {} predicts {:.0f} s (x{:.3g} per two qubits, {})".format(
                r["check_seconds"], n0, seconds, growth, source)
        if r["peak_rss"] and r["ready_rss"]:
            memory = r["ready_rss"] + max(r["peak_rss"] - r["ready_rss"], 0) * self.growth ** ((n - n0) / 2.0)
            if memory > self.SKIP_FACTOR * self.memory_limit:
                return "not run: {:.0f} MiB at n = {} predicts {:.1f} GiB".format(
                    (r["peak_rss"] - r["ready_rss"]) / 2 ** 20, n0, memory / 2 ** 30)
        return None

    def growth_of(self, system, batch, n):
        """(growth per two qubits, where it comes from): the system's last two finished cases up to n
        at this batch, else at another batch, else `growth`."""
        keys = [(system, batch)] + [key for key in self.history if key[0] == system and key[1] != batch]
        for key in keys:
            ok = [(m, r) for m, r in self.history.get(key, []) if r["status"] == "ok" and m <= n]
            if len(ok) >= 2 and ok[-2][0] < ok[-1][0]:
                (n1, r1), (n2, r2) = ok[-2], ok[-1]
                growth = (r2["check_seconds"] / r1["check_seconds"]) ** (2.0 / (n2 - n1))
                return max(self.MIN_GROWTH, growth), "as from n = {} to {}{}".format(
                    n1, n2, "" if key[1] == batch else " at B = {}".format(key[1]))
        return self.growth, "assumed"

    def skipped(self, system, n, batch):
        self.not_done.add((system, n, batch))

    def done(self, system, n, batch, record):
        self.history.setdefault((system, batch), []).append((n, record))
        if record["status"] != "ok":
            self.not_done.add((system, n, batch))


def run(argv, time_limit, memory_limit, env=None):
    """Run one case; a record {status: ok | time | memory | error, check_seconds, seconds, repeats,
    ready_rss, peak_rss, message}. The child's stderr passes through (progress)."""
    record = {"status": None, "check_seconds": None, "seconds": None, "repeats": None, "ready_rss": None,
              "peak_rss": None, "message": None}
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, env=env, universal_newlines=True, bufsize=1,
                             start_new_session=True)
    started = time.perf_counter()
    deadline = started + SETUP_LIMIT_SECONDS
    buffer = ""
    peak = 0

    def stop(status, message):
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        record["status"], record["message"] = status, message

    fd = child.stdout.fileno()
    while True:
        readable, _, _ = select.select([fd], [], [], POLL_SECONDS)
        now = time.perf_counter()
        hwm = memory_of(child.pid, "VmHWM")
        if hwm is not None:
            peak = max(peak, hwm)
        rss = memory_of(child.pid, "VmRSS")
        if rss is not None and rss > memory_limit:
            stop("memory", "resident memory {:.2f} GiB over the limit of {:.1f} GiB".format(
                rss / 2 ** 30, memory_limit / 2 ** 30))
            break
        if readable:
            chunk = os.read(fd, 65536).decode()
            if not chunk:  # the child closed stdout: it ended
                break
            buffer += chunk
            while "\n" in buffer:
                line, buffer = buffer.split("\n", 1)
                try:
                    phase = json.loads(line)
                except ValueError:
                    print(line, file=sys.stderr)  # something the system printed: pass it on
                    continue
                if "ready" in phase:
                    record["ready_rss"] = phase["rss"]
                    deadline = now + time_limit
                elif "checked" in phase:
                    record["check_seconds"] = phase["checked"]
                    peak = max(peak, phase["peak"] or 0)
                    deadline = now + TIMING_ALLOWANCE_SECONDS
                elif "error" in phase:
                    record["status"], record["message"] = phase["error"], phase["message"]
                elif "timed" in phase:
                    record["seconds"], record["repeats"] = phase["timed"], phase["repeats"]
                    peak = max(peak, phase["peak"] or 0)
        if now > deadline:
            if record["ready_rss"] is None:
                stop("error", "setup took over {:.0f} s".format(SETUP_LIMIT_SECONDS))
            elif record["check_seconds"] is None:
                stop("time", "forward over the limit of {:.0f} s".format(time_limit))
            else:  # checked, but the repeats ran long: the first call is the timing
                stop("ok", "timing repeats cut off; one run")
                record["seconds"], record["repeats"] = record["check_seconds"], 1
            break
    child.stdout.close()
    code = child.wait()
    record["peak_rss"] = peak or None
    if record["status"] is None:
        if code == 0 and record["seconds"] is not None:
            record["status"] = "ok"
        elif code in (-signal.SIGKILL, 137):
            record["status"], record["message"] = "memory", "killed (exit {}): out of memory?".format(code)
        else:
            record["status"], record["message"] = "error", "exit status {}".format(code)
    record["wall_seconds"] = time.perf_counter() - started
    return record
