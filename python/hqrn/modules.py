"""The HQRN and its classical analog as torch.nn.Modules (models/network.h,
models/residual_block.h), on the torch.ops.hqrn kernels, with the C++
parameter names (branch0.block0.W, encoder.linear.weight, head.mlp.0.bias...),
so that checkpoints move between C++ and Python unchanged."""

import torch
from torch import nn

from .config import NetworkConfig
from .noise import apply_readout_error, sample_shots, step_kraus
from ._library import functorch_level as _functorch_level
from .register import RegisterState, _compiling, _complex_of, _ops

MODES = ("quantum", "classical")
# "auto" (the default) is vectors for state-vector inputs to a noiseless network, aware otherwise.
EXECUTIONS = ("auto", "aware", "dense", "vectors")
# Floor for probabilities under a logarithm (as in C++).
TINY_PROBABILITY = 1e-30
# Branches run side by side (K times fewer operator calls, K times the memory at once) while
# K dense copies of the batch stay within this many entries: small registers, where per-call
# overhead dominates a step (kSideBySideMaxEntries in models/network.cpp).
SIDE_BY_SIDE_MAX_ENTRIES = 1 << 22



def _without_autograd(compute, *args):
    """compute(*args); under no_grad in inference mode, where no operator is dispatched through
    autograd at all (on torch 2.x the package's operators have Python autograd kernels, which
    no_grad still enters: 20% of an evaluation at batch 64), its result cloned into an ordinary
    tensor so that callers may use it anywhere. Traced code (torch.compile) and torch.func
    transforms keep no_grad's semantics as they are."""
    if torch.is_grad_enabled() or _compiling() or _functorch_level() is not None:
        return compute(*args)
    with torch.inference_mode():
        result = compute(*args)
    return result.clone()


def _check_choice(value, choices, what):
    if value not in choices:
        listed = choices[0] if len(choices) == 1 else ", ".join(choices[:-1]) + " or " + choices[-1]
        raise ValueError("unknown {} '{}' (expected {})".format(what, value, listed))


def representation_of(mode, execution, vector_input=False, noisy=False):
    """The register representation a forward pass runs in (models/network.h): the classical mode
    is the probability representation; "auto" picks vectors for state-vector inputs to a
    noiseless network (r 2^n numbers per state) and aware otherwise (a density matrix would need
    an eigendecomposition to become vectors; noise needs density matrices)."""
    _check_choice(mode, MODES, "mode")
    _check_choice(execution, EXECUTIONS, "execution")
    if mode == "classical":
        return "probabilities"
    if execution == "vectors":
        if noisy:
            raise ValueError("the vectors execution takes no noise model (a channel on a coherent qubit raises the "
                             "rank at every step); use execution 'aware' or 'dense' for noisy networks")
        return "vectors"
    if execution == "auto":
        return "vectors" if vector_input and not noisy else "aware"
    return execution


