"""The register's state during a simulation (models/register_state.h), in one
of four representations with one set of verbs, on the torch.ops.hqrn kernels.

- "dense": density matrices [B, 2^n, 2^n] (complex).
- "aware": only the entries whose row and column agree on the qubits known to
  be diagonal D: blocks [B, 2^|D|, 2^m, 2^m]; once D holds every qubit, the
  probability vector. The dense representation's numbers.
- "probabilities": probability vectors [B, 2^n] (real): the classical analog,
  exact on diagonal states.
- "vectors": r component vectors W [B, r, 2^n] (complex) and the set D of
  qubits measured so far, standing for rho = sum_k sum_a |P_a w_k><P_a w_k|
  (a the assignments of D; spec section 8); once D holds every qubit, the
  probability vector sum_k |w_k|^2. Exact, at r 2^n numbers per state for
  pure and low-rank inputs.
"""

from collections import namedtuple

import torch
import torch.nn.functional as F

from ._library import compiling as _compiling, operators
from .config import MAX_QUBITS, MAX_VECTOR_QUBITS

REPRESENTATIONS = ("dense", "aware", "probabilities", "vectors")
# Eigenvalues at or below this are dropped when a density matrix is written as state vectors
# (to_state_vectors); their total is reported (kEigenvalueTolerance in models/register_state.h).
EIGENVALUE_TOLERANCE = 1e-12

StateVectors = namedtuple("StateVectors", ["vectors", "dropped_weight"])


# The operators of this call (hqrn._library.operators: the C++ autograd kernels in eager code on torch >= 2.4).
_ops = operators


def _qubits_of_dimension(size, what):
    if size < 1 or size & (size - 1):
        raise ValueError("RegisterState: {} has size {}, not a power of two".format(what, size))
    return size.bit_length() - 1


def _require_qubits(n, representation):
    """Registers above the representation's limit are refused (kMaxVectorQubits for vectors and
    probability vectors, kMaxQubits for density matrices)."""
    limit = MAX_VECTOR_QUBITS if representation == "vectors" else MAX_QUBITS
    if n > limit:
        raise ValueError("RegisterState: {} qubits exceed the {} representation's limit of {}{}".format(
            n, representation, limit,
            "" if representation == "vectors" else " (state-vector inputs go further in the vectors execution)"))


def _require_ancillas(ancillas):
    if ancillas < 0:
        raise ValueError("RegisterState: ancillas must be >= 0, got {}".format(ancillas))


def _component_weights(w):
    """sum_k |w_k(x)|^2 of component vectors [B, r, 2^n]: the Z distribution [B, 2^n] (measuring
    the qubits in D does not change the diagonal)."""
    return torch.view_as_real(w).square().sum(-1).sum(1)


def _bit_set(n, mask, like):
    """The basis indices x with bit `mask` set, as a 0/1 tensor of like's dtype [2^n]."""
    x = torch.arange(1 << n, dtype=torch.long, device=like.device)
    return x.bitwise_and(mask).ne(0).to(like.dtype)


def _require_states(rho):
    if not isinstance(rho, torch.Tensor) or rho.dim() != 3 or not rho.is_complex() or rho.shape[1] != rho.shape[2]:
        raise ValueError("RegisterState: expected complex states [B, d, d], got {}".format(_describe(rho)))


def _describe(t):
    return "{} {}".format(list(t.shape), t.dtype) if isinstance(t, torch.Tensor) else type(t).__name__


