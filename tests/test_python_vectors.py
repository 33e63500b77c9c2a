"""The vectors execution of the Python package (state vectors for pure and
low-rank inputs, spec section 8) against independent references and the C++.

- RegisterState: from_vectors in every representation, the vectors step (the
  target unmeasured: a rotation; measured while others are not: the rank
  doubles), probabilities, to_dense and repeated, against a dense simulator
  written here from the spec's formulas with plain torch (no hqrn operator);
  noise channels refused on coherent vectors; the qubit limits (24 for
  vectors, 14 for density matrices).
- to_state_vectors: sum_k |v_k><v_k| gives rho back, the rank is the largest
  in the batch, the dropped weight is the sum of the eigenvalues left out
  (negative ones included), a rho that requires grad is refused.
- Networks: the vectors execution equals the dense and the aware ones and the
  plain-torch reference to 1e-12 in readout distributions, logits, parameter
  gradients and input gradients: pure inputs [B, d], rank-2 and rank-3 inputs
  [B, r, d], ancillas, several blocks and branches (side by side and one at a
  time), custom target orders that revisit a measured qubit, density matrices
  converted by eigendecomposition, probability vectors and features; the
  "auto" rule (vectors for state vectors without step channels, readout error
  allowed; aware otherwise) and "vectors" with a noise model refused.
- The C++ network on the same models and files: probabilities and gradients
  from tests/reference_outputs.cpp (execution vectors and auto on density
  matrices), readout distributions from `hqrn eval --readout` on state-vector
  files in every execution.
- load_state_vectors: round trip, a file `hqrn gen-phases` writes, and
  hostile files refused by Python and by `hqrn eval` with the same problem.

Usage: test_python_vectors.py HQRN_BINARY REFERENCE_OUTPUTS_BINARY PACKAGE_DIR
The last line is 'N passed, N failed'.
"""

import json
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile

if len(sys.argv) < 4:
    sys.exit(__doc__)
HQRN, REFERENCE, PACKAGE_DIR = (os.path.abspath(a) for a in sys.argv[1:4])
HERE = os.path.dirname(os.path.abspath(__file__))
os.environ.pop("HQRN_OPS_LIBRARY", None)
sys.path.insert(0, PACKAGE_DIR)
sys.path.insert(0, HERE)

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import hqrn  # noqa: E402
from hqrn import modules, safetensors_format  # noqa: E402
from hqrn.register import RegisterState, to_state_vectors  # noqa: E402
from python_test_support import run_functions  # noqa: E402

TOL = 1e-12
WORK = tempfile.mkdtemp(prefix="hqrn-py-vectors-")
EXECUTIONS = ("vectors", "aware", "dense")


def work(name):
    return os.path.join(WORK, name)


def run(args):
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=600)


def assert_close(a, b, what, tol=TOL):
    a, b = torch.as_tensor(a), torch.as_tensor(b)
    assert a.shape == b.shape, "{}: shapes {} and {}".format(what, list(a.shape), list(b.shape))
    diff = (a - b).abs().max().item() if a.numel() else 0.0
    scale = max(1.0, b.abs().max().item() if b.numel() else 0.0)
    assert diff <= tol * scale, "{}: differs by {:.3g}".format(what, diff)


def assert_raises(kind, words, call):
    try:
        call()
    except kind as e:
        for w in words:
            assert w in str(e), "expected '{}' in: {}".format(w, e)
        return str(e)
    raise AssertionError("no {} (expected one naming {})".format(kind.__name__, words))


# --- inputs ----------------------------------------------------------------------------------------------------------

def components(batch, rank, dim, seed):
    """Random component vectors [B, r, d] with sum_k |v_k|^2 = 1 per state."""
    g = torch.Generator().manual_seed(seed)
    v = torch.complex(torch.randn(batch, rank, dim, generator=g, dtype=torch.float64),
                      torch.randn(batch, rank, dim, generator=g, dtype=torch.float64))
    return v / v.abs().square().sum((1, 2), keepdim=True).sqrt()


def density_of(v):
    """sum_k |v_k><v_k| of [B, r, d], written out as outer products."""
    return torch.einsum("bkx,bky->bxy", v, v.conj())


def mixed_states(batch, dim, rank, seed):
    return density_of(components(batch, rank, dim, seed))


# --- a dense simulator from the spec's formulas, plain torch (no hqrn operator) ----------------------------------------

def reference_tables(weights, bias):
    """table_j(c) = bias_j + sum_{i != j} weights[j, i] c_i, c the other qubits' bits (big-endian): [n, 2^(n-1)]."""
    n = bias.shape[0]
    rows = []
    for j in range(n):
        others = [i for i in range(n) if i != j]
        c = torch.arange(1 << (n - 1))
        bits = torch.stack([(c >> (n - 2 - m)) & 1 for m in range(n - 1)], 1).to(bias.dtype) if n > 1 else \
            torch.zeros(1, 0, dtype=bias.dtype)
        rows.append(bias[j] + bits @ weights[j, others] if n > 1 else bias[j].expand(1))
    return torch.stack(rows)


def reference_unitary(n, j, theta, phi):
    """U_j = sum_c |c><c| (x) R(theta[c], phi[c])_j as a d x d matrix."""
    d = 1 << n
    mask = 1 << (n - 1 - j)
    x0 = torch.tensor([x for x in range(d) if not x & mask])  # in the order of c = cidx(x, j)
    x1 = x0 | mask
    cos, sin = torch.cos(theta / 2).to(torch.complex128), torch.sin(theta / 2).to(torch.complex128)
    e = torch.exp(1j * phi.to(torch.complex128))
    u = torch.zeros(d, d, dtype=torch.complex128)
    u = u.index_put((x0, x0), cos).index_put((x1, x1), cos)
    u = u.index_put((x0, x1), -e * sin).index_put((x1, x0), e.conj() * sin)
    return u


