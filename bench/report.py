#!/usr/bin/env python3
"""Markdown report of an hqrn_bench JSON file (Google Benchmark's --benchmark_out).

    python3 bench/report.py out/bench/benchmarks.json [--command CMD] [--seconds S]

One table per section of the performance issue, each figure a ratio against
baselines measured in the same process. Benchmarks missing from the file
(a --benchmark_filter run) show as "-".
"""
import argparse
import json
import statistics
import sys
from collections import defaultdict

UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
# Parts Google Benchmark appends to a registered name.
NAME_SUFFIXES = ("iterations:", "min_time:", "min_warmup_time:", "repeats:", "threads:", "real_time",
                 "process_time", "manual_time")
DTYPES = ("c64", "c128")
MIB = 1024.0 ** 2


def base_name(run_name):
    return "/".join(p for p in run_name.split("/") if not p.startswith(NAME_SUFFIXES))


def load_results(benchmarks):
    """name -> {"seconds": real time per iteration, "counters": {...}}; medians of repetitions."""
    runs, medians = defaultdict(list), {}
    for b in benchmarks:
        if b.get("error_occurred"):
            print(f"warning: {b['name']} failed: {b.get('error_message', '')}", file=sys.stderr)
            continue
        name = base_name(b.get("run_name", b["name"]))
        entry = {"seconds": b["real_time"] * UNIT_SECONDS[b.get("time_unit", "ns")],
                 "counters": {k: v for k, v in b.items() if isinstance(v, (int, float))}}
        if b.get("run_type") == "aggregate":
            if b.get("aggregate_name") == "median":
                medians[name] = entry
        else:
            runs[name].append(entry)
    results = {name: {"seconds": statistics.median(r["seconds"] for r in rs), "counters": rs[0]["counters"]}
               for name, rs in runs.items()}
    results.update(medians)
    return results


class Results:
    def __init__(self, results):
        self.r = results

    def seconds(self, name):
        return self.r[name]["seconds"] if name in self.r else None

    def counter(self, name, key):
        return self.r.get(name, {}).get("counters", {}).get(key)

    def counter_values(self, prefix, key):
        return {r["counters"][key] for name, r in self.r.items() if name.startswith(prefix) and key in r["counters"]}

    def per(self, name, key):
        """Time per unit named by a counter (steps, batch, ...)."""
        t, units = self.seconds(name), self.counter(name, key)
        return t / units if t is not None and units else None


def ratio(a, b):
    return a / b if a is not None and b else None


def fmt_time(s):
    if s is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns"


def fmt_ratio(x):
    if x is None:
        return "-"
    return f"{x:.3g}x" if x < 100 else f"{x:,.0f}x"


def fmt_share(x):
    return "-" if x is None else f"{100 * x:.0f}%"


