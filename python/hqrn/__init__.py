"""HQRN from Python: hybrid quantum residual networks on density matrices.

    import hqrn
    model = hqrn.load("models/pretrained/entanglement_random_hqrn.safetensors")
    probabilities = model.predict_proba(states)            # mode="quantum", execution="auto"
    logits = model(states, mode="classical")               # the classical analog's action
    hqrn.save(model, "copy.safetensors")                   # readable by `hqrn eval`
    optimizer = hqrn.optim.Adam(model.parameters())        # torch.optim.Adam, one fused call per step

The modules run on the C++ operators (torch.ops.hqrn, loaded on import) and
carry the C++ parameter names, so checkpoints move both ways unchanged.
"""

from ._library import library_path, load_library

load_library()

from .checkpoint import CheckpointError, load, load_classical, save, translate_classical  # noqa: E402
from .config import ConfigError, NetworkConfig, NoiseChannel, NoiseModel  # noqa: E402
from .data import (load_state_vectors, read_classical_csv, read_for, read_state_csv,  # noqa: E402
                   read_state_inputs)
from .modules import (AngleEncoder, ClassicalResNet, HQRN, QuantumResidualBlock, ReadoutHead,  # noqa: E402
                      ResidualNetwork, ResidualStack)
from .register import RegisterState, to_state_vectors  # noqa: E402
from . import optim  # noqa: E402

__all__ = ["HQRN", "ClassicalResNet", "QuantumResidualBlock", "ResidualNetwork", "ResidualStack", "AngleEncoder",
           "ReadoutHead", "RegisterState", "NetworkConfig", "NoiseModel", "NoiseChannel", "ConfigError",
           "CheckpointError", "load", "save", "load_classical", "translate_classical", "read_classical_csv",
           "read_state_csv", "read_state_inputs", "read_for", "load_state_vectors", "to_state_vectors",
           "library_path", "optim"]
__version__ = "0.3.0"