def reference_step(rho, n, j, theta, phi):
    """Delta_j(U rho U^dagger)."""
    u = reference_unitary(n, j, theta, phi)
    rho = u @ rho @ u.conj().T
    mask = 1 << (n - 1 - j)
    x = torch.arange(1 << n)
    same = ((x.unsqueeze(1) ^ x.unsqueeze(0)) & mask) == 0
    return rho * same


def reference_readout(model, rho_data):
    """[B, K, 2^r] readout distributions of a noiseless network on density matrices, block by block."""
    c = model.config
    n = c.qubits
    ancilla = torch.zeros(1 << c.ancillas, 1 << c.ancillas, dtype=torch.complex128)
    ancilla[0, 0] = 1
    start = torch.stack([torch.kron(r, ancilla) for r in rho_data])
    outs = []
    for branch in model.branches:
        rho = start
        for block in branch.blocks:
            theta = reference_tables(block.W, block.b)
            phi = reference_tables(block.V, block.a)
            for j in block.targets:
                rho = reference_step(rho, n, j, theta[j], phi[j])
        p = rho.diagonal(dim1=1, dim2=2).real
        outs.append(p.reshape(p.shape[0], -1, 1 << c.readout_width).sum(1))
    return torch.stack(outs, 1)


def reference_state(rho, n, steps):
    """The dense reference after steps [(target, theta table, phi table)]."""
    for j, theta, phi in steps:
        rho = reference_step(rho, n, j, theta, phi)
    return rho


# --- RegisterState ---------------------------------------------------------------------------------------------------

def random_tables(n, seed, batch=None):
    g = torch.Generator().manual_seed(seed)
    shape = (1 << (n - 1),) if batch is None else (batch, 1 << (n - 1))
    return [(torch.rand(shape, generator=g, dtype=torch.float64) * 6 - 3,
             torch.rand(shape, generator=g, dtype=torch.float64) * 6 - 3) for _ in range(12)]


def test_from_vectors_in_every_representation():
    v = components(3, 2, 8, 1)
    for ancillas in (0, 2):
        ancilla = torch.zeros(1 << ancillas, 1 << ancillas, dtype=torch.complex128)
        ancilla[0, 0] = 1
        expected = torch.stack([torch.kron(r, ancilla) for r in density_of(v)])
        for rep in ("vectors", "aware", "dense", "probabilities"):
            s = RegisterState.from_vectors(v, ancillas, rep)
            assert s.representation == rep and s.qubits == 3 + ancillas
            want = torch.diag_embed(expected.diagonal(dim1=1, dim2=2)) if rep == "probabilities" else expected
            assert_close(s.to_dense(), want, "from_vectors {} ancillas {}".format(rep, ancillas))
            assert_close(s.probabilities(), expected.diagonal(dim1=1, dim2=2).real, "probabilities " + rep)
        s = RegisterState.from_vectors(v, ancillas, "vectors")
        assert list(s.values.shape) == [3, 2, 8 << ancillas] and s.diagonal == [] and not s.is_distribution
        r = s.repeated(3)
        assert list(r.values.shape) == [9, 2, 8 << ancillas]
        assert_close(r.to_dense(), torch.cat([s.to_dense()] * 3), "repeated")
    # A density-matrix start in the vectors representation goes through to_state_vectors.
    rho = mixed_states(2, 4, 3, 2)
    s = RegisterState.from_data_state(rho, 1, "vectors")
    assert s.representation == "vectors" and list(s.values.shape) == [2, 3, 8]
    assert_close(s.to_dense(), RegisterState.from_data_state(rho, 1, "dense").to_dense(), "from_data_state vectors")
    for bad, words in ((torch.zeros(2, 4, dtype=torch.complex128), ["component vectors [B, r, d]", "[2, 4]"]),
                       (torch.zeros(2, 1, 4), ["component vectors", "torch.float32"]),
                       (torch.zeros(2, 0, 4, dtype=torch.complex128), ["r >= 1"]),
                       (torch.zeros(2, 1, 6, dtype=torch.complex128), ["size 6, not a power of two"])):
        assert_raises(ValueError, words, lambda: RegisterState.from_vectors(bad, 0, "vectors"))
    assert_raises(ValueError, ["ancillas must be >= 0"], lambda: RegisterState.from_vectors(v, -1, "vectors"))
    assert_raises(ValueError, ["unknown representation 'sparse'"], lambda: RegisterState.from_vectors(v, 0, "sparse"))


