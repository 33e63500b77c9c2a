"""Python-side checks of the hqrn operator library.

Loads the shared library with torch.ops.load_library, runs
torch.autograd.gradcheck on every case of tests/op_cases.json (the operator
table the C++ tests share) in complex128/float64, and compares qrb_step and
apply_kraus with NumPy formulas written here from their definitions
(docs/operators.md). Usage: test_ops.py PATH_TO_LIBHQRN_OPS (or HQRN_OPS_LIBRARY).
Exits non-zero on any failure; the last line is 'N passed, N failed'.
"""

import json
import math
import os
import sys

import numpy as np
import torch

from python_test_support import run_functions

C128 = torch.complex128
F64 = torch.float64


def random_density(batch, n, gen):
    d = 2 ** n
    g = torch.randn(batch, d, d, dtype=C128, generator=gen)
    rho = g @ g.conj().transpose(1, 2)
    return rho / rho.diagonal(dim1=1, dim2=2).real.sum(-1).reshape(batch, 1, 1)


def random_matrix(batch, n, gen):
    d = 2 ** n
    return torch.randn(batch, d, d, dtype=C128, generator=gen) / d


def angles(shape, gen):
    return (torch.rand(*shape, dtype=F64, generator=gen) * 2 - 1) * math.pi


def numpy_qrb_step(rho, theta, phi, target, dephase):
    """S_j(rho) from its definition (docs/model.md), entry by entry: U[x, y] is nonzero only
    when x and y agree off the target, where it is R(theta[c], phi[c]) at
    (x_j, y_j); c lists the other qubits' bits (qubit 0 first)."""
    batch, d, _ = rho.shape
    n = d.bit_length() - 1
    out = np.zeros_like(rho)
    for b in range(batch):
        th = theta[b] if theta.ndim == 2 else theta
        ph = phi[b] if phi.ndim == 2 else phi
        u = np.zeros((d, d), dtype=complex)
        for x in range(d):
            xb = format(x, "0{}b".format(n))
            for y in range(d):
                yb = format(y, "0{}b".format(n))
                others_x = xb[:target] + xb[target + 1:]
                others_y = yb[:target] + yb[target + 1:]
                if others_x != others_y:
                    continue
                c = int(others_x, 2) if others_x else 0
                t, p = th[c], ph[c]
                r = np.array([[math.cos(t / 2), -np.exp(1j * p) * math.sin(t / 2)],
                              [np.exp(-1j * p) * math.sin(t / 2), math.cos(t / 2)]])
                u[x, y] = r[int(xb[target]), int(yb[target])]
        s = u @ rho[b] @ u.conj().T
        if dephase:
            for x in range(d):
                for y in range(d):
                    if format(x, "0{}b".format(n))[target] != format(y, "0{}b".format(n))[target]:
                        s[x, y] = 0
        out[b] = s
    return out


def check_gradcheck(name, fn, inputs):
    ok = torch.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-6, rtol=1e-5, raise_exception=True)
    assert ok, name


TABLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "op_cases.json")


def cast(arg, real_dtype):
    """A make_arg argument in another precision: complex ones to the complex dtype of real_dtype."""
    if not isinstance(arg, torch.Tensor):
        return arg
    if arg.is_complex():
        return arg.to(torch.complex64 if real_dtype == torch.float32 else torch.complex128)
    return arg.to(real_dtype)


def make_arg(spec, gen):
    """One argument of an op_cases.json row, in complex128/float64 (the kinds
    are described in the table's "about")."""
    kind, rest = spec[0], spec[1:]
    if kind == "matrix":
        return random_matrix(2, rest[0], gen)
    if kind == "density":
        return random_density(2, rest[0], gen)
    if kind == "probabilities":
        return torch.rand(2, 2 ** rest[0], dtype=F64, generator=gen)
    if kind == "angles":
        return angles((2 ** (rest[0] - 1),), gen)
    if kind == "sample_angles":
        return angles((2, 2 ** (rest[0] - 1)), gen)
    if kind == "grouped_angles":
        return angles((rest[0], 2 ** (rest[1] - 1)), gen)
    if kind == "angle_tables":
        return angles((rest[0], 2 ** (rest[0] - 1)), gen)
    if kind in ("gate", "sample_gate"):
        dim = 2 ** rest[0]
        shape = (dim, dim) if kind == "gate" else (2, dim, dim)
        return torch.randn(*shape, dtype=C128, generator=gen) / dim
    if kind in ("kraus", "sample_kraus"):
        dim = 2 ** rest[1]
        shape = (rest[0], dim, dim) if kind == "kraus" else (2, rest[0], dim, dim)
        return torch.randn(*shape, dtype=C128, generator=gen) / dim
    if kind == "damping":
        g = 0.3
        return torch.tensor([[[1, 0], [0, math.sqrt(1 - g)]], [[0, math.sqrt(g)], [0, 0]]], dtype=C128)
    if kind == "blocks":
        m = 2 ** rest[1]
        return torch.randn(2, 2 ** rest[0], m, m, dtype=C128, generator=gen) / m
    if kind == "vectors":
        d = 2 ** rest[1]
        return torch.randn(2, rest[0], d, dtype=C128, generator=gen) / math.sqrt(d)
    if kind in ("int", "ints", "bool"):
        return rest[0]
    raise ValueError("op_cases.json: unknown argument kind {!r}".format(kind))


