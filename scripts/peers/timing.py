"""The one timing rule every side of the peer benchmark uses (standard library only)."""

import statistics
import time

# Repeats after the warm-up: as many as fit in about BUDGET_SECONDS, between
# MIN_REPEATS (a median that one descheduled run cannot move: the build machine
# is shared) and MAX_REPEATS; a call slower than SLOW_SECONDS runs once more.
MAX_REPEATS = 25
MIN_REPEATS = 5
BUDGET_SECONDS = 2.0
SLOW_SECONDS = 1.0


def median_seconds(call, warmup_seconds):
    """Median wall time of `call()` over several repeats; `warmup_seconds` is how long the warm-up call took."""
    if warmup_seconds > SLOW_SECONDS:
        repeats = max(1, min(MIN_REPEATS, int(BUDGET_SECONDS / warmup_seconds)))
    else:
        repeats = max(MIN_REPEATS, min(MAX_REPEATS, int(BUDGET_SECONDS / max(warmup_seconds, 1e-9))))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def timed(call):
    """(result, seconds) of one call: the warm-up, whose result is the one that is checked."""
    start = time.perf_counter()
    result = call()
    return result, time.perf_counter() - start