def test_steps_match_the_dense_reference_and_the_other_representations():
    n = 4
    # Orders that revisit measured qubits while others are unmeasured (the rank doubles each time),
    # then finish every qubit and continue on the probability vector.
    orders = ([0, 1, 2, 3, 0], [2, 2, 0, 2, 1, 3, 1], [3, 1, 3, 1, 0, 2, 3])
    for order in orders:
        for per_sample in (False, True):
            v = components(2, 2, 8, 3)
            tables = random_tables(n, 4, batch=2 if per_sample else None)
            states = {rep: RegisterState.from_vectors(v, 1, rep) for rep in ("vectors", "aware", "dense")}
            rho = RegisterState.from_vectors(v, 1, "dense").to_dense()
            rank = 2
            measured = set()
            for step, j in enumerate(order):
                theta, phi = tables[step]
                for rep in states:
                    states[rep] = states[rep].step(theta, phi, j)
                rho = torch.stack([reference_step(rho[b:b + 1], n, j, theta[b] if per_sample else theta,
                                                  phi[b] if per_sample else phi)[0] for b in range(2)])
                if j in measured and len(measured) < n:
                    rank *= 2
                measured.add(j)
                vec = states["vectors"]
                what = "order {} step {} (target {}) per-sample {}".format(order, step, j, per_sample)
                if len(measured) < n:
                    assert list(vec.values.shape) == [2, rank, 1 << n], what + ": rank {}".format(vec.values.shape)
                    assert vec.diagonal == sorted(measured), what
                else:
                    assert vec.is_distribution, what
                for rep, s in states.items():
                    assert_close(s.to_dense(), rho, what + ": " + rep)
                    assert_close(s.probabilities(), rho.diagonal(dim1=1, dim2=2).real, what + ": p " + rep)
            assert rank > 2 or order == [0, 1, 2, 3, 0], "the order never doubled the rank: {}".format(order)


def test_vector_steps_differentiate_like_dense_ones():
    n = 3
    tables = [(t.clone().requires_grad_(), p.clone().requires_grad_()) for t, p in random_tables(n, 6)]
    v0 = components(2, 2, 4, 7)
    grads = {}
    for rep in ("vectors", "dense", "reference"):
        v = v0.clone().requires_grad_()
        if rep == "reference":
            rho = reference_state(torch.stack([torch.kron(r, torch.diag(torch.tensor([1, 0], dtype=torch.complex128)))
                                               for r in density_of(v)]), n,
                                  [(j, *tables[i]) for i, j in enumerate([1, 0, 1, 2, 0])])
            p = rho.diagonal(dim1=1, dim2=2).real
        else:
            s = RegisterState.from_vectors(v, 1, rep)
            for i, j in enumerate([1, 0, 1, 2, 0]):
                s = s.step(*tables[i], j)
            p = s.probabilities()
        weights = torch.linspace(-1, 2, p.shape[1], dtype=torch.float64)
        (p * weights).sum().backward()
        grads[rep] = [v.grad.clone()] + [t.grad.clone() if t.grad is not None else torch.zeros_like(t)
                                         for pair in tables[:5] for t in pair]
        for pair in tables:
            for t in pair:
                t.grad = None
    for rep in ("vectors", "dense"):
        for i, (a, b) in enumerate(zip(grads[rep], grads["reference"])):
            assert_close(a, b, "{} gradient {}".format(rep, i))
    assert grads["vectors"][0].abs().sum() > 0 and grads["vectors"][1].abs().sum() > 0


def test_noise_channels_are_refused_on_coherent_vectors():
    kraus = hqrn.noise.step_kraus(hqrn.NoiseModel.parse("depolarizing=0.1"))
    s = RegisterState.from_vectors(components(2, 1, 4, 8), 0, "vectors")
    assert_raises(ValueError, ["vectors representation takes no noise channels", "aware or dense"],
                  lambda: s.apply_channel(kraus, [0]))
    s = s.step(torch.ones(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64), 0)
    assert_raises(ValueError, ["vectors representation"], lambda: s.apply_channel(kraus, [1]))
    # Once every qubit is measured the state is a probability vector, which takes the channel.
    done = s.step(torch.ones(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64), 1)
    assert done.is_distribution
    aware = RegisterState.from_vectors(components(2, 1, 4, 8), 0, "aware")
    for j in (0, 1):
        aware = aware.step(torch.ones(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64), j)
    assert_close(done.apply_channel(kraus, [1]).probabilities(), aware.apply_channel(kraus, [1]).probabilities(),
                 "channel on the distribution")


def test_qubit_limits():
    one = torch.ones(1, 1, 2, dtype=torch.complex128)
    assert RegisterState.from_vectors(one, 14, "vectors").qubits == 15
    assert RegisterState.from_vectors(one, 14, "probabilities").qubits == 15
    assert RegisterState.from_distribution(torch.ones(1, 2, dtype=torch.float64), 14, "aware").qubits == 15
    for rep in ("dense", "aware"):
        assert_raises(ValueError, ["15 qubits exceed the {} representation's limit of 14".format(rep),
                                   "vectors execution"], lambda: RegisterState.from_vectors(one, 14, rep))
        assert_raises(ValueError, ["limit of 14"], lambda: RegisterState.from_data_state(
            torch.ones(1, 2, 2, dtype=torch.complex128), 14, rep))
    assert_raises(ValueError, ["15 qubits exceed the dense representation's limit of 14"],
                  lambda: RegisterState.from_distribution(torch.ones(1, 2, dtype=torch.float64), 14, "dense"))
    for rep in ("vectors", "probabilities"):
        assert_raises(ValueError, ["25 qubits exceed the vectors representation's limit of 24"],
                      lambda: RegisterState.from_vectors(one, 24, rep))
    hqrn.NetworkConfig(data_qubits=20, ancillas=4, blocks=0).validate()
    assert_raises(hqrn.ConfigError, ["must be in 1..24"],
                  lambda: hqrn.NetworkConfig(data_qubits=20, ancillas=5).validate())


# --- to_state_vectors ------------------------------------------------------------------------------------------------

