"""Finds and loads the operator library (libhqrn_ops.so) into torch.ops.hqrn,
with autograd: registered from Python on torch >= 2.4 (hqrn._registrations,
which torch.func and torch.compile can trace), else the C++ autograd kernels
(libhqrn_ops_autograd.so, beside the operator library). On torch >= 2.4 the
same C++ autograd kernels are loaded too, as the operators torch.ops.hqrn_eager
(libhqrn_ops_eager.so), which the model layer calls in eager code
(`operators()`).

Search order: the HQRN_OPS_LIBRARY environment variable, the package's own
folder (where the build installs it), then build/lib of the source tree the
package sits in. A package built against one torch refuses to load under
another (its C++ symbols would not resolve).
"""

import os

import torch

LIBRARY_NAME = "libhqrn_ops.so"
AUTOGRAD_LIBRARY_NAME = "libhqrn_ops_autograd.so"
EAGER_LIBRARY_NAME = "libhqrn_ops_eager.so"
_loaded_from = None
# torch.ops.hqrn_eager once loaded (torch >= 2.4), else None.
_eager_ops = None

# Whether torch.compile (or torch.export) is tracing (torch < 2.3 has no torch.compiler.is_compiling).
compiling = getattr(getattr(torch, "compiler", None), "is_compiling", lambda: False)
# The torch.func transform level, None outside torch.func (torch 1.13's torch._C has it too).
functorch_level = getattr(getattr(torch._C, "_functorch", None), "maybe_current_level", lambda: None)


def operators():
    """The operator namespace for a call from the model layer: torch.ops.hqrn_eager in eager code on
    torch >= 2.4 (the C++ autograd kernels: one trip from the interpreter per operator, none per
    backward node); torch.ops.hqrn while torch.compile traces or inside a torch.func transform,
    which see through the autograd registered from Python and not through a C++ autograd
    Function, in inference mode, which skips every autograd kernel, and on older torch, whose hqrn
    operators carry the C++ autograd kernels themselves. Both run the same kernels and backward
    operators: the numbers are the same bits."""
    # compiling() first: torch.compile traces it as a constant and never reaches the C++ queries.
    if _eager_ops is None or compiling() or torch.is_inference_mode_enabled() or functorch_level() is not None:
        return torch.ops.hqrn
    return _eager_ops


def candidates():
    """The paths tried, in order."""
    here = os.path.dirname(os.path.abspath(__file__))
    found = []
    env = os.environ.get("HQRN_OPS_LIBRARY")
    if env:
        found.append(env)
    found.append(os.path.join(here, LIBRARY_NAME))
    # python/hqrn/ in a checkout: the repository root is two levels up.
    found.append(os.path.join(os.path.dirname(os.path.dirname(here)), "build", "lib", LIBRARY_NAME))
    return found


def built_against():
    """The torch version the package's libraries were compiled against, or None if unrecorded."""
    try:
        from . import _build_info
    except ImportError:  # sources used in place, without a build
        return None
    return _build_info.TORCH_VERSION or None


def check_torch_version():
    built = built_against()
    if built is not None and built != torch.__version__:
        raise ImportError(
            "hqrn: this package was built against torch {built} but torch {running} is installed. Rebuild it "
            "against the installed torch (in a checkout: pip install --no-build-isolation --force-reinstall .), "
            "or install torch=={built}.".format(built=built, running=torch.__version__))


def python_autograd():
    """Whether this torch registers custom-op autograd and fake kernels from Python."""
    return hasattr(torch.library, "register_autograd") and hasattr(torch.library, "register_fake")


def load_library():
    """Loads the library once, with its autograd; returns the path it came from."""
    global _loaded_from
    if _loaded_from is not None:
        return _loaded_from
    check_torch_version()
    tried = candidates()
    env = os.environ.get("HQRN_OPS_LIBRARY")
    if env and not os.path.isfile(env):
        raise ImportError("hqrn: HQRN_OPS_LIBRARY={} is not a file".format(env))
    for path in tried:
        if os.path.isfile(path):
            torch.ops.load_library(path)
            _loaded_from = path
            if python_autograd():
                from . import _registrations  # noqa: F401  (registers on import)
                global _eager_ops
                torch.ops.load_library(_beside(path, EAGER_LIBRARY_NAME, "the C++ autograd kernels for eager calls"))
                _eager_ops = torch.ops.hqrn_eager
            else:
                torch.ops.load_library(_beside(path, AUTOGRAD_LIBRARY_NAME, "the C++ autograd kernels this torch {} "
                                                                            "needs".format(torch.__version__)))
            return path
    raise ImportError("hqrn: cannot find the operator library {}; tried {}. Build the project "
                      "(scripts/build.sh) or set HQRN_OPS_LIBRARY".format(LIBRARY_NAME, ", ".join(tried)))


def _beside(path, name, what):
    found = os.path.join(os.path.dirname(path), name)
    if not os.path.isfile(found):
        raise ImportError("hqrn: {} has no {} beside it ({})".format(path, name, what))
    return found


def library_path():
    return _loaded_from
