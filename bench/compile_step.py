"""What torch.compile buys a training step of the Python package (torch 2.x).

Times forward + backward + Adam of the default entanglement network (2 data
qubits, 10 branches, mlp readout) on random states, eager and with the model
under torch.compile(fullgraph=True), interleaved in one process; prints the
medians and their ratio. Compile time is reported apart.

    PYTHONPATH=build/python python3 bench/compile_step.py --batch 64 --threads 2
"""

import argparse
import statistics
import time

import torch

import hqrn


def random_states(batch, gen):
    g = torch.randn(batch, 4, 4, dtype=torch.complex128, generator=gen)
    rho = g @ g.conj().transpose(1, 2)
    return rho / rho.diagonal(dim1=1, dim2=2).real.sum(-1).reshape(batch, 1, 1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--execution", default="aware", choices=["aware", "dense"])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(0)
    x = random_states(args.batch, gen)
    y = torch.randint(0, 2, (args.batch,), generator=gen)
    config = hqrn.NetworkConfig(data_qubits=2, branches=10, readout="mlp")

    def make(compiled):
        torch.manual_seed(1)
        model = hqrn.HQRN(config)
        forward = lambda t: model(t, execution=args.execution)  # noqa: E731
        if compiled:
            forward = torch.compile(forward, fullgraph=True)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)

        def step():
            opt.zero_grad(set_to_none=True)
            torch.nn.functional.cross_entropy(forward(x), y).backward()
            opt.step()
        return step

    eager = make(False)
    compiled = make(True)
    start = time.perf_counter()
    compiled()
    compile_seconds = time.perf_counter() - start
    for _ in range(10):
        eager()
        compiled()
    times = {"eager": [], "compiled": []}
    for _ in range(args.steps):
        for name, step in (("eager", eager), ("compiled", compiled)):
            t0 = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - t0)
    e, c = statistics.median(times["eager"]), statistics.median(times["compiled"])
    print("torch {}, batch {}, {} threads, execution {}".format(torch.__version__, args.batch, args.threads,
                                                                args.execution))
    print("eager    {:8.1f} us per step ({:.0f} states/s)".format(e * 1e6, args.batch / e))
    print("compiled {:8.1f} us per step ({:.0f} states/s); first call (compiling) {:.1f} s".format(
        c * 1e6, args.batch / c, compile_seconds))
    print("eager / compiled = {:.2f}".format(e / c))


if __name__ == "__main__":
    main()