def test_to_state_vectors_round_trip_and_dropped_weight():
    rho = torch.cat([mixed_states(1, 8, r, 10 + r) for r in (1, 2, 3)])
    out = to_state_vectors(rho)
    assert list(out.vectors.shape) == [3, 3, 8], out.vectors.shape
    assert_close(density_of(out.vectors), rho, "sum_k |v_k><v_k|", tol=1e-14)
    assert out.dropped_weight.abs().max() < 1e-14
    # Components ordered by weight, the largest last; the rank-1 state has two zero components.
    assert (out.vectors[0, :2] == 0).all() and out.vectors[0, 2].abs().sum() > 0
    full = mixed_states(4, 4, 4, 20)
    assert list(to_state_vectors(full).vectors.shape) == [4, 4, 4]
    assert_close(density_of(to_state_vectors(full).vectors), full, "full rank", tol=1e-14)
    # The tolerance drops eigenvalues at or below it, and reports them (negative ones too).
    u = torch.linalg.qr(torch.complex(torch.randn(4, 4, dtype=torch.float64),
                                      torch.randn(4, 4, dtype=torch.float64)))[0]
    lam = torch.tensor([0.6, 0.35, 0.05 + 2e-9, -2e-9], dtype=torch.float64)
    rho = (u * lam.to(torch.complex128)) @ u.conj().T
    out = to_state_vectors(rho.unsqueeze(0), tolerance=0.1)
    assert list(out.vectors.shape) == [1, 2, 4]
    assert abs(out.dropped_weight.item() - 0.05) < 1e-14
    kept = (u[:, :2] * lam[:2].to(torch.complex128)) @ u[:, :2].conj().T
    assert_close(density_of(out.vectors)[0], kept, "tolerance 0.1", tol=1e-14)
    out = to_state_vectors(rho.unsqueeze(0))
    assert list(out.vectors.shape) == [1, 3, 4]
    assert abs(out.dropped_weight.item() + 2e-9) < 1e-15, out.dropped_weight
    # A zero state still has one (zero) component.
    assert list(to_state_vectors(torch.zeros(2, 4, 4, dtype=torch.complex128)).vectors.shape) == [2, 1, 4]
    assert list(to_state_vectors(torch.zeros(0, 4, 4, dtype=torch.complex128)).vectors.shape) == [0, 1, 4]
    leaf = rho.unsqueeze(0).clone().requires_grad_()
    assert_raises(ValueError, ["require grad", "component vectors"], lambda: to_state_vectors(leaf))
    assert_raises(ValueError, ["tolerance must be >= 0"], lambda: to_state_vectors(rho.unsqueeze(0), -1.0))
    assert_raises(ValueError, ["complex states [B, d, d]"], lambda: to_state_vectors(rho.real.unsqueeze(0)))


# --- networks --------------------------------------------------------------------------------------------------------

def network(seed, **fields):
    torch.manual_seed(seed)
    fields.setdefault("init_std", 1.2)
    return hqrn.HQRN(hqrn.NetworkConfig(**fields))


def set_targets(model, orders):
    """Block l of every branch gets target order orders[l] (one order per block index, as side by side needs)."""
    for branch in model.branches:
        for block, order in zip(branch.blocks, orders):
            block.targets = list(order)


def outputs(model, x, execution, y):
    """Readout distributions, logits, parameter gradients and the input's gradient (when x is complex)."""
    model.zero_grad()
    # State vectors are differentiable inputs in every execution (density matrices are data to the vectors one).
    x = x.clone().requires_grad_(model.is_vector_input(x))
    distributions = model.readout_distributions(x, "quantum", execution)
    logits = model.head(distributions)
    (F.cross_entropy(logits, y) + (distributions * torch.linspace(0, 1, distributions.shape[-1],
                                                                   dtype=torch.float64)).sum()).backward()
    out = {"distributions": distributions.detach(), "logits": logits.detach()}
    for name, p in model.named_parameters():
        out["grad." + name] = p.grad.clone() if p.grad is not None else torch.zeros_like(p)
    if x.requires_grad:
        out["grad.input"] = x.grad.clone()
    return out


def assert_executions_agree(model, x, what, reference=True):
    y = torch.arange(x.shape[0]) % model.config.classes
    results = {e: outputs(model, x, e, y) for e in EXECUTIONS}
    for e in ("aware", "dense"):
        assert sorted(results[e]) == sorted(results["vectors"]), (e, sorted(results[e]))
        for name in results["vectors"]:
            assert_close(results["vectors"][name], results[e][name], "{}: vectors vs {}: {}".format(what, e, name))
    grads = sum(v.abs().sum().item() for k, v in results["vectors"].items() if k.startswith("grad."))
    assert grads > 0, what + ": every gradient is zero"
    if reference and model.config.features == 0:
        rho = x
        if x.is_complex() and x.dim() == 2:
            rho = density_of(x.unsqueeze(1))
        elif x.is_complex() and x.shape[1] != x.shape[2]:
            rho = density_of(x)
        elif not x.is_complex():
            rho = torch.diag_embed(x).to(torch.complex128)
        with torch.no_grad():
            assert_close(results["vectors"]["distributions"], reference_readout(model, rho), what + ": reference")
    return results


def test_pure_inputs():
    model = network(1, data_qubits=2, classes=2)
    x = components(6, 1, 4, 30)[:, 0]
    assert model.representation_for(x, "quantum", "auto") == "vectors"
    assert_executions_agree(model, x, "pure, 2 qubits")
    model = network(2, data_qubits=3, ancillas=2, blocks=3, branches=3, classes=3, readout="mlp", hidden=8)
    assert_executions_agree(model, components(5, 1, 8, 31)[:, 0], "pure, ancillas, 3 blocks, 3 branches")


def test_low_rank_inputs():
    model = network(3, data_qubits=3, ancillas=1, blocks=2, branches=2, classes=2, readout="mlp", hidden=8,
                    log_readout=True)
    for r in (2, 3):
        x = components(5, r, 8, 32 + r)
        assert model.representation_for(x, "quantum", "auto") == "vectors"
        assert_executions_agree(model, x, "rank {}".format(r))
    born = network(4, data_qubits=2, ancillas=2, blocks=2, branches=2, classes=3, readout="born")
    assert_executions_agree(born, components(4, 2, 4, 40), "rank 2, born readout")


