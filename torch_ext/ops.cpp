// Declares the hqrn operator library. Each operator folder adds its schemas
// with TORCH_LIBRARY_FRAGMENT(hqrn, m) in its <op>.cpp, its CPU kernels in
// cpu_kernel.cpp and its autograd kernels in autograd.cpp; this is the one
// TORCH_LIBRARY(hqrn, ...), so no other library can claim the namespace.
#include <torch/library.h>
#include <torch/version.h>

TORCH_LIBRARY(hqrn, m) {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  // The fake (shape-only) kernels and the Python autograd registrations live
  // in this module of the hqrn package; torch names it when an op is traced
  // before the module was imported (torch.ops.load_library alone).
  m.set_python_module("hqrn._registrations");
#endif
}
