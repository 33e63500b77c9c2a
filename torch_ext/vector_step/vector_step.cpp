// Schema of vector_step (a fragment of the hqrn library declared in
// torch_ext/ops.cpp) and its C++ entries through the dispatcher.
#include "torch_ext/vector_step/vector_step.h"

#include <torch/library.h>

#include "torch_ext/dispatch.h"

namespace hqrn {
TORCH_LIBRARY_FRAGMENT(hqrn, m) {
  m.def("vector_step(Tensor psi, Tensor theta, Tensor phi, int target) -> Tensor");
  m.def("_vector_step_backward(Tensor grad, Tensor psi, Tensor theta, Tensor phi, int target)"
        " -> (Tensor, Tensor, Tensor)");
}

at::Tensor vector_step(const at::Tensor& psi, const at::Tensor& theta, const at::Tensor& phi, int64_t target) {
  static auto handle =
      typed_op<at::Tensor(const at::Tensor&, const at::Tensor&, const at::Tensor&, int64_t)>("hqrn::vector_step");
  return handle.call(psi, theta, phi, target);
}

}  // namespace hqrn

namespace hqrn::backward {

std::tuple<at::Tensor, at::Tensor, at::Tensor> vector_step(const at::Tensor& grad, const at::Tensor& psi,
                                                           const at::Tensor& theta, const at::Tensor& phi,
                                                           int64_t target) {
  static auto handle = typed_op<std::tuple<at::Tensor, at::Tensor, at::Tensor>(
      const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Tensor&, int64_t)>(
      "hqrn::_vector_step_backward");
  return handle.call(grad, psi, theta, phi, target);
}

}  // namespace hqrn::backward