def fmt_mib(b):
    return "-" if b is None else f"{b / MIB:.1f}"


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def section_step(res):
    out = []
    for dt in DTYPES:
        rows = []
        for n in range(4, 12):
            k = f"{dt}/n:{n}"
            copy, clone, fwd, fb, gates, dense = (res.per(f"{kind}/{k}", "steps") for kind in
                                                  ("copy", "clone", "qrb_fwd", "qrb_fwdbwd", "gates", "dense"))
            if all(v is None for v in (copy, clone, fwd, fb, gates, dense)):
                continue
            rows.append([n] + [fmt_time(t) for t in (copy, clone, fwd, fb, gates, dense)] +
                        [fmt_ratio(ratio(a, b)) for a, b in
                         ((fwd, copy), (fb, copy), (fwd, clone), (gates, fwd), (dense, fwd))])
        if rows:
            out += [f"### {dt}", "",
                    table(["n", "copy", "clone", "qrb fwd", "qrb fwd+bwd", "gates", "dense", "fwd / copy",
                           "fwd+bwd / copy", "fwd / clone", "gates / fwd", "dense / fwd"], rows), ""]
    if not out:
        return []
    # Goals of the kernels against the warm-copy floor, both dtypes.
    for dt in DTYPES:
        k = f"{dt}/n:10"
        fwd, copy = res.per(f"qrb_fwd/{k}", "steps"), res.per(f"copy/{k}", "steps")
        checks = [("qrb fwd / copy", ratio(fwd, copy), "<= 1.5x"),
                  ("qrb fwd+bwd / copy", ratio(res.per(f"qrb_fwdbwd/{k}", "steps"), copy), "<= 4x"),
                  ("gates / qrb fwd", ratio(res.per(f"gates/{k}", "steps"), fwd), ">= 10x"),
                  ("dense / qrb fwd", ratio(res.per(f"dense/{k}", "steps"), fwd), ">= 100x")]
        if any(v is not None for _, v, _ in checks):
            out += [f"Goals at n = 10, {dt}: " +
                    "; ".join(f"{what} {fmt_ratio(v)} (goal {target})" for what, v, target in checks
                              if v is not None) + ".", ""]
    return ["## 1. One residual step against its baselines", "",
            "Batch 8; time per step (real time). `qrb_step` forward / forward+backward (gradients of rho, "
            "theta and phi for a fixed random upstream gradient) is averaged over every target j = 0..n-1; "
            "the baselines use the middle target j = n/2. copy: `dst.copy_(rho)` into a preallocated tensor; "
            "clone: `rho.clone()`, the same copy into fresh memory, which is what any out-of-place op "
            "writes to (the difference is the cost of faulting in new pages). gates: the 3n one- and two-qubit "
            "gates of the step's factorisation into ry, rz, cry, crz applied one at a time (`apply_gate`: axes moved, matmul, moved "
            "back), then the dephasing. dense: `U rho U^dagger` with the d x d multiplexed rotation, then the "
            "dephasing. The baselines stop at n = 10 (about 20 s per call there).", ""] + out


def section_model(res):
    out = []
    rows = []
    for anc in (6, 8, 10):
        aware, dense = f"model/aware/anc:{anc}", f"model/dense/anc:{anc}"
        if res.seconds(aware) is None and res.seconds(dense) is None:
            continue
        batch = res.counter(aware, "batch") or res.counter(dense, "batch")
        rows.append([anc, 2 + anc, int(batch) if batch else "-", fmt_time(res.seconds(dense)),
                     fmt_time(res.seconds(aware)), fmt_time(res.per(dense, "batch")),
                     fmt_time(res.per(aware, "batch")), fmt_ratio(ratio(res.seconds(dense), res.seconds(aware)))])
    if rows:
        out += ["Entanglement HQRN: 2 data qubits + A ancillas, 2 branches, 2 blocks, linear readout, random "
                "2-qubit density matrices (complex128); one forward (Mode::quantum) + cross-entropy + backward. "
                "The same batch in both arms (a small one at A = 10, where dense is 12 qubits).", "",
                table(["ancillas", "qubits", "batch", "dense / batch", "aware / batch", "dense / sample",
                       "aware / sample", "aware speed-up"], rows), ""]
        speedup = ratio(res.seconds("model/dense/anc:8"), res.seconds("model/aware/anc:8"))
        if speedup is not None:
            out += [f"Issue target: aware >= 50x faster than dense at 8 ancillas; measured {fmt_ratio(speedup)}.", ""]
    classical, quantum = res.seconds("epoch/classical/digits"), res.seconds("epoch/hqrn_aware/digits")
    if classical is not None or quantum is not None:
        samples = res.counter("epoch/classical/digits", "samples") or res.counter("epoch/hqrn_aware/digits",
                                                                                  "samples")
        out += ["### One training epoch on the digits", "",
                f"Default digits network (8 qubits, 2 blocks, linear readout), Adam, cross-entropy, batch 64, "
                f"one pass over the {int(samples) if samples else '?'} training images.", "",
                table(["classical analog", "HQRN, Mode::quantum, aware", "HQRN / classical"],
                      [[fmt_time(classical), fmt_time(quantum), fmt_ratio(ratio(quantum, classical))]]), ""]
    return ["## 2. Whole network: coherence-aware vs dense execution", ""] + out if out else []


