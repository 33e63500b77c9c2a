#!/usr/bin/env python3
"""The Python package against the C++ trainer on the default entanglement network
(2 data qubits, 10 branches, MLP readout: `hqrn train --task entanglement`'s network), in one run.

Usage: bench-python-vs-cpp.py [--hqrn build/bin/hqrn] [--python-package build/python]
                              [--batch 64 256] [--samples 20000] [--threads 2]
                              [--epochs 3] [--repeats 3] [--adam hqrn|foreach|fused|single]
                              [--hqrn-bench PATH] [--profile]

1. `hqrn gen-states --family random` writes the states once (the spec's state CSV);
   hqrn.read_state_csv reads them for Python.
2. For each batch size, `--repeats` rounds, alternating so that both sides see the machine's drift:
   - Python (whichever python runs this script, with the package from --python-package), a fresh
     hqrn.HQRN and the loop a user writes: hqrn.optim.Adam (torch.optim.Adam with one fused
     operator call per step; --adam foreach|fused|single picks torch.optim.Adam itself), per batch
     zero_grad(set_to_none=True), cross_entropy(model(x[b]), y[b]).backward(), step(); then
     evaluation passes over the file under torch.no_grad();
   - `hqrn --threads N train --task entanglement --data FILE --batch-size B --epochs E` on the
     same file; its epoch seconds come from the history CSV it writes.
3. Training states/s is the samples over an epoch's seconds, the first epoch of every run left
   out (warm-up); evaluation states/s the samples over a pass. Medians are printed, and the ratio
   C++ / Python (below 1.5 is the issue's bar).

C++ evaluation has no timed command; when `hqrn_bench` sits beside `hqrn` (or --hqrn-bench
names it), its `eval/aware/batch:B` (one forward on one batch, no autograd) is printed beside
Python's evaluation. `--profile` times the phases of the Python loop and prints torch.profiler's
operator table instead. Timings only, never asserted: the machine may be shared.
"""

import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--hqrn", default="build/bin/hqrn", help="the hqrn binary (default: %(default)s)")
    p.add_argument("--python-package", default="build/python",
                   help="folder holding the assembled hqrn package (default: %(default)s)")
    p.add_argument("--batch", type=int, nargs="+", default=[64, 256], help="batch sizes (default: 64 256)")
    p.add_argument("--samples", type=int, default=20000, help="random states (default: %(default)s)")
    p.add_argument("--threads", type=int, default=2, help="intra-op threads on both sides (default: %(default)s)")
    p.add_argument("--epochs", type=int, default=3, help="epochs per training run, >= 2 (default: %(default)s)")
    p.add_argument("--repeats", type=int, default=3, help="alternating rounds per batch size (default: %(default)s)")
    p.add_argument("--eval-passes", type=int, default=3, help="evaluation passes per round (default: %(default)s)")
    p.add_argument("--seed", type=int, default=1, help="seed of the states and the weights (default: %(default)s)")
    p.add_argument("--lr", type=float, default=0.01, help="Adam's learning rate, as hqrn train's (default: %(default)s)")
    p.add_argument("--adam", choices=("hqrn", "foreach", "fused", "single"), default="hqrn",
                   help="hqrn.optim.Adam, or torch.optim.Adam's implementation (fused: torch >= 2.4 on the CPU; "
                        "default: %(default)s)")
    p.add_argument("--hqrn-bench", default=None,
                   help="hqrn_bench for the C++ evaluation figure (default: beside --hqrn, if there)")
    p.add_argument("--profile", action="store_true",
                   help="instead of timing: torch.profiler's table of 100 Python training steps per batch size")
    args = p.parse_args()
    if args.epochs < 2:
        p.error("--epochs must be >= 2 (the first epoch of each run is warm-up)")
    return args


def run(cmd):
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    if proc.returncode != 0:
        sys.exit("{} failed ({}):\n{}".format(" ".join(cmd), proc.returncode, proc.stderr))
    return proc.stdout


