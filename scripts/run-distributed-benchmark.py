#!/usr/bin/env python3
"""One process against two data-parallel ranks on this machine.

    python3 scripts/run-distributed-benchmark.py --out out/distributed [--states 20000] [--repeats 3]

Trains entanglement networks (`hqrn train --task entanglement`: the default
one, and one with 4 ancillas) on random two-qubit states for 2 epochs, at
batch sizes 64 and 256: once as one
process with one intra-op thread, once as two ranks under torchrun with one
thread each. Reports states per second (states x epochs / the epochs' seconds
from the history CSV, median over the repeats) and, for the ranks, the share
of the training time spent in collectives as rank 0 reports it (waiting for
the slower rank included); and the time of one all-reduce between two ranks
(tests/distributed_probe.cpp). Writes OUT/distributed.json and OUT/distributed.md.
Needs a build (scripts/build.sh) and torchrun (python3-torch).
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
from python_test_support import free_port, rank_environment  # noqa: E402  (standard library only)
EPOCHS = 2
# The default network (2 qubits: per-operation overhead dominates) and one with
# 4 ancillas (6 qubits, 64x64 states: the kernels' arithmetic counts).
NETWORKS = {"default": [], "4 ancillas": ["--ancillas", "4"]}


def run_once(hqrn, data, network, batch, ranks, out):
    args = ["--threads", "1", "train", "--task", "entanglement", "--data", data, "--epochs", str(EPOCHS),
            "--batch-size", str(batch), "--quiet", "--out", out] + NETWORKS[network]
    for stale in (out, out + ".history.csv"):
        if os.path.exists(stale):
            os.remove(stale)
    if ranks == 1:
        command = [hqrn] + args
    else:
        # Debian's torchrun 1.13 needs --redirects 1 --tee 1 on Python 3.11.
        command = ["torchrun", "--nproc_per_node", str(ranks), "--master_port", str(free_port()), "--no_python",
                   "--redirects", "1", "--tee", "1", hqrn] + args
    proc = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    if proc.returncode != 0:
        sys.exit("run-distributed-benchmark: {} failed:\n{}".format(" ".join(command), proc.stdout[-2000:]))
    with open(out + ".history.csv") as f:
        rows = [line.split(",") for line in f.read().splitlines()[1:]]
    seconds = sum(float(r[4]) for r in rows)
    share = None
    match = re.search(r"rank 0: ([\d.]+) s of ([\d.]+) s of training in collectives", proc.stdout)
    if match:
        share = float(match.group(1)) / float(match.group(2))
    return seconds, share


def parameter_count(checkpoint):
    """Parameters in a checkpoint (safetensors header; Adam's state left out)."""
    import struct
    with open(checkpoint, "rb") as f:
        header = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
    count = 0
    for name, entry in header.items():
        if name != "__metadata__" and not name.startswith("optimizer."):
            size = 1
            for d in entry["shape"]:
                size *= d
            count += size
    return count


def all_reduce_microseconds(probe, count):
    """Rank 0's mean time per all-reduce of `count` doubles between two ranks on loopback."""
    port = free_port()
    procs = [subprocess.Popen([probe, "latency", str(count)], stdout=subprocess.PIPE, universal_newlines=True,
                              env=rank_environment(r, 2, port))
             for r in range(2)]
    outputs = [p.communicate()[0] for p in procs]
    return float(re.search(r"doubles: ([\d.]+) us", outputs[0]).group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(ROOT, "out", "distributed"))
    ap.add_argument("--states", type=int, default=20000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--build", default=os.environ.get("HQRN_BUILD_DIR", os.path.join(ROOT, "build")))
    args = ap.parse_args()
    hqrn = os.path.join(args.build, "bin", "hqrn")
    for binary in ("hqrn", "hqrn_distributed_probe"):
        if not os.path.exists(os.path.join(args.build, "bin", binary)):
            sys.exit("run-distributed-benchmark: {}/bin/{} not found; build first (scripts/build.sh)".format(
                args.build, binary))
    os.makedirs(args.out, exist_ok=True)
    data = os.path.join(args.out, "states.csv")
    subprocess.run([hqrn, "gen-states", "--family", "random", "--n", str(args.states), "--seed", "1", "--out", data],
                   check=True, stdout=subprocess.DEVNULL)

    records = []
    for network in NETWORKS:
        for batch in (64, 256):
            for ranks in (1, 2):
                runs = []
                for repeat in range(args.repeats):
                    print("{}, batch {}, {} rank(s): run {}/{}".format(network, batch, ranks, repeat + 1, args.repeats),
                          file=sys.stderr)
                    runs.append(run_once(hqrn, data, network, batch, ranks, os.path.join(
                        args.out, network.replace(" ", "-") + ".safetensors")))
                seconds = statistics.median(s for s, _ in runs)
                shares = [c for _, c in runs if c is not None]
                records.append({"network": network, "batch": batch, "ranks": ranks, "threads_per_rank": 1,
                                "states": args.states, "epochs": EPOCHS, "seconds": seconds,
                                "states_per_second": args.states * EPOCHS / seconds,
                                "collective_share": statistics.median(shares) if shares else None})
    # The fixed cost of a step's one collective: a few bytes, and a default network's gradients.
    probe = os.path.join(args.build, "bin", "hqrn_distributed_probe")
    gradients = parameter_count(os.path.join(args.out, "default.safetensors"))
    latency = {"all_reduce_2_doubles_us": all_reduce_microseconds(probe, 2),
               "default_network_parameters": gradients,
               "all_reduce_gradients_us": all_reduce_microseconds(probe, gradients)}
    with open(os.path.join(args.out, "distributed.json"), "w") as f:
        json.dump({"runs": records, "collectives": latency}, f, indent=2)

    lines = ["| network | batch | ranks x threads | states/s | speed-up | time in collectives |",
             "|---|---|---|---|---|---|"]
    for r in records:
        base = next(b for b in records if (b["network"], b["batch"], b["ranks"]) == (r["network"], r["batch"], 1))
        share = "-" if r["collective_share"] is None else "{:.0f}%".format(100 * r["collective_share"])
        lines.append("| {} | {} | {} x 1 | {:,.0f} | {:.2f}x | {} |".format(
            r["network"], r["batch"], r["ranks"], r["states_per_second"],
            r["states_per_second"] / base["states_per_second"], share))
    lines.append("")
    lines.append("All-reduce between two ranks on loopback: {:.0f} us for 2 doubles, {:.0f} us for the default "
                 "network's {} gradients.".format(latency["all_reduce_2_doubles_us"], latency["all_reduce_gradients_us"],
                                                   gradients))
    table = "\n".join(lines) + "\n"
    with open(os.path.join(args.out, "distributed.md"), "w") as f:
        f.write(table)
    print(table)


if __name__ == "__main__":
    main()
