"""Training steps per second of whole networks on one device (issue 31's GPU-against-CPU figure).

Networks, both in hqrn train's entanglement shape (10 branches, one block, MLP readout):
  entanglement  2 data qubits (the default network), batch 4096
  data6         6 data qubits, batch 4096 (--batch to change)
Inputs are random mixed states (Wishart, rank d), labels random: the work of a step does not depend
on the data. A step is zero_grad, forward (aware execution), cross entropy, backward, Adam
(hqrn.optim.Adam on the CPU, torch.optim.Adam(fused=True) on CUDA). Reported: states per second,
the median over `--rounds` rounds of `--steps` steps after two warm-up steps (CUDA: synchronised).

Usage: train_throughput.py [PACKAGE_DIR] [--device cpu|cuda] [--threads N] [--steps S] [--rounds R]
                           [--networks entanglement data6] [--batch B] [--out DIR]
Run it on the GPU (scripts/gpu-check.sh does) and on the CPU of the machine to compare with; the
two JSON files name their machines. Timings only, never asserted.
"""

import argparse
import json
import os
import statistics
import sys
import time

import torch

from gpu_bench import card  # beside this script, on sys.path when it runs

NETWORKS = {"entanglement": 2, "data6": 6}


def random_states(batch, qubits, device, gen):
    d = 1 << qubits
    a = torch.randn(batch, d, d, dtype=torch.complex128, generator=gen)
    rho = a @ a.conj().transpose(1, 2)
    rho = rho / rho.diagonal(dim1=1, dim2=2).sum(1).real.reshape(-1, 1, 1)
    return rho.to(device), torch.randint(0, 2, (batch,), generator=gen).to(device)


def throughput(hqrn, name, batch, device, steps, rounds):
    torch.manual_seed(1)
    config = hqrn.NetworkConfig(data_qubits=NETWORKS[name], ancillas=0, blocks=1, branches=10, classes=2,
                                readout="mlp", readout_qubits=2, hidden=128, hidden_layers=2, init_std=1.5)
    model = hqrn.HQRN(config).to(device)
    if device == "cuda":
        optimizer = torch.optim.Adam(model.parameters(), lr=0.01, fused=True)
    else:
        optimizer = hqrn.optim.Adam(model.parameters(), lr=0.01)
    x, y = random_states(batch, NETWORKS[name], device, torch.Generator().manual_seed(2))

    def step():
        optimizer.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()

    def sync():
        if device == "cuda":
            torch.cuda.synchronize()

    for _ in range(2):
        step()
    rates = []
    for _ in range(rounds):
        sync()
        start = time.perf_counter()
        for _ in range(steps):
            step()
        sync()
        rates.append(steps * batch / (time.perf_counter() - start))
    return {"network": name, "data_qubits": NETWORKS[name], "batch": batch, "device": device,
            "states_per_s": statistics.median(rates), "rounds": rates}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("package", nargs="?", default="-", help="folder holding the hqrn package ('-': installed)")
    p.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    p.add_argument("--threads", type=int, default=2, help="CPU intra-op threads (default: %(default)s)")
    p.add_argument("--networks", nargs="+", default=list(NETWORKS), choices=list(NETWORKS))
    p.add_argument("--batch", type=int, default=4096)
    p.add_argument("--steps", type=int, default=5, help="steps per round (default: %(default)s)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--out", default=".")
    args = p.parse_args()
    if args.package != "-":
        sys.path.insert(0, args.package)
    if args.device == "cuda" and not torch.cuda.is_available():
        print("train_throughput: no CUDA device")
        return 77
    torch.set_num_threads(args.threads)
    import hqrn
    rows = [throughput(hqrn, name, args.batch, args.device, args.steps, args.rounds) for name in args.networks]
    report = {"machine": card(args.device), "rows": rows}
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "train_throughput_{}.json".format(args.device))
    with open(path + ".tmp", "w") as f:
        json.dump(report, f, indent=1)
    os.replace(path + ".tmp", path)
    print("Machine:", report["machine"])
    print("| network | data qubits | batch | states/s |")
    print("| --- | ---: | ---: | ---: |")
    for r in rows:
        print("| {} | {} | {} | {:.0f} |".format(r["network"], r["data_qubits"], r["batch"], r["states_per_s"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
