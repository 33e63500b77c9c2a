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

With --pure (run-peer-benchmarks.sh --pure): pure input states, every case in
its own process (cases.py: a time limit, a memory limit, the peak memory):

    hqrn_side.py --pure --hqrn build/bin/hqrn --work DIR/work --qubits 8 10 --batches 1 16 --threads 1 \
        --time-limit 60 --memory-limit-gib 8

For each n it writes, under --work:
  pure_n<n>.ckpt, pure_n<n>_branch0.qasm   the network (n data qubits, no ancillas,
                                           one block sweeping every qubit, one branch,
                                           PURE_READOUT_QUBITS readout qubits, random
                                           weights) and its program
  pure_n<n>_B<B>_inputs.npy                B random pure states [B, 2^n] (complex, Haar)
  pure_n<n>_B<B>_readout.npy               their readout distributions (vectors execution),
                                           the reference of every other system
  pure_n<n>_B<B>_<execution>.npy           each execution's own result
and pure-hqrn.json: one record per (n, batch, execution): status, seconds,
peak memory, max |difference| from the vectors execution.
"""

import argparse
import json
import os
import subprocess
import sys

import numpy as np
import torch

import cases
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


def make_network(n, hqrn_binary, work, data_qubits=2, readout_qubits=READOUT_QUBITS, name="n{}"):
    """A one-block network with random N(0, 1) weights on n qubits (data_qubits of them data, the
    rest ancillas), saved as <work>/<name>.ckpt and exported; returns (model, program path)."""
    torch.manual_seed(n)
    config = hqrn.NetworkConfig(data_qubits=data_qubits, ancillas=n - data_qubits, blocks=1, branches=1,
                                readout_qubits=readout_qubits, init_std=1.0)
    model = hqrn.HQRN(config)
    checkpoint = os.path.join(work, name.format(n) + ".ckpt")
    hqrn.save(model, checkpoint)
    prefix = os.path.join(work, name.format(n))
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


# ----------------------------------------------------------------------------
# --pure: pure input states, one process per case.

PURE_READOUT_QUBITS = 4
PURE_EXECUTIONS = ("vectors", "aware", "dense")
# aware and dense start from |psi><psi|, [B, 2^n, 2^n] (no qubit is diagonal before the first step:
# there are no ancillas): beyond this size of the batch's density matrices they are not run.
PURE_DENSITY_MATRIX_LIMIT_BYTES = 256 * 2 ** 20
# What a case's cost grows by per two qubits, for the prediction of where it stops (cases.Stops):
# 4^n for the density-matrix executions; the vectors execution's 2^n is far from any limit here.
PURE_GROWTH = 16


def pure_stem(work, n, batch):
    return os.path.join(work, "pure_n{}_B{}".format(n, batch))


def random_pure_states(batch, n, seed):
    """B Haar-random pure states [B, 2^n]: normalised complex Gaussian vectors."""
    rng = np.random.default_rng(seed)
    psi = rng.normal(size=(batch, 2 ** n)) + 1j * rng.normal(size=(batch, 2 ** n))
    return psi / np.linalg.norm(psi, axis=1, keepdims=True)


def pure_case_main(args):
    """The child: one (n, batch, execution), forward only (cases.serve)."""
    stem = pure_stem(args.work, args.n, args.batch)

    def setup():
        torch.set_num_threads(args.threads)
        model = hqrn.load(os.path.join(args.work, "pure_n{}.ckpt".format(args.n)))
        return model, torch.from_numpy(np.load(stem + "_inputs.npy"))

    def forward(state):
        model, x = state
        with torch.no_grad():
            return model.readout_distributions(x, execution=args.execution)[:, 0, :]

    cases.serve(setup, forward, lambda p: np.save("{}_{}.npy".format(stem, args.execution), p.numpy()))


def pure_main(args):
    stops = cases.Stops(args.time_limit, args.memory_limit_gib * 2 ** 30, PURE_GROWTH)
    records = []
    for n in args.qubits:
        make_network(n, args.hqrn, args.work, data_qubits=n, readout_qubits=PURE_READOUT_QUBITS, name="pure_n{}")
        for batch in args.batches:
            stem = pure_stem(args.work, n, batch)
            np.save(stem + "_inputs.npy", random_pure_states(batch, n, seed=1000 * n + batch))
            reference = None
            for execution in PURE_EXECUTIONS:
                record = {"system": "HQRN " + execution, "n": n, "batch": batch, "max_abs_difference": None}
                why = None
                matrices = batch * 4 ** n * 16
                if execution != "vectors" and matrices > PURE_DENSITY_MATRIX_LIMIT_BYTES:
                    why = "not run: the batch's density matrices take {} MiB".format(matrices // 2 ** 20)
                why = why or stops.reason_to_skip(record["system"], n, batch)
                if why:
                    stops.skipped(record["system"], n, batch)
                    records.append(dict(record, status="skipped", note=why))
                    progress("n={} B={} {}: {}".format(n, batch, execution, why))
                    continue
                result = cases.run([sys.executable, os.path.abspath(__file__), "--case", "--work", args.work,
                                    "--n", str(n), "--batch", str(batch), "--execution", execution,
                                    "--threads", str(args.threads)], args.time_limit, args.memory_limit_gib * 2 ** 30)
                stops.done(record["system"], n, batch, result)
                record.update(result)
                if result["check_seconds"] is not None:
                    p = np.load("{}_{}.npy".format(stem, execution))
                    if execution == "vectors":
                        reference = p
                        np.save(stem + "_readout.npy", p)
                        record["max_abs_difference"] = 0.0
                    elif reference is not None:
                        record["max_abs_difference"] = float(np.abs(p - reference).max())
                records.append(record)
                progress("n={} B={} {}: {}".format(n, batch, execution, cases.describe(record)))
    with open(os.path.join(args.work, "pure-hqrn.json"), "w") as f:
        json.dump({"torch": torch.__version__, "threads": args.threads, "readout_qubits": PURE_READOUT_QUBITS,
                   "records": records}, f, indent=1)


# ----------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--hqrn")
    parser.add_argument("--work", required=True)
    parser.add_argument("--qubits", type=int, nargs="+")
    parser.add_argument("--batches", type=int, nargs="+")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--pure", action="store_true")
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--memory-limit-gib", type=float, default=8.0)
    parser.add_argument("--case", action="store_true")  # --pure's child: one case
    parser.add_argument("--n", type=int)
    parser.add_argument("--batch", type=int)
    parser.add_argument("--execution")
    args = parser.parse_args()
    if args.case:
        return pure_case_main(args)
    if not (args.hqrn and args.qubits and args.batches):
        parser.error("--hqrn, --qubits and --batches are required")
    os.makedirs(args.work, exist_ok=True)
    if args.pure:
        return pure_main(args)
    torch.set_num_threads(args.threads)
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
