// Schema of markov_step (a fragment of the hqrn library declared in
// torch_ext/ops.cpp) and its C++ entries through the dispatcher.
#include "torch_ext/markov_step/markov_step.h"

#include <torch/library.h>

#include "torch_ext/dispatch.h"

namespace hqrn {
TORCH_LIBRARY_FRAGMENT(hqrn, m) {
  m.def("markov_step(Tensor p, Tensor theta, int target) -> Tensor");
  m.def("_markov_step_backward(Tensor grad, Tensor p, Tensor theta, int target) -> (Tensor, Tensor)");
}

at::Tensor markov_step(const at::Tensor& p, const at::Tensor& theta, int64_t target) {
  static auto handle = typed_op<at::Tensor(const at::Tensor&, const at::Tensor&, int64_t)>("hqrn::markov_step");
  return handle.call(p, theta, target);
}

}  // namespace hqrn

namespace hqrn::backward {

std::tuple<at::Tensor, at::Tensor> markov_step(const at::Tensor& grad, const at::Tensor& p,
                                               const at::Tensor& theta, int64_t target) {
  static auto handle = typed_op<std::tuple<at::Tensor, at::Tensor>(const at::Tensor&, const at::Tensor&,
                                                             const at::Tensor&, int64_t)>(
      "hqrn::_markov_step_backward");
  return handle.call(grad, p, theta, target);
}

}  // namespace hqrn::backward