class QuantumResidualBlock(nn.Module):
    """A sweep of residual steps over `targets` (default every qubit, in order).

    theta_j(c) = b_j + sum_{i != j} W_ji c_i and phi_j(c) = a_j + sum_{i != j} V_ji c_i; V and a
    exist only with quantum weights (the classical analog has W and b)."""

    def __init__(self, qubits, quantum_weights=True, targets=None, init_std=0.1):
        super().__init__()
        if qubits < 1:
            raise ValueError("QuantumResidualBlock: qubits must be >= 1")
        self.qubits = qubits
        self.targets = list(range(qubits)) if not targets else list(targets)
        for j in self.targets:
            if not 0 <= j < qubits:
                raise ValueError("QuantumResidualBlock: target {} out of range".format(j))
        s = init_std
        self.W = nn.Parameter(torch.randn(qubits, qubits, dtype=torch.float64) * s)
        self.b = nn.Parameter(torch.randn(qubits, dtype=torch.float64) * s)
        if quantum_weights:
            self.V = nn.Parameter(torch.randn(qubits, qubits, dtype=torch.float64) * s)
            self.a = nn.Parameter(torch.randn(qubits, dtype=torch.float64) * s)
        else:
            self.V = self.a = None

    @property
    def has_quantum_weights(self):
        # The parameter dict directly: nn.Module.__getattr__ costs more than the rest of the check.
        return self._parameters.get("V") is not None

    @staticmethod
    def _tables(weights, bias):
        # torch.ops.hqrn.angle_tables builds [n, R, h] for R weight sets; here R = 1.
        return _ops().angle_tables([weights], [bias]).squeeze(1)

    def theta_tables(self):
        return self._tables(self.W, self.b)

    def phi_tables(self):
        if not self.has_quantum_weights:
            return self.W.new_zeros(self.qubits, 1 << (self.qubits - 1))
        return self._tables(self.V, self.a)

    def forward(self, state: RegisterState, step_channel=None) -> RegisterState:
        # Probability vectors never read phi.
        phi = None if state.is_distribution else self.phi_tables()
        return state.sweep(self.theta_tables(), phi, self.targets, step_channel)

    @staticmethod
    def forward_side_by_side(blocks, state: RegisterState, step_channel=None) -> RegisterState:
        """Block k of `blocks` on rows k B .. k B + B - 1 of `state` (RegisterState.repeated): one
        operator call per step for all of them, with the numbers of K separate forwards."""
        if not blocks:
            raise ValueError("QuantumResidualBlock: no blocks to run side by side")
        first = blocks[0]
        branches = len(blocks)
        rows = state.values.shape[0]
        if rows % branches:
            raise ValueError("QuantumResidualBlock: {} rows do not split into {} branches".format(rows, branches))
        quantum = first.has_quantum_weights
        if any(block.qubits != first.qubits or block.targets != first.targets or block.has_quantum_weights != quantum
               for block in blocks):
            raise ValueError("QuantumResidualBlock: blocks run side by side must have one shape and one "
                             "target order")
        reads_phi = not state.is_distribution
        # theta's weights for every branch, then phi's: one operator call for all the tables. Read from
        # the parameter dicts: nn.Module.__getattr__ per parameter costs as much as a step.
        parameters = [block._parameters for block in blocks]
        names = (("W", "b"), ("V", "a")) if reads_phi and quantum else (("W", "b"),)
        weights = [p[weight] for weight, _ in names for p in parameters]
        biases = [p[bias] for _, bias in names for p in parameters]
        # [n, T K, h] -> n T tables [K, h] (T = 1 or 2; qubit j's theta at j T, its phi after it): one
        # table per branch, read for each of its rows; one unbind, one autograd node.
        tables = _ops().angle_tables(weights, biases)
        kinds = len(names)
        per_qubit = tables.view(-1, branches, tables.shape[2]).unbind(0)
        theta = per_qubit[::kinds]
        phi = None
        if reads_phi:
            phi = per_qubit[1::kinds] if quantum else [torch.zeros_like(t) for t in theta]
        return state.sweep(theta, phi, first.targets, step_channel)


class AngleEncoder(nn.Module):
    """theta_enc = A u + beta per data qubit; returns P(qubit = 1) = sin^2(theta_enc / 2)."""

    def __init__(self, features, qubits):
        super().__init__()
        self.linear = nn.Linear(features, qubits)

    def forward(self, features):
        s = torch.sin(self.linear(features) / 2)
        return s * s


def product_distribution(q):
    """Joint distribution [B, 2^k] of independent bits with P(bit j = 1) = q[:, j], bit 0 most significant."""
    p = q.new_ones(q.shape[0], 1)
    for j in range(q.shape[1]):
        qj = q[:, j].unsqueeze(1)
        p = torch.stack([p * (1 - qj), p * qj], 2).reshape(q.shape[0], -1)
    return p


class ResidualStack(nn.Module):
    """Blocks applied in sequence to one copy of the input (a branch)."""

    def __init__(self, qubits, blocks, quantum_weights, init_std):
        super().__init__()
        self.blocks = []
        for l in range(blocks):
            block = QuantumResidualBlock(qubits, quantum_weights=quantum_weights, init_std=init_std)
            self.add_module("block{}".format(l), block)
            self.blocks.append(block)

    def forward(self, state, step_channel=None):
        for block in self.blocks:
            state = block(state, step_channel)
        return state


def readout_marginal(probabilities, outcomes):
    """Z distributions of whole registers [R, 2^n] marginalised onto the last r qubits, [R, 2^r];
    without a marginal (r = n) the input itself (a sum over a dimension of one costs more than the rest
    of the readout)."""
    if probabilities.shape[1] == outcomes:
        return probabilities
    return probabilities.reshape(probabilities.shape[0], -1, outcomes).sum(1)


def _make_mlp(width, hidden, layers, out):
    mods = []
    for _ in range(layers):
        mods += [nn.Linear(width, hidden), nn.ReLU()]
        width = hidden
    mods.append(nn.Linear(width, out))
    return nn.Sequential(*mods)


