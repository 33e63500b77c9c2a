"""The noise model's channels as tensors (models/noise.h): Kraus operators,
the readout assignment error and finite-shot estimates."""

import math

import torch

from .config import NoiseModel, _require_probability


def kraus_operators(channel, complex_dtype=torch.complex128):
    """Kraus operators [m, 2, 2] of one channel (PennyLane's conventions)."""
    _require_probability(channel.strength, channel.kind)
    p = float(channel.strength)
    if channel.kind == "depolarizing":
        s, t = math.sqrt(1 - p), math.sqrt(p / 3)
        k = [[[s, 0], [0, s]], [[0, t], [t, 0]], [[0, -1j * t], [1j * t, 0]], [[t, 0], [0, -t]]]
    elif channel.kind == "amplitude_damping":
        k = [[[1, 0], [0, math.sqrt(1 - p)]], [[0, math.sqrt(p)], [0, 0]]]
    elif channel.kind == "phase_damping":
        k = [[[1, 0], [0, math.sqrt(1 - p)]], [[0, 0], [0, math.sqrt(p)]]]
    else:  # bit_flip
        s, t = math.sqrt(1 - p), math.sqrt(p)
        k = [[[s, 0], [0, s]], [[0, t], [t, 0]]]
    return torch.tensor(k, dtype=torch.complex128).to(complex_dtype)


def step_kraus(noise: NoiseModel, complex_dtype=torch.complex128):
    """The channels applied in order as one channel on a qubit, [prod m, 2, 2]; None without channels."""
    combined = None
    for channel in noise.channels:
        k = kraus_operators(channel, torch.complex128)
        # Acting after `combined`: K_new = K_i K_old_j for every pair (i, j).
        combined = k if combined is None else torch.matmul(k.unsqueeze(1), combined.unsqueeze(0)).reshape(-1, 2, 2)
    return None if combined is None else combined.to(complex_dtype)


def apply_readout_error(distributions, r_flip):
    """Each bit of distributions [..., 2^r] flipped independently with probability r_flip."""
    _require_probability(r_flip, "readout")
    outcomes = distributions.shape[-1]
    bits = max(outcomes - 1, 0).bit_length()
    if (1 << bits) != outcomes:
        raise ValueError("apply_readout_error: {} outcomes is not a power of two".format(outcomes))
    if r_flip == 0:
        return distributions
    p = distributions
    lead = list(distributions.shape[:-1])
    for k in range(bits):
        # Bit k is the middle axis of [..., 2^k, 2, 2^(r-k-1)] (bit 0 the most significant).
        view = p.reshape(lead + [1 << k, 2, 1 << (bits - k - 1)])
        p = ((1 - r_flip) * view + r_flip * view.flip(-2)).reshape(distributions.shape)
    return p


def sample_shots(distributions, shots, generator=None):
    """An estimate of distributions [..., K] from `shots` sampled outcomes each: counts / shots."""
    if shots < 1:
        raise ValueError("shots must be >= 1, got {}".format(shots))
    # Drawn where the generator lives (a CPU generator with GPU distributions: one copy each way).
    device = generator.device if generator is not None else distributions.device
    with torch.no_grad():
        p = distributions.detach().to(device, torch.float64).reshape(-1, distributions.shape[-1]).clamp_min(0)
        remaining = torch.full((p.shape[0],), float(shots), dtype=torch.float64, device=device)
        mass_left = torch.ones(p.shape[0], dtype=torch.float64, device=device)
        counts = []
        # A chain of binomials (as the C++ side draws them): outcome k among the
        # shots not yet assigned, with its share of the mass left.
        for k in range(p.shape[1] - 1):
            pk = p[:, k]
            share = torch.where(mass_left > 0, pk / mass_left, torch.zeros_like(pk)).clamp(0, 1)
            c = torch.binomial(remaining, share, generator=generator)
            counts.append(c)
            remaining = remaining - c
            mass_left = mass_left - pk
        counts.append(remaining)
        return (torch.stack(counts, 1) / shots).reshape(distributions.shape).to(distributions.device,
                                                                                 distributions.dtype)
