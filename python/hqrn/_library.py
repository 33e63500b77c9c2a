"""Finds and loads the operator library (libhqrn_ops.so) into torch.ops.hqrn.

Search order: the HQRN_OPS_LIBRARY environment variable, the package's own
folder (where the build installs it), then build/lib of the source tree the
package sits in.
"""

import os

import torch

LIBRARY_NAME = "libhqrn_ops.so"
_loaded_from = None


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


def load_library():
    """Loads the library once; returns the path it came from."""
    global _loaded_from
    if _loaded_from is not None:
        return _loaded_from
    tried = candidates()
    env = os.environ.get("HQRN_OPS_LIBRARY")
    if env and not os.path.isfile(env):
        raise ImportError("hqrn: HQRN_OPS_LIBRARY={} is not a file".format(env))
    for path in tried:
        if os.path.isfile(path):
            torch.ops.load_library(path)
            _loaded_from = path
            return path
    raise ImportError("hqrn: cannot find the operator library {}; tried {}. Build the project "
                      "(scripts/build.sh) or set HQRN_OPS_LIBRARY".format(LIBRARY_NAME, ", ".join(tried)))


def library_path():
    return _loaded_from