def fresh_network(hqrn, torch, args):
    """A new network and its Adam: the package's hqrn.optim.Adam, or torch.optim.Adam as a Python user
    picks it (foreach=True is torch 1.13's multi-tensor path, whose default is the single-tensor loop
    and whose fused=True is CUDA-only, and 2.x's CPU default)."""
    torch.manual_seed(args.seed)
    model = hqrn.HQRN(entanglement_config(hqrn))
    if args.adam == "hqrn":
        return model, hqrn.optim.Adam(model.parameters(), lr=args.lr)
    kind = {"foreach": {"foreach": True}, "fused": {"fused": True}, "single": {"foreach": False}}[args.adam]
    return model, torch.optim.Adam(model.parameters(), lr=args.lr, **kind)


def python_training(hqrn, torch, F, x, y, batch, args):
    """States/s of each epoch after the first, for a fresh network and the plain loop."""
    model, optimizer = fresh_network(hqrn, torch, args)
    n = x.shape[0]
    rates = []
    for _ in range(args.epochs):
        start = time.perf_counter()
        order = torch.randperm(n)
        for first in range(0, n, batch):
            b = order[first:first + batch]
            optimizer.zero_grad(set_to_none=True)
            F.cross_entropy(model(x[b]), y[b]).backward()
            optimizer.step()
        rates.append(n / (time.perf_counter() - start))
    return model, rates[1:]


def python_evaluation(torch, model, x, batch, passes):
    n = x.shape[0]
    rates = []
    with torch.no_grad():
        for _ in range(passes):
            start = time.perf_counter()
            for first in range(0, n, batch):
                model(x[first:first + batch])
            rates.append(n / (time.perf_counter() - start))
    return rates


def profile_training(hqrn, torch, F, x, y, batch, args):
    """Where a step of the plain loop goes: its phases timed over 200 steps, then torch.profiler's
    operator table (self CPU time) over 100 more."""
    from torch.profiler import ProfilerActivity, profile

    model, optimizer = fresh_network(hqrn, torch, args)
    order = torch.randperm(x.shape[0])
    starts = range(0, x.shape[0] - batch + 1, batch)
    phases = [0.0] * 5

    def steps(count):
        for i in range(count):
            t0 = time.perf_counter()
            b = order[starts[i % len(starts)]:][:batch]
            xb, yb = x[b], y[b]
            t1 = time.perf_counter()
            optimizer.zero_grad(set_to_none=True)
            t2 = time.perf_counter()
            logits = model(xb)
            t3 = time.perf_counter()
            F.cross_entropy(logits, yb).backward()
            t4 = time.perf_counter()
            optimizer.step()
            t5 = time.perf_counter()
            for k, d in enumerate((t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
                phases[k] += d

    steps(20)
    phases[:] = [0.0] * 5
    steps(200)
    names = ("batch indexing", "zero_grad", "forward", "loss + backward", "Adam step")
    print("batch {}: {:.0f} us per step: {}".format(batch, sum(phases) / 200 * 1e6, ", ".join(
        "{} {:.0f} us".format(n, p / 200 * 1e6) for n, p in zip(names, phases))))
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        steps(100)
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=30))


def entanglement_config(hqrn):
    """`hqrn train --task entanglement`'s network on two classes (src/experiments/entanglement.cpp);
    checked against the checkpoint hqrn train writes."""
    return hqrn.NetworkConfig(data_qubits=2, ancillas=0, blocks=1, branches=10, classes=2, readout="mlp",
                              readout_qubits=2, hidden=128, hidden_layers=2, init_std=1.5)


def cpp_training(args, data, batch, work):
    """States/s of each epoch after the first, from `hqrn train`'s history CSV; also its checkpoint."""
    out = os.path.join(work, "cpp_b{}.safetensors".format(batch))
    run([args.hqrn, "--threads", str(args.threads), "train", "--task", "entanglement", "--data", data,
         "--epochs", str(args.epochs), "--batch-size", str(batch), "--lr", str(args.lr), "--seed", str(args.seed),
         "--quiet", "--out", out])
    with open(out + ".history.csv", newline="") as f:
        seconds = [float(r["seconds"]) for r in csv.DictReader(f)]
    return out, [args.samples / s for s in seconds[1:]]


