"""The operators and models under PyTorch 2's tracing and transforms.

- torch.library.opcheck (schema, autograd registration, fake tensor, AOT
  dispatch static and dynamic) on every row of tests/op_cases.json, in
  complex64/float32 and complex128/float64, inputs requiring grad;
- torch.compile(fullgraph=True) of HQRN and ClassicalResNet, forward and
  backward: logits and every parameter's gradient equal eager to 1e-12 (float64);
  a short training loop compiled end to end equals eager;
- torch.func grad, vjp, jacrev and vmap over the operators and a model, against
  autograd and a Python loop.

Usage: test_torch2.py PACKAGE_DIR (a folder holding the hqrn package, e.g.
build/python, or '-' for the installed one). Under a torch without
torch.library.opcheck it reports every test skipped and exits 77 (CTest's
SKIP_RETURN_CODE). The last line is 'N passed, N failed'.
"""

import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
TABLE = os.path.join(HERE, "op_cases.json")
SKIP = 77
TOL = 1e-12


def table_cases():
    with open(TABLE) as f:
        return json.load(f)["cases"]


def opcheck_cases(real_dtype, seed):
    """(op name, args) of every row of the table, in real_dtype, the differentiated
    inputs requiring grad; plus angle_tables, whose list arguments the table does not
    describe (tests/test_angle_tables.cpp has its own cases)."""
    import test_ops  # the table's argument builder
    cases = table_cases()
    assert cases, "no cases in " + TABLE
    for case in cases:
        gen = torch.Generator().manual_seed(seed)
        args = [test_ops.cast(test_ops.make_arg(spec, gen), real_dtype) for spec in case["args"]]
        for k in case["grad"]:
            args[k] = args[k].detach().requires_grad_()
        yield case["op"], args
    gen = torch.Generator().manual_seed(seed)
    weights = [torch.randn(3, 3, dtype=real_dtype, generator=gen).requires_grad_() for _ in range(2)]
    biases = [torch.randn(3, dtype=real_dtype, generator=gen).requires_grad_() for _ in range(2)]
    yield "angle_tables", [weights, biases]


def test_opcheck_table():
    """Every row, both precisions; a failing row names itself and opcheck's failing test."""
    failures = []
    for real_dtype in (torch.float32, torch.float64):
        for name, args in opcheck_cases(real_dtype, 7):
            result = torch.library.opcheck(getattr(torch.ops.hqrn, name).default, tuple(args),
                                           raise_exception=False)
            bad = {test: r for test, r in result.items() if r != "SUCCESS"}
            if bad:
                failures.append("{} {}: {}".format(name, real_dtype, bad))
    assert not failures, "opcheck failed:\n" + "\n".join(failures)


def test_meta_kernels_without_the_package():
    """torch.ops.load_library alone (no import hqrn): the C++ Meta kernels (each operator's
    validation plus empty outputs) give FakeTensor tracing its shapes, so opcheck's schema,
    fake-tensor and static AOT tests pass on every row, inputs not requiring grad (autograd
    comes with the package on torch 2.x)."""
    import subprocess
    import hqrn
    library = hqrn.library_path()
    code = r"""
import sys, torch
sys.path.insert(0, {here!r})
torch.ops.load_library({library!r})
import test_torch2
assert "hqrn" not in sys.modules and "hqrn._registrations" not in sys.modules
failures = []
for real_dtype in (torch.float32, torch.float64):
    for name, args in test_torch2.opcheck_cases(real_dtype, 7):
        args = tuple(test_torch2.detached(a) for a in args)
        result = torch.library.opcheck(getattr(torch.ops.hqrn, name).default, args, raise_exception=False,
                                       test_utils=("test_schema", "test_faketensor", "test_aot_dispatch_static"))
        bad = {{k: r for k, r in result.items() if r != "SUCCESS"}}
        if bad:
            failures.append("{{}} {{}}: {{}}".format(name, real_dtype, bad))
print("\n".join(failures) or "all passed")
sys.exit(1 if failures else 0)
""".format(here=HERE, library=library)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def registered_ops():
    return sorted(n for n in torch._C._dispatch_get_all_op_names() if n.startswith("hqrn::"))


