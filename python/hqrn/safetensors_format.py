"""A strict reader and a writer of the safetensors format, with the checks of
src/safetensors.cpp: for files from others, every violation is a
SafetensorsError naming the file and the problem, never a crash or a guess."""

import json
import struct
from dataclasses import dataclass
from typing import Dict, List, Tuple

MAX_HEADER_BYTES = 16 << 20
MAX_RANK = 64
# Containers: top object (1) > tensor entry or __metadata__ (2) > shape or offsets list (3).
MAX_DEPTH = 3
DTYPE_SIZES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U64": 8,
               "U32": 4, "U16": 2, "U8": 1, "BOOL": 1}
METADATA_KEY = "__metadata__"


class SafetensorsError(ValueError):
    pass


@dataclass
class TensorInfo:
    name: str
    dtype: str
    shape: Tuple[int, ...]
    begin: int
    end: int


@dataclass
class File:
    source: str
    metadata: Dict[str, str]
    tensors: List[TensorInfo]
    data: bytes

    def tensor(self, name):
        for t in self.tensors:
            if t.name == name:
                return t
        return None

    def bytes_of(self, info):
        return self.data[info.begin:info.end]


def _parse_header(text, source):
    def fail(problem):
        raise SafetensorsError("{}: {}".format(source, problem))

    def no_duplicates(pairs):
        seen = set()
        for key, _ in pairs:
            if key in seen:
                fail("safetensors header has the key '{}' twice".format(key))
            seen.add(key)
        return dict(pairs)

    def no_constants(name):
        raise ValueError("{} is not a JSON number".format(name))

    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError as e:
        fail("safetensors header is not valid UTF-8 JSON ({})".format(e))
    # Nesting beyond what the format needs (top object > entry > shape list) is
    # refused before parsing, so the parser never recurses deeply.
    level = 0
    in_string = escaped = False
    for ch in decoded:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            level += 1
            if level > MAX_DEPTH:
                fail("safetensors header nests deeper than {} levels".format(MAX_DEPTH))
        elif ch in "]}":
            level -= 1
    try:
        header = json.loads(decoded, object_pairs_hook=no_duplicates, parse_constant=no_constants)
    except ValueError as e:
        if isinstance(e, SafetensorsError):
            raise
        fail("safetensors header is not valid UTF-8 JSON ({})".format(e))
    return header


def _unsigned(value, source, what):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SafetensorsError("{}: {} must be a non-negative integer, got {}".format(source, what, json.dumps(value)))
    return value


def _read_entry(name, entry, data_size, source):
    where = "tensor '{}'".format(name)

    def fail(problem):
        raise SafetensorsError("{}: {}: {}".format(source, where, problem))

    if not isinstance(entry, dict):
        fail("entry must be an object")
    for key in entry:
        if key not in ("dtype", "shape", "data_offsets"):
            fail("unknown field '{}'".format(key))
    for key in ("dtype", "shape", "data_offsets"):
        if key not in entry:
            fail("no '{}'".format(key))
    dtype = entry["dtype"]
    if not isinstance(dtype, str):
        fail("dtype must be a string")
    if dtype not in DTYPE_SIZES:
        fail("unknown dtype '{}'".format(dtype))
    shape = entry["shape"]
    if not isinstance(shape, list):
        fail("shape must be a list")
    if len(shape) > MAX_RANK:
        fail("{} dimensions (at most {})".format(len(shape), MAX_RANK))
    dims = tuple(_unsigned(d, source, where + ": a shape dimension") for d in shape)
    size = DTYPE_SIZES[dtype]
    for d in dims:
        size *= d  # Python integers do not overflow
    offsets = entry["data_offsets"]
    if not isinstance(offsets, list) or len(offsets) != 2:
        fail("data_offsets must be [begin, end]")
    begin = _unsigned(offsets[0], source, where + ": data_offsets begin")
    end = _unsigned(offsets[1], source, where + ": data_offsets end")
    if begin > end or end > data_size:
        fail("data_offsets [{}, {}] outside the data section of {} bytes".format(begin, end, data_size))
    if end - begin != size:
        fail("data_offsets span {} bytes but {} {} needs {}".format(end - begin, dtype, list(dims), size))
    return TensorInfo(name, dtype, dims, begin, end)


def parse(data, source):
    """Parses a whole file's bytes; raises SafetensorsError naming `source` and the problem."""
    def fail(problem):
        raise SafetensorsError("{}: {}".format(source, problem))

    if len(data) < 8:
        fail("not a safetensors file ({} bytes, shorter than its header length)".format(len(data)))
    header_size = struct.unpack("<Q", data[:8])[0]
    if header_size > MAX_HEADER_BYTES:
        fail("safetensors header length {} is over the limit of {} bytes".format(header_size, MAX_HEADER_BYTES))
    if header_size > len(data) - 8:
        fail("truncated: header length {} but only {} bytes follow".format(header_size, len(data) - 8))
    text = data[8:8 + header_size]
    if not text.startswith(b"{"):
        fail("safetensors header does not start with '{'")
    header = _parse_header(text, source)
    if not isinstance(header, dict):
        fail("safetensors header must be a JSON object")
    body = data[8 + header_size:]
    metadata, tensors = {}, []
    for name, entry in header.items():
        if name == METADATA_KEY:
            if not isinstance(entry, dict):
                fail("__metadata__ must be an object of strings")
            for key, value in entry.items():
                if not isinstance(value, str):
                    fail("__metadata__ '{}' must be a string".format(key))
                metadata[key] = value
            continue
        if not name:
            fail("a tensor has an empty name")
        tensors.append(_read_entry(name, entry, len(body), source))
    # The tensors must tile the data section exactly.
    at = 0
    for t in sorted(tensors, key=lambda t: (t.begin, t.end)):
        if t.begin < at:
            fail("tensor '{}' overlaps the previous tensor (starts at {}, before {})".format(t.name, t.begin, at))
        if t.begin > at:
            fail("gap in the data before tensor '{}' (bytes {} to {} belong to none)".format(t.name, at, t.begin))
        at = t.end
    if at != len(body):
        fail("{} bytes after the last tensor belong to none".format(len(body) - at))
    return File(source, metadata, tensors, bytes(body))


def read_file(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise SafetensorsError("{}: cannot open ({})".format(path, e.strerror)) from None
    return parse(data, path)


def serialize(metadata, tensors):
    """metadata: str -> str; tensors: list of (name, dtype, shape, raw little-endian bytes)."""
    header = {}
    if metadata:
        header[METADATA_KEY] = dict(metadata)
    at = 0
    chunks = []
    for name, dtype, shape, raw in tensors:
        expected = DTYPE_SIZES[dtype]
        for d in shape:
            expected *= d
        if not name or name == METADATA_KEY or name in header:
            raise ValueError("safetensors: tensor name '{}' is empty, reserved or repeated".format(name))
        if len(raw) != expected:
            raise ValueError("safetensors: tensor '{}' has {} bytes, its shape needs {}".format(name, len(raw), expected))
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [at, at + len(raw)]}
        at += len(raw)
        chunks.append(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)  # the data starts 8-byte aligned
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)
