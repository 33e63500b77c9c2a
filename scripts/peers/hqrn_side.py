"""HQRN's side of the peer benchmark: makes the networks, their programs, the
inputs and the reference results the peers are checked against, and times
HQRN (both executions) on the same work.

Run by scripts/run-peer-benchmarks.sh with Debian's Python (torch) and
PYTHONPATH=build/python:

    hqrn_side.py --hqrn build/bin/hqrn --work DIR/work --qubits 2 4 6 --batches 1 64 --threads 2

For each n it writes, under --work:
  n<n>.ckpt, n<n>_branch0.qasm   the network (2 data qubits, n - 2 ancillas, one
                                 block, one branch, random weights) and its program
  n<n>_B<B>_inputs.npy           B two-qubit density matrices [B, 4, 4] (complex)
  n<n>_B<B>_readout.npy          their readout distributions [B, 4] (aware execution)
  n<n>_B<B>_gradient.json        the loss weights, the block's weights and the gradient
                                 of the loss with respect to each of them
and hqrn.json: one record per (n, batch, what, execution) with its seconds.
"""

import argparse
import json
import os
import subprocess
import sys

import numpy as np
import torch

import hqrn
import timing

READOUT_QUBITS = 2
# The scalar loss every side differentiates: sum over inputs and outcomes o of LOSS_WEIGHTS[o] * p(o).
LOSS_WEIGHTS = [1.0, 2.0, 3.0, 4.0]
EXECUTIONS = ("aware", "dense")
# The dense execution's gradient keeps several full states [B, 2^n, 2^n] per
# step for backward; beyond this size of one (n = 10, B = 64: 1 GiB) it would
# not fit beside the build in the build machine's memory.
DENSE_STATE_LIMIT_BYTES = 256 * 2 ** 20


def progress(message):
    print("hqrn: " + message, file=sys.stderr, flush=True)


def make_network(n, hqrn_binary, work):
    """A one-block network with random N(0, 1) weights, saved and exported; returns (model, program path)."""
    torch.manual_seed(n)
    config = hqrn.NetworkConfig(data_qubits=2, ancillas=n - 2, blocks=1, branches=1,
                                readout_qubits=READOUT_QUBITS, init_std=1.0)
    model = hqrn.HQRN(config)
    checkpoint = os.path.join(work, "n{}.ckpt".format(n))
    hqrn.save(model, checkpoint)
    prefix = os.path.join(work, "n{}".format(n))
    subprocess.run([hqrn_binary, "export-qasm", "--model", checkpoint, "--out", prefix], check=True,
                   stdout=subprocess.DEVNULL)
    return model, prefix + "_branch0.qasm"


def random_density_matrices(batch, seed):
    """B full-rank two-qubit states rho = A A^dagger / tr, A complex Gaussian."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(batch, 4, 4)) + 1j * rng.normal(size=(batch, 4, 4))
    rho = a @ a.conj().transpose(0, 2, 1)
    return rho / np.trace(rho, axis1=1, axis2=2).real[:, None, None]


def block_weights(block):
    """(parameter, index) of each rotation weight, by the name the program's gates carry
    (program.py); the diagonals of W and V never enter."""
    named = {}
    for j in range(block.qubits):
        named["b[{}]".format(j)] = (block.b, (j,))
        named["a[{}]".format(j)] = (block.a, (j,))
        for i in range(block.qubits):
            if i != j:
                named["W[{},{}]".format(j, i)] = (block.W, (j, i))
                named["V[{},{}]".format(j, i)] = (block.V, (j, i))
    return named


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--hqrn", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--qubits", type=int, nargs="+", required=True)
    parser.add_argument("--batches", type=int, nargs="+", required=True)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    os.makedirs(args.work, exist_ok=True)
    loss_weights = torch.tensor(LOSS_WEIGHTS, dtype=torch.float64)
    records = []
    for n in args.qubits:
        model, program = make_network(n, args.hqrn, args.work)
        weights = block_weights(model.branches[0].blocks[0])
        for batch in args.batches:
            stem = os.path.join(args.work, "n{}_B{}".format(n, batch))
            inputs = random_density_matrices(batch, seed=1000 * n + batch)
            np.save(stem + "_inputs.npy", inputs)
            x = torch.from_numpy(inputs)

            def forward(execution):
                with torch.no_grad():
                    return model.readout_distributions(x, execution=execution)[:, 0, :]

            def gradient(execution):
                model.zero_grad()
                loss = (model.readout_distributions(x, execution=execution)[:, 0, :] * loss_weights).sum()
                loss.backward()
                return {name: float(w.grad[index]) for name, (w, index) in weights.items()}

            results = {}
            for execution in EXECUTIONS:
                if execution == "dense" and batch * 4 ** n * 16 > DENSE_STATE_LIMIT_BYTES:
                    note = "not run: a dense state of {} MiB".format(batch * 4 ** n * 16 // 2 ** 20)
                    for what in ("forward", "gradient"):
                        records.append({"n": n, "batch": batch, "what": what, "execution": execution,
                                        "seconds": None, "note": note})
                    progress("n={} B={} dense {}".format(n, batch, note))
                    continue
                readout, warm = timing.timed(lambda: forward(execution))
                seconds = timing.median_seconds(lambda: forward(execution), warm)
                records.append({"n": n, "batch": batch, "what": "forward", "execution": execution, "seconds": seconds})
                grads, warm = timing.timed(lambda: gradient(execution))
                grad_seconds = timing.median_seconds(lambda: gradient(execution), warm)
                records.append({"n": n, "batch": batch, "what": "gradient", "execution": execution,
                                "seconds": grad_seconds})
                results[execution] = (readout.numpy(), grads)
                progress("n={} B={} {}: forward {:.3g} s, gradient {:.3g} s".format(
                    n, batch, execution, seconds, grad_seconds))
            # The two executions are one computation: their difference is recorded with HQRN's own records.
            p_aware, g_aware = results["aware"]
            forward_gap = gradient_gap = None
            if "dense" in results:
                p_dense, g_dense = results["dense"]
                forward_gap = float(np.abs(p_aware - p_dense).max())
                gradient_gap = max(abs(g_aware[k] - g_dense[k]) for k in g_aware)
            for record in records[-4:]:
                record["max_abs_difference"] = forward_gap if record["what"] == "forward" else gradient_gap
            np.save(stem + "_readout.npy", p_aware)
            with open(stem + "_gradient.json", "w") as f:
                json.dump({"loss_weights": LOSS_WEIGHTS, "readout_qubits": READOUT_QUBITS, "program": program,
                           "weights": {k: float(w[index]) for k, (w, index) in weights.items()},
                           "gradient": g_aware}, f, indent=1)
    with open(os.path.join(args.work, "hqrn.json"), "w") as f:
        json.dump({"torch": torch.__version__, "threads": args.threads, "records": records}, f, indent=1)


if __name__ == "__main__":
    main()
