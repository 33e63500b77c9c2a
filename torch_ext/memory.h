// Allocation of large kernel outputs. A fresh multi-megabyte tensor is new
// memory from the OS, and faulting it in 4 KiB pages costs more than the
// kernel that fills it (a 10-qubit batch: 128 MiB, 32k page faults). Asking
// for transparent huge pages before the first touch makes that 512x fewer
// faults; where the system does not offer them the advice is ignored.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace hqrn {

inline at::Tensor empty_large(at::IntArrayRef shape, const at::TensorOptions& options) {
  auto out = at::empty(shape, options);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr uintptr_t kHugePage = uintptr_t{2} << 20;
  const auto begin = reinterpret_cast<uintptr_t>(out.data_ptr());
  const uintptr_t end = begin + static_cast<uintptr_t>(out.nbytes());
  const uintptr_t first = (begin + kHugePage - 1) & ~(kHugePage - 1), last = end & ~(kHugePage - 1);
  if (last > first) madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
#endif
  return out;
}

}  // namespace hqrn