def test_every_registered_op_has_a_fake_kernel_and_autograd():
    """Forward and backward operators alike (a new op without them fails here)."""
    names = registered_ops()
    assert len(names) >= 23, "expected the forward and backward operators, found {}".format(names)
    for key in ("Meta", "Autograd"):
        missing = [n for n in names if not torch._C._dispatch_has_kernel_for_dispatch_key(n, key)]
        assert not missing, "no {} kernel: {}".format(key, missing)


def differentiable_ops():
    """The forward operators with autograd: those with a backward operator, and dephase (its own adjoint)."""
    names = [n[len("hqrn::"):] for n in registered_ops()]
    return sorted(n for n in names if "_{}_backward".format(n) in names or n == "dephase")


def test_eager_operators_equal_the_traceable_ones():
    """hqrn_eager::<op>, the C++ autograd kernels that the model layer calls in eager code, is
    hqrn::<op> with the autograd registered from Python: one for every differentiable operator,
    with its schema; the same outputs and input gradients, bit for bit, on every row in both
    precisions; double backward refused. The model layer picks it only in eager code with
    autograd: torch.ops.hqrn in inference mode, inside torch.func and under torch.compile."""
    from hqrn._library import operators
    expected = differentiable_ops()
    eager = sorted(n[len("hqrn_eager::"):] for n in torch._C._dispatch_get_all_op_names()
                   if n.startswith("hqrn_eager::"))
    assert eager == expected, "hqrn_eager has {}, expected {}".format(eager, expected)
    for name in expected:
        ours = str(getattr(torch.ops.hqrn_eager, name).default._schema)
        theirs = str(getattr(torch.ops.hqrn, name).default._schema)
        assert ours == theirs.replace("hqrn::", "hqrn_eager::", 1), (ours, theirs)
    failures = []
    for real_dtype in (torch.float32, torch.float64):
        for name, args in opcheck_cases(real_dtype, 11):
            flat = [t for a in args for t in (a if isinstance(a, list) else [a])]
            inputs = [t for t in flat if isinstance(t, torch.Tensor) and t.requires_grad]
            results = []
            for namespace in (torch.ops.hqrn, torch.ops.hqrn_eager):
                out = getattr(namespace, name)(*args)
                cotangent = torch.randn(out.shape, dtype=out.dtype, generator=torch.Generator().manual_seed(3))
                results.append([out] + list(torch.autograd.grad(out, inputs, cotangent)))
            if not all(torch.equal(a, b) for a, b in zip(*results)):
                failures.append("{} {}".format(name, real_dtype))
            if name == "dephase":
                continue  # its backward is dephase itself, differentiable to any order
            # Refused when the graph of the gradient is built, as in C++ programs (the Python glue
            # refuses when the second derivative is taken: tests/test_ops.py accepts either).
            out = getattr(torch.ops.hqrn_eager, name)(*args)
            try:
                torch.autograd.grad(out.abs().sum(), inputs[0], create_graph=True)
                failures.append("{}: double backward was not refused".format(name))
            except RuntimeError as e:
                if "double backward is not supported" not in str(e):
                    failures.append("{}: double backward refused with {}".format(name, e))
    assert not failures, "hqrn_eager differs from hqrn:\n" + "\n".join(failures)

    assert operators() is torch.ops.hqrn_eager
    with torch.inference_mode():
        assert operators() is torch.ops.hqrn
    seen = []
    torch.func.grad(lambda t: seen.append(operators()) or (t * t).sum())(torch.ones(2))
    assert seen == [torch.ops.hqrn], seen
    picks_traceable = torch.compile(lambda t: t + 1 if operators() is torch.ops.hqrn else t - 1, fullgraph=True)
    assert picks_traceable(torch.zeros(1)).item() == 1