def test_gradcheck_table(gen):
    """torch.autograd.gradcheck on every row of tests/op_cases.json (the
    table the C++ op tests run too), in the inputs the row lists."""
    with open(TABLE) as f:
        cases = json.load(f)["cases"]
    assert cases, "no cases in " + TABLE
    for case in cases:
        op = getattr(torch.ops.hqrn, case["op"])
        args = [make_arg(spec, gen) for spec in case["args"]]
        wrt = case["grad"]

        def call(*grad_inputs, args=args, wrt=wrt, op=op):
            full = list(args)
            for position, value in zip(wrt, grad_inputs):
                full[position] = value
            return op(*full)

        inputs = tuple(args[k].clone().requires_grad_() for k in wrt)
        label = "{} {}".format(case["op"], case["args"])
        check_gradcheck(label, call, inputs)
        if case.get("double_backward", False):
            assert torch.autograd.gradgradcheck(call, inputs, eps=1e-6, atol=1e-6, rtol=1e-5), label
        else:
            # Refused when the graph is built (C++ autograd kernels) or when the
            # second derivative is taken (Python registrations, torch >= 2.4).
            try:
                first = torch.autograd.grad(call(*inputs).abs().sum(), inputs, create_graph=True)
                torch.autograd.grad(sum(g.abs().sum() for g in first), inputs, allow_unused=True)
            except RuntimeError as e:
                assert "double backward is not supported" in str(e), label + ": " + str(e)
            else:
                raise AssertionError(label + ": double backward was not refused")


def test_aware_step_matches_qrb_step(gen):
    """Blocks of the coherence-aware layout, cut from a dense state with
    NumPy-side index arithmetic; stepping them equals qrb_step on the dense
    state, and the op passes gradcheck."""
    ops = torch.ops.hqrn

    def basis_index(n, diagonal):
        coherent = [q for q in range(n) if q not in diagonal]
        x = np.zeros((2 ** len(diagonal), 2 ** len(coherent)), dtype=np.int64)
        for a in range(x.shape[0]):
            for r in range(x.shape[1]):
                bits = {q: (a >> (len(diagonal) - 1 - i)) & 1 for i, q in enumerate(diagonal)}
                bits.update({q: (r >> (len(coherent) - 1 - i)) & 1 for i, q in enumerate(coherent)})
                x[a, r] = sum(bits[q] << (n - 1 - q) for q in range(n))
        return torch.from_numpy(x)

    def cut(rho, diagonal):
        x = basis_index(rho.shape[1].bit_length() - 1, diagonal)
        return rho[:, x[:, :, None], x[:, None, :]]

    for n in (1, 2, 3):
        half = 2 ** (n - 1)
        for diagonal in ([], [0], [n - 1], list(range(n))):
            for target in range(n):
                rho = random_density(2, n, gen)
                for q in diagonal:
                    rho = ops.dephase(rho, q)
                theta, phi = angles((half,), gen), angles((half,), gen)
                grown = sorted(set(diagonal) | {target})
                want = cut(ops.qrb_step(rho, theta, phi, target), grown)
                got = ops.aware_step(cut(rho, diagonal), theta, phi, target, diagonal)
                assert got.shape == want.shape, (got.shape, want.shape)
                err = (got - want).abs().max().item()
                assert err < 1e-12, "n={} D={} target={}: max error {}".format(n, diagonal, target, err)
                blocks = cut(random_matrix(2, n, gen), diagonal).requires_grad_()
                check_gradcheck("aware_step", lambda b, t, p: ops.aware_step(b, t, p, target, diagonal),
                                (blocks, theta.clone().requires_grad_(), phi.clone().requires_grad_()))


