"""The CUDA kernels against the CPU ones (docs/operators.md, "CUDA").

- every row of tests/op_cases.json (and angle_tables, and aware_step and vector_step
  with grouped tables), in complex128/float64 and complex64/float32: outputs and the gradients of a
  fixed real loss equal the CPU's (1e-12 in double, 1e-5 in single), with contiguous
  and strided inputs; the device's backward gives the same bits twice;
- torch.autograd.gradcheck of every row on the device (complex128);
- tensors on different devices are refused by name;
- model parity: hqrn.HQRN(...).to(device), both executions (aware, dense), with and
  without noise: logits and every parameter's gradient equal the CPU's to 1e-12;
- a network trained on the device, saved from it and loaded on the CPU (and back):
  equal logits, training equal to the CPU's, shot sampling with a CPU generator equal.

Usage: test_cuda.py PACKAGE_DIR [--device cpu]   (PACKAGE_DIR holds the hqrn package,
e.g. build/python, or '-' for the installed one). Without a GPU every test is reported
skipped with the reason and the exit code is 77 (CTest's SKIP_RETURN_CODE); with
--device cpu the same comparisons run CPU against CPU, which exercises this script
where there is no GPU. The last line is 'N passed, N failed'.
"""

import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
SKIP = 77
DEVICE = "cuda"


def tolerance(real_dtype):
    return 1e-12 if real_dtype == torch.float64 else 1e-5


def strided(t):
    """The same values in a non-contiguous layout."""
    if t.dim() >= 2:
        return t.transpose(-1, -2).contiguous().transpose(-1, -2)
    return torch.stack([t, t], -1)[..., 0]


def table_cases(real_dtype, seed=11):
    """(op name, args, differentiated positions) of every op_cases.json row, plus
    angle_tables, and aware_step and vector_step with one table per group of samples."""
    import test_ops
    with open(os.path.join(HERE, "op_cases.json")) as f:
        cases = json.load(f)["cases"]
    for case in cases:
        gen = torch.Generator().manual_seed(seed)
        yield case["op"], [test_ops.cast(test_ops.make_arg(s, gen), real_dtype) for s in case["args"]], case["grad"]
    gen = torch.Generator().manual_seed(seed)
    weights = [torch.randn(3, 3, dtype=real_dtype, generator=gen) for _ in range(2)]
    biases = [torch.randn(3, dtype=real_dtype, generator=gen) for _ in range(2)]
    yield "angle_tables", [weights, biases], [0, 1]
    complex_dtype = torch.complex64 if real_dtype == torch.float32 else torch.complex128
    for diagonal, target in (([], 1), ([0], 2), ([0], 0), ([0, 2], 1)):
        n, b, g = 3, 4, 2
        m = 2 ** (n - len(diagonal))
        blocks = torch.randn(b, 2 ** len(diagonal), m, m, dtype=complex_dtype, generator=gen)
        theta = torch.randn(g, 4, generator=gen).to(real_dtype)
        phi = torch.randn(g, 4, generator=gen).to(real_dtype)
        yield "aware_step", [blocks, theta, phi, target, diagonal], [0, 1, 2]
        yield "aware_step", [blocks, theta[0], phi, target, diagonal], [0, 1, 2]
    # vector_step with grouped tables, and a shared table over many vectors (slabs on the device).
    for batch, comps, theta_rows, phi_rows, target in ((4, 3, 2, 2, 1), (4, 3, 2, 0, 0), (32, 2, 0, 0, 2)):
        psi = torch.randn(batch, comps, 8, dtype=complex_dtype, generator=gen)
        theta = torch.randn(*((theta_rows,) if theta_rows else ()), 4, generator=gen).to(real_dtype)
        phi = torch.randn(*((phi_rows,) if phi_rows else ()), 4, generator=gen).to(real_dtype)
        yield "vector_step", [psi, theta, phi, target], [0, 1, 2]


def is_tensor_list(x):
    return isinstance(x, list) and bool(x) and isinstance(x[0], torch.Tensor)


def to_device(arg, device, make_strided=False):
    if isinstance(arg, torch.Tensor):
        t = arg.to(device)
        return strided(t) if make_strided else t
    if is_tensor_list(arg):
        return [to_device(a, device, make_strided) for a in arg]
    return arg


def leaves(args, positions):
    """The differentiated tensors (a list argument contributes each of its tensors)."""
    out = []
    for k in positions:
        out.extend(args[k] if is_tensor_list(args[k]) else [args[k]])
    return out


