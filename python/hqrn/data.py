"""Readers of the project's data files (the formats of src/data/), so Python
sees the same inputs as `hqrn eval`:

- classical CSV (.csv or .csv.gz): one sample per row, features then an integer label;
- state CSV: one two-or-more-qubit state per row, the label then Re, Im of
  rho[0,0], rho[0,1], ... (row-major), d inferred from the row length;
- state-vector files (spec section 9, src/data/state_vectors_file.h):
  safetensors with `amplitudes` F64 [N, r, 2^n, 2], `labels` I64 [N] and
  optionally `parameters` F64 [N, P] with the metadata `parameter_names`.

Malformed rows raise ValueError naming the file and line; a malformed
state-vector file, ValueError naming the file and the problem."""

import gzip
import math
import struct
from collections import namedtuple

import torch

from .register import density_of_components
from .safetensors_format import MAX_HEADER_BYTES, read_file

STATE_TOLERANCE = 1e-8  # absolute, as src/data/state_csv.h
STATE_VECTORS_FORMAT = "hqrn-states"
STATE_VECTORS_FORMAT_VERSION = 1
# Components whose squared norms add up to 1 within this are accepted (kStateNormTolerance).
STATE_NORM_TOLERANCE = 1e-8

StateVectorDataset = namedtuple("StateVectorDataset",
                                ["amplitudes", "labels", "parameters", "parameter_names", "extra_metadata"])


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


def load_state_vectors(path):
    """A state-vector file read strictly, with the checks of the C++ reader (load_state_vectors in
    src/data/state_vectors_file.cpp): the safetensors checks, then format and version, qubits
    matching the amplitudes, dtypes and shapes, no unknown tensors, finite amplitudes, every state
    of unit trace (sum_k |v_k|^2 = 1 within STATE_NORM_TOLERANCE) and non-negative labels.

    Returns StateVectorDataset(amplitudes [N, r, 2^n] complex128, labels [N] int64, parameters
    [N, P] float64 or None, parameter_names (P names), extra_metadata (the other __metadata__
    entries)); raises ValueError "PATH: problem"."""
    path = str(path)

    def fail(problem):
        raise ValueError("{}: {}".format(path, problem))

    if struct.pack("=H", 1) != b"\x01\x00":
        fail("reading state files needs a little-endian host")
    f = read_file(path)

    def entry(key):
        if key not in f.metadata:
            fail("not an {} file (no '{}' in __metadata__)".format(STATE_VECTORS_FORMAT, key))
        return f.metadata[key]

    def tensor(name, dtype, torch_dtype, rank):
        info = f.tensor(name)
        if info is None:
            fail("no tensor '{}'".format(name))
        if info.dtype != dtype:
            fail("'{}' is {}, expected {}".format(name, info.dtype, dtype))
        if len(info.shape) != rank:
            fail("'{}' has shape [{}], expected {} dimensions".format(name, ", ".join(map(str, info.shape)), rank))
        raw = f.bytes_of(info)
        if not raw:
            return torch.zeros(info.shape, dtype=torch_dtype)
        return torch.frombuffer(bytearray(raw), dtype=torch_dtype).reshape(info.shape)

    if entry("format") != STATE_VECTORS_FORMAT:
        fail("format is '{}', expected '{}'".format(entry("format"), STATE_VECTORS_FORMAT))
    if entry("format_version") != str(STATE_VECTORS_FORMAT_VERSION):
        fail("format_version '{}' is not supported (this build reads {})".format(entry("format_version"),
                                                                             STATE_VECTORS_FORMAT_VERSION))
    for t in f.tensors:
        if t.name not in ("amplitudes", "labels", "parameters"):
            fail("unknown tensor '{}'".format(t.name))
    parts = tensor("amplitudes", "F64", torch.float64, 4)
    n_states, dimension = parts.shape[0], parts.shape[2]
    if parts.shape[3] != 2 or parts.shape[1] < 1 or dimension < 2 or dimension & (dimension - 1):
        fail("amplitudes has shape [{}], expected [N, r, 2^n, 2] with r >= 1 and n >= 1".format(
            ", ".join(map(str, parts.shape))))
    qubits = dimension.bit_length() - 1
    if entry("qubits") != str(qubits):
        fail("metadata says qubits = '{}' but the amplitudes have 2^{} entries".format(entry("qubits"), qubits))
    if not bool(torch.isfinite(parts).all()):
        fail("amplitudes has a value that is not finite")
    amplitudes = torch.view_as_complex(parts)
    # sum_k |v_k|^2 per state: the trace of the state it stands for.
    traces = parts.square().sum((1, 2, 3))
    if n_states > 0:
        deviation = (traces - 1).abs()
        if not deviation.max().item() <= STATE_NORM_TOLERANCE:
            row = int(deviation.argmax().item())
            fail("state {} has trace {:.12g} (sum of its components' squared norms), expected 1".format(
                row, traces[row].item()))
    labels = tensor("labels", "I64", torch.int64, 1)
    if labels.shape[0] != n_states:
        fail("labels has {} entries for {} states".format(labels.shape[0], n_states))
    if n_states > 0 and labels.min().item() < 0:
        fail("labels must be non-negative")
    has_parameters = f.tensor("parameters") is not None
    if has_parameters != ("parameter_names" in f.metadata):
        fail("'parameters' and the metadata entry 'parameter_names' come together or not at all")
    parameters, names = None, []
    if has_parameters:
        parameters = tensor("parameters", "F64", torch.float64, 2)
        text = f.metadata["parameter_names"]
        names = text.split(",")
        if parameters.shape[0] != n_states or parameters.shape[1] != len(names):
            fail("parameters has shape [{}], expected [{}, {}] (one column per name in '{}')".format(
                ", ".join(map(str, parameters.shape)), n_states, len(names), text))
    extra = {k: v for k, v in f.metadata.items() if k not in ("format", "format_version", "qubits", "parameter_names")}
    return StateVectorDataset(amplitudes, labels, parameters, names, extra)


def is_state_vectors_file(path):
    """Whether the file at path starts like a safetensors file (its header's length, then '{'), as
    the C++ is_state_vectors_file tells one from a CSV; False for unreadable files."""
    try:
        with open(path, "rb") as f:
            head = f.read(9)
    except OSError:
        return False
    return len(head) == 9 and head[8:9] == b"{" and struct.unpack("<Q", head[:8])[0] <= MAX_HEADER_BYTES


def read_state_inputs(path):
    """(inputs, labels) from a state CSV (density matrices [N, d, d]) or a state-vector file
    (component vectors [N, r, d], or their density matrices when r = d, which the network would
    otherwise read as density matrices), as `hqrn eval` reads a state task's files."""
    if is_state_vectors_file(path):
        d = load_state_vectors(path)
        x = d.amplitudes
        if x.shape[1] == x.shape[2]:
            x = density_of_components(x)
        return x, d.labels
    return read_state_csv(path)


def read_for(model, path):
    """The file in the format `model` reads: classical features when it has an encoder, else states
    (a state CSV or a state-vector file)."""
    if model.config.features > 0:
        return read_classical_csv(path)
    x, y = read_state_inputs(path)
    dim = 1 << model.config.data_qubits
    if x.shape[2] != dim:
        raise ValueError("{}: states have dimension {} ({} qubits) but the model's data register has {} qubits "
                         "(dimension {})".format(path, x.shape[2], x.shape[2].bit_length() - 1,
                                                 model.config.data_qubits, dim))
    return x, y