class ReadoutHead(nn.Module):
    """Readout distributions [B, K, 2^r] -> class logits [B, C]."""

    def __init__(self, config: NetworkConfig):
        super().__init__()
        self.config = config
        if config.readout != "born":
            width = config.branches * (1 << config.readout_width)
            layers = config.hidden_layers if config.readout == "mlp" else 0
            self.mlp = _make_mlp(width, config.hidden, layers, config.classes)

    def forward(self, distributions):
        if self.config.readout == "born":
            # Class c is outcome c; outcomes >= C discarded, the rest renormalised,
            # averaged over the branches.
            p = distributions.mean(1).narrow(1, 0, self.config.classes).clamp_min(TINY_PROBABILITY)
            return torch.log(p) - torch.log(p.sum(1, keepdim=True))
        # Centred features 2^r p - 1 (or log(2^r p)): zero for a uniform readout.
        outcomes = float(distributions.shape[2])
        x = distributions.reshape(distributions.shape[0], -1)
        x = torch.log(x.clamp_min(TINY_PROBABILITY) * outcomes) if self.config.log_readout else x * outcomes - 1
        return self.mlp(x)


class ResidualNetwork(nn.Module):
    """An angle encoder (with features), K branches of residual blocks and a readout head."""

    default_mode = "quantum"

    def __init__(self, config: NetworkConfig, quantum_weights: bool):
        super().__init__()
        config.validate()
        self.config = config
        self.quantum_weights = quantum_weights
        if config.features > 0:
            self.encoder = AngleEncoder(config.features, config.data_qubits)
        else:
            self.encoder = None
        self.branches = []
        for k in range(config.branches):
            stack = ResidualStack(config.qubits, config.blocks, quantum_weights, config.init_std)
            self.add_module("branch{}".format(k), stack)
            self.branches.append(stack)
        self.head = ReadoutHead(config)
        self.double()

    @property
    def kind(self):
        return "hqrn" if self.quantum_weights else "classical"

    @property
    def real_dtype(self):
        # The first block's weights, when there is one: walking parameters() costs more than a step.
        blocks = self.branches[0].blocks
        if blocks:
            return blocks[0]._parameters["W"].dtype
        for p in self.parameters():
            return p.dtype
        return torch.float64

    def _input_kind(self, x):
        """What the network input is, looked at once per forward: "features" (real [B, F]),
        "density" (density matrices [B, d, d], complex), "distribution" (probability vectors [B, d],
        real) or "vectors" (pure [B, d] or rank-r components [B, r, d], complex, r != d); anything
        else is refused by name."""
        c = self.config
        if not isinstance(x, torch.Tensor):
            raise TypeError("network input must be a torch.Tensor, got {}".format(type(x).__name__))
        shape = x.shape
        rank = len(shape)
        is_complex = x.is_complex()
        if c.features > 0:
            if rank != 2 or shape[1] != c.features or is_complex:
                raise ValueError("network input: expected real features [B, {}], got {} {}".format(
                    c.features, list(shape), x.dtype))
            kind = "features"
        else:
            dd = 1 << c.data_qubits
            kind = None
            if rank == 3 and shape[2] == dd and is_complex:
                kind = "density" if shape[1] == dd else "vectors" if shape[1] >= 1 else None
            elif rank == 2 and shape[1] == dd:
                kind = "vectors" if is_complex else "distribution"
            if kind is None:
                raise ValueError("network input: expected {}-qubit density matrices [B, {d}, {d}] (complex), "
                                 "probability vectors [B, {d}] (real), pure state vectors [B, {d}] (complex) or "
                                 "rank-r component vectors [B, r, {d}] (complex, r != {d}), got {} {}".format(
                                     c.data_qubits, list(shape), x.dtype, d=dd))
        if shape[0] < 1:
            raise ValueError("network input: empty batch")
        return kind

    def initial_state(self, x, representation):
        """The full register's starting state: encoded features and probability vectors are
        diagonal states; a data state gets the ancillas in |0>."""
        return self._initial_state(x, self._input_kind(x), representation)

    def _initial_state(self, x, kind, representation):
        real = self.real_dtype
        c = self.config
        if kind == "features":
            p_data = product_distribution(self.encoder(x.to(real) * c.feature_scale))
            return RegisterState.from_distribution(p_data, c.ancillas, representation)
        if kind == "vectors":
            components = x.unsqueeze(1) if x.dim() == 2 else x
            return RegisterState.from_vectors(components.to(_complex_of(real)), c.ancillas, representation)
        if kind == "density":
            return RegisterState.from_data_state(x.to(_complex_of(real)), c.ancillas, representation)
        return RegisterState.from_distribution(x.to(real), c.ancillas, representation)

    def is_vector_input(self, x):
        """Whether x is state vectors: pure [B, d] or rank-r components [B, r, d], complex, r != d
        (a [B, d, d] complex input is a density matrix); False for anything the network refuses."""
        try:
            return self._input_kind(x) == "vectors"
        except (TypeError, ValueError):
            return False

    def representation_for(self, x, mode, execution):
        """The representation `execution` runs this input in (representation_of)."""
        return representation_of(mode, execution, self.is_vector_input(x), len(self.config.noise.channels) > 0)

    def _run_side_by_side(self, start):
        """The C++ rule (ResidualNetworkImpl::run_side_by_side): the dense execution keeps one branch at
        a time (the reference path for large registers); the others run side by side while the entries of
        K dense copies, which bound any aware intermediate, stay within SIDE_BY_SIDE_MAX_ENTRIES (for
        vectors, K copies of the r components of 2^n entries, unless a step on a measured qubit doubles r)."""
        c = self.config
        if c.branches < 2 or start.representation == "dense":
            return False
        d = 1 << c.qubits
        vectors = start.representation == "vectors" and not start.is_distribution
        per_state = start.values.shape[1] * d if vectors else d * d
        return c.branches * start.values.shape[0] * per_state <= SIDE_BY_SIDE_MAX_ENTRIES

    def readout_distributions(self, x, mode=None, execution="auto"):
        """Z distributions of the readout register per branch, [B, K, 2^r], with the readout error."""
        mode = mode or self.default_mode
        outcomes = 1 << self.config.readout_width
        kind = self._input_kind(x)
        representation = representation_of(mode, execution, kind == "vectors", len(self.config.noise.channels) > 0)
        start = self._initial_state(x, kind, representation)
        # One Kraus set for all the channels of a step, built once per forward.
        channel = step_kraus(self.config.noise, start.complex_dtype)
        if channel is not None:
            channel = channel.to(start.values.device)
        batch = start.values.shape[0]
        if self._run_side_by_side(start):
            state = start.repeated(len(self.branches))
            for l in range(self.config.blocks):
                state = QuantumResidualBlock.forward_side_by_side([branch.blocks[l] for branch in self.branches],
                                                                  state, channel)
            # Rows k B .. k B + B - 1 are branch k's: [K B, 2^r] -> [B, K, 2^r].
            distributions = readout_marginal(state.probabilities(), outcomes).reshape(
                len(self.branches), batch, outcomes).transpose(0, 1)
        else:
            distributions = torch.stack([readout_marginal(branch(start, channel).probabilities(), outcomes)
                                         for branch in self.branches], 1)
        return apply_readout_error(distributions, self.config.noise.readout)

    def forward(self, x, mode=None, execution="auto"):
        """Class logits [B, C]; softmax gives the class probabilities."""
        return _without_autograd(lambda: self.head(self.readout_distributions(x, mode, execution)))

    def forward_sampled(self, x, shots, generator=None, mode=None, execution="auto"):
        """Class logits from `shots` sampled outcomes per branch and input."""
        return _without_autograd(
            lambda: self.head(sample_shots(self.readout_distributions(x, mode, execution), shots, generator)))

    def predict_proba(self, x, mode=None, execution="auto"):
        return torch.softmax(self.forward(x, mode, execution), 1)

    def quantum_parameters(self):
        """V and a of every block (the quantum-only weights)."""
        return [t for branch in self.branches for block in branch.blocks if block.has_quantum_weights
                for t in (block.V, block.a)]

    def classical_parameters(self):
        """W, b, encoder and head: everything a classical analog has."""
        quantum = {id(t) for t in self.quantum_parameters()}
        return [p for p in self.parameters() if id(p) not in quantum]

    def set_classical_trainable(self, trainable):
        """Freezes or unfreezes the classical parameters (quantum-only fine-tuning)."""
        for p in self.classical_parameters():
            p.requires_grad_(trainable)

    def set_noise(self, noise):
        """Evaluates under another noise model; the parameters are untouched."""
        noise.validate()
        self.config.noise = noise


class HQRN(ResidualNetwork):
    """The Hybrid Quantum Residual Network: model(x, mode="quantum", execution="auto")."""

    def __init__(self, config: NetworkConfig):
        super().__init__(config, quantum_weights=True)


class ClassicalResNet(ResidualNetwork):
    """The classical analog: Markov steps on probability vectors, classical weights only."""

    default_mode = "classical"

    def __init__(self, config: NetworkConfig):
        super().__init__(config, quantum_weights=False)
