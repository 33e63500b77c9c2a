// Declares the hqrn operator library. Each operator folder adds its schemas
// with TORCH_LIBRARY_FRAGMENT(hqrn, m) in its <op>.cpp, its CPU kernels in
// cpu_kernel.cpp and its autograd kernels in autograd.cpp; this is the one
// TORCH_LIBRARY(hqrn, ...), so no other library can claim the namespace.
#include <torch/library.h>

TORCH_LIBRARY(hqrn, m) {}