def detached(x):
    if isinstance(x, list):
        return [detached(a) for a in x]
    return x.detach() if isinstance(x, torch.Tensor) else x


def backward_args(case_op, args, grad):
    """The backward operator's arguments for a forward call: (grad, *inputs) for most;
    the schemas of the others (torch_ext/*/<op>.cpp) need less."""
    if case_op == "embed_ancillas":
        return (grad, args[1])
    if case_op == "partial_trace":
        return (grad, args[1], args[0].shape[1].bit_length() - 1)
    if case_op in ("probs", "angle_tables"):
        return (grad,)
    return (grad,) + tuple(args)


def test_opcheck_backward_operators():
    """opcheck on each backward operator, called as the forward's autograd calls it."""
    failures = []
    checked = set()
    for real_dtype in (torch.float32, torch.float64):
        for name, args in opcheck_cases(real_dtype, 8):
            backward = "_{}_backward".format(name)
            if not hasattr(torch.ops.hqrn, backward):  # dephase is its own adjoint
                continue
            args = [detached(x) for x in args]
            out = getattr(torch.ops.hqrn, name)(*args)
            grad = torch.randn(out.shape, dtype=out.dtype)
            result = torch.library.opcheck(getattr(torch.ops.hqrn, backward).default,
                                           backward_args(name, args, grad), raise_exception=False)
            bad = {test: r for test, r in result.items() if r != "SUCCESS"}
            if bad:
                failures.append("{} {}: {}".format(backward, real_dtype, bad))
            checked.add(backward)
    expected = {n.split("::")[1] for n in registered_ops() if n.endswith("_backward")}
    assert checked == expected, "backward operators never checked: {}".format(expected - checked)
    assert not failures, "opcheck failed:\n" + "\n".join(failures)


def test_bad_input_fails_alike_eager_and_compiled():
    """A bad call traced by torch.compile fails with the eager (C++) message, whether the
    fake kernel or the real kernel is the first to see it."""
    c128, f64 = torch.complex128, torch.float64
    rho = torch.eye(4, dtype=c128)[None] / 4
    cases = [
        ("qrb_step, 3 angles for 2 qubits", lambda: torch.ops.hqrn.qrb_step(rho, torch.zeros(3, dtype=f64),
                                                                            torch.zeros(3, dtype=f64), 0)),
        ("aware_step on 3-d blocks", lambda: torch.ops.hqrn.aware_step(torch.zeros(2, 2, 3, dtype=c128),
                                                                       torch.zeros(2, dtype=f64),
                                                                       torch.zeros(2, dtype=f64), 0, [])),
        ("probs of a vector batch", lambda: torch.ops.hqrn.probs(torch.zeros(2, 4, dtype=c128))),
        ("partial_trace of a vector batch", lambda: torch.ops.hqrn.partial_trace(torch.zeros(2, 4, dtype=c128), [0])),
        ("dephase, target out of range", lambda: torch.ops.hqrn.dephase(rho, 5)),
        ("angle_tables of a non-square matrix", lambda: torch.ops.hqrn.angle_tables([torch.zeros(2, 3, dtype=f64)],
                                                                                    [torch.zeros(2, dtype=f64)])),
    ]
    failures = []
    for label, call in cases:
        try:
            call()
        except RuntimeError as e:
            eager = str(e).splitlines()[0]
        else:
            failures.append("{}: eager call did not fail".format(label))
            continue
        torch._dynamo.reset()
        try:
            torch.compile(call, fullgraph=True)()
        except Exception as e:  # dynamo wraps a fake kernel's error in its own type
            if eager not in str(e):
                failures.append("{}: compiled error {!r} lacks {!r}".format(label, str(e)[:300], eager))
        else:
            failures.append("{}: compiled call did not fail".format(label))
    assert not failures, "\n".join(failures)


# ---- models under torch.compile ----

