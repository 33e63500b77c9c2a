"""The network configuration and noise model, as saved in checkpoints.

The same fields, defaults, JSON and checks as models/config.h and
models/noise_model.h, so a configuration written by one side is read by the
other unchanged.
"""

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import List

MAX_QUBITS = 14  # torch_ext/limits.h (kMaxQubits): density matrices
MAX_VECTOR_QUBITS = 24  # torch_ext/limits.h (kMaxVectorQubits): the vectors representation
# models/config.h: bounds that keep a configuration from a file from making
# validation loop or construction allocate without bound.
MAX_CLASSES = 1 << 16
MAX_FEATURES = 1 << 20
MAX_BLOCKS = 1024
MAX_BRANCHES = 1024
MAX_HIDDEN = 1 << 16
MAX_HIDDEN_LAYERS = 64
MAX_PARAMETERS = 1 << 26

CHANNEL_KINDS = ("depolarizing", "amplitude_damping", "phase_damping", "bit_flip")
READOUTS = ("born", "linear", "mlp")


class ConfigError(ValueError):
    """An inconsistent or malformed configuration; the message names the field."""


def _require_probability(value, what):
    if not (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            and 0 <= value <= 1):
        raise ConfigError("noise: {} = {} is outside its range [0, 1]".format(what, value))


@dataclass
class NoiseChannel:
    kind: str = "depolarizing"
    strength: float = 0.0  # p for depolarizing and bit_flip, gamma for the dampings

    def __post_init__(self):
        if self.kind not in CHANNEL_KINDS:
            raise ConfigError("noise: unknown channel '{}' (expected {} or readout)".format(
                self.kind, ", ".join(CHANNEL_KINDS)))


@dataclass
class NoiseModel:
    """Channels acting, in order, on every qubit after every rotation; readout bit-flip probability."""

    channels: List[NoiseChannel] = field(default_factory=list)
    readout: float = 0.0

    def is_noiseless(self):
        return not self.channels and self.readout == 0

    def validate(self):
        for c in self.channels:
            _require_probability(c.strength, c.kind)
        _require_probability(self.readout, "readout")

    @staticmethod
    def parse(text):
        """The CLI form: 'depolarizing=0.01,readout=0.02'; 'none' or '' is no noise."""
        noise = NoiseModel()
        whole = text.strip(" \t")
        if whole in ("", "none"):
            return noise
        readout_seen = False
        for raw in whole.split(","):
            item = raw.strip(" \t")
            if not item or "=" not in item:
                raise ConfigError("noise: '{}' is not name=value (for example depolarizing=0.01,readout=0.02)"
                                  .format(item))
            name, value_text = (s.strip(" \t") for s in item.split("=", 1))
            try:
                value = float(value_text)
            except ValueError:
                raise ConfigError("noise: {} = '{}' is not a number".format(name, value_text)) from None
            if name == "readout":
                if readout_seen:
                    raise ConfigError("noise: readout is given twice")
                readout_seen = True
                noise.readout = value
            else:
                noise.channels.append(NoiseChannel(name, value))
        noise.validate()
        return noise

    def to_json_value(self):
        return {"channels": [{"channel": c.kind, "parameter": float(c.strength)} for c in self.channels],
                "readout": float(self.readout)}

    @staticmethod
    def from_json_value(j):
        def only_keys(o, keys, what):
            if not isinstance(o, dict) or set(o) != set(keys):
                raise ConfigError("network config: {} must be an object with exactly the keys {}, got {}".format(
                    what, ", ".join(keys), json.dumps(o)))
        only_keys(j, ("channels", "readout"), "noise")
        if not isinstance(j["channels"], list):
            raise ConfigError("network config: noise.channels must be a list")
        noise = NoiseModel()
        for c in j["channels"]:
            only_keys(c, ("channel", "parameter"), "a noise channel")
            if not isinstance(c["channel"], str):
                raise ConfigError("network config: a noise channel's name must be a string")
            noise.channels.append(NoiseChannel(c["channel"], _number(c["parameter"], "noise parameter")))
        noise.readout = _number(j["readout"], "noise.readout")
        return noise


def _number(v, name):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ConfigError("network config: {} must be a number, got {}".format(name, json.dumps(v)))
    return float(v)


def _integer(v, name):
    if isinstance(v, bool) or not isinstance(v, int):
        raise ConfigError("network config: {} must be an integer, got {}".format(name, json.dumps(v)))
    return v


def _boolean(v, name):
    if not isinstance(v, bool):
        raise ConfigError("network config: {} must be true or false, got {}".format(name, json.dumps(v)))
    return v


def _readout(v, name):
    if v not in READOUTS:
        raise ConfigError("unknown readout '{}' (expected born, linear or mlp)".format(v))
    return v


# (name, JSON reader); the order and defaults are NetworkConfig's below.
_READERS = {
    "data_qubits": _integer, "ancillas": _integer, "features": _integer, "feature_scale": _number,
    "blocks": _integer, "branches": _integer, "classes": _integer, "readout": _readout,
    "readout_qubits": _integer, "hidden": _integer, "hidden_layers": _integer, "init_std": _number,
    "log_readout": _boolean,
}
# Fields newer than the first checkpoints: absent from the JSON means their default.
_FIELDS_WITH_DEFAULT_IN_JSON = ("noise",)