def to_state_vectors(rho, tolerance=EIGENVALUE_TOLERANCE):
    """Density matrices [B, d, d] as component vectors [B, r, d] with rho = sum_k |v_k><v_k|,
    v_k = sqrt(lambda_k) u_k over the eigenpairs with lambda_k > tolerance (r the largest such
    count in the batch, at least 1; states with fewer get zero components), and the dropped
    weight per state [B] (the sum of the eigenvalues left out, negative ones included):
    StateVectors(vectors, dropped_weight). Not differentiable in rho (an eigendecomposition's
    gradient is unstable at the degenerate eigenvalues pure and low-rank states have): a rho
    that requires grad is refused."""
    _require_states(rho)
    if rho.requires_grad:
        raise ValueError("to_state_vectors: the states require grad, but their eigendecomposition is taken as data "
                         "(its gradient is unstable at degenerate eigenvalues); pass component vectors to "
                         "differentiate by the input")
    if not tolerance >= 0:
        raise ValueError("to_state_vectors: tolerance must be >= 0, got {}".format(tolerance))
    values, vectors = torch.linalg.eigh(rho)  # ascending
    kept = values > tolerance
    d = rho.shape[1]
    rank = 1 if rho.shape[0] == 0 else max(1, int(kept.sum(1).max().item()))
    # Every eigenvalue above the tolerance is among the `rank` largest.
    top = values.narrow(1, d - rank, rank)
    scale = torch.where(top > tolerance, top.clamp_min(0).sqrt(), torch.zeros_like(top))
    components = (vectors.narrow(2, d - rank, rank) * scale.unsqueeze(1)).transpose(1, 2).contiguous()
    return StateVectors(components, values.masked_fill(kept, 0).sum(1))


def _subregister_offsets(n, qubits):
    """Basis index of each configuration of `qubits` (first listed = most significant), other bits 0."""
    masks = [1 << (n - 1 - q) for q in qubits]
    k = len(masks)
    return [sum(m for i, m in enumerate(masks) if (v >> (k - 1 - i)) & 1) for v in range(1 << k)]


def _basis_indices(n, diagonal, device=None):
    """Basis index of entry (a, r) of the aware layout: [2^|D|, 2^m], int64."""
    rest = [q for q in range(n) if q not in diagonal]
    a = torch.tensor(_subregister_offsets(n, diagonal), dtype=torch.long, device=device)
    r = torch.tensor(_subregister_offsets(n, rest), dtype=torch.long, device=device)
    return a.unsqueeze(1) | r.unsqueeze(0)


_DIAGONAL_ORDERS = {}


def _diagonal_order(n, diagonal, device):
    """Where basis index k's entry sits among the aware blocks' diagonals, [2^n]: the argsort of
    _basis_indices, made once per layout and device (each forward reads it)."""
    if _compiling():  # torch.compile traces the computation instead of reading a cache
        return torch.argsort(_basis_indices(n, diagonal, device).flatten())
    key = (n, tuple(diagonal), device)
    order = _DIAGONAL_ORDERS.get(key)
    if order is None:
        order = _DIAGONAL_ORDERS[key] = torch.argsort(_basis_indices(n, diagonal, device).flatten())
    return order


def _complex_of(dtype):
    return torch.complex64 if dtype == torch.float32 else torch.complex128


def density_of_components(vectors):
    """sum_k |v_k><v_k| per state of component vectors [B, r, d]: V^T conj(V), [B, d, d]."""
    return torch.matmul(vectors.transpose(1, 2), vectors.conj())