def model_cases():
    import hqrn
    noise = hqrn.NoiseModel(channels=[hqrn.NoiseChannel("depolarizing", 0.02),
                                      hqrn.NoiseChannel("amplitude_damping", 0.05)], readout=0.03)
    base = dict(data_qubits=2, classes=2)
    yield "hqrn aware mlp 3 branches", hqrn.HQRN, dict(base, branches=3, readout="mlp"), "quantum", "aware"
    yield "hqrn dense ancillas 2 blocks linear", hqrn.HQRN, dict(base, ancillas=1, blocks=2), "quantum", "dense"
    yield "hqrn aware ancillas noise born", hqrn.HQRN, dict(base, ancillas=1, branches=2, readout="born",
                                                              noise=noise), "quantum", "aware"
    yield "hqrn dense noise mlp", hqrn.HQRN, dict(base, branches=2, readout="mlp", noise=noise), "quantum", "dense"
    yield "hqrn classical mode", hqrn.HQRN, dict(base, ancillas=1, blocks=2), "classical", "aware"
    yield "classical resnet features", hqrn.ClassicalResNet, dict(data_qubits=3, features=4, classes=3, branches=2,
                                                                  readout="mlp"), "classical", "aware"


def random_states(batch, qubits, gen):
    d = 1 << qubits
    g = torch.randn(batch, d, d, dtype=torch.complex128, generator=gen)
    rho = g @ g.conj().transpose(1, 2)
    return rho / rho.diagonal(dim1=1, dim2=2).real.sum(-1).reshape(batch, 1, 1)


def model_input(config, gen, batch=5):
    if config.features:
        return torch.rand(batch, config.features, dtype=torch.float64, generator=gen)
    return random_states(batch, config.data_qubits, gen)


def loss_and_grads(model, forward, x, y):
    model.zero_grad(set_to_none=True)
    logits = forward(x)
    torch.nn.functional.cross_entropy(logits, y).backward()
    # None where the mode reads no parameter (V and a in classical mode).
    return logits.detach(), {n: None if p.grad is None else p.grad.clone() for n, p in model.named_parameters()}


def max_difference(a, b):
    """Largest entry-wise difference of two gradient dicts; inf where one has a gradient the other lacks."""
    worst = 0.0
    for name in a:
        if (a[name] is None) != (b[name] is None):
            return float("inf")
        if a[name] is not None:
            worst = max(worst, (a[name] - b[name]).abs().max().item())
    return worst


def test_compile_models_equal_eager():
    import hqrn
    failures = []
    for label, cls, fields, mode, execution in model_cases():
        torch.manual_seed(3)
        config = hqrn.NetworkConfig(**fields)
        model = cls(config)
        gen = torch.Generator().manual_seed(5)
        x = model_input(config, gen)
        y = torch.randint(0, config.classes, (x.shape[0],), generator=gen)
        torch._dynamo.reset()
        eager = loss_and_grads(model, lambda t: model(t, mode=mode, execution=execution), x, y)
        compiled_forward = torch.compile(lambda t: model(t, mode=mode, execution=execution), fullgraph=True)
        compiled = loss_and_grads(model, compiled_forward, x, y)
        err = (eager[0] - compiled[0]).abs().max().item()
        grad_err = max_difference(eager[1], compiled[1])
        if err > TOL or grad_err > TOL:
            failures.append("{}: logits {:.1e}, gradients {:.1e}".format(label, err, grad_err))
    assert not failures, "compiled != eager:\n" + "\n".join(failures)


