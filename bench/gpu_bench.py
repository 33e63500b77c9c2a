"""GPU benchmark of the hqrn operators against the card's memory floor (issue 31).

Each figure is a ratio against a baseline timed in the same process on the same
device: a device-to-device copy (clone) of the same state, which reads and writes
what one step must. Cases, complex128:
  qrb_step   n = 12, B = 1 and n = 10, B = 64 (dephased, per-step shared tables)
  aware_step the same states with one diagonal qubit (a measured step on a coherent target)
  apply_kraus depolarizing on qubit 0 of the same states
forward alone, and forward + backward (against two copies: backward reads the
state and the incoming gradient and writes the state's gradient).
Times: CUDA events around `repeat` calls after `warmup` calls, median of `rounds`.

Usage: gpu_bench.py [--device cuda|cpu] [--out DIR] [--quick] [PACKAGE_DIR]
--device cpu is a dry run of the same code on small states (wall clock timing),
for checking the script where there is no GPU. Writes gpu_bench.json and
gpu_bench.md under --out (default: the current folder) and prints the table.
"""

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time

import torch


def timer(device):
    """Seconds of fn() averaged over `repeat` calls, median over `rounds`."""
    def measure(fn, repeat, rounds, warmup=3):
        for _ in range(warmup):
            fn()
        samples = []
        for _ in range(rounds):
            if device == "cuda":
                torch.cuda.synchronize()
                start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                start.record()
                for _ in range(repeat):
                    fn()
                end.record()
                torch.cuda.synchronize()
                samples.append(start.elapsed_time(end) / 1000 / repeat)
            else:
                t0 = time.perf_counter()
                for _ in range(repeat):
                    fn()
                samples.append((time.perf_counter() - t0) / repeat)
        return statistics.median(samples)
    return measure


def random_state(batch, n, device, gen):
    d = 2 ** n
    rho = torch.randn(batch, d, d, dtype=torch.complex128, generator=gen) / d
    return rho.to(device)


def cases(device, quick):
    # (name, n, B); the CPU dry run uses small registers.
    if device == "cpu" or quick:
        return [("n=6 B=1", 6, 1), ("n=5 B=8", 5, 8)]
    return [("n=12 B=1", 12, 1), ("n=10 B=64", 10, 64)]


def depolarizing(p, device):
    s, t = math.sqrt(1 - p), math.sqrt(p / 3)
    k = [[[s, 0], [0, s]], [[0, t], [t, 0]], [[0, -1j * t], [1j * t, 0]], [[t, 0], [0, -t]]]
    return torch.tensor(k, dtype=torch.complex128, device=device)


def bench(device, quick, repeat, rounds):
    import hqrn  # noqa: F401  (operators and their autograd)
    ops = torch.ops.hqrn
    measure = timer(device)
    gen = torch.Generator().manual_seed(0)
    rows = []
    for label, n, batch in cases(device, quick):
        rho = random_state(batch, n, device, gen)
        half = 2 ** (n - 1)
        theta = (torch.rand(half, dtype=torch.float64, generator=gen) * 2 - 1).to(device)
        phi = (torch.rand(half, dtype=torch.float64, generator=gen) * 2 - 1).to(device)
        target = n // 2
        # aware layout with qubit 0 diagonal: [B, 2, 2^(n-1), 2^(n-1)], the step on a coherent target.
        m = 2 ** (n - 1)
        blocks = torch.randn(batch, 2, m, m, dtype=torch.complex128, generator=gen).to(device)
        kraus = depolarizing(0.05, device)
        grad_rho = torch.randn(rho.shape, dtype=torch.complex128, generator=gen).to(device)

        copy = measure(lambda: rho.clone(), repeat, rounds)
        copy_blocks = measure(lambda: blocks.clone(), repeat, rounds)

        def forward_backward(fn, inputs, grad_out):
            def run():
                leaves = [t.detach().requires_grad_() for t in inputs]
                out = fn(*leaves)
                torch.autograd.backward(out, grad_out)
            return run

        qrb = lambda r, t, p: ops.qrb_step(r, t, p, target, True)  # noqa: E731
        aware_grad = torch.randn(batch, 4, m // 2, m // 2, dtype=torch.complex128, generator=gen).to(device)
        aware = lambda b, t, p: ops.aware_step(b, t, p, target, [0])  # noqa: E731
        kraus_fn = lambda r, k: ops.apply_kraus(r, k, [0])  # noqa: E731
        entries = [
            ("qrb_step", copy, measure(lambda: qrb(rho, theta, phi), repeat, rounds),
             measure(forward_backward(qrb, [rho, theta, phi], grad_rho), repeat, rounds)),
            ("aware_step", copy_blocks, measure(lambda: aware(blocks, theta, phi), repeat, rounds),
             measure(forward_backward(aware, [blocks, theta, phi], aware_grad), repeat, rounds)),
            ("apply_kraus", copy, measure(lambda: kraus_fn(rho, kraus), repeat, rounds),
             measure(forward_backward(kraus_fn, [rho, kraus], grad_rho), repeat, rounds)),
        ]
        for op, base, fwd, fwd_bwd in entries:
            state_bytes = (rho if op != "aware_step" else blocks).numel() * 16
            rows.append({"op": op, "case": label, "n": n, "batch": batch, "state_bytes": state_bytes,
                         "copy_s": base, "forward_s": fwd, "forward_backward_s": fwd_bwd,
                         "forward_ratio": fwd / base, "forward_backward_ratio": fwd_bwd / (2 * base),
                         "copy_GBps": 2 * state_bytes / base / 1e9})
    return rows


def card(device):
    """The device in words, for the result files (train_throughput.py uses it too)."""
    if device == "cuda":
        p = torch.cuda.get_device_properties(0)
        return "{} ({} SMs, {:.0f} GiB), torch {}, CUDA {}".format(p.name, p.multi_processor_count,
                                                                  p.total_memory / 2 ** 30, torch.__version__,
                                                                  torch.version.cuda)
    return "{} CPU, {} threads ({} cores), torch {}".format(platform.processor() or platform.machine(),
                                                          torch.get_num_threads(), os.cpu_count(), torch.__version__)


def markdown(rows, device):
    lines = ["Device: " + card(device) + (" (dry run)" if device == "cpu" else ""), "",
             "| op | case | copy (ms) | forward (ms) | forward / copy | fwd+bwd (ms) | fwd+bwd / (2 copies) |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        lines.append("| {op} | {case} | {c:.3f} | {f:.3f} | {fr:.2f} | {fb:.3f} | {fbr:.2f} |".format(
            op=r["op"], case=r["case"], c=r["copy_s"] * 1e3, f=r["forward_s"] * 1e3, fr=r["forward_ratio"],
            fb=r["forward_backward_s"] * 1e3, fbr=r["forward_backward_ratio"]))
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("package", nargs="?", default="-", help="folder holding the hqrn package ('-': installed)")
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    parser.add_argument("--out", default=".")
    parser.add_argument("--quick", action="store_true", help="small states (a smoke run)")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if args.package != "-":
        sys.path.insert(0, args.package)
    if args.device == "cuda" and not torch.cuda.is_available():
        print("gpu_bench: no CUDA device")
        return 77
    repeat, rounds = (args.repeat, args.rounds) if args.device == "cuda" else (2, 2)
    torch.set_grad_enabled(True)
    rows = bench(args.device, args.quick, repeat, rounds)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "gpu_bench.json"), "w") as f:
        json.dump({"device": card(args.device), "rows": rows}, f, indent=1)
    table = markdown(rows, args.device)
    with open(os.path.join(args.out, "gpu_bench.md"), "w") as f:
        f.write(table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
