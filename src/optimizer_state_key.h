// The key under which torch::optim::Optimizer keeps a parameter's state:
// LibTorch 1.13 uses the TensorImpl address printed as a string, 2.x the
// address itself. The type is read off the optimizer, so both build.
#pragma once

#include <torch/torch.h>

#include <sstream>
#include <string>
#include <type_traits>
#include <utility>

namespace hqrn {

using OptimizerStateKey =
    typename std::decay_t<decltype(std::declval<torch::optim::Optimizer&>().state())>::key_type;

namespace detail {
inline std::string state_key_of(c10::TensorImpl* impl, std::string* /*key type*/) {
  std::ostringstream printed;
  printed << impl;
  return printed.str();
}
inline void* state_key_of(c10::TensorImpl* impl, void** /*key type*/) { return impl; }
}  // namespace detail

inline OptimizerStateKey optimizer_state_key(const torch::Tensor& p) {
  return detail::state_key_of(p.unsafeGetTensorImpl(), static_cast<OptimizerStateKey*>(nullptr));
}

}  // namespace hqrn
