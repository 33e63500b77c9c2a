"""PyTorch 2 glue for the C++ operators (torch >= 2.4; docs/architecture.md,
"Two LibTorches").

- Fake kernels: the output's shape, dtype and device from the inputs' alone
  (no data), for FakeTensor tracing: torch.compile, torch.export and
  torch.library.opcheck. They replace the C++ Meta kernels (the operators'
  validation plus empty outputs, which serve wherever this module is not
  imported) because they run on symbolic shapes too, which C++ sizes cannot;
  the full validation runs when the real kernel does.
- Autograd, registered from Python over the same hand-written backward
  operators (torch.ops.hqrn._<op>_backward) that the C++ autograd kernels
  call: torch.func (grad, vjp, jacrev, vmap) cannot see through a C++
  torch::autograd::Function, and dynamo traces this route without graph breaks.

Imported by hqrn._library when torch has torch.library.register_autograd;
older torch loads the C++ autograd kernels (libhqrn_ops_autograd.so) instead.
"""

import inspect

import torch
from torch.autograd.function import _SingleLevelFunction

from .register import _complex_of, _qubits_of_dimension

_hqrn = torch.ops.hqrn


def _real_of(complex_dtype):
    return torch.float32 if complex_dtype == torch.complex64 else torch.float64


def _like(t, shape, dtype=None):
    """A contiguous output as the C++ kernels return it."""
    return t.new_empty(shape, dtype=dtype or t.dtype)


# ---- fake kernels: outputs of the forward operators ----
#
# The C++ validation (prepare.h) decides what is accepted and runs with the
# real kernel. A fake kernel checks only the structure its own shape
# arithmetic reads, with the C++ message, so that tracing a bad call fails
# with the same words as running it.

# Where torch.library.register_fake can replace a C++ Meta kernel
# (allow_override); elsewhere the C++ Meta kernels serve (static shapes only).
_FAKE_OVERRIDES_META = "allow_override" in inspect.signature(torch.library.register_fake).parameters


def _register_fake(name, fake):
    if _FAKE_OVERRIDES_META:
        torch.library.register_fake("hqrn::" + name, fake, allow_override=True)


def _density_batch(rho, op):
    if rho.dim() != 3:
        raise RuntimeError("{}: rho must be a batch of density matrices [B, d, d], got {} dimensions {}".format(
            op, rho.dim(), list(rho.shape)))

def _fake_same_shape(x, *rest):
    return _like(x, x.shape)