def test_target_orders_that_revisit_measured_qubits():
    model = network(5, data_qubits=3, ancillas=1, blocks=3, branches=2, classes=2)
    set_targets(model, [[1, 3, 1, 0], [2, 2, 0, 1, 3], [0, 1, 2, 3]])
    x = components(4, 2, 8, 50)
    start = model.initial_state(x, "vectors")
    block = model.branches[0].blocks[0]
    after = block(start)
    assert list(after.values.shape) == [4, 4, 16] and after.diagonal == [0, 1, 3], after.diagonal
    results = assert_executions_agree(model, x, "revisiting orders")
    # The same numbers one branch at a time (the side-by-side bound forced to zero).
    saved = modules.SIDE_BY_SIDE_MAX_ENTRIES
    try:
        modules.SIDE_BY_SIDE_MAX_ENTRIES = 0
        assert not model._run_side_by_side(model.initial_state(x, "vectors"))
        one_at_a_time = outputs(model, x, "vectors", torch.arange(4) % 2)
    finally:
        modules.SIDE_BY_SIDE_MAX_ENTRIES = saved
    assert model._run_side_by_side(model.initial_state(x, "vectors"))
    for name in results["vectors"]:
        assert_close(one_at_a_time[name], results["vectors"][name], "one branch at a time: " + name)


def test_density_matrices_probabilities_and_features_in_the_vectors_execution():
    model = network(6, data_qubits=3, ancillas=1, blocks=2, branches=2, classes=2, readout="mlp", hidden=8)
    rho = torch.cat([mixed_states(2, 8, 1, 60), mixed_states(2, 8, 2, 61), mixed_states(2, 8, 8, 62)])
    assert model.representation_for(rho, "quantum", "auto") == "aware"
    assert model.representation_for(rho, "quantum", "vectors") == "vectors"
    assert_executions_agree(model, rho, "density matrices by eigendecomposition")
    p = torch.rand(4, 8, dtype=torch.float64)
    p = p / p.sum(1, keepdim=True)
    assert model.representation_for(p, "quantum", "auto") == "aware"
    assert_executions_agree(model, p, "probability vectors")
    features = network(7, data_qubits=3, ancillas=1, features=5, blocks=2, branches=2, classes=3)
    u = torch.rand(4, 5, dtype=torch.float64)
    assert features.representation_for(u, "quantum", "auto") == "aware"
    assert_executions_agree(features, u, "features")


def test_auto_rule_noise_and_input_checks():
    x = components(3, 1, 4, 70)[:, 0]
    noisy = network(8, data_qubits=2, ancillas=1, branches=2, noise=hqrn.NoiseModel.parse("depolarizing=0.02"))
    assert noisy.representation_for(x, "quantum", "auto") == "aware"
    assert noisy.representation_for(x, "classical", "vectors") == "probabilities"
    assert_raises(ValueError, ["vectors execution takes no noise model", "'aware' or 'dense'"],
                  lambda: noisy(x, execution="vectors"))
    assert_close(noisy(x), noisy(x, execution="aware"), "auto with noise is aware")
    assert_close(noisy(x, execution="dense"), noisy(x, execution="aware"), "noisy dense vs aware on vectors")
    # Readout error alone is no step channel: auto stays with vectors, and vectors is allowed.
    readout = network(8, data_qubits=2, ancillas=1, branches=2, noise=hqrn.NoiseModel.parse("readout=0.05"))
    assert readout.representation_for(x, "quantum", "auto") == "vectors"
    for e in ("vectors", "dense"):
        assert_close(readout(x, execution=e), readout(x, execution="aware"), "readout error: " + e)
    assert_close(readout(x), readout(x, execution="vectors"), "auto is vectors")
    assert_close(readout.predict_proba(x), torch.softmax(readout(x, execution="dense"), 1), "predict_proba")
    # Classical mode ignores the execution: the probability vector of the input.
    assert_close(readout(x, mode="classical", execution="vectors"), readout(x, mode="classical"), "classical")
    model = network(9, data_qubits=2, classes=2)
    assert_raises(ValueError, ["unknown execution 'fast'", "auto, aware, dense or vectors"],
                  lambda: model(x, execution="fast"))
    for bad in (torch.zeros(3, 4, 4, dtype=torch.float64), torch.zeros(3, 0, 4, dtype=torch.complex128),
                torch.zeros(3, 2, 8, dtype=torch.complex128), torch.zeros(3, 3, dtype=torch.complex128)):
        assert not model.is_vector_input(bad) or bad.shape[1] == 0
        assert_raises(ValueError, ["density matrices [B, 4, 4] (complex)", "pure state vectors [B, 4] (complex)",
                                   "component vectors [B, r, 4] (complex, r != 4)", str(list(bad.shape))],
                      lambda: model(bad))
    assert model.is_vector_input(torch.zeros(3, 4, dtype=torch.complex64))
    assert model.is_vector_input(torch.zeros(3, 5, 4, dtype=torch.complex128))
    assert not model.is_vector_input(torch.zeros(3, 4, 4, dtype=torch.complex128))
    assert not model.is_vector_input(torch.zeros(3, 4, dtype=torch.float64))


