"""Checkpoints: safetensors files whose tensors are the modules' parameters by
name, with __metadata__ format = hqrn, format_version, kind, config (JSON),
dtype and data_sha256 (src/checkpoint.h). Files written here are read by the
hqrn CLI and the other way round; files from others are read with the strict
checks of safetensors_format and the C++ loader."""

import dataclasses
import hashlib
import os
import tempfile

import numpy as np
import torch

from .config import ConfigError, NetworkConfig
from .modules import ClassicalResNet, HQRN, ResidualNetwork
from .safetensors_format import SafetensorsError, parse, serialize

FORMAT = "hqrn"
FORMAT_VERSION = 3
OPTIMIZER_PREFIX = "optimizer."
_DTYPES = {torch.float64: ("F64", np.dtype("<f8")), torch.float32: ("F32", np.dtype("<f4")),
           torch.int64: ("I64", np.dtype("<i8"))}
_LEGACY_MAGIC = b"HQRNCKPT"


class CheckpointError(ValueError):
    """A checkpoint that cannot be read: one message naming the file and the problem."""


def _tensor_record(name, t):
    t = t.detach().cpu().contiguous()
    if t.dtype not in _DTYPES:
        raise ValueError("checkpoint: cannot store tensors of dtype {}".format(t.dtype))
    dtype, np_dtype = _DTYPES[t.dtype]
    return name, dtype, list(t.shape), t.numpy().astype(np_dtype, copy=False).tobytes()


def save(model: ResidualNetwork, path, training_json=None):
    """Writes `model` atomically (a temporary file in the same folder, then rename)."""
    if not isinstance(model, ResidualNetwork):
        raise TypeError("hqrn.save: expected an HQRN or ClassicalResNet, got {}".format(type(model).__name__))
    tensors = [_tensor_record(name, p) for name, p in model.named_parameters()]
    tensors += [_tensor_record(name, b) for name, b in model.named_buffers()]
    metadata = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "kind": model.kind,
        "config": model.config.to_json(),
        "dtype": "float32" if model.real_dtype == torch.float32 else "float64",
        "data_sha256": hashlib.sha256(b"".join(t[3] for t in tensors)).hexdigest(),
    }
    if training_json:
        metadata["training"] = training_json
    data = serialize(metadata, tensors)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _fail(path, problem):
    raise CheckpointError("{}: {}".format(path, problem))


def _required(file, key):
    if key not in file.metadata:
        _fail(file.source, "not an HQRN checkpoint (no '{}' in __metadata__)".format(key))
    return file.metadata[key]