def test_compiled_training_loop_equals_eager():
    """A few Adam steps with the model compiled (fullgraph, forward and backward) equal eager
    to 1e-12. The optimizer stays eager: compiling Adam's update too moves the parameters
    by about 1e-7 at float64 (inductor's update arithmetic), which says nothing about HQRN."""
    import hqrn
    config = hqrn.NetworkConfig(data_qubits=2, ancillas=1, branches=2, readout="mlp")
    gen = torch.Generator().manual_seed(9)
    x = random_states(16, 2, gen)
    y = torch.randint(0, 2, (16,), generator=gen)

    def train(compiled):
        torch.manual_seed(4)
        model = hqrn.HQRN(config)
        forward = torch.compile(model, fullgraph=True) if compiled else model
        opt = torch.optim.Adam(model.parameters(), lr=0.05)
        losses = []
        for b in range(0, 16, 4):
            opt.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(forward(x[b:b + 4]), y[b:b + 4])
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return losses, [p.detach().clone() for p in model.parameters()]

    torch._dynamo.reset()
    eager_losses, eager_params = train(False)
    compiled_losses, compiled_params = train(True)
    assert max(abs(a - b) for a, b in zip(eager_losses, compiled_losses)) < TOL, (eager_losses, compiled_losses)
    assert max((a - b).abs().max().item() for a, b in zip(eager_params, compiled_params)) < TOL


# ---- torch.func ----

def test_func_over_operators():
    from torch.func import grad, jacrev, vjp, vmap
    gen = torch.Generator().manual_seed(11)
    rho = random_states(3, 3, gen)
    theta = torch.rand(3, 4, dtype=torch.float64, generator=gen)
    phi = torch.rand(3, 4, dtype=torch.float64, generator=gen)

    def loss(t, r=rho, p=phi):
        return torch.ops.hqrn.probs(torch.ops.hqrn.qrb_step(r, t, p, 1, True)).pow(2).sum()

    t = theta.clone().requires_grad_()
    (expected,) = torch.autograd.grad(loss(t), t)
    assert (grad(loss)(theta) - expected).abs().max().item() < TOL

    out, pullback = vjp(lambda r: torch.ops.hqrn.qrb_step(r, theta, phi, 2, True), rho)
    cot = torch.randn(out.shape, dtype=out.dtype, generator=gen)
    r = rho.clone().requires_grad_()
    (expected,) = torch.autograd.grad(torch.ops.hqrn.qrb_step(r, theta, phi, 2, True), r, cot)
    assert (pullback(cot)[0] - expected).abs().max().item() < TOL

    # Jacobian of the readout probabilities in the angle table of one sample.
    def probs_of(t):
        return torch.ops.hqrn.probs(torch.ops.hqrn.qrb_step(rho[:1], t.unsqueeze(0), phi[:1], 0, True))[0]

    jac = jacrev(probs_of)(theta[0])
    rows = []
    for i in range(probs_of(theta[0]).shape[0]):
        t = theta[0].clone().requires_grad_()
        rows.append(torch.autograd.grad(probs_of(t)[i], t)[0])
    assert (jac - torch.stack(rows)).abs().max().item() < TOL

    # vmap over an extra leading dimension equals a loop.
    stacked = torch.stack([rho, rho.flip(0)])
    mapped = vmap(lambda r: torch.ops.hqrn.qrb_step(r, theta, phi, 0, True))(stacked)
    looped = torch.stack([torch.ops.hqrn.qrb_step(r, theta, phi, 0, True) for r in stacked])
    assert (mapped - looped).abs().max().item() < TOL


