// Allocation of large kernel outputs (states, gradients).
//
// A fresh multi-megabyte tensor is new memory from the OS, and faulting it in
// 4 KiB pages costs more than the kernel that fills it (a 10-qubit batch of
// 8: 128 MiB, 32k page faults, about 60 ms against a 15 ms pass). So buffers
// of at least kPooledBytes are taken from a pool of buffers whose tensors have
// died, and only allocated (2 MiB aligned, advised to use transparent huge
// pages, faulted in with one call) when the pool has none of that size. The
// pool keeps at most HQRN_BUFFER_POOL_MB MiB (default 1024; 0 disables it).
#pragma once

#include <ATen/ATen.h>

#include <cstddef>

namespace hqrn {

constexpr std::size_t kPooledBytes = std::size_t{4} << 20;

// at::empty(shape, options) for CPU tensors, pooled when large.
at::Tensor empty_large(at::IntArrayRef shape, const at::TensorOptions& options);

}  // namespace hqrn
