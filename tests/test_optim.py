"""hqrn.optim.Adam and its operator, hqrn::adam_step_, against torch.optim.Adam.

- The same training loop on an HQRN with either optimizer: parameters and
  optimizer state equal to 1e-12 (float64) after every step, with a learning
  rate schedule; a float32 network to float32 rounding.
- State dicts move both ways: hqrn.optim.Adam's loads into torch.optim.Adam and
  back, and training continues equal.
- What the fused step does not cover runs torch's step and still equals it:
  weight decay, amsgrad, maximize, a parameter without a gradient on some
  steps, complex parameters, several parameter groups, a closure.
- The operator on its own: the update against the formula written out; bad
  input (list lengths, dtypes, shapes, layouts, a step tensor, hyperparameters,
  a tensor requiring grad under grad mode) refused with a message naming it and
  nothing written; on torch 2.x, torch.library.opcheck's schema and fake tensor
  tests.

Usage: test_optim.py PACKAGE_DIR (a folder holding the hqrn package, or '-').
The last line is 'N passed, N failed'.
"""

import copy
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
TOL = 1e-12


def small_network(hqrn, dtype=torch.float64):
    torch.manual_seed(3)
    config = hqrn.NetworkConfig(data_qubits=2, ancillas=1, blocks=2, branches=3, classes=2, readout="mlp",
                                readout_qubits=2, hidden=8, hidden_layers=1, init_std=0.7)
    return hqrn.HQRN(config).to(dtype)


def random_states(count, dtype=torch.complex128, seed=5):
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(count, 4, 4, dtype=torch.float64, generator=g) + 1j * torch.randn(count, 4, 4, dtype=torch.float64,
                                                                                     generator=g)
    rho = a @ a.conj().transpose(1, 2)
    rho = rho / rho.diagonal(dim1=1, dim2=2).sum(1).real.reshape(-1, 1, 1)
    labels = torch.randint(0, 2, (count,), generator=g)
    return rho.to(dtype), labels


def train_side_by_side(pairs, steps, x, y, loss_of=None, check=None):
    """One step of each (model, optimizer) in turn on the same batch, `steps` times."""
    loss_of = loss_of or (lambda model, k: torch.nn.functional.cross_entropy(model(x), y))
    for k in range(steps):
        for model, optimizer in pairs:
            optimizer.zero_grad(set_to_none=True)
            loss_of(model, k).backward()
            optimizer.step()
        if check:
            check(k)


def max_difference(a, b):
    return max((p - q).abs().max().item() for p, q in zip(a, b))


def state_difference(sa, sb):
    assert sa["param_groups"] == sb["param_groups"], (sa["param_groups"], sb["param_groups"])
    assert sorted(sa["state"]) == sorted(sb["state"]), (sorted(sa["state"]), sorted(sb["state"]))
    worst = 0.0
    for k in sa["state"]:
        assert sorted(sa["state"][k]) == sorted(sb["state"][k])
        for name, value in sa["state"][k].items():
            other = sb["state"][k][name]
            assert torch.is_tensor(value) and value.dtype == other.dtype, (name, value, other)
            worst = max(worst, (value - other).abs().max().item())
    return worst


def test_equals_torch_adam_on_a_network():
    import hqrn
    x, y = random_states(24)
    model = small_network(hqrn)
    twin = copy.deepcopy(model)
    ours = hqrn.optim.Adam(model.parameters(), lr=0.03, betas=(0.8, 0.95), eps=1e-7)
    theirs = torch.optim.Adam(twin.parameters(), lr=0.03, betas=(0.8, 0.95), eps=1e-7)
    schedules = [torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5) for o in (ours, theirs)]

    def check(k):
        for s in schedules:
            s.step()
        assert max_difference(model.parameters(), twin.parameters()) < TOL, k
        assert state_difference(ours.state_dict(), theirs.state_dict()) < TOL, k

    train_side_by_side([(model, ours), (twin, theirs)], 8, x, y, check=check)
    # The fused step ran: the state holds the tensors the operator wrote.
    assert ours._fused_lists and ours._fused_source[0] is ours.state
    assert float(ours.state_dict()["state"][0]["step"]) == 8
    # It moves the parameters at all (a no-op step would also equal a broken twin).
    assert max_difference(model.parameters(), small_network(hqrn).parameters()) > 1e-3


def test_float32_network():
    import hqrn
    x, y = random_states(16, torch.complex64)
    model = small_network(hqrn, torch.float32)
    twin = copy.deepcopy(model)
    ours, theirs = hqrn.optim.Adam(model.parameters(), lr=0.02), torch.optim.Adam(twin.parameters(), lr=0.02)
    train_side_by_side([(model, ours), (twin, theirs)], 5, x, y)
    assert ours._fused_lists
    assert max_difference(model.parameters(), twin.parameters()) < 1e-5
    assert ours.state_dict()["state"][0]["exp_avg"].dtype == torch.float32