def _fake_aware_step(blocks, theta, phi, target, diagonal):
    if blocks.dim() != 4:
        raise RuntimeError("aware_step: blocks must have shape [B, 2^|D|, 2^m, 2^m], got {}".format(
            list(blocks.shape)))
    if target in diagonal:  # already measured: the blocks keep their shape
        return _like(blocks, blocks.shape)
    b, a, m, _ = blocks.shape
    return _like(blocks, (b, a * 2, m // 2, m // 2))


def _fake_embed_ancillas(rho, n_aux):
    _density_batch(rho, "embed_ancillas")
    d = rho.shape[1] * (1 << n_aux)
    return _like(rho, (rho.shape[0], d, d))


def _fake_partial_trace(rho, keep):
    _density_batch(rho, "partial_trace")
    d = 1 << len(keep)
    return _like(rho, (rho.shape[0], d, d))


def _fake_probs(rho):
    _density_batch(rho, "probs")
    return _like(rho, (rho.shape[0], rho.shape[1]), _real_of(rho.dtype))


def _fake_angle_tables(weights, biases):
    if not weights:
        raise RuntimeError("angle_tables: weights is an empty list (expected at least one [n, n] matrix)")
    first = weights[0]
    if first.dim() != 2 or first.shape[0] != first.shape[1] or first.shape[0] < 1:
        raise RuntimeError("angle_tables: weights[0] must be a square matrix [n, n] with n >= 1, got {}".format(
            list(first.shape)))
    n = first.shape[0]
    return _like(weights[0], (n, len(weights), 1 << (n - 1)))


# ---- fake kernels: outputs of the backward operators (one per differentiable input) ----

def _fake_grads(*inputs):
    return tuple(_like(t, t.shape) for t in inputs)


def _fake_embed_ancillas_backward(grad, n_aux):
    d = grad.shape[1] // (1 << n_aux)
    return _like(grad, (grad.shape[0], d, d))


def _fake_partial_trace_backward(grad, keep, n):
    d = 1 << n
    return _like(grad, (grad.shape[0], d, d))


def _fake_probs_backward(grad):
    return _like(grad, (grad.shape[0], grad.shape[1], grad.shape[1]), _complex_of(grad.dtype))


def _fake_angle_tables_backward(grad):
    n, r = grad.shape[0], grad.shape[1]
    return _like(grad, (r, n, n)), _like(grad, (r, n))


# ---- autograd ----
#
# Each op's Autograd kernel applies a single-level autograd Function: the
# dispatcher has already placed the call at the current torch.func level, so
# the Function records on that level's tensors as a built-in op's derivative
# does. (torch.library.register_autograd applies a plain autograd.Function,
# which torch.func refuses inside a transform in 2.11: pytorch/pytorch#170834,
# fixed upstream the same way, #184974.) List arguments (angle_tables) are
# flattened for Function.apply, which takes tensors one by one.

_lib = torch.library.Library("hqrn", "FRAGMENT")


def _flatten(args):
    flat, spec = [], []
    for a in args:
        if isinstance(a, (list, tuple)) and a and isinstance(a[0], torch.Tensor):
            flat.extend(a)
            spec.append(len(a))
        else:
            flat.append(a)
            spec.append(None)
    return flat, tuple(spec)


def _unflatten(flat, spec):
    args, i = [], 0
    for count in spec:
        if count is None:
            args.append(flat[i])
            i += 1
        else:
            args.append(list(flat[i:i + count]))
            i += count
    return args


# torch's own check over tensors and tensor lists (C++; torch.library's autograd uses it too).
_any_requires_grad = torch._C._any_requires_grad
_single_level_allowed = torch._C._functorch.get_single_level_autograd_function_allowed
_allow_single_level = torch._C._functorch.set_single_level_autograd_function_allowed


def _register_autograd(name, setup_context, backward):
    """setup_context(ctx, args, output) and backward(ctx, grad...) -> one entry per
    argument (a list for a list argument, None for a non-tensor) for op hqrn::name."""
    op = getattr(_hqrn, name).default
    schema_args = op._schema.arguments
    # Only ops with list arguments pay for flattening (Function.apply takes tensors one by one).
    has_lists = any(isinstance(a.type, torch.ListType) for a in schema_args)

    def below_autograd(keyset, args):
        with torch._C._AutoDispatchBelowAutograd():
            return op.redispatch(keyset & torch._C._after_autograd_keyset, *args)

    class Function(_SingleLevelFunction):
        # The last input is (keyset, spec): the dispatch keys below this Autograd kernel, and the
        # list structure _flatten took apart (None for an op without lists).
        @staticmethod
        def forward(*inputs):
            keyset, spec = inputs[-1]
            args = _unflatten(inputs[:-1], spec) if spec is not None else inputs[:-1]
            return below_autograd(keyset, args)

        @staticmethod
        def setup_context(ctx, inputs, output):
            spec = inputs[-1][1]
            setup_context(ctx, _unflatten(inputs[:-1], spec) if spec is not None else inputs[:-1], output)
            ctx.spec = spec

        @staticmethod
        def backward(ctx, *grads):
            grads = backward(ctx, *grads)
            flat = _flatten(grads)[0] if ctx.spec is not None else grads
            return tuple(flat) + (None,)

    Function.__name__ = Function.__qualname__ = "HqrnAutograd_" + name

    def kernel(keyset, *args):
        # The dispatcher drops trailing arguments equal to their defaults (dephase=True).
        if len(args) < len(schema_args):
            args = args + tuple(a.default_value for a in schema_args[len(args):])
        if not (torch.is_grad_enabled() and _any_requires_grad(*args)):
            return below_autograd(keyset, args)
        flat, spec = _flatten(args) if has_lists else (args, None)
        # Not a contextmanager: this runs once per operator call.
        allowed = _single_level_allowed()
        _allow_single_level(True)
        try:
            return Function.apply(*flat, (keyset, spec))
        finally:
            _allow_single_level(allowed)

    _lib.impl(name, kernel, "Autograd", with_keyset=True)


def _save_tensor_inputs(n_tensors):
    def setup_context(ctx, args, output):
        ctx.save_for_backward(*args[:n_tensors])
        ctx.rest = args[n_tensors:]
    return setup_context


def _register_tensor_grads_autograd(name, n_tensors):
    """An op whose first n_tensors inputs are tensors and whose backward operator is
    `_<name>_backward(grad, *inputs) -> one gradient per tensor input`."""
    backward_op = getattr(_hqrn, "_{}_backward".format(name))

    def backward(ctx, grad):
        grads = backward_op(grad.contiguous(), *ctx.saved_tensors, *ctx.rest)
        return tuple(grads) + (None,) * len(ctx.rest)

    _register_autograd(name, _save_tensor_inputs(n_tensors), backward)


def _store_args(ctx, args, output):
    ctx.args = args


def _refuse_double_backward(name):
    """The backward operators have no derivative of their own: a second derivative is
    refused, with the C++ kernels' message, when it is asked for (first-order
    transforms such as torch.func.grad run backward with create_graph and stay fine)."""
    def backward(ctx, *grads):
        raise RuntimeError("hqrn::{}: double backward is not supported (its backward is not differentiable; call "
                           "backward without create_graph)".format(name))

    _register_autograd("_{}_backward".format(name), lambda ctx, args, output: None, backward)


# ---- vmap: an extra leading dimension over any argument ----
#
# When only the state (and, for a backward operator, its incoming gradient)
# is mapped, which is what vmap over samples or per-sample gradients makes,
# the mapped dimension folds into the operator's own batch dimension: one call
# on [V*B, ...]. Other tensors, unmapped, are tiled to the folded batch in
# their per-sample form (and, in a backward, the gradients of shared or
# grouped ones summed back per mapped slice). Anything else (mapped tables,
# angle_tables' lists) runs the operator once per slice.

# Per operator: the rank of each non-state tensor argument's per-sample (or
# grouped) form, by position; None for one that has only a shared form.
_PER_SAMPLE_RANK = {
    "qrb_step": {1: 2, 2: 2}, "aware_step": {1: 2, 2: 2}, "vector_step": {1: 2, 2: 2}, "markov_step": {1: 2},
    "qrb_sweep": {1: None, 2: None},
    "apply_unitary": {1: 3}, "apply_kraus": {1: 4}, "aware_apply_kraus": {1: 4},
    "dephase": {}, "embed_ancillas": {}, "partial_trace": {}, "probs": {},
}


def _select(arg, dim, i):
    if dim is None:
        return arg
    if isinstance(arg, list):
        return [_select(a, d, i) for a, d in zip(arg, dim)]
    return arg.select(dim, i)


def _by_loop(op, info, in_dims, args):
    """The op once per slice of the mapped dimension, stacked: right for any layout."""
    outs = [op(*[_select(a, d, i) for a, d in zip(args, in_dims)]) for i in range(info.batch_size)]
    if isinstance(outs[0], tuple):
        return tuple(torch.stack(o) for o in zip(*outs)), (0,) * len(outs[0])
    return torch.stack(outs), 0


def _fold(t, dim):
    """[..V at dim.., B, ...] -> [V*B, ...] and B."""
    t = t.movedim(dim, 0)
    return t.reshape((t.shape[0] * t.shape[1],) + tuple(t.shape[2:])), t.shape[1]


def _unfold(t, v):
    return t.reshape((v, t.shape[0] // v) + tuple(t.shape[1:]))


def _tensors_unmapped(args, in_dims, first):
    return all(d is None for a, d in zip(args[first:], in_dims[first:]) if isinstance(a, torch.Tensor) or
               isinstance(a, list))


def _register_forward_vmap(name, ranks):
    op = getattr(_hqrn, name).default

    def rule(info, in_dims, *args):
        if in_dims[0] is None or not _tensors_unmapped(args, in_dims, 1):
            return _by_loop(op, info, in_dims, args)
        v = info.batch_size
        state, _ = _fold(args[0], in_dims[0])
        folded = [state]
        for k, a in enumerate(args[1:], 1):
            if isinstance(a, torch.Tensor) and ranks.get(k) is not None and a.dim() == ranks[k]:
                a = a.repeat((v,) + (1,) * (a.dim() - 1))  # per sample or grouped: the same rows per slice
            folded.append(a)
        return _unfold(op(*folded), v), 0

    torch.library.register_vmap("hqrn::" + name, rule)


def _register_backward_vmap(name, ranks):
    """_<name>_backward(grad, state, *rest) (or (grad, non-tensors) for state-only ops)."""
    op = getattr(_hqrn, "_{}_backward".format(name)).default
    state_only = not ranks

    def rule(info, in_dims, grad, *args):
        if state_only:
            if in_dims[0] is None or not _tensors_unmapped(args, in_dims[1:], 0):
                return _by_loop(op, info, in_dims, (grad,) + args)
            folded, _ = _fold(grad, in_dims[0])
            return _unfold(op(folded, *args), info.batch_size), 0
        shared_only = any(r is None for r in ranks.values())
        if in_dims[0] is None or in_dims[1] is None or shared_only or not _tensors_unmapped(args, in_dims[1:], 1):
            return _by_loop(op, info, in_dims, (grad,) + args)
        v = info.batch_size
        grad_f, _ = _fold(grad, in_dims[0])
        state_f, b = _fold(args[0], in_dims[1])
        rest = []
        for k, a in enumerate(args[1:], 1):
            if isinstance(a, torch.Tensor):
                per_sample = a.dim() == ranks[k]
                rows = a.repeat_interleave(b // a.shape[0], 0) if per_sample else a.expand((b,) + tuple(a.shape))
                a = rows.repeat((v,) + (1,) * (rows.dim() - 1))
            rest.append(a)
        grads = op(grad_f, state_f, *rest)
        out = [_unfold(grads[0], v)]
        for k, g in enumerate(grads[1:], 1):
            original = args[k]
            g = _unfold(g, v)  # [V, B, ...]
            if original.dim() == ranks[k]:  # per sample or grouped [G, ...]: sum each group
                groups = original.shape[0]
                g = g.reshape((v, groups, b // groups) + tuple(g.shape[2:])).sum(2)
            else:  # shared: sum over the samples of each slice
                g = g.sum(1)
            out.append(g)
        return tuple(out), (0,) * len(out)

    torch.library.register_vmap("hqrn::_{}_backward".format(name), rule)


def _register_vmap(qualnames):
    for qualname in qualnames:
        name = qualname.split("::")[1]
        forward = name[1:-len("_backward")] if name.endswith("_backward") else None
        if forward is None and name in _PER_SAMPLE_RANK:
            _register_forward_vmap(name, _PER_SAMPLE_RANK[name])
        elif forward in _PER_SAMPLE_RANK:
            _register_backward_vmap(forward, _PER_SAMPLE_RANK[forward])
        elif name in ("angle_tables", "_angle_tables_backward"):  # lists of weight sets
            op = getattr(_hqrn, name).default
            torch.library.register_vmap(qualname, lambda info, in_dims, *args, op=op: _by_loop(op, info, in_dims,
                                                                                                  args))


def _register():
    uniform = [("qrb_step", 3, _fake_same_shape), ("qrb_sweep", 3, _fake_same_shape),
               ("aware_step", 3, _fake_aware_step), ("vector_step", 3, _fake_same_shape),
               ("markov_step", 2, _fake_same_shape),
               ("apply_unitary", 2, _fake_same_shape), ("apply_kraus", 2, _fake_same_shape),
               ("aware_apply_kraus", 2, _fake_same_shape)]
    for name, n_tensors, fake in uniform:
        _register_fake(name, fake)
        _register_fake("_{}_backward".format(name), lambda grad, *args, n=n_tensors: _fake_grads(*args[:n]))
        _register_tensor_grads_autograd(name, n_tensors)

    # dephase is its own adjoint: its backward is itself, differentiable again.
    _register_fake("dephase", _fake_same_shape)
    _register_autograd("dephase", _store_args, lambda ctx, grad: (_hqrn.dephase(grad, ctx.args[1]), None))

    _register_fake("embed_ancillas", _fake_embed_ancillas)
    _register_fake("_embed_ancillas_backward", _fake_embed_ancillas_backward)
    _register_autograd("embed_ancillas", _store_args,
                       lambda ctx, grad: (_hqrn._embed_ancillas_backward(grad.contiguous(), ctx.args[1]), None))

    def partial_trace_context(ctx, args, output):
        ctx.keep, ctx.n = args[1], _qubits_of_dimension(args[0].shape[1], "rho")

    _register_fake("partial_trace", _fake_partial_trace)
    _register_fake("_partial_trace_backward", _fake_partial_trace_backward)
    _register_autograd("partial_trace", partial_trace_context,
                       lambda ctx, grad: (_hqrn._partial_trace_backward(grad.contiguous(), ctx.keep, ctx.n), None))

    _register_fake("probs", _fake_probs)
    _register_fake("_probs_backward", _fake_probs_backward)
    _register_autograd("probs", _store_args, lambda ctx, grad: (_hqrn._probs_backward(grad.contiguous()),))

    def angle_tables_backward(ctx, grad):
        # One buffer per kind for all R weight sets; each parameter gets its slice.
        grad_weights, grad_biases = _hqrn._angle_tables_backward(grad.contiguous())
        return list(grad_weights.unbind(0)), list(grad_biases.unbind(0))

    _register_fake("angle_tables", _fake_angle_tables)
    _register_fake("_angle_tables_backward", _fake_angle_tables_backward)
    _register_autograd("angle_tables", _store_args, angle_tables_backward)

    for name in [u[0] for u in uniform] + ["embed_ancillas", "partial_trace", "probs", "angle_tables"]:
        _refuse_double_backward(name)
    _register_vmap([n for n in torch._C._dispatch_get_all_op_names() if n.startswith("hqrn::")])


_register()