def cpp_evaluation(bench, threads, batch):
    """States/s of hqrn_bench's eval/aware/batch:B (one forward without autograd), or None without it."""
    if not os.path.isfile(bench):
        return None
    report = json.loads(run([bench, "--threads={}".format(threads), "--benchmark_format=json",
                             "--benchmark_filter=^eval/aware/batch:{}/".format(batch)]))
    return report["benchmarks"][0]["states_per_s"]


def summary(rates):
    return "{:.1f}k ({:.1f}-{:.1f}k)".format(statistics.median(rates) / 1e3, min(rates) / 1e3, max(rates) / 1e3)


def main():
    args = parse_args()
    sys.path.insert(0, os.path.abspath(args.python_package))
    import torch
    import torch.nn.functional as F

    import hqrn

    torch.set_num_threads(args.threads)
    work = tempfile.mkdtemp(prefix="hqrn-py-vs-cpp-")
    try:
        compare(args, torch, F, hqrn, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def compare(args, torch, F, hqrn, work):
    bench = args.hqrn_bench or os.path.join(os.path.dirname(os.path.abspath(args.hqrn)), "hqrn_bench")
    data = os.path.join(work, "states.csv")
    run([args.hqrn, "gen-states", "--family", "random", "--n", str(args.samples), "--seed", str(args.seed),
         "--out", data])
    x, y = hqrn.read_state_csv(data)
    print("python {} ({}), torch {}, hqrn package {}".format(
        sys.version.split()[0], sys.executable, torch.__version__, os.path.dirname(hqrn.__file__)))
    print("{} random states, {} threads, {} epochs per run (first left out), {} rounds; "
          "Python: {}; C++: {} train (FusedAdam)".format(
              args.samples, args.threads, args.epochs, args.repeats,
              "hqrn.optim.Adam" if args.adam == "hqrn" else "torch.optim.Adam ({})".format(args.adam), args.hqrn))
    if args.profile:
        for batch in args.batch:
            profile_training(hqrn, torch, F, x, y, batch, args)
        return
    print()
    print("| batch | | Python states/s: median (range) | C++ states/s: median (range) | C++ / Python |")
    print("| ---: | --- | ---: | ---: | ---: |")
    for batch in args.batch:
        rates = {"py_train": [], "py_eval": [], "cpp_train": [], "cpp_eval": []}
        for _ in range(args.repeats):
            model, epochs = python_training(hqrn, torch, F, x, y, batch, args)
            rates["py_train"] += epochs
            rates["py_eval"] += python_evaluation(torch, model, x, batch, args.eval_passes)
            checkpoint, epochs = cpp_training(args, data, batch, work)
            rates["cpp_train"] += epochs
            evaluation = cpp_evaluation(bench, args.threads, batch)
            if evaluation is not None:
                rates["cpp_eval"].append(evaluation)
        # The same network on both sides.
        cpp_config = json.loads(hqrn.load(checkpoint).config.to_json())
        if cpp_config != json.loads(model.config.to_json()):
            sys.exit("the Python network's configuration differs from hqrn train's: {}".format(cpp_config))
        for what, py, cpp, source in (("training", rates["py_train"], rates["cpp_train"], "hqrn train"),
                                      ("evaluation", rates["py_eval"], rates["cpp_eval"], "hqrn_bench eval")):
            cpp_figure, ratio = "-", "-"
            if cpp:
                cpp_figure = "{} {}".format(summary(cpp), source)
                ratio = "{:.2f}".format(statistics.median(cpp) / statistics.median(py))
            print("| {} | {} | {} | {} | {} |".format(batch, what, summary(py), cpp_figure, ratio))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