def read_checkpoint_file(path):
    """The parsed file after the format, version and SHA-256 checks."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        _fail(path, "cannot open checkpoint ({})".format(e.strerror))
    if data.startswith(_LEGACY_MAGIC):
        _fail(path, "checkpoint in the old LibTorch-archive format, which is unsafe to read from others; if you "
                    "trust the file, convert it: hqrn convert-checkpoint --from FILE --out NEW")
    try:
        file = parse(data, path)
    except SafetensorsError as e:
        raise CheckpointError(str(e)) from None
    if _required(file, "format") != FORMAT:
        _fail(path, "not an HQRN checkpoint (format '{}')".format(file.metadata["format"]))
    version = _required(file, "format_version")
    if version != str(FORMAT_VERSION):
        _fail(path, "checkpoint format version {} is not supported (this build reads {})".format(
            version, FORMAT_VERSION))
    if hashlib.sha256(file.data).hexdigest() != _required(file, "data_sha256"):
        _fail(path, "checkpoint is corrupt (the data's SHA-256 differs from data_sha256)")
    return file


def _copy_into(file, info, target, what):
    expected, np_dtype = _DTYPES[target.dtype]
    if info.dtype != expected:
        _fail(file.source, "{} '{}' is {}, expected {}".format(what, info.name, info.dtype, expected))
    if tuple(target.shape) != info.shape:
        _fail(file.source, "{} '{}' has shape {}, expected {}".format(what, info.name, list(info.shape),
                                                                    list(target.shape)))
    values = np.frombuffer(file.bytes_of(info), dtype=np_dtype).reshape(info.shape)
    with torch.no_grad():
        target.copy_(torch.from_numpy(values.astype(np_dtype.newbyteorder("="))))


def load(path):
    """The model a checkpoint holds (HQRN or ClassicalResNet, either dtype), as the CLI wrote it."""
    path = os.fspath(path)
    file = read_checkpoint_file(path)
    kind = _required(file, "kind")
    if kind not in ("hqrn", "classical"):
        _fail(path, "unknown model kind '{}' in checkpoint".format(kind))
    try:
        config = NetworkConfig.from_json(_required(file, "config"))
    except ConfigError as e:
        _fail(path, str(e))
    dtype = _required(file, "dtype")
    if dtype not in ("float32", "float64"):
        _fail(path, "unknown parameter dtype '{}' in checkpoint".format(dtype))
    # data_sha256 covers the tensors, not the header: a configuration edited to
    # ask for more than the file holds is refused before the network is built.
    values = config.parameter_count(kind == "hqrn")
    if values > len(file.data) // (4 if dtype == "float32" else 8):
        _fail(path, "the configuration implies {} parameter values, more than the checkpoint's {} bytes of data "
                    "hold".format(values, len(file.data)))
    model = HQRN(config) if kind == "hqrn" else ClassicalResNet(config)
    if dtype == "float32":
        model.float()
    # Every tensor the configuration implies, with its shape; nothing else except optimizer state.
    by_name = {t.name: t for t in file.tensors}
    expected = set()
    for what, named in (("parameter", model.named_parameters()), ("buffer", model.named_buffers())):
        for name, target in named:
            expected.add(name)
            if name not in by_name:
                _fail(path, "{} '{}' is missing from the checkpoint".format(what, name))
            _copy_into(file, by_name[name], target, what)
    for t in file.tensors:
        if t.name not in expected and not t.name.startswith(OPTIMIZER_PREFIX):
            _fail(path, "tensor '{}' is not part of a {} network with this configuration".format(t.name, kind))
    for name, p in model.named_parameters():
        if not torch.isfinite(p).all():
            _fail(path, "parameter '{}' holds NaN or Inf".format(name))
    model.training_json = file.metadata.get("training", "")
    return model


def load_classical(hqrn_model: ResidualNetwork, classical: ResidualNetwork, zero_quantum=True):
    """Copies a classical analog's weights into an HQRN of the same configuration, by name;
    the quantum-only weights are zeroed (zero_quantum) or kept."""
    problems = []
    mine = hqrn_model.config
    theirs = classical.config
    # Every field but init_std: same names and shapes are not enough (feature_scale,
    # the register split, the noise change what the weights compute).
    for field in (f.name for f in dataclasses.fields(mine) if f.name != "init_std"):
        if getattr(mine, field) != getattr(theirs, field):
            problems.append("config field '{}' is {} in the checkpoint but {} in the HQRN".format(
                field, getattr(theirs, field), getattr(mine, field)))
    target = dict(hqrn_model.named_parameters())
    source = dict(classical.named_parameters())
    quantum = {id(t) for t in hqrn_model.quantum_parameters()}
    for name, p in source.items():
        if name not in target:
            problems.append("'{}' is in the classical checkpoint but not in the HQRN".format(name))
        elif target[name].shape != p.shape:
            problems.append("'{}' has shape {} in the checkpoint but {} in the HQRN".format(
                name, list(p.shape), list(target[name].shape)))
    for name, p in target.items():
        if id(p) not in quantum and name not in source:
            problems.append("'{}' of the HQRN is missing from the classical checkpoint".format(name))
    if problems:
        raise ValueError("classical checkpoint does not fit this HQRN:\n  " + "\n  ".join(problems))
    with torch.no_grad():
        for name, p in source.items():
            target[name].copy_(p)
        if zero_quantum:
            for q in hqrn_model.quantum_parameters():
                q.zero_()


def translate_classical(classical: ResidualNetwork) -> HQRN:
    """The HQRN a classical analog translates into: same weights, quantum-only weights zero;
    on diagonal inputs it computes exactly what the classical analog computes."""
    config = NetworkConfig.from_json(classical.config.to_json())
    model = HQRN(config).to(classical.real_dtype)
    load_classical(model, classical)
    return model
