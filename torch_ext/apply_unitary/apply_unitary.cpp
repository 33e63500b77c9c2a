// Schema of apply_unitary (a fragment of the hqrn library declared in
// torch_ext/ops.cpp) and its C++ entries through the dispatcher.
#include "torch_ext/apply_unitary/apply_unitary.h"

#include <torch/library.h>

#include "torch_ext/dispatch.h"

namespace hqrn {
TORCH_LIBRARY_FRAGMENT(hqrn, m) {
  m.def("apply_unitary(Tensor rho, Tensor u, int[] targets) -> Tensor");
  m.def("_apply_unitary_backward(Tensor grad, Tensor rho, Tensor u, int[] targets) -> (Tensor, Tensor)");
}

at::Tensor apply_unitary(const at::Tensor& rho, const at::Tensor& u, at::IntArrayRef targets) {
  static auto handle =
      typed_op<at::Tensor(const at::Tensor&, const at::Tensor&, at::IntArrayRef)>("hqrn::apply_unitary");
  return handle.call(rho, u, targets);
}

}  // namespace hqrn

namespace hqrn::backward {

std::tuple<at::Tensor, at::Tensor> apply_unitary(const at::Tensor& grad, const at::Tensor& rho,
                                                 const at::Tensor& u, at::IntArrayRef targets) {
  static auto handle = typed_op<std::tuple<at::Tensor, at::Tensor>(const at::Tensor&, const at::Tensor&,
                                                             const at::Tensor&, at::IntArrayRef)>(
      "hqrn::_apply_unitary_backward");
  return handle.call(grad, rho, u, targets);
}

}  // namespace hqrn::backward
