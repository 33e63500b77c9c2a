"""The register's state during a simulation (models/register_state.h), in one
of three representations with one set of verbs, on the torch.ops.hqrn kernels.

- "dense": density matrices [B, 2^n, 2^n] (complex).
- "aware": only the entries whose row and column agree on the qubits known to
  be diagonal D: blocks [B, 2^|D|, 2^m, 2^m]; once D holds every qubit, the
  probability vector. The dense representation's numbers.
- "probabilities": probability vectors [B, 2^n] (real): the classical analog,
  exact on diagonal states.
"""

import bisect

import torch
import torch.nn.functional as F

REPRESENTATIONS = ("dense", "aware", "probabilities")


def _ops():
    return torch.ops.hqrn


def _qubits_of_dimension(size, what):
    if size < 1 or size & (size - 1):
        raise ValueError("RegisterState: {} has size {}, not a power of two".format(what, size))
    return size.bit_length() - 1


def _subregister_offsets(n, qubits):
    """Basis index of each configuration of `qubits` (first listed = most significant), other bits 0."""
    masks = [1 << (n - 1 - q) for q in qubits]
    k = len(masks)
    return [sum(m for i, m in enumerate(masks) if (v >> (k - 1 - i)) & 1) for v in range(1 << k)]


def _basis_indices(n, diagonal):
    """Basis index of entry (a, r) of the aware layout: [2^|D|, 2^m], int64."""
    rest = [q for q in range(n) if q not in diagonal]
    a = torch.tensor(_subregister_offsets(n, diagonal), dtype=torch.long)
    r = torch.tensor(_subregister_offsets(n, rest), dtype=torch.long)
    return a.unsqueeze(1) | r.unsqueeze(0)


def _complex_of(dtype):
    return torch.complex64 if dtype == torch.float32 else torch.complex128


class RegisterState:
    def __init__(self, representation, qubits, diagonal, values):
        if representation not in REPRESENTATIONS:
            raise ValueError("unknown representation '{}' (expected {})".format(
                representation, ", ".join(REPRESENTATIONS)))
        self.representation = representation
        self.qubits = qubits
        self.diagonal = list(diagonal)  # ascending
        # Aware 1x1 blocks with every qubit diagonal are the probability vector.
        if len(self.diagonal) == qubits and values.is_complex():
            values = values.real.reshape(values.shape[0], -1)
        self.values = values

    def _with_values(self, values):
        return RegisterState(self.representation, self.qubits, self.diagonal, values)

    @property
    def is_distribution(self):
        return not self.values.is_complex()

    @staticmethod
    def from_data_state(rho, ancillas, representation):
        """rho (x) |0..0><0..0| with `ancillas` ancillas after the data qubits."""
        if rho.dim() != 3 or not rho.is_complex() or rho.shape[1] != rho.shape[2]:
            raise ValueError("RegisterState: expected complex states [B, d, d], got {} {}".format(
                list(rho.shape), rho.dtype))
        data_qubits = _qubits_of_dimension(rho.shape[1], "the data register")
        n = data_qubits + ancillas
        if representation == "dense":
            return RegisterState("dense", n, [], _ops().embed_ancillas(rho, ancillas))
        if representation == "probabilities":
            return RegisterState.from_distribution(_ops().probs(rho), ancillas, representation)
        # The ancillas' only nonzero block is a = 0..0.
        values = rho.unsqueeze(1)
        empty_blocks = (1 << ancillas) - 1
        if empty_blocks:
            values = torch.cat([values, rho.new_zeros(rho.shape[0], empty_blocks, rho.shape[1], rho.shape[2])], 1)
        return RegisterState("aware", n, list(range(data_qubits, n)), values)

    @staticmethod
    def from_distribution(p_data, ancillas, representation):
        """The diagonal state of probability vectors [B, 2^k], ancillas in |0> after them."""
        if p_data.dim() != 2 or p_data.is_complex():
            raise ValueError("RegisterState: expected real probability vectors [B, d], got {} {}".format(
                list(p_data.shape), p_data.dtype))
        n = _qubits_of_dimension(p_data.shape[1], "the probability vector") + ancillas
        aux = 1 << ancillas
        # Ancillas in |0> are the low bits: p(x, 0..0) = p_data(x).
        p = p_data if aux == 1 else F.pad(p_data.unsqueeze(-1), (0, aux - 1)).reshape(p_data.shape[0], -1)
        if representation == "dense":
            return RegisterState("dense", n, [], torch.diag_embed(p).to(_complex_of(p.dtype)))
        return RegisterState(representation, n, list(range(n)), p)

    def step(self, theta, phi, target):
        """S_target with angle tables theta, phi [2^(n-1)] (a Markov step on probability vectors)."""
        if self.is_distribution:
            return self._with_values(_ops().markov_step(self.values, theta, target))
        if self.representation == "dense":
            return self._with_values(_ops().qrb_step(self.values, theta, phi, target))
        diagonal = list(self.diagonal)
        if target not in diagonal:
            bisect.insort(diagonal, target)
        return RegisterState("aware", self.qubits, diagonal,
                             _ops().aware_step(self.values, theta, phi, target, self.diagonal))

    def sweep(self, theta, phi, targets, step_channel=None):
        """S_j for j in targets with tables theta[j], phi[j] ([n, 2^(n-1)]); with a step
        channel (Kraus [m, 2, 2]) after every step on every qubit, qubit 0 first."""
        if self.representation == "dense" and step_channel is None:
            return self._with_values(_ops().qrb_sweep(self.values, theta, phi, list(targets)))
        state = self
        for j in targets:
            if not 0 <= j < self.qubits:
                raise ValueError("RegisterState: target {} out of range for {} qubits".format(j, self.qubits))
            state = state.step(theta[j], None if state.is_distribution else phi[j], j)
            if step_channel is None:
                continue
            # After the fused step rather than before the measurement: equal, since every
            # noise-model channel commutes with the measurement (docs/model.md).
            for q in range(self.qubits):
                state = state.apply_channel(step_channel, [q])
        return state

    def apply_channel(self, kraus, targets):
        """rho -> sum_m K_m rho K_m^dagger on `targets`."""
        if self.representation == "dense":
            return self._with_values(_ops().apply_kraus(self.values, kraus, list(targets)))
        if not self.is_distribution:
            return self._with_values(_ops().aware_apply_kraus(self.values, kraus, list(targets), self.diagonal))
        # A probability vector is the aware layout with 1x1 blocks.
        blocks = self.values.to(_complex_of(self.values.dtype)).reshape(self.values.shape[0], -1, 1, 1)
        return self._with_values(_ops().aware_apply_kraus(blocks, kraus, list(targets), self.diagonal))

    def probabilities(self):
        """Z distribution of the whole register, [B, 2^n], in basis-index order."""
        if self.is_distribution:
            return self.values
        if self.representation == "dense":
            return _ops().probs(self.values)
        diag = self.values.diagonal(0, 2, 3).real.reshape(self.values.shape[0], -1)
        idx = _basis_indices(self.qubits, self.diagonal).flatten()
        return diag.index_select(1, torch.argsort(idx))

    def to_dense(self):
        """The full density matrix [B, 2^n, 2^n] (for checks; costs 4^n)."""
        if self.is_distribution:
            return torch.diag_embed(self.values).to(_complex_of(self.values.dtype))
        if self.representation == "dense":
            return self.values
        d = 1 << self.qubits
        idx = _basis_indices(self.qubits, self.diagonal)
        rho = self.values.new_zeros(self.values.shape[0], d, d)
        rho[:, idx.unsqueeze(2), idx.unsqueeze(1)] = self.values
        return rho
