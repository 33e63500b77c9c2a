// Schemas of apply_kraus / aware_apply_kraus (a fragment of the hqrn library
// declared in torch_ext/ops.cpp) and their C++ entries through the dispatcher.
#include "torch_ext/apply_kraus/apply_kraus.h"

#include <torch/library.h>

#include "torch_ext/dispatch.h"

namespace hqrn {
TORCH_LIBRARY_FRAGMENT(hqrn, m) {
  m.def("apply_kraus(Tensor rho, Tensor kraus, int[] targets) -> Tensor");
  m.def("_apply_kraus_backward(Tensor grad, Tensor rho, Tensor kraus, int[] targets) -> (Tensor, Tensor)");
  m.def("aware_apply_kraus(Tensor blocks, Tensor kraus, int[] targets, int[] diagonal) -> Tensor");
  m.def("_aware_apply_kraus_backward(Tensor grad, Tensor blocks, Tensor kraus, int[] targets, int[] diagonal)"
        " -> (Tensor, Tensor)");
}

at::Tensor apply_kraus(const at::Tensor& rho, const at::Tensor& kraus, at::IntArrayRef targets) {
  static auto handle =
      typed_op<at::Tensor(const at::Tensor&, const at::Tensor&, at::IntArrayRef)>("hqrn::apply_kraus");
  return handle.call(rho, kraus, targets);
}

at::Tensor aware_apply_kraus(const at::Tensor& blocks, const at::Tensor& kraus, at::IntArrayRef targets,
                             at::IntArrayRef diagonal) {
  static auto handle = typed_op<at::Tensor(const at::Tensor&, const at::Tensor&, at::IntArrayRef, at::IntArrayRef)>(
      "hqrn::aware_apply_kraus");
  return handle.call(blocks, kraus, targets, diagonal);
}

}  // namespace hqrn

namespace hqrn::backward {

std::tuple<at::Tensor, at::Tensor> apply_kraus(const at::Tensor& grad, const at::Tensor& rho,
                                               const at::Tensor& kraus, at::IntArrayRef targets) {
  static auto handle = typed_op<std::tuple<at::Tensor, at::Tensor>(const at::Tensor&, const at::Tensor&,
                                                             const at::Tensor&, at::IntArrayRef)>(
      "hqrn::_apply_kraus_backward");
  return handle.call(grad, rho, kraus, targets);
}

std::tuple<at::Tensor, at::Tensor> aware_apply_kraus(const at::Tensor& grad, const at::Tensor& blocks,
                                                     const at::Tensor& kraus, at::IntArrayRef targets,
                                                     at::IntArrayRef diagonal) {
  static auto handle = typed_op<std::tuple<at::Tensor, at::Tensor>(const at::Tensor&, const at::Tensor&,
                                                             const at::Tensor&, at::IntArrayRef, at::IntArrayRef)>(
      "hqrn::_aware_apply_kraus_backward");
  return handle.call(grad, blocks, kraus, targets, diagonal);
}

}  // namespace hqrn::backward