def run(op, args, positions, weights_seed=5):
    """Outputs and the gradients of sum(w * view_as_real(out)) for fixed random w."""
    args = [[a.detach().clone().requires_grad_() for a in x] if is_tensor_list(x) else x for x in args]
    args = [x.detach().requires_grad_() if isinstance(x, torch.Tensor) and k in positions else x
            for k, x in enumerate(args)]
    out = getattr(torch.ops.hqrn, op)(*args)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    gen = torch.Generator().manual_seed(weights_seed)
    loss = 0
    for o in outs:
        r = torch.view_as_real(o) if o.is_complex() else o
        loss = loss + (torch.randn(r.shape, dtype=r.dtype, generator=gen).to(r.device) * r).sum()
    grads = torch.autograd.grad(loss, leaves(args, positions), allow_unused=True)
    return [o.detach() for o in outs], list(grads)


def max_diff(a, b):
    if a is None or b is None:
        assert a is None and b is None, "one side has no gradient"
        return 0.0
    assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, b.shape, a.dtype, b.dtype)
    return (a.cpu() - b.cpu()).abs().max().item() if a.numel() else 0.0


def test_op_table_matches_cpu():
    failures = []
    for real_dtype in (torch.float64, torch.float32):
        tol = tolerance(real_dtype)
        for op, args, positions in table_cases(real_dtype):
            want_out, want_grads = run(op, args, positions)
            for make_strided in (False, True):
                got_out, got_grads = run(op, to_device(args, DEVICE, make_strided), positions)
                errs = [max_diff(a, b) for a, b in zip(got_out, want_out)]
                errs += [max_diff(a, b) for a, b in zip(got_grads, want_grads)]
                if max(errs) > tol:
                    failures.append("{} {} strided={}: max error {:.3g}".format(op, real_dtype, make_strided,
                                                                                 max(errs)))
    assert not failures, "\n".join(failures)


def test_backward_is_deterministic():
    """The same inputs give the same bits (the reductions have a fixed order)."""
    for op, args, positions in table_cases(torch.float64, seed=3):
        dev_args = to_device(args, DEVICE)
        first = run(op, dev_args, positions)
        second = run(op, dev_args, positions)
        for a, b in zip(first[0] + first[1], second[0] + second[1]):
            if a is not None:
                assert torch.equal(a, b), op


def test_gradcheck_on_device():
    for op, args, positions in table_cases(torch.float64, seed=7):
        dev_args = to_device(args, DEVICE)
        if op == "angle_tables":
            continue  # list arguments: covered by the comparison with the CPU

        def call(*inputs, args=dev_args, positions=positions, op=op):
            full = list(args)
            for k, v in zip(positions, inputs):
                full[k] = v
            return getattr(torch.ops.hqrn, op)(*full)

        inputs = tuple(dev_args[k].detach().clone().requires_grad_() for k in positions)
        assert torch.autograd.gradcheck(call, inputs, eps=1e-6, atol=1e-6, rtol=1e-5), op


def test_mixed_devices_are_refused():
    if DEVICE == "cpu":
        return  # one device only
    rho = torch.eye(4, dtype=torch.complex128).reshape(1, 4, 4) / 4
    theta = torch.zeros(2, dtype=torch.float64)
    for rho_dev, theta_dev in ((DEVICE, "cpu"), ("cpu", DEVICE)):
        try:
            torch.ops.hqrn.qrb_step(rho.to(rho_dev), theta.to(theta_dev), theta.to(theta_dev), 0)
        except RuntimeError as e:
            assert "one device" in str(e), str(e)
        else:
            raise AssertionError("qrb_step with rho on {} and theta on {} did not raise".format(rho_dev, theta_dev))


def model_outputs(config, x, device, execution, mode=None):
    import hqrn
    torch.manual_seed(21)
    model = hqrn.HQRN(config).to(device)
    logits = model(x.to(device), mode, execution)
    loss = (logits * torch.linspace(-1, 1, logits.numel(), dtype=logits.dtype,
                                    device=logits.device).reshape(logits.shape)).sum()
    loss.backward()
    return logits.detach().cpu(), {n: p.grad.detach().cpu() for n, p in model.named_parameters() if p.grad is not None}


def random_states(batch, n, seed):
    gen = torch.Generator().manual_seed(seed)
    d = 2 ** n
    g = torch.randn(batch, d, d, dtype=torch.complex128, generator=gen)
    rho = g @ g.conj().transpose(1, 2)
    return rho / rho.diagonal(dim1=1, dim2=2).real.sum(-1).reshape(batch, 1, 1)