def test_state_dicts_move_both_ways():
    import hqrn
    x, y = random_states(16)
    model = small_network(hqrn)
    twin = copy.deepcopy(model)
    ours, theirs = hqrn.optim.Adam(model.parameters(), lr=0.02), torch.optim.Adam(twin.parameters(), lr=0.02)
    train_side_by_side([(model, ours), (twin, theirs)], 3, x, y)
    # Swap the states: each optimizer continues from the other's.
    saved_ours, saved_theirs = copy.deepcopy(ours.state_dict()), copy.deepcopy(theirs.state_dict())
    ours.load_state_dict(saved_theirs)
    theirs.load_state_dict(saved_ours)
    train_side_by_side([(model, ours), (twin, theirs)], 3, x, y)
    assert max_difference(model.parameters(), twin.parameters()) < TOL
    assert state_difference(ours.state_dict(), theirs.state_dict()) < TOL
    assert ours._fused_source[0] is ours.state  # the cache followed the loaded state


def test_what_the_fused_step_leaves_to_torch():
    import hqrn
    x, y = random_states(12)
    settings = [dict(weight_decay=0.1), dict(amsgrad=True), dict(maximize=True)]
    for kwargs in settings:
        model = small_network(hqrn)
        twin = copy.deepcopy(model)
        ours = hqrn.optim.Adam(model.parameters(), lr=0.02, **kwargs)
        theirs = torch.optim.Adam(twin.parameters(), lr=0.02, **kwargs)
        train_side_by_side([(model, ours), (twin, theirs)], 3, x, y)
        assert max_difference(model.parameters(), twin.parameters()) < TOL, kwargs
        assert not ours._fused_lists, kwargs

    # A parameter that gets a gradient on odd steps only: torch's step skips it on the others
    # (and gives it no state until its first gradient).
    model = small_network(hqrn)
    twin = copy.deepcopy(model)
    ours, theirs = hqrn.optim.Adam(model.parameters(), lr=0.02), torch.optim.Adam(twin.parameters(), lr=0.02)

    def head_frozen_on_even_steps(m, k):
        for p in m.head.parameters():
            p.requires_grad_(k % 2 == 1)
        return torch.nn.functional.cross_entropy(m(x), y)

    train_side_by_side([(model, ours), (twin, theirs)], 6, x, y, loss_of=head_frozen_on_even_steps)
    assert max_difference(model.parameters(), twin.parameters()) < TOL
    assert state_difference(ours.state_dict(), theirs.state_dict()) < TOL

    # Complex parameters, several groups, a closure.
    c = torch.nn.Parameter(torch.randn(3, dtype=torch.complex128))
    c2 = c.detach().clone().requires_grad_()
    w = torch.nn.Parameter(torch.randn(4, dtype=torch.float64))
    w2 = w.detach().clone().requires_grad_()
    ours = hqrn.optim.Adam([c, w], lr=0.1)
    theirs = torch.optim.Adam([c2, w2], lr=0.1)
    grouped = hqrn.optim.Adam([{"params": [w]}, {"params": [c], "lr": 0.05}], lr=0.1)
    grouped_twin = torch.optim.Adam([{"params": [w2]}, {"params": [c2], "lr": 0.05}], lr=0.1)
    for pair in ((ours, theirs), (grouped, grouped_twin)):
        for optimizer, (cc, ww) in zip(pair, ((c, w), (c2, w2))):
            for _ in range(3):
                def closure():
                    optimizer.zero_grad()
                    loss = (cc.abs() ** 2).sum() + (ww ** 4).sum()
                    loss.backward()
                    return loss
                optimizer.step(closure)
                optimizer.step()
    assert (c - c2).abs().max().item() < TOL and (w - w2).abs().max().item() < TOL


def test_zero_grad_as_torch():
    """set_to_none=True clears every gradient (torch's loop, without its reads); set_to_none=False zeroes
    them in place, detached (torch's own zero_grad): the same grads as torch.optim.Adam's, every group."""
    import hqrn
    x, y = random_states(6)
    for set_to_none in (True, False):
        pairs = []
        for make in (hqrn.optim.Adam, torch.optim.Adam):
            model = small_network(hqrn)
            params = list(model.parameters())
            optimizer = make([{"params": params[:4]}, {"params": params[4:], "lr": 0.02}], lr=0.01)
            torch.nn.functional.cross_entropy(model(x), y).backward()
            kept = [p.grad for p in params]
            optimizer.zero_grad(set_to_none=set_to_none)
            pairs.append((params, kept))
        (ours, ours_kept), (theirs, theirs_kept) = pairs
        assert sum(kept is not None for kept in ours_kept) > 4
        for p, q, kept in zip(ours, theirs, ours_kept):
            if set_to_none or kept is None:  # (an execution reads no parameter that it leaves without a gradient)
                assert p.grad is None and q.grad is None
            else:
                assert p.grad is kept and torch.equal(p.grad, q.grad) and not p.grad.any()
                assert not p.grad.requires_grad


