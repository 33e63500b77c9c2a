// Schemas of qrb_step, qrb_sweep and aware_step (a fragment of the hqrn
// library declared in torch_ext/ops.cpp) and their C++ entries through the
// dispatcher.
#include "torch_ext/qrb_step/qrb_step.h"

#include <torch/library.h>

#include "torch_ext/dispatch.h"

namespace hqrn {
TORCH_LIBRARY_FRAGMENT(hqrn, m) {
  m.def("qrb_step(Tensor rho, Tensor theta, Tensor phi, int target, bool dephase=True) -> Tensor");
  m.def("_qrb_step_backward(Tensor grad, Tensor rho, Tensor theta, Tensor phi, int target, bool dephase)"
        " -> (Tensor, Tensor, Tensor)");
  m.def("qrb_sweep(Tensor rho, Tensor theta, Tensor phi, int[] targets) -> Tensor");
  m.def("_qrb_sweep_backward(Tensor grad, Tensor rho, Tensor theta, Tensor phi, int[] targets)"
        " -> (Tensor, Tensor, Tensor)");
  m.def("aware_step(Tensor blocks, Tensor theta, Tensor phi, int target, int[] diagonal) -> Tensor");
  m.def("_aware_step_backward(Tensor grad, Tensor blocks, Tensor theta, Tensor phi, int target, int[] diagonal)"
        " -> (Tensor, Tensor, Tensor)");
}

at::Tensor qrb_step(const at::Tensor& rho, const at::Tensor& theta, const at::Tensor& phi,
                    int64_t target, bool dephase) {
  static auto handle =
      typed_op<at::Tensor(const at::Tensor&, const at::Tensor&, const at::Tensor&, int64_t, bool)>("hqrn::qrb_step");
  return handle.call(rho, theta, phi, target, dephase);
}

at::Tensor qrb_sweep(const at::Tensor& rho, const at::Tensor& theta, const at::Tensor& phi,
                     at::IntArrayRef targets) {
  static auto handle = typed_op<at::Tensor(const at::Tensor&, const at::Tensor&, const at::Tensor&, at::IntArrayRef)>(
      "hqrn::qrb_sweep");
  return handle.call(rho, theta, phi, targets);
}

at::Tensor aware_step(const at::Tensor& blocks, const at::Tensor& theta, const at::Tensor& phi, int64_t target,
                      at::IntArrayRef diagonal) {
  static auto handle =
      typed_op<at::Tensor(const at::Tensor&, const at::Tensor&, const at::Tensor&, int64_t, at::IntArrayRef)>(
          "hqrn::aware_step");
  return handle.call(blocks, theta, phi, target, diagonal);
}

}  // namespace hqrn

namespace hqrn::backward {

std::tuple<at::Tensor, at::Tensor, at::Tensor> qrb_step(const at::Tensor& grad, const at::Tensor& rho,
                                                        const at::Tensor& theta, const at::Tensor& phi,
                                                        int64_t target, bool dephase) {
  static auto handle = typed_op<std::tuple<at::Tensor, at::Tensor, at::Tensor>(
      const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Tensor&, int64_t, bool)>(
      "hqrn::_qrb_step_backward");
  return handle.call(grad, rho, theta, phi, target, dephase);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> qrb_sweep(const at::Tensor& grad, const at::Tensor& rho,
                                                         const at::Tensor& theta, const at::Tensor& phi,
                                                         at::IntArrayRef targets) {
  static auto handle = typed_op<std::tuple<at::Tensor, at::Tensor, at::Tensor>(
      const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Tensor&, at::IntArrayRef)>(
      "hqrn::_qrb_sweep_backward");
  return handle.call(grad, rho, theta, phi, targets);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> aware_step(const at::Tensor& grad, const at::Tensor& blocks,
                                                          const at::Tensor& theta, const at::Tensor& phi,
                                                          int64_t target, at::IntArrayRef diagonal) {
  static auto handle = typed_op<std::tuple<at::Tensor, at::Tensor, at::Tensor>(
      const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Tensor&, int64_t, at::IntArrayRef)>(
      "hqrn::_aware_step_backward");
  return handle.call(grad, blocks, theta, phi, target, diagonal);
}

}  // namespace hqrn::backward
