"""Data-parallel training of an HQRN with torch.nn.parallel.DistributedDataParallel.

The HQRN operators are ordinary autograd functions for PyTorch's own engine:
DDP all-reduces their parameters' gradients like any module's. Each rank takes
its contiguous shard of every global batch (the batches and their order are the
same as in one process with the same seed), so the trained model equals a
single-process run up to the order of the gradient sums.

    build/bin/hqrn gen-states --family random --n 2000 --seed 1 --out train.csv
    build/bin/hqrn gen-states --family random --n 500 --seed 2 --out test.csv
    PYTHONPATH=build/python torchrun --nproc_per_node 2 --redirects 1 --tee 1 \\
        python/examples/ddp_entanglement.py --train train.csv --test test.csv --out out/ddp.safetensors

Without torchrun it runs as one process. Rank 0 writes the checkpoint, which
`hqrn eval --model out/ddp.safetensors --data test.csv` reads.
"""

import argparse
import datetime
import os

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel

import hqrn


def shard(rows, rank, world):
    """Rows [begin, end) of a batch that `rank` takes (the C++ trainer's split)."""
    base, extra = divmod(rows, world)
    begin = rank * base + min(rank, extra)
    return begin, begin + base + (1 if rank < extra else 0)


def reduced_accuracy(model, x, y, rank, world):
    begin, end = shard(len(y), rank, world)
    with torch.no_grad():
        correct = (model(x[begin:end], mode="quantum").argmax(1) == y[begin:end]).sum().double()
    if world > 1:
        dist.all_reduce(correct)
    return correct.item() / len(y)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", required=True)
    ap.add_argument("--test", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    launched = "RANK" in os.environ
    if launched:
        # torchrun's MASTER_ADDR/PORT, RANK, WORLD_SIZE; a rank that stops makes the
        # others fail within a minute instead of Gloo's default half hour.
        dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=60))
    rank, world = (dist.get_rank(), dist.get_world_size()) if launched else (0, 1)
    local_ranks = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // local_ranks))
    if args.batch_size < world:
        raise SystemExit("--batch-size must be at least the number of ranks ({})".format(world))

    x_train, y_train = hqrn.read_state_csv(args.train)
    x_test, y_test = hqrn.read_state_csv(args.test)
    torch.manual_seed(args.seed)  # the same initial weights on every rank
    model = hqrn.HQRN(hqrn.NetworkConfig(data_qubits=2, ancillas=1, branches=2, readout="mlp", hidden=32))
    trained = DistributedDataParallel(model) if launched else model
    optimizer = torch.optim.Adam(trained.parameters(), lr=0.01)

    for epoch in range(args.epochs):
        order = torch.randperm(len(y_train), generator=torch.Generator().manual_seed(args.seed * 1000 + epoch))
        total = torch.zeros(1, dtype=torch.float64)
        for batch in order.split(args.batch_size):
            begin, end = shard(len(batch), rank, world)
            mine = batch[begin:end]
            optimizer.zero_grad()
            loss_sum = F.cross_entropy(trained(x_train[mine], mode="quantum"), y_train[mine], reduction="sum")
            # DDP averages the ranks' gradients: scaled by the world size, the
            # shards' sums give the gradient of the global batch's mean loss.
            (loss_sum * (world / len(batch))).backward()
            optimizer.step()
            total += loss_sum.detach()
        if launched:
            dist.all_reduce(total)
        test_accuracy = reduced_accuracy(model, x_test, y_test, rank, world)
        if rank == 0:
            print("epoch {}/{}: loss {:.4f} test accuracy {:.2f}%".format(
                epoch + 1, args.epochs, total.item() / len(y_train), 100 * test_accuracy), flush=True)
    if rank == 0:
        hqrn.save(model, args.out)
        print("saved {} ({} ranks)".format(args.out, world), flush=True)
    if launched:
        # Wait until no rank has communication in flight, then drop DDP before the
        # group: torch 1.13 can deadlock when DDP's reducer tears down the Gloo
        # group while one of its callbacks still waits for the GIL.
        dist.barrier()
        del trained
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