def adam_lists(count=3, dtype=torch.float64, seed=0):
    g = torch.Generator().manual_seed(seed)
    shapes = [(4, 3), (5,), (2, 2, 2)][:count]
    params = [torch.randn(s, dtype=dtype, generator=g) for s in shapes]
    grads = [torch.randn(s, dtype=dtype, generator=g) for s in shapes]
    exp_avgs = [torch.randn(s, dtype=dtype, generator=g) * 0.1 for s in shapes]
    exp_avg_sqs = [torch.rand(s, dtype=dtype, generator=g) * 0.1 for s in shapes]
    steps = [torch.tensor(float(k + 2)) for k in range(count)]
    return params, grads, exp_avgs, exp_avg_sqs, steps


def test_operator_against_the_formula():
    lr, beta1, beta2, eps = 0.01, 0.85, 0.97, 1e-6
    params, grads, m, v, steps = adam_lists()
    expected = []
    for p, g, mk, vk, t in zip(params, grads, m, v, steps):
        t = float(t) + 1
        m_new = beta1 * mk + (1 - beta1) * g
        v_new = beta2 * vk + (1 - beta2) * g * g
        p_new = p - lr / (1 - beta1 ** t) * m_new / (v_new.sqrt() / (1 - beta2 ** t) ** 0.5 + eps)
        expected.append((p_new, m_new, v_new, t))
    versions = [p._version for p in params]
    torch.ops.hqrn.adam_step_(params, grads, m, v, steps, lr, beta1, beta2, eps)
    for k, (p_new, m_new, v_new, t) in enumerate(expected):
        assert (params[k] - p_new).abs().max().item() < TOL, k
        assert (m[k] - m_new).abs().max().item() < TOL and (v[k] - v_new).abs().max().item() < TOL, k
        assert float(steps[k]) == t, (k, steps[k])
        assert params[k]._version > versions[k]  # autograd's saved-tensor checks see the write


def test_operator_refuses_bad_input_and_writes_nothing():
    op = torch.ops.hqrn.adam_step_

    def refused(change, words, hyper=(0.01, 0.9, 0.999, 1e-8), error=RuntimeError):
        lists = adam_lists()
        change(lists)
        before = [[t.clone() for t in lst] for lst in lists]
        try:
            op(*lists, *hyper)
        except error as e:
            assert words in str(e), (words, str(e))
        else:
            raise AssertionError("accepted: expected an error about " + words)
        for lst, saved in zip(lists, before):
            for t, s in zip(lst, saved):
                if t.dtype == s.dtype and t.shape == s.shape:
                    assert torch.equal(t, s), "a refused call wrote " + words

    refused(lambda l: l[1].pop(), "one entry per parameter")
    refused(lambda l: l[1].__setitem__(2, l[1][2].float()), "grads[2] must be a dense contiguous tensor")
    refused(lambda l: l[2].__setitem__(1, torch.zeros(6, dtype=torch.float64)), "exp_avgs[1] must be")
    refused(lambda l: l[3].__setitem__(0, torch.zeros(3, 4, dtype=torch.float64).t()), "not contiguous")
    refused(lambda l: l[0].__setitem__(1, torch.zeros(5, dtype=torch.complex128)), "params[1] must be float32")
    refused(lambda l: l[4].__setitem__(2, torch.zeros(2)), "steps[2] must be a one-element")
    refused(lambda l: l[4].__setitem__(0, torch.tensor(1)), "steps[0] must be a one-element float32")
    refused(lambda l: None, "lr must be finite", hyper=(float("nan"), 0.9, 0.999, 1e-8))
    refused(lambda l: None, "betas must lie in [0, 1)", hyper=(0.01, 1.0, 0.999, 1e-8))
    refused(lambda l: None, "eps must be finite", hyper=(0.01, 0.9, 0.999, -1.0))
    refused(lambda l: l[0].__setitem__(0, l[0][0].requires_grad_()), "not differentiable")
    # Under no_grad the same parameter is fine (what an optimizer does).
    lists = adam_lists()
    lists[0][0].requires_grad_()
    with torch.no_grad():
        op(*lists, 0.01, 0.9, 0.999, 1e-8)


def test_opcheck_schema_and_fake():
    if not hasattr(torch.library, "opcheck"):
        print("    (torch {} has no torch.library.opcheck: skipped)".format(torch.__version__))
        return
    lists = adam_lists()
    torch.library.opcheck(torch.ops.hqrn.adam_step_.default, (*lists, 0.01, 0.9, 0.999, 1e-8),
                          test_utils=("test_schema", "test_faketensor"))


def main():
    package_dir = sys.argv[1] if len(sys.argv) > 1 else "-"
    if package_dir != "-":
        sys.path.insert(0, package_dir)
    sys.path.insert(0, HERE)
    torch.set_num_threads(2)
    import hqrn  # noqa: F401
    from python_test_support import run_functions
    return run_functions([f for name, f in globals().items() if name.startswith("test_") and callable(f)])


if __name__ == "__main__":
    sys.exit(main())