def test_side_by_side_rule_for_vectors():
    model = network(10, data_qubits=10, branches=2, blocks=1, classes=2)
    x = components(4, 1, 1 << 10, 80)
    # Dense copies would be 2 * 4 * 2^20 entries, over 2^22; the components 2 * 4 * 2^10.
    assert model._run_side_by_side(model.initial_state(x, "vectors"))
    assert not model._run_side_by_side(model.initial_state(x, "aware"))
    assert not model._run_side_by_side(model.initial_state(x, "dense"))
    wide = components(4, 600, 1 << 10, 81)  # 2 * 4 * 600 * 2^10 entries, over 2^22; half the batch is under
    assert not model._run_side_by_side(model.initial_state(wide, "vectors"))
    assert model._run_side_by_side(model.initial_state(wide[:2], "vectors"))


def test_registers_beyond_the_density_matrix_limit():
    model = network(11, data_qubits=15, blocks=1, branches=1, classes=2)
    x = components(2, 1, 1 << 15, 90)[:, 0]
    logits = model(x)
    assert list(logits.shape) == [2, 2] and torch.isfinite(logits).all()
    assert_raises(ValueError, ["15 qubits exceed the aware representation's limit of 14"],
                  lambda: model(x, execution="aware"))
    # On a basis state the quantum network is its classical analog (the exactness theorem), which the aware
    # execution runs on the probability vector at any size.
    basis = torch.zeros(1, 1 << 15, dtype=torch.complex128)
    basis[0, 12345] = 1
    p = torch.zeros(1, 1 << 15, dtype=torch.float64)
    p[0, 12345] = 1
    assert_close(model.readout_distributions(basis, "quantum", "vectors"),
                 model.readout_distributions(p, "quantum", "aware"), "basis state, 15 qubits")


def test_float32_networks_run_in_complex64():
    model = network(18, data_qubits=3, ancillas=1, blocks=2, branches=2, classes=2).float()
    x = components(4, 2, 8, 96)
    start = model.initial_state(x, "vectors")
    assert start.values.dtype == torch.complex64
    with torch.no_grad():
        assert_close(model(x, execution="vectors").double(), model.double()(x, execution="dense"), "float32", tol=1e-5)


def test_compiled_vectors_execution_equals_eager():
    """torch >= 2.4: torch.compile(fullgraph=True) traces the vectors execution (rank doubling included) without a
    graph break, with eager's logits and gradients."""
    if tuple(int(v) for v in torch.__version__.split("+")[0].split(".")[:2]) < (2, 4):
        print("    (torch {} has no Python fake kernels for the operators: skipped)".format(torch.__version__))
        return
    model = network(17, data_qubits=3, ancillas=1, blocks=2, branches=2, classes=2)
    set_targets(model, [[1, 3, 1, 0], [0, 1, 2, 3]])
    x = components(4, 2, 8, 95)
    y = torch.tensor([0, 1, 1, 0])
    compiled = torch.compile(lambda t: model(t, execution="vectors"), fullgraph=True)
    results = []
    for forward in (compiled, lambda t: model(t, execution="dense")):
        model.zero_grad()
        logits = forward(x)
        F.cross_entropy(logits, y).backward()
        results.append([logits.detach()] + [p.grad.clone() for p in model.parameters()])
    for i, (a, b) in enumerate(zip(*results)):
        assert_close(a, b, "compiled vectors vs eager dense, tensor {}".format(i))


# --- against the C++ network -----------------------------------------------------------------------------------------

def write_state_csv(path, rho, labels):
    with open(path, "w") as f:
        for r, y in zip(rho, labels):
            values = [str(int(y))]
            for z in r.flatten().tolist():
                values += [repr(z.real), repr(z.imag)]
            f.write(",".join(values) + "\n")


def write_state_vectors(path, amplitudes, labels, parameters=None, names=None, metadata=None, extra_tensors=(),
                        amplitude_dtype="F64"):
    """A state-vector file written with the package's safetensors writer (spec section 9)."""
    meta = {"format": "hqrn-states", "format_version": "1", "qubits": str(amplitudes.shape[-1].bit_length() - 1)}
    if names is not None:
        meta["parameter_names"] = ",".join(names)
    meta.update(metadata or {})
    meta = {k: v for k, v in meta.items() if v is not None}
    parts = torch.view_as_real(amplitudes.contiguous()).contiguous()
    raw = parts.numpy().tobytes() if amplitude_dtype == "F64" else parts.float().numpy().tobytes()
    tensors = [("amplitudes", amplitude_dtype, list(parts.shape), raw),
               ("labels", "I64", list(labels.shape), labels.contiguous().numpy().tobytes())]
    if parameters is not None:
        tensors.append(("parameters", "F64", list(parameters.shape), parameters.contiguous().numpy().tobytes()))
    tensors += list(extra_tensors)
    with open(path, "wb") as f:
        f.write(safetensors_format.serialize(meta, tensors))


def cpp_reference(model_path, data, execution, limit=1000):
    out = work("reference.safetensors")
    proc = run([REFERENCE, model_path, data, "quantum", execution, out, str(limit)])
    assert proc.returncode == 0, "reference outputs failed: " + proc.stderr
    f = safetensors_format.read_file(out)
    return {t.name: torch.frombuffer(bytearray(f.bytes_of(t)), dtype=torch.float64).reshape(t.shape)
            for t in f.tensors}


def python_reference(model, x, y, execution):
    model.zero_grad()
    logits = model(x, execution=execution)
    F.cross_entropy(logits, y).backward()
    out = {"probabilities": torch.softmax(logits, 1).detach()}
    for name, p in model.named_parameters():
        out["grad." + name] = p.grad.clone() if p.grad is not None else torch.zeros_like(p)
    return out