def _per_sample(table, rows):
    """aware_step reads one table per group of consecutive samples ([G, h], G dividing the rows);
    qrb_step and markov_step take one per sample: each group's table repeated over its rows,
    [G, h] -> [rows, h] or [n, G, h] -> [n, rows, h] (a no-op for shared or per-sample tables)."""
    if table is None or table.dim() < 2 or table.shape[-2] == rows:
        return table
    groups = table.shape[-2]
    if groups < 1 or rows % groups:
        raise ValueError("RegisterState: {} table rows do not split {} samples into equal groups".format(groups, rows))
    shape = list(table.shape)
    return table.unsqueeze(-2).expand(shape[:-1] + [rows // groups, shape[-1]]).reshape(
        shape[:-2] + [rows, shape[-1]])


def _block_diagonals(blocks):
    """The diagonals of aware blocks [B, A, m, m] as [B, A m], real: hqrn.probs on the blocks as one
    batch of m x m matrices (one operator and one backward node, where real() of a diagonal view makes three)."""
    m = blocks.shape[-1]
    return _ops().probs(blocks.reshape(-1, m, m)).reshape(blocks.shape[0], -1)


def _check_representation(representation):
    if representation not in REPRESENTATIONS:
        raise ValueError("unknown representation '{}' (expected {})".format(representation, ", ".join(REPRESENTATIONS)))


class RegisterState:
    def __init__(self, representation, qubits, diagonal, values):
        _check_representation(representation)
        self.representation = representation
        self.qubits = qubits
        self.diagonal = list(diagonal)  # ascending
        # Aware 1x1 blocks, or vectors, with every qubit diagonal (measured) are the probability vector.
        if len(self.diagonal) == qubits and values.is_complex():
            values = _component_weights(values) if representation == "vectors" else _block_diagonals(values)
        self.values = values

    def _with_values(self, values):
        return RegisterState(self.representation, self.qubits, self.diagonal, values)

    @property
    def is_distribution(self):
        return not self.values.is_complex()

    @property
    def complex_dtype(self):
        """The complex dtype of the state's precision (what its channels' Kraus operators take)."""
        return self.values.dtype if self.values.is_complex() else _complex_of(self.values.dtype)

    @staticmethod
    def from_data_state(rho, ancillas, representation):
        """rho (x) |0..0><0..0| with `ancillas` ancillas after the data qubits (in the vectors
        representation through to_state_vectors: the eigenvectors of rho, as data)."""
        _check_representation(representation)
        _require_states(rho)
        _require_ancillas(ancillas)
        data_qubits = _qubits_of_dimension(rho.shape[1], "the data register")
        n = data_qubits + ancillas
        _require_qubits(n, representation if representation in ("dense", "aware") else "vectors")
        if representation == "dense":
            return RegisterState("dense", n, [], _ops().embed_ancillas(rho, ancillas))
        if representation == "probabilities":
            return RegisterState.from_distribution(_ops().probs(rho), ancillas, representation)
        if representation == "vectors":
            return RegisterState.from_vectors(to_state_vectors(rho).vectors, ancillas, representation)
        # The ancillas' only nonzero block is a = 0..0.
        values = rho.unsqueeze(1)
        empty_blocks = (1 << ancillas) - 1
        if empty_blocks:
            values = torch.cat([values, rho.new_zeros(rho.shape[0], empty_blocks, rho.shape[1], rho.shape[2])], 1)
        return RegisterState("aware", n, list(range(data_qubits, n)), values)

    @staticmethod
    def from_distribution(p_data, ancillas, representation):
        """The diagonal state of probability vectors [B, 2^k], ancillas in |0> after them."""
        _check_representation(representation)
        if not isinstance(p_data, torch.Tensor) or p_data.dim() != 2 or p_data.is_complex():
            raise ValueError("RegisterState: expected real probability vectors [B, d], got {}".format(
                _describe(p_data)))
        _require_ancillas(ancillas)
        n = _qubits_of_dimension(p_data.shape[1], "the probability vector") + ancillas
        _require_qubits(n, "dense" if representation == "dense" else "vectors")
        aux = 1 << ancillas
        # Ancillas in |0> are the low bits: p(x, 0..0) = p_data(x).
        p = p_data if aux == 1 else F.pad(p_data.unsqueeze(-1), (0, aux - 1)).reshape(p_data.shape[0], -1)
        if representation == "dense":
            return RegisterState("dense", n, [], torch.diag_embed(p).to(_complex_of(p.dtype)))
        return RegisterState(representation, n, list(range(n)), p)

    @staticmethod
    def from_vectors(vectors_data, ancillas, representation):
        """Component vectors [B, r, 2^k] (complex) of a k-qubit data register (unmeasured), with
        `ancillas` ancillas in |0> after them: W (x) |0..0>. In another representation, the
        density matrices sum_k |v_k><v_k| (or their diagonals) are prepared from them."""
        _check_representation(representation)
        v = vectors_data
        if not isinstance(v, torch.Tensor) or v.dim() != 3 or not v.is_complex() or v.shape[1] < 1:
            raise ValueError("RegisterState: expected complex component vectors [B, r, d] with r >= 1, got {}".format(
                _describe(v)))
        _require_ancillas(ancillas)
        n = _qubits_of_dimension(v.shape[2], "the state vector") + ancillas
        _require_qubits(n, "vectors" if representation == "probabilities" else representation)
        if representation == "probabilities":
            return RegisterState.from_distribution(_component_weights(v), ancillas, representation)
        if representation != "vectors":
            return RegisterState.from_data_state(density_of_components(v), ancillas, representation)
        # W (x) |0..0>: the ancillas are the low bits, so each amplitude moves to x 2^ancillas
        # and the rest are zero.
        aux = 1 << ancillas
        values = v if aux == 1 else F.pad(v.unsqueeze(-1), (0, aux - 1)).reshape(v.shape[0], v.shape[1], -1)
        return RegisterState("vectors", n, [], values)

    def step(self, theta, phi, target):
        """S_target with angle tables theta, phi [2^(n-1)], per sample [B, 2^(n-1)] or per group of B / G
        consecutive samples [G, 2^(n-1)] (a Markov step on probability vectors, which never reads phi)."""
        rows = self.values.shape[0]
        if self.is_distribution:
            return self._with_values(_ops().markov_step(self.values, _per_sample(theta, rows), target))
        if self.representation == "dense":
            return self._with_values(_ops().qrb_step(self.values, _per_sample(theta, rows), _per_sample(phi, rows),
                                                     target))
        if self.representation == "vectors":
            return self._vectors_step(theta, phi, target)
        # sorted() rather than bisect.insort, which torch.compile cannot trace.
        diagonal = sorted(set(self.diagonal) | {target})
        return RegisterState("aware", self.qubits, diagonal,
                             _ops().aware_step(self.values, theta, phi, target, self.diagonal))

    def _vectors_step(self, theta, phi, target):
        if not 0 <= target < self.qubits:
            raise ValueError("RegisterState: target {} out of range for {} qubits".format(target, self.qubits))
        if target not in self.diagonal:
            # U_j never mixes assignments of D, and the two outcomes of measuring j have disjoint
            # supports on j: the rotated vectors and D + {j} stand for the measured state exactly.
            return RegisterState("vectors", self.qubits, sorted(set(self.diagonal) | {target}),
                                 _ops().vector_step(self.values, theta, phi, target))
        # j already measured, some qubit not: U_j mixes the assignments of j, so the halves
        # w_k P_0 and w_k P_1 become components of their own (the rank doubles) and are rotated apart.
        upper = self.values * _bit_set(self.qubits, 1 << (self.qubits - 1 - target), self.values)
        halves = torch.cat([self.values - upper, upper], 1)
        return self._with_values(_ops().vector_step(halves, theta, phi, target))

    def sweep(self, theta, phi, targets, step_channel=None):
        """S_j for j in targets with tables theta[j], phi[j] ([n, 2^(n-1)], per sample [n, B, 2^(n-1)] or
        per group [n, G, 2^(n-1)], or sequences of the n per-qubit tables; phi may be None on
        probability vectors); with a step channel
        (Kraus [m, 2, 2]) after every step on every qubit, qubit 0 first."""
        # qrb_sweep takes shared tables; per-sample or grouped ones run step by step.
        if self.representation == "dense" and step_channel is None and isinstance(theta, torch.Tensor) and \
                theta.dim() == 2:
            return self._with_values(_ops().qrb_sweep(self.values, theta, phi, list(targets)))
        for j in targets:
            if not 0 <= j < self.qubits:
                raise ValueError("RegisterState: target {} out of range for {} qubits".format(j, self.qubits))
        thetas = self._per_qubit(theta, "theta")
        phis = None if phi is None else self._per_qubit(phi, "phi")
        # Grouped tables (branches side by side) repeated per row once for the whole sweep, when
        # a step needs them so (markov_step, qrb_step); aware_step reads them grouped.
        grouped = thetas[0].dim() == 2
        theta_rows = phi_rows = None
        rows = self.values.shape[0]
        state = self
        for j in targets:
            reads_phi = not state.is_distribution
            if reads_phi and phis is None:
                raise ValueError("RegisterState: phi is undefined")
            t, p = thetas, phis
            if grouped and (state.is_distribution or state.representation == "dense"):
                if theta_rows is None:
                    theta_rows = [_per_sample(table, rows) for table in thetas]
                if reads_phi and phi_rows is None:
                    phi_rows = [_per_sample(table, rows) for table in phis]
                t, p = theta_rows, phi_rows
            state = state.step(t[j], p[j] if reads_phi else None, j)
            if step_channel is None:
                continue
            # After the fused step rather than before the measurement: equal, since every
            # noise-model channel commutes with the measurement (docs/model.md).
            for q in range(self.qubits):
                state = state.apply_channel(step_channel, [q])
        return state

    def _per_qubit(self, tables, name):
        """One table per qubit: a tensor [n, ...] unbound (one autograd node for the sweep, not a
        select per step), or a sequence of n tables as it is."""
        count = len(tables) if not isinstance(tables, torch.Tensor) else tables.shape[0] if tables.dim() else 0
        if count != self.qubits:
            raise ValueError("RegisterState: {} must hold one table per qubit ({}), got {}".format(
                name, self.qubits, list(tables.shape) if isinstance(tables, torch.Tensor) else
                "{} tables".format(count)))
        return tables.unbind(0) if isinstance(tables, torch.Tensor) else tables

    def repeated(self, copies):
        """`copies` copies of the batch one after the other: [copies B, ...] (branches side by side)."""
        if copies < 1:
            raise ValueError("RegisterState: copies must be >= 1, got {}".format(copies))
        # One call from Python (C++ copies an expanded view, which takes four from here); cat is
        # the fastest of cat, repeat and expand-then-reshape on torch 1.13 and 2.11.
        return self._with_values(torch.cat([self.values] * copies))

    def apply_channel(self, kraus, targets):
        """rho -> sum_m K_m rho K_m^dagger on `targets` (not on vectors before every qubit is measured)."""
        if self.representation == "vectors" and not self.is_distribution:
            raise ValueError("RegisterState: the vectors representation takes no noise channels (a channel on a "
                             "coherent qubit raises the rank at every step); run noisy networks in the aware or "
                             "dense execution")
        if self.representation == "dense":
            return self._with_values(_ops().apply_kraus(self.values, kraus, list(targets)))
        if not self.is_distribution:
            return self._with_values(_ops().aware_apply_kraus(self.values, kraus, list(targets), self.diagonal))
        # A probability vector is the aware layout with 1x1 blocks (read back here: in the vectors
        # representation complex values would be components).
        blocks = self.values.to(_complex_of(self.values.dtype)).reshape(self.values.shape[0], -1, 1, 1)
        return self._with_values(_block_diagonals(_ops().aware_apply_kraus(blocks, kraus, list(targets),
                                                                           self.diagonal)))

    def probabilities(self):
        """Z distribution of the whole register, [B, 2^n], in basis-index order."""
        if self.is_distribution:
            return self.values
        if self.representation == "dense":
            return _ops().probs(self.values)
        if self.representation == "vectors":
            return _component_weights(self.values)
        # Entry k of the diagonals belongs to basis index idx[k]; gather with the inverse.
        order = _diagonal_order(self.qubits, self.diagonal, self.values.device)
        return _block_diagonals(self.values).index_select(1, order)

    def to_dense(self):
        """The full density matrix [B, 2^n, 2^n] (for checks; costs 4^n)."""
        if self.is_distribution:
            return torch.diag_embed(self.values).to(_complex_of(self.values.dtype))
        if self.representation == "dense":
            return self.values
        d = 1 << self.qubits
        if self.representation == "vectors":
            # sum_k |w_k><w_k| with the entries whose row and column differ on D zeroed.
            measured = sum(1 << (self.qubits - 1 - q) for q in self.diagonal)
            x = torch.arange(d, dtype=torch.long, device=self.values.device)
            coherent = (x.unsqueeze(1) ^ x.unsqueeze(0)).bitwise_and(measured).eq(0)
            return density_of_components(self.values) * coherent.to(self.values.dtype)
        idx = _basis_indices(self.qubits, self.diagonal, self.values.device)
        rho = self.values.new_zeros(self.values.shape[0], d, d)
        rho[:, idx.unsqueeze(2), idx.unsqueeze(1)] = self.values
        return rho
