"""Readers of the project's data files (the formats of src/data/), so Python
sees the same inputs as `hqrn eval`:

- classical CSV (.csv or .csv.gz): one sample per row, features then an integer label;
- state CSV: one two-or-more-qubit state per row, the label then Re, Im of
  rho[0,0], rho[0,1], ... (row-major), d inferred from the row length.

Malformed rows raise ValueError naming the file and line."""

import gzip
import math

import torch

STATE_TOLERANCE = 1e-8  # absolute, as src/data/state_csv.h


def _rows(path):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt") as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                values = [float(v) for v in line.split(",")]
            except ValueError:
                raise ValueError("{}:{}: not a row of numbers".format(path, number)) from None
            if not all(math.isfinite(v) for v in values):
                raise ValueError("{}:{}: NaN or Inf".format(path, number))
            yield number, values


def _label(path, number, value):
    if value != int(value) or value < 0:
        raise ValueError("{}:{}: label {} is not a non-negative integer".format(path, number, value))
    return int(value)


def read_classical_csv(path):
    """(features [N, F] float64, labels [N] int64)."""
    xs, ys, width = [], [], None
    for number, values in _rows(path):
        if width is None:
            width = len(values)
        if len(values) != width or width < 2:
            raise ValueError("{}:{}: {} values, expected {}".format(path, number, len(values), width))
        xs.append(values[:-1])
        ys.append(_label(path, number, values[-1]))
    if not xs:
        raise ValueError("{}: no samples".format(path))
    return torch.tensor(xs, dtype=torch.float64), torch.tensor(ys, dtype=torch.int64)


def read_state_csv(path):
    """(states [N, d, d] complex128, labels [N] int64)."""
    rhos, ys, lines, d = [], [], [], None
    for number, values in _rows(path):
        entries = (len(values) - 1) // 2
        side = math.isqrt(entries)
        if len(values) % 2 != 1 or side * side != entries or side < 2 or side & (side - 1):
            raise ValueError("{}:{}: {} values is not a label and 2*d*d numbers with d a power of two".format(
                path, number, len(values)))
        if d is None:
            d = side
        if side != d:
            raise ValueError("{}:{}: a {}x{} state after {}x{} ones".format(path, number, side, side, d, d))
        ys.append(_label(path, number, values[0]))
        rhos.append(values[1:])
        lines.append(number)
    if not rhos:
        raise ValueError("{}: no states".format(path))
    raw = torch.tensor(rhos, dtype=torch.float64).reshape(len(rhos), d, d, 2)
    states = torch.view_as_complex(raw.contiguous())
    check_density_matrices(states, path, lines)
    return states, torch.tensor(ys, dtype=torch.int64)


def check_density_matrices(states, path, lines, tolerance=STATE_TOLERANCE):
    """The C++ loader's check: Hermitian and unit trace to `tolerance`, eigenvalues >= -tolerance."""
    hermitian = (states - states.conj().transpose(1, 2)).abs().amax((1, 2)) <= tolerance
    trace = (states.diagonal(dim1=1, dim2=2).sum(-1) - 1).abs() <= tolerance
    eigen = torch.linalg.eigvalsh((states + states.conj().transpose(1, 2)) / 2).amin(1) >= -tolerance
    bad = (~(hermitian & trace & eigen)).nonzero().flatten()
    if len(bad):
        i = bad[0].item()
        what = "not Hermitian" if not hermitian[i] else "trace is not 1" if not trace[i] else "not positive semidefinite"
        raise ValueError("{}:{}: not a density matrix ({}, tolerance {})".format(path, lines[i], what, tolerance))


def read_for(model, path):
    """The file in the format `model` reads: classical features when it has an encoder, else states."""
    return read_classical_csv(path) if model.config.features > 0 else read_state_csv(path)
