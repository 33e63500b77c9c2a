"""Adam with one operator call per step (torch.ops.hqrn.adam_step_).

torch.optim.Adam on the CPU makes several ATen calls per parameter tensor and
step (on torch 1.13 its foreach path loops over the tensors one call each), so
for a network of a few dozen small tensors the optimizer costs more than its
arithmetic: for the default entanglement network, 0.6 ms of a 1.7 ms training
step (docs/performance.md). This Adam is torch.optim.Adam (same arguments,
same state keys and state_dict, same schedulers) whose step on dense CPU
float32/float64 parameters is one call of the C++ loop that `hqrn train`'s
FusedAdam runs. Whatever that loop does not cover (amsgrad, weight decay,
maximize, capturable or fused groups, a tensor learning rate, closures,
complex, sparse or non-CPU tensors, several parameter groups) runs
torch.optim.Adam's own step.

    optimizer = hqrn.optim.Adam(model.parameters(), lr=0.01)
"""

import torch

_hqrn = torch.ops.hqrn
# torch.optim keeps zero_grad out of torch.compile's graphs; so does this one (torch < 2.1 has no compile).
_outside_dynamo = getattr(torch, "_disable_dynamo", lambda f: f)


def _step_dtype():
    # torch.optim.Adam's state["step"] dtype (torch.optim.optimizer._get_scalar_dtype).
    return torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32


def _group_fusable(group):
    return not (group["amsgrad"] or group["weight_decay"] != 0 or group.get("maximize", False) or
                group.get("capturable", False) or group.get("fused", False) or group.get("differentiable", False) or
                isinstance(group["lr"], torch.Tensor))


class Adam(torch.optim.Adam):
    """torch.optim.Adam (same arguments and state) with a fused CPU step; see the module's docstring.

    The fused step serves an optimizer of one parameter group (model.parameters()); with several
    groups every step is torch.optim.Adam's."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The lists of the fused call per pattern of parameters with a gradient (a network's
        # parameters that an execution never reads get none), made once: the per-tensor lookups
        # cost more than the update itself. Valid while the state and the parameter list are the
        # ones they were made from (load_state_dict replaces the state).
        self._fused_lists = {}
        self._fused_source = None

    @torch.no_grad()
    def step(self, closure=None):
        if closure is None and len(self.param_groups) == 1 and _group_fusable(self.param_groups[0]):
            group = self.param_groups[0]
            params = group["params"]
            grads = [p.grad for p in params]
            with_grad = tuple(g is not None for g in grads)
            lists = self._lists_for(params, with_grad)
            if not all(with_grad):
                grads = [g for g in grads if g is not None]
            beta1, beta2 = group["betas"]
            try:
                _hqrn.adam_step_(lists[0], grads, *lists[1:], group["lr"], beta1, beta2, group["eps"])
                return None
            except RuntimeError:
                # Refused before anything was written (a complex, sparse or non-CPU tensor, a state
                # in another layout): torch's step handles it, or raises its own error.
                pass
        return super().step(closure)

    @_outside_dynamo
    def zero_grad(self, set_to_none=True):
        """torch.optim.Optimizer.zero_grad; set_to_none=True (the default) without its profiler range
        and its read of every gradient before clearing it (each read makes a Python object): at a few
        dozen small tensors those cost several times the clearing."""
        if not set_to_none:
            return super().zero_grad(set_to_none=False)
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None
        return None

    def _lists_for(self, params, with_grad):
        """[params, exp_avgs, exp_avg_sqs, steps] of the parameters that have a gradient."""
        source = (self.state, params, len(params))
        if self._fused_source is None or any(a is not b for a, b in zip(source[:2], self._fused_source[:2])) or \
                source[2] != self._fused_source[2]:
            self._fused_lists, self._fused_source = {}, source
        lists = self._fused_lists.get(with_grad)
        if lists is None:
            chosen = [p for p, has in zip(params, with_grad) if has]
            states = [self._state_of(p) for p in chosen]  # state only once a gradient came, as torch's
            lists = [chosen] + [[s[key] for s in states] for key in ("exp_avg", "exp_avg_sq", "step")]
            self._fused_lists[with_grad] = lists
        return lists

    def _state_of(self, p):
        state = self.state[p]
        if len(state) == 0:  # as torch.optim.Adam initialises it
            state["step"] = torch.tensor(0.0, dtype=_step_dtype())
            state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        elif not torch.is_tensor(state["step"]):  # a state_dict from a torch that kept it a number
            state["step"] = torch.tensor(float(state["step"]), dtype=_step_dtype())
        return state