def test_qrb_step_matches_numpy(gen):
    ops = torch.ops.hqrn
    for n in (1, 2, 3):
        half = 2 ** (n - 1)
        for per_sample in (False, True):
            for target in range(n):
                for dephase in (False, True):
                    rho = random_density(3, n, gen)
                    shape = (3, half) if per_sample else (half,)
                    theta, phi = angles(shape, gen), angles(shape, gen)
                    got = ops.qrb_step(rho, theta, phi, target, dephase).numpy()
                    want = numpy_qrb_step(rho.numpy(), theta.numpy(), phi.numpy(), target, dephase)
                    err = np.abs(got - want).max()
                    assert err < 1e-12, "n={} target={} dephase={} per_sample={}: max error {}".format(
                        n, target, dephase, per_sample, err)
    # The schema's default is dephase=True.
    rho = random_density(2, 2, gen)
    theta, phi = angles((2,), gen), angles((2,), gen)
    want = numpy_qrb_step(rho.numpy(), theta.numpy(), phi.numpy(), 1, True)
    assert np.abs(ops.qrb_step(rho, theta, phi, 1).numpy() - want).max() < 1e-12


def numpy_apply_kraus(rho, kraus, targets):
    """sum_m K_m rho K_m^dagger from its definition, entry by entry: the full
    operator's entry [x, y] is K[a(x), a(y)] when x and y agree off the
    targets, a(x) reading x's bits on targets in the order listed (first =
    most significant)."""
    batch, d, _ = rho.shape
    n = d.bit_length() - 1
    k = len(targets)

    def bit(x, q):
        return (x >> (n - 1 - q)) & 1

    def sub(x):
        return sum(bit(x, t) << (k - 1 - i) for i, t in enumerate(targets))

    out = np.zeros_like(rho)
    for b in range(batch):
        ks = kraus[b] if kraus.ndim == 4 else kraus
        for km in ks:
            full = np.zeros((d, d), dtype=complex)
            for x in range(d):
                for y in range(d):
                    if all(bit(x, q) == bit(y, q) for q in range(n) if q not in targets):
                        full[x, y] = km[sub(x), sub(y)]
            out[b] += full @ rho[b] @ full.conj().T
    return out


def test_apply_kraus(gen):
    """apply_kraus against the NumPy formula and gradcheck in rho and kraus;
    aware_apply_kraus on a coherent target (gradcheck in both inputs) and on
    a diagonal one (a bit flip: gradcheck in the blocks)."""
    ops = torch.ops.hqrn
    for n, targets in ((1, [0]), (2, [1]), (2, [1, 0]), (3, [2, 0]), (3, [0, 2])):
        dim = 2 ** len(targets)
        for per_sample in (False, True):
            shape = (2, 3, dim, dim) if per_sample else (3, dim, dim)
            kraus = (torch.randn(*shape, dtype=C128, generator=gen) / dim).requires_grad_()
            rho = random_matrix(2, n, gen).requires_grad_()
            got = ops.apply_kraus(rho, kraus, targets).detach().numpy()
            want = numpy_apply_kraus(rho.detach().numpy(), kraus.detach().numpy(), targets)
            err = np.abs(got - want).max()
            assert err < 1e-12, "n={} targets={} per_sample={}: max error {}".format(n, targets, per_sample, err)
            check_gradcheck("apply_kraus", lambda r, k: ops.apply_kraus(r, k, targets), (rho, kraus))
    # Aware layout, n = 3, D = [1]: blocks [B, 2, 4, 4] over qubits 0, 2.
    blocks = torch.randn(2, 2, 4, 4, dtype=C128, generator=gen).requires_grad_()
    kraus = (torch.randn(2, 2, 2, dtype=C128, generator=gen) / 2).requires_grad_()
    check_gradcheck("aware_apply_kraus", lambda b, k: ops.aware_apply_kraus(b, k, [2], [1]), (blocks, kraus))
    p = 0.2
    flip = torch.tensor([[[1, 0], [0, 1]], [[0, 1], [1, 0]]], dtype=C128) * torch.tensor(
        [math.sqrt(1 - p), math.sqrt(p)], dtype=C128).reshape(2, 1, 1)
    g = 0.3
    damp = torch.tensor([[[1, 0], [0, math.sqrt(1 - g)]], [[0, math.sqrt(g)], [0, 0]]], dtype=C128)
    for channel in (flip, damp):
        check_gradcheck("aware_apply_kraus", lambda b: ops.aware_apply_kraus(b, channel, [1], [1]), (blocks,))
    # On a diagonal target a perturbed Kraus set may be refused, so its
    # gradient is checked against autograd through the formula
    # block a' = sum_b T[a'_1, b] block(b), T[x, b] = sum_m |K_m[x, b]|^2.
    weight = torch.randn(2, 2, 4, 4, dtype=C128, generator=gen)
    k_op = damp.clone().requires_grad_()
    k_ref = damp.clone().requires_grad_()
    (ops.aware_apply_kraus(blocks, k_op, [1], [1]) * weight.conj()).real.sum().backward()
    t = (k_ref.abs() ** 2).sum(0).to(C128)
    (torch.einsum("xb,zbrs->zxrs", t, blocks) * weight.conj()).real.sum().backward()
    err = (k_op.grad - k_ref.grad).abs().max().item()
    assert err < 1e-12, "aware_apply_kraus kraus gradient on a diagonal target: max error {}".format(err)
    # A bit flip on diagonal qubit 1 mixes block a with block a ^ 1.
    got = ops.aware_apply_kraus(blocks.detach(), flip, [1], [1])
    want = (1 - p) * blocks.detach() + p * blocks.detach().flip(1)
    assert (got - want).abs().max().item() < 1e-14
    try:
        hadamard = torch.tensor([[[1, 1], [1, -1]]], dtype=C128) / math.sqrt(2)
        ops.aware_apply_kraus(blocks.detach(), hadamard, [1], [1])
    except RuntimeError as e:
        assert "would create coherence on diagonal qubit 1" in str(e), str(e)
    else:
        raise AssertionError("a Hadamard on a diagonal qubit did not raise")