def test_vmap_table():
    """vmap over a leading dimension of each row's state (the dimension folded into the
    operator's batch) and of its tables (run slice by slice), forward and vjp, against a
    Python loop; both precisions of the table's inputs are complex128/float64 here."""
    import test_ops
    from torch.func import vjp, vmap
    failures = []
    for case in table_cases():
        op = getattr(torch.ops.hqrn, case["op"])
        gen = torch.Generator().manual_seed(12)
        base = [test_ops.make_arg(spec, gen) for spec in case["args"]]
        tensors = [k for k, a in enumerate(base) if isinstance(a, torch.Tensor)]
        for mapped in ([tensors[0]], tensors):  # the state alone; every tensor
            # A second slice: the state perturbed, other tensors scaled (which keeps the
            # zeros aware_apply_kraus requires of its Kraus operators).
            noise = {k: 0.1 * torch.randn(base[k].shape, dtype=base[k].dtype, generator=gen) for k in mapped}
            stacks = {k: torch.stack([base[k], base[k] + noise[k] if k == tensors[0] else base[k] * 0.7])
                      for k in mapped}

            def call(*tensor_args):
                full = list(base)
                for k, a in zip(tensors, tensor_args):
                    full[k] = a
                return op(*full)

            # Every tensor argument goes in; the unmapped ones with in_dim None.
            in_dims = tuple(0 if k in mapped else None for k in tensors)
            inputs = [stacks[k] if k in mapped else base[k] for k in tensors]

            def slice_of(i):
                return [stacks[k][i] if k in mapped else base[k] for k in tensors]

            got = vmap(call, in_dims=in_dims)(*inputs)
            want = torch.stack([call(*slice_of(i)) for i in range(2)])
            err = (got - want).abs().max().item()
            # Pullbacks of a random cotangent into every tensor argument, mapped or not
            # (an unmapped table gets one gradient per slice), through the backward
            # operators' vmap rules.
            cot = torch.randn(got.shape, dtype=got.dtype, generator=gen)

            def pullback(cot_i, *tensor_args):
                return vjp(call, *tensor_args)[1](cot_i)

            grads = vmap(pullback, in_dims=(0,) + in_dims)(cot, *inputs)
            looped = [pullback(cot[i], *slice_of(i)) for i in range(2)]
            for j in range(len(tensors)):
                err = max(err, (grads[j] - torch.stack([looped[i][j] for i in range(2)])).abs().max().item())
            if err > TOL:
                failures.append("{} {} mapping {}: {:.1e}".format(case["op"], case["args"], mapped, err))
    assert not failures, "\n".join(failures)


def test_func_per_sample_gradients_of_a_model():
    """The researcher's use: per-sample gradients with functional_call + vmap(grad)."""
    import hqrn
    from torch.func import functional_call, grad, vmap
    torch.manual_seed(6)
    model = hqrn.HQRN(hqrn.NetworkConfig(data_qubits=2, branches=2, readout="mlp"))
    params = {k: v.detach() for k, v in model.named_parameters()}
    gen = torch.Generator().manual_seed(2)
    x = random_states(4, 2, gen)
    y = torch.randint(0, 2, (4,), generator=gen)

    def sample_loss(p, xi, yi):
        logits = functional_call(model, p, (xi.unsqueeze(0),))
        return torch.nn.functional.cross_entropy(logits, yi.unsqueeze(0))

    per_sample = vmap(grad(sample_loss), in_dims=(None, 0, 0))(params, x, y)
    for i in range(x.shape[0]):
        model.zero_grad(set_to_none=True)
        sample_loss(dict(model.named_parameters()), x[i], y[i]).backward()
        for name, p in model.named_parameters():
            err = (per_sample[name][i] - p.grad).abs().max().item()
            assert err < TOL, "sample {} {}: {:.1e}".format(i, name, err)


def main():
    sys.path.insert(0, HERE)
    package_dir = sys.argv[1] if len(sys.argv) > 1 else "-"
    if package_dir != "-":
        sys.path.insert(0, package_dir)
    tests = [f for name, f in globals().items() if name.startswith("test_") and callable(f)]
    if not hasattr(torch.library, "opcheck") or not hasattr(torch.library, "register_autograd"):
        print("torch {} has no torch.library.opcheck/register_autograd: {} tests skipped".format(
            torch.__version__, len(tests)))
        print("0 passed, 0 failed, {} skipped".format(len(tests)))
        return SKIP
    import hqrn  # noqa: F401  (loads the operators with their fake kernels and autograd)
    torch.set_num_threads(2)
    from python_test_support import run_functions
    return run_functions(tests)


if __name__ == "__main__":
    sys.exit(main())