def test_cpp_probabilities_and_gradients_on_density_matrices():
    model = network(12, data_qubits=3, ancillas=1, blocks=2, branches=2, classes=2, readout="mlp", hidden=8)
    path = work("vectors_model.safetensors")
    hqrn.save(model, path)
    data = work("low_rank_states.csv")
    rho = torch.cat([mixed_states(4, 8, 1, 100), mixed_states(4, 8, 2, 101), mixed_states(4, 8, 8, 102)])
    labels = torch.arange(12) % 2
    write_state_csv(data, rho, labels)
    model = hqrn.load(path)
    x, y = hqrn.read_for(model, data)
    assert x.dtype == torch.complex128 and list(x.shape) == [12, 8, 8]
    py_aware = python_reference(model, x, y, "aware")
    for execution in ("vectors", "auto", "aware"):
        cpp = cpp_reference(path, data, execution)
        for py_execution in (execution, "aware"):
            py = python_reference(model, x, y, py_execution)
            assert sorted(py) == sorted(cpp)
            for name in cpp:
                assert_close(py[name], cpp[name], "C++ {} vs Python {}: {}".format(execution, py_execution, name))
        assert_close(cpp["probabilities"], py_aware["probabilities"], "C++ {} vs Python aware".format(execution))
    assert sum(v.abs().sum().item() for k, v in py_aware.items() if k.startswith("grad.")) > 0


def eval_cpp(model_path, data, execution, readout=True):
    js, csv = work("eval.json"), work("readout.csv")
    args = [HQRN, "eval", "--model", model_path, "--data", data, "--json", js, "--exec", execution]
    if readout:
        args += ["--readout", csv]
    proc = run(args)
    assert proc.returncode == 0, "hqrn eval --exec {} failed: {}".format(execution, proc.stderr)
    with open(js) as f:
        summary = json.load(f)
    distributions = None
    if readout:
        with open(csv) as f:
            rows = [line.strip().split(",") for line in f.readlines()[1:] if line.strip()]
        branches = max(int(r[1]) for r in rows) + 1
        distributions = torch.tensor([[float(v) for v in r[2:]] for r in rows], dtype=torch.float64).reshape(
            -1, branches, len(rows[0]) - 2)
    return summary, distributions


def test_cpp_readout_on_state_vector_files():
    model = network(13, data_qubits=3, ancillas=2, blocks=2, branches=3, classes=2, readout="mlp", hidden=8,
                    noise=hqrn.NoiseModel.parse("readout=0.02"))
    path = work("vectors_eval_model.safetensors")
    hqrn.save(model, path)
    model = hqrn.load(path)
    for rank in (1, 2, 8):
        amplitudes = components(10, rank, 8, 110 + rank)
        labels = torch.arange(10) % 2
        data = work("states_rank{}.safetensors".format(rank))
        write_state_vectors(data, amplitudes, labels)
        x, y = hqrn.read_for(model, data)
        if rank == 8:  # r = d: the reader hands the network density matrices
            assert list(x.shape) == [10, 8, 8]
            assert_close(x, density_of(amplitudes), "r = d read as density matrices")
        else:
            assert torch.equal(x, amplitudes)
        with torch.no_grad():
            py = {e: model.readout_distributions(x, "quantum", e) for e in ("auto", "vectors", "aware", "dense")}
            py_loss = F.cross_entropy(model(x), y).item()
        for execution in ("auto", "vectors", "aware", "dense"):
            summary, cpp = eval_cpp(path, data, execution)
            what = "rank {} --exec {}".format(rank, execution)
            assert_close(cpp, py[execution], what + ": readout distributions")
            assert_close(cpp, py["aware"], what + ": against Python aware")
            resolved = model.representation_for(x, "quantum", execution)
            assert summary["execution"] == resolved, (what, summary["execution"], resolved)
            assert abs(summary["loss"] - py_loss) <= 1e-12 * max(1, abs(py_loss)), (what, summary["loss"], py_loss)
        assert py["auto"].shape == (10, 3, 2)


def test_cpp_writes_what_python_reads():
    data = work("phases.safetensors")
    proc = run([HQRN, "gen-phases", "--spins", "4", "--set", "line", "--points", "4", "--out", data])
    assert proc.returncode == 0, proc.stderr
    d = hqrn.load_state_vectors(data)
    assert d.amplitudes.dtype == torch.complex128 and d.amplitudes.shape[0] == 4 and d.amplitudes.shape[2] == 16
    assert_close(d.amplitudes.abs().square().sum((1, 2)), torch.ones(4, dtype=torch.float64), "unit trace", tol=1e-8)
    assert d.parameter_names[:3] == ["J", "h1", "h2"], d.parameter_names
    assert list(d.parameters.shape) == [4, len(d.parameter_names)] and d.labels.dtype == torch.int64
    # Spec section 9: on the line, SPT (label 1) iff h1 < J.
    assert torch.equal(d.labels, (d.parameters[:, 1] < d.parameters[:, 0]).long()), (d.labels, d.parameters)
    # A 4-data-qubit network evaluates the file alike in C++ and Python.
    model = network(14, data_qubits=4, blocks=1, branches=2, classes=2)
    path = work("phases_model.safetensors")
    hqrn.save(model, path)
    model = hqrn.load(path)
    summary, cpp = eval_cpp(path, data, "auto")
    with torch.no_grad():
        assert_close(cpp, model.readout_distributions(d.amplitudes, "quantum", "aware"), "phases readout")
    assert summary["execution"] == "vectors"


# --- the reader ------------------------------------------------------------------------------------------------------