def section_memory(res):
    names = [(b, f"memory/dense/blocks:{b}") for b in (1, 2, 4, 8)]
    names = [(b, n) for b, n in names if res.seconds(n) is not None]
    if not names:
        return []
    state = res.counter(names[0][1], "state_bytes")
    rows, previous = [], None
    for blocks, name in names:
        peak = res.counter(name, "peak_bytes")
        growth = None
        if previous is not None and peak is not None and state:
            growth = (peak - previous[1]) / (blocks - previous[0]) / state
        rows.append([blocks, fmt_mib(peak), f"{peak / state:.2f}" if peak is not None and state else "-",
                     "-" if growth is None else f"{growth:.2f}", fmt_time(res.seconds(name))])
        previous = (blocks, peak)
    return ["## 3. Peak memory of forward + backward against depth", "",
            f"Dense-execution HQRN, 2 data qubits + 6 ancillas (8 qubits, 8 steps per block), 1 branch, "
            f"batch 8. One state = B * 4^n * 16 bytes = {fmt_mib(state)} MiB. Each row is a fresh process "
            f"(`hqrn_bench --memory-probe=BLOCKS`) with malloc's mmap threshold fixed at 64 KiB before anything "
            f"is allocated (freed tensors leave the resident set); after one warm-up call the peak is reset "
            f"through /proc/self/clear_refs, and peak = VmHWM after the measured call minus VmRSS before it.", "",
            table(["blocks", "peak above baseline (MiB)", "peak / state", "growth per block / state", "time"],
                  rows), ""]


def section_threads(res):
    rows = []
    for n in range(8, 12):
        cells = [n]
        found = False
        for kind in ("qrb_fwd", "qrb_fwdbwd"):
            t1, t2 = (res.per(f"threads/{kind}/c128/n:{n}/t:{t}", "steps") for t in (1, 2))
            found = found or t1 is not None or t2 is not None
            cells += [fmt_time(t1), fmt_time(t2), fmt_ratio(ratio(t1, t2))]
        if found:
            rows.append(cells)
    if not rows:
        return []
    # The thread count each arm actually ran with (LibTorch may cap a request).
    in_effect = sorted(int(t) for t in res.counter_values("threads/", "threads"))
    return ["## 4. Thread scaling of qrb_step", "",
            "complex128, batch 8, time per step averaged over every target; `at::set_num_threads(1)` vs "
            "`at::set_num_threads(2)` in the same process (thread counts in effect: "
            f"{', '.join(map(str, in_effect)) or '?'}). Issue target: speed-up >= 1.6x for n >= 8.", "",
            table(["n", "fwd, 1 thread", "fwd, 2 threads", "fwd speed-up", "fwd+bwd, 1 thread",
                   "fwd+bwd, 2 threads", "fwd+bwd speed-up"], rows), ""]


def section_train(res):
    rows = []
    for kind in ("train_step", "eval"):
        for execution in ("aware", "dense"):
            for batch in (64, 256):
                name = f"{kind}/{execution}/batch:{batch}"
                t = res.seconds(name)
                if t is None:
                    continue
                share = res.counter(name, "ops_share")
                kernels = res.counter(name, "kernels_share")
                phases = [res.counter(name, f"{p}_share") for p in ("forward", "backward", "optimizer")]
                rows.append([kind.replace("_", " "), execution, batch, fmt_time(t), f"{batch / t:,.0f}",
                             fmt_share(share), fmt_share(kernels),
                             fmt_share(None if kernels is None else 1 - kernels)] +
                            [fmt_share(p) for p in phases] + [fmt_share(res.counter(name, "observer_cost"))])
    if not rows:
        return []
    return ["## 5. One training step and one evaluation", "",
            "The default entanglement network (`hqrn train --task entanglement`: 2 data qubits, 10 branches, "
            "MLP readout) on a batch of random two-qubit states, Mode::quantum. train step: zero_grad, forward, "
            "cross-entropy, backward, Adam's update (`hqrn::FusedAdam`, as `hqrn train` uses); eval: the "
            "forward alone under NoGradGuard. in HQRN ops: the share of the time inside HQRN's operators "
            "(forward and backward kernels with their validation, the angle tables included); in kernels: inside "
            "HQRN's operators, LibTorch's matrix products (mm, addmm: the MLP readout) or Adam's element loop "
            "(FusedAdam's one pass over all parameters, its bookkeeping excluded). Both are the time a "
            "RecordFunction observer counts inside those calls over the step's time without the observer "
            "(iterations alternate between the two); observer cost: how much slower the observed iterations "
            "were. outside kernels: the rest (per-call overhead of the small operations, the autograd engine, "
            "the optimizer's bookkeeping); the phases are shares of the step.", "",
            table(["what", "execution", "batch", "time", "states / s", "in HQRN ops", "in kernels",
                   "outside kernels", "forward", "backward", "optimizer", "observer cost"], rows), ""]


