// The C++ autograd kernels at hqrn's Autograd key (libhqrn_ops_autograd.so).
#include "torch_ext/autograd_kernels.h"

namespace hqrn {

TORCH_LIBRARY_IMPL(hqrn, Autograd, m) {
  for (auto& [name, kernel] : autograd_kernels()) m.impl(name, std::move(kernel));
}

}  // namespace hqrn