def test_model_parity():
    import hqrn
    configs = [hqrn.NetworkConfig(data_qubits=2, ancillas=1, branches=2, readout="mlp"),
               hqrn.NetworkConfig(data_qubits=2, ancillas=1, blocks=2, branches=2, readout="mlp", init_std=0.8,
                                  noise=hqrn.NoiseModel.parse("depolarizing=0.02,amplitude_damping=0.05"))]
    x = random_states(6, 2, 17)
    failures = []
    for k, config in enumerate(configs):
        for execution in ("aware", "dense"):
            want = model_outputs(config, x, "cpu", execution)
            try:
                got = model_outputs(config, x, DEVICE, execution)
            except RuntimeError as e:
                failures.append("config {} {}: {}".format(k, execution, str(e).splitlines()[0]))
                continue
            errs = [max_diff(got[0], want[0])] + [max_diff(got[1][n], want[1][n]) for n in want[1]]
            assert set(got[1]) == set(want[1]), (sorted(got[1]), sorted(want[1]))
            if max(errs) > 1e-12:
                failures.append("config {} {}: max error {:.3g}".format(k, execution, max(errs)))
    assert not failures, "\n".join(failures)


def test_trained_on_the_device_evaluated_on_the_cpu():
    """A few training steps on the device (torch.optim.Adam, noise, the default execution), the
    checkpoint written from the device, read back on the CPU and onto the device again: equal
    logits everywhere, and the device's training equal to the CPU's; shot sampling on the device
    with a CPU generator equal to the CPU's."""
    import tempfile

    import hqrn
    config = hqrn.NetworkConfig(data_qubits=2, ancillas=1, blocks=2, branches=3, readout="mlp", init_std=0.8,
                                noise=hqrn.NoiseModel.parse("depolarizing=0.02"))
    x = random_states(8, 2, 23)
    y = torch.tensor([0, 1] * 4)
    trained = {}
    for device in ("cpu", DEVICE):
        torch.manual_seed(5)
        model = hqrn.HQRN(config).to(device)
        optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
        for _ in range(4):
            optimizer.zero_grad(set_to_none=True)
            torch.nn.functional.cross_entropy(model(x.to(device)), y.to(device)).backward()
            optimizer.step()
        trained[device] = model
    on_device = trained[DEVICE]
    assert all(p.device.type == torch.device(DEVICE).type for p in on_device.parameters())
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "trained.safetensors")
        hqrn.save(on_device, path)
        on_cpu = hqrn.load(path)
        back = hqrn.load(path).to(DEVICE)
    with torch.no_grad():
        want = on_device(x.to(DEVICE)).cpu()
        assert max_diff(on_cpu(x), want) < 1e-12
        assert max_diff(back(x.to(DEVICE)), want) < 1e-12
        assert max_diff(trained["cpu"](x), want) < 1e-10  # four Adam steps of 1e-12 differences
        shots = [model(x.to(device)) for model, device in ((on_cpu, "cpu"), (on_device, DEVICE))]
        sampled = [m.forward_sampled(x.to(d), 100, torch.Generator().manual_seed(3)).cpu()
                   for m, d in ((on_cpu, "cpu"), (on_device, DEVICE))]
    assert max_diff(shots[0], shots[1].cpu()) < 1e-12
    assert max_diff(sampled[0], sampled[1]) < 1e-12


def main():
    global DEVICE
    args = [a for a in sys.argv[1:] if a != "--device" and a not in ("cpu", "cuda")]
    if "--device" in sys.argv[1:]:
        DEVICE = sys.argv[sys.argv.index("--device") + 1]
    package = args[0] if args else "-"
    if package != "-":
        sys.path.insert(0, package)
    sys.path.insert(0, HERE)
    import hqrn  # noqa: F401  (the operators with their autograd)
    from python_test_support import run_functions
    tests = [f for name, f in globals().items() if name.startswith("test_") and callable(f)]
    if DEVICE == "cuda":
        reason = None
        if not torch.cuda.is_available():
            reason = "no CUDA device (torch {} built with CUDA {})".format(torch.__version__, torch.version.cuda)
        if reason is not None:
            for test in tests:
                print("skip", test.__name__, "-", reason)
            print("0 passed, 0 failed, {} skipped".format(len(tests)))
            return SKIP
        if not torch._C._dispatch_has_kernel_for_dispatch_key("hqrn::qrb_step", "CUDA"):
            print("the hqrn library in {} has no CUDA kernels (built with HQRN_CUDA=OFF or without nvcc)".format(
                os.path.dirname(hqrn.__file__)))
            print("0 passed, 1 failed")
            return 1
    torch.set_num_threads(2)
    return run_functions(tests)


if __name__ == "__main__":
    sys.exit(main())