def section_vectors(res):
    rows = []
    for dt in DTYPES:
        for n in (12, 16, 20):
            for rank in (1, 4):
                k = f"{dt}/n:{n}/r:{rank}"
                copy, fwd, fb = (res.per(f"{kind}/{k}", "steps") for kind in ("vcopy", "vector_fwd", "vector_fwdbwd"))
                if copy is None and fwd is None:
                    continue
                rows.append([dt, n, rank, fmt_time(copy), fmt_time(fwd), fmt_time(fb),
                             fmt_ratio(ratio(fwd, copy)), fmt_ratio(ratio(fb, copy))])
    if not rows:
        return []
    return ["## 6. The state-vector step", "",
            "`vector_step` on B states of r components of 2^n amplitudes (B 2^n = 2^22: B = 1024 at n = 12, 64 at "
            "n = 16, 4 at n = 20), shared tables, averaged over every "
            "target; forward, and forward + backward (gradients of the vectors and both tables for a fixed random "
            "upstream gradient); copy: `dst.copy_(psi)` of the same tensor into touched memory. Goal: "
            "forward within 2x of the copy. Medians of 5 repetitions.", "",
            table(["dtype", "n", "r", "copy", "fwd", "fwd+bwd", "fwd / copy", "fwd+bwd / copy"], rows), ""]


def section_machine(context, command, seconds):
    cpu = context.get("cpu_model", "unknown")
    lines = ["## Machine and command", "",
             f"- CPU: {cpu}, {context.get('num_cpus', '?')} logical cores"
             + (f" at {context['mhz_per_cpu']} MHz" if context.get("mhz_per_cpu") else ""),
             f"- LibTorch {context.get('libtorch', '?')}, {context.get('torch_threads', '?')} intra-op threads "
             f"unless a table says otherwise (Google Benchmark library: {context.get('library_build_type', '?')} "
             f"build, which affects only its own loop)",
             f"- Date: {context.get('date', '?')}, host {context.get('host_name', '?')}"]
    if context.get("load_avg"):
        # Other work on the machine shows up here: timings (thread scaling most) are only as quiet as the machine.
        lines.append("- Load average at start: " + ", ".join(f"{x:.2f}" for x in context["load_avg"]))
    if command:
        lines.append(f"- Command: `{command}`")
    if context.get("command"):
        lines.append(f"- Benchmark binary: `{context['command']}`")
    if seconds is not None:
        lines.append(f"- Benchmark run time: {seconds:.0f} s")
    if context.get("baseline_check"):
        lines.append(f"- Baseline check: {context['baseline_check']}")
    return lines + [""]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("json", help="hqrn_bench --benchmark_out file")
    parser.add_argument("--command", default="", help="the command that produced the file")
    parser.add_argument("--seconds", type=float, default=None, help="wall time of the run")
    args = parser.parse_args()
    with open(args.json) as f:
        data = json.load(f)
    res = Results(load_results(data.get("benchmarks", [])))
    lines = ["# HQRN benchmarks", ""]
    lines += section_step(res) + section_model(res) + section_memory(res) + section_threads(res) + section_train(res)
    lines += section_vectors(res)
    lines += section_machine(data.get("context", {}), args.command, args.seconds)
    print("\n".join(lines).rstrip() + "\n")


if __name__ == "__main__":
    main()