def test_angle_tables(gen):
    """angle_tables from Python (lists of tensors): the NumPy formula
    theta_j(c) = b_j + sum_{i != j} W_ji c_i, and gradcheck in every weight
    and bias."""
    ops = torch.ops.hqrn
    n, sets = 3, 2
    weights = [torch.randn(n, n, dtype=F64, generator=gen) for _ in range(sets)]
    biases = [torch.randn(n, dtype=F64, generator=gen) for _ in range(sets)]
    got = ops.angle_tables(weights, biases).numpy()
    assert got.shape == (n, sets, 2 ** (n - 1)), got.shape
    for j in range(n):
        others = [i for i in range(n) if i != j]
        for c in range(2 ** (n - 1)):
            bits = {i: (c >> (n - 2 - k)) & 1 for k, i in enumerate(others)}  # big-endian cidx
            for r in range(sets):
                w, b = weights[r].numpy(), biases[r].numpy()
                want = b[j] + sum(w[j, i] * bits[i] for i in others)
                assert abs(got[j, r, c] - want) < 1e-14, (j, r, c, got[j, r, c], want)
    inputs = tuple(t.clone().requires_grad_() for t in weights + biases)
    check_gradcheck("angle_tables", lambda *t: ops.angle_tables(list(t[:sets]), list(t[sets:])), inputs)
    try:
        ops.angle_tables([weights[0]], [torch.zeros(2, dtype=F64)])
    except RuntimeError as e:
        assert "biases[0]" in str(e), str(e)
    else:
        raise AssertionError("a 2-entry bias for 3 qubits did not raise")


def test_bad_input_raises_runtime_error(gen):
    ops = torch.ops.hqrn
    rho = random_density(1, 2, gen)
    try:
        ops.qrb_step(rho, torch.zeros(3, dtype=F64), torch.zeros(2, dtype=F64), 0)
    except RuntimeError as e:
        assert "theta" in str(e), str(e)
    else:
        raise AssertionError("a 3-entry theta for 2 qubits did not raise")


def load_operators(path):
    """The library at `path` with its autograd, as the hqrn package loads it (Python
    registrations on torch >= 2.4, else the C++ autograd library beside it)."""
    os.environ["HQRN_OPS_LIBRARY"] = path
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
    from hqrn import _library  # the package's sources: no need for a build of it
    _library.load_library()


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("HQRN_OPS_LIBRARY")
    if not path:
        print("usage: test_ops.py PATH_TO_LIBHQRN_OPS")
        print("0 passed, 1 failed")
        return 1
    load_operators(path)
    torch.set_num_threads(2)
    # Every test_* function of this file, in definition order.
    tests = [f for name, f in globals().items() if name.startswith("test_") and callable(f)]
    return run_functions(tests, lambda test: test(torch.Generator().manual_seed(1234)))


if __name__ == "__main__":
    sys.exit(main())