@dataclass
class NetworkConfig:
    """Shape of a residual network (models/config.h): data qubits receive the input, ancillas start in |0>."""

    data_qubits: int = 2
    ancillas: int = 0
    features: int = 0
    feature_scale: float = 1.0
    blocks: int = 1
    branches: int = 1
    classes: int = 2
    readout: str = "linear"
    readout_qubits: int = 0
    hidden: int = 32
    hidden_layers: int = 1
    init_std: float = 0.1
    log_readout: bool = False
    noise: NoiseModel = field(default_factory=NoiseModel)

    @property
    def qubits(self):
        return self.data_qubits + self.ancillas

    @property
    def readout_width(self):
        """readout_qubits with the default (ceil(log2(classes)), at least 1) resolved."""
        if self.readout_qubits > 0:
            return self.readout_qubits
        r = 0
        while r < 62 and (1 << r) < self.classes:
            r += 1
        return max(r, 1)

    def parameter_count(self, quantum_weights=True):
        """Parameters of a network of this shape, with or without the HQRN's V and a."""
        n = self.qubits
        width = self.branches * (1 << min(self.readout_width, 1000))
        count = self.branches * self.blocks * (2 if quantum_weights else 1) * (n * n + n)
        if self.features > 0:
            count += (self.features + 1) * self.data_qubits
        h, c = self.hidden, self.classes
        if self.readout == "linear":
            count += (width + 1) * c
        elif self.readout == "mlp":
            count += (width + 1) * h + (self.hidden_layers - 1) * (h + 1) * h + (h + 1) * c
        return count

    def validate(self):
        def fail(what):
            raise ConfigError("network config: " + what)
        for name, limit in (("classes", MAX_CLASSES), ("features", MAX_FEATURES), ("blocks", MAX_BLOCKS),
                            ("branches", MAX_BRANCHES), ("hidden", MAX_HIDDEN),
                            ("hidden_layers", MAX_HIDDEN_LAYERS)):
            if getattr(self, name) > limit:
                fail("{} = {} is over the limit of {}".format(name, getattr(self, name), limit))
        if self.data_qubits < 0 or self.ancillas < 0:
            fail("data_qubits and ancillas must be >= 0")
        # Up to the vectors execution's limit; the density-matrix executions refuse registers
        # above MAX_QUBITS when a state is prepared.
        if self.qubits < 1 or self.qubits > MAX_VECTOR_QUBITS:
            fail("data_qubits + ancillas = {} must be in 1..{}".format(self.qubits, MAX_VECTOR_QUBITS))
        if self.features < 0:
            fail("features must be >= 0")
        if not math.isfinite(self.feature_scale) or self.feature_scale == 0:
            fail("feature_scale must be finite and non-zero")
        if self.features > 0 and self.data_qubits < 1:
            fail("encoding features needs at least one data qubit")
        if self.features == 0 and self.data_qubits < 1:
            fail("a state input needs at least one data qubit")
        if self.blocks < 0:
            fail("blocks must be >= 0")
        if self.branches < 1:
            fail("branches must be >= 1")
        if self.classes < 2:
            fail("classes must be >= 2")
        if self.readout not in READOUTS:
            fail("unknown readout '{}'".format(self.readout))
        if self.readout_qubits < 0 or self.readout_width > self.qubits:
            fail("readout_qubits = {} must be in 1..{}".format(self.readout_width, self.qubits))
        if self.readout == "born" and (1 << self.readout_width) < self.classes:
            fail("the born readout needs 2^readout_qubits >= classes")
        if self.readout == "mlp" and (self.hidden < 1 or self.hidden_layers < 1):
            fail("hidden and hidden_layers must be >= 1 for the mlp readout")
        if not math.isfinite(self.init_std) or self.init_std < 0:
            fail("init_std must be finite and >= 0")
        if self.parameter_count() > MAX_PARAMETERS:
            fail("the network would have more than {} parameters".format(MAX_PARAMETERS))
        self.noise.validate()
        return self

    def to_json(self):
        """The JSON the C++ side writes: keys sorted, no spaces."""
        j = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        j["noise"] = self.noise.to_json_value()
        for name in ("feature_scale", "init_std"):
            j[name] = float(j[name])
        return json.dumps(j, sort_keys=True, separators=(",", ":"))

    @staticmethod
    def from_json(text):
        try:
            j = json.loads(text, parse_constant=_refuse_constant)
        except (ValueError, RecursionError) as e:
            raise ConfigError("network config is not valid JSON: {}".format(e)) from None
        if not isinstance(j, dict):
            raise ConfigError("network config is not a JSON object")
        values = {}
        for name, reader in _READERS.items():
            if name not in j:
                raise ConfigError("network config is missing the field '{}'".format(name))
            values[name] = reader(j[name], name)
        config = NetworkConfig(**values)
        if "noise" in j:
            config.noise = NoiseModel.from_json_value(j["noise"])
        return config.validate()


def _refuse_constant(name):
    raise ValueError("{} is not a JSON number".format(name))