def test_state_vector_file_round_trip():
    amplitudes = components(5, 2, 8, 120)
    labels = torch.tensor([0, 1, 2, 0, 7])
    parameters = torch.randn(5, 2, dtype=torch.float64)
    path = work("round_trip.safetensors")
    write_state_vectors(path, amplitudes, labels, parameters, ["J", "h1"], {"note": "made by a test"})
    assert hqrn.data.is_state_vectors_file(path)
    d = hqrn.load_state_vectors(path)
    assert torch.equal(d.amplitudes, amplitudes) and d.amplitudes.dtype == torch.complex128
    assert torch.equal(d.labels, labels) and torch.equal(d.parameters, parameters)
    assert d.parameter_names == ["J", "h1"] and d.extra_metadata == {"note": "made by a test"}
    write_state_vectors(path, amplitudes, labels)
    d = hqrn.load_state_vectors(path)
    assert d.parameters is None and d.parameter_names == [] and d.extra_metadata == {}
    empty = work("empty.safetensors")
    write_state_vectors(empty, torch.zeros(0, 1, 4, dtype=torch.complex128), torch.zeros(0, dtype=torch.int64))
    assert hqrn.load_state_vectors(empty).amplitudes.shape == (0, 1, 4)
    csv = work("not_vectors.csv")
    write_state_csv(csv, mixed_states(1, 4, 2, 121), [1])
    assert not hqrn.data.is_state_vectors_file(csv) and not hqrn.data.is_state_vectors_file(work("missing"))


def hostile_state_files():
    """(name, writer arguments, problem words) of files both readers must refuse."""
    a = components(3, 2, 4, 130)
    y = torch.tensor([0, 1, 1])
    off = a.clone()
    off[1] *= math.sqrt(1 + 1e-6)
    nan = a.clone()
    nan[2, 1, 3] = complex(float("nan"), 0)
    return [
        ("format", dict(metadata={"format": "hqrn"}), ["format is 'hqrn', expected 'hqrn-states'"]),
        ("no_format", dict(metadata={"format": None}), ["no 'format' in __metadata__"]),
        ("version", dict(metadata={"format_version": "2"}), ["format_version '2' is not supported"]),
        ("qubits", dict(metadata={"qubits": "3"}), ["metadata says qubits = '3' but the amplitudes have 2^2"]),
        ("no_qubits", dict(metadata={"qubits": None}), ["no 'qubits' in __metadata__"]),
        ("f32", dict(amplitude_dtype="F32"), ["'amplitudes' is F32, expected F64"]),
        ("unknown", dict(extra_tensors=[("extra", "F64", [1], b"\0" * 8)]), ["unknown tensor 'extra'"]),
        ("nan", dict(amplitudes=nan), ["amplitudes has a value that is not finite"]),
        ("trace", dict(amplitudes=off), ["state 1 has trace 1.000001", "expected 1"]),
        ("negative", dict(labels=torch.tensor([0, -1, 1])), ["labels must be non-negative"]),
        ("labels", dict(labels=torch.tensor([0, 1])), ["labels has 2 entries for 3 states"]),
        ("shape", dict(amplitudes=components(3, 2, 6, 131)), ["amplitudes has shape [3, 2, 6, 2]"]),
        ("names", dict(parameters=torch.zeros(3, 2, dtype=torch.float64)),
         ["'parameters' and the metadata entry 'parameter_names' come together"]),
        ("columns", dict(parameters=torch.zeros(3, 2, dtype=torch.float64), names=["J", "h1", "h2"]),
         ["parameters has shape [3, 2], expected [3, 3]"]),
    ]


def test_hostile_state_files_are_refused_by_both_readers():
    model = network(15, data_qubits=2, blocks=1, classes=2)
    model_path = work("hostile_model.safetensors")
    hqrn.save(model, model_path)
    good = work("good.safetensors")
    write_state_vectors(good, components(3, 2, 4, 130), torch.tensor([0, 1, 1]))
    eval_cpp(model_path, good, "auto", readout=False)  # the good file passes both
    hqrn.load_state_vectors(good)
    for name, change, words in hostile_state_files():
        kw = dict(amplitudes=components(3, 2, 4, 130), labels=torch.tensor([0, 1, 1]))
        kw.update(change)
        path = work("bad_{}.safetensors".format(name))
        write_state_vectors(path, kw.pop("amplitudes"), kw.pop("labels"), **kw)
        message = assert_raises(ValueError, [path + ": "] + words, lambda: hqrn.load_state_vectors(path))
        proc = run([HQRN, "eval", "--model", model_path, "--data", path])
        assert proc.returncode != 0, name + ": hqrn eval accepted it"
        problem = message[len(path) + 2:]
        assert path in proc.stderr and problem in proc.stderr, "{}: C++ said {!r}, Python {!r}".format(
            name, proc.stderr, problem)
    truncated = work("bad_truncated.safetensors")
    with open(good, "rb") as f:
        data = f.read()
    with open(truncated, "wb") as f:
        f.write(data[:-5])
    assert_raises(ValueError, [truncated + ": "], lambda: hqrn.load_state_vectors(truncated))
    assert run([HQRN, "eval", "--model", model_path, "--data", truncated]).returncode != 0
    # The reader's file handed to a model of another size: refused naming both sizes.
    wide = network(16, data_qubits=3, blocks=1, classes=2)
    assert_raises(ValueError, [good + ": states have dimension 4 (2 qubits)", "has 3 qubits (dimension 8)"],
                  lambda: hqrn.read_for(wide, good))


def main():
    torch.set_num_threads(2)
    try:
        return run_functions([f for name, f in globals().items() if name.startswith("test_") and callable(f)])
    finally:
        shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
