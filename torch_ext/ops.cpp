// Schemas of the hqrn operator library and the C++ entry points, which call
// through the dispatcher (CPU kernels in cpu/, autograd in autograd/).
#include "torch_ext/ops.h"
#include "torch_ext/backward_ops.h"

#include <torch/library.h>

#include "torch_ext/dispatch.h"

namespace hqrn {
TORCH_LIBRARY(hqrn, m) {
  m.def("qrb_step(Tensor rho, Tensor theta, Tensor phi, int target, bool dephase=True) -> Tensor");
  m.def("_qrb_step_backward(Tensor grad, Tensor rho, Tensor theta, Tensor phi, int target, bool dephase)"
        " -> (Tensor, Tensor, Tensor)");
  m.def("qrb_sweep(Tensor rho, Tensor theta, Tensor phi, int[] targets) -> Tensor");
  m.def("_qrb_sweep_backward(Tensor grad, Tensor rho, Tensor theta, Tensor phi, int[] targets)"
        " -> (Tensor, Tensor, Tensor)");
  m.def("aware_step(Tensor blocks, Tensor theta, Tensor phi, int target, int[] diagonal) -> Tensor");
  m.def("_aware_step_backward(Tensor grad, Tensor blocks, Tensor theta, Tensor phi, int target, int[] diagonal)"
        " -> (Tensor, Tensor, Tensor)");
  m.def("markov_step(Tensor p, Tensor theta, int target) -> Tensor");
  m.def("_markov_step_backward(Tensor grad, Tensor p, Tensor theta, int target) -> (Tensor, Tensor)");
  m.def("dephase(Tensor rho, int target) -> Tensor");
  m.def("embed_ancillas(Tensor rho, int n_aux) -> Tensor");
  m.def("_embed_ancillas_backward(Tensor grad, int n_aux) -> Tensor");
  m.def("partial_trace(Tensor rho, int[] keep) -> Tensor");
  m.def("_partial_trace_backward(Tensor grad, int[] keep, int n) -> Tensor");
  m.def("probs(Tensor rho) -> Tensor");
  m.def("_probs_backward(Tensor grad) -> Tensor");
  m.def("apply_unitary(Tensor rho, Tensor u, int[] targets) -> Tensor");
  m.def("_apply_unitary_backward(Tensor grad, Tensor rho, Tensor u, int[] targets) -> (Tensor, Tensor)");
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

at::Tensor markov_step(const at::Tensor& p, const at::Tensor& theta, int64_t target) {
  static auto handle = typed_op<at::Tensor(const at::Tensor&, const at::Tensor&, int64_t)>("hqrn::markov_step");
  return handle.call(p, theta, target);
}

at::Tensor dephase(const at::Tensor& rho, int64_t target) {
  static auto handle = typed_op<at::Tensor(const at::Tensor&, int64_t)>("hqrn::dephase");
  return handle.call(rho, target);
}

at::Tensor embed_ancillas(const at::Tensor& rho, int64_t n_aux) {
  static auto handle = typed_op<at::Tensor(const at::Tensor&, int64_t)>("hqrn::embed_ancillas");
  return handle.call(rho, n_aux);
}

at::Tensor partial_trace(const at::Tensor& rho, at::IntArrayRef keep) {
  static auto handle = typed_op<at::Tensor(const at::Tensor&, at::IntArrayRef)>("hqrn::partial_trace");
  return handle.call(rho, keep);
}

at::Tensor probs(const at::Tensor& rho) {
  static auto handle = typed_op<at::Tensor(const at::Tensor&)>("hqrn::probs");
  return handle.call(rho);
}

at::Tensor apply_unitary(const at::Tensor& rho, const at::Tensor& u, at::IntArrayRef targets) {
  static auto handle =
      typed_op<at::Tensor(const at::Tensor&, const at::Tensor&, at::IntArrayRef)>("hqrn::apply_unitary");
  return handle.call(rho, u, targets);
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

std::tuple<at::Tensor, at::Tensor> markov_step(const at::Tensor& grad, const at::Tensor& p,
                                               const at::Tensor& theta, int64_t target) {
  static auto handle = typed_op<std::tuple<at::Tensor, at::Tensor>(const at::Tensor&, const at::Tensor&,
                                                             const at::Tensor&, int64_t)>(
      "hqrn::_markov_step_backward");
  return handle.call(grad, p, theta, target);
}

at::Tensor embed_ancillas(const at::Tensor& grad, int64_t n_aux) {
  static auto handle = typed_op<at::Tensor(const at::Tensor&, int64_t)>("hqrn::_embed_ancillas_backward");
  return handle.call(grad, n_aux);
}

at::Tensor partial_trace(const at::Tensor& grad, at::IntArrayRef keep, int64_t n) {
  static auto handle =
      typed_op<at::Tensor(const at::Tensor&, at::IntArrayRef, int64_t)>("hqrn::_partial_trace_backward");
  return handle.call(grad, keep, n);
}

at::Tensor probs(const at::Tensor& grad) {
  static auto handle = typed_op<at::Tensor(const at::Tensor&)>("hqrn::_probs_backward");
  return handle.call(grad);
}

std::tuple<at::Tensor, at::Tensor> apply_unitary(const at::Tensor& grad, const at::Tensor& rho,
                                                 const at::Tensor& u, at::IntArrayRef targets) {
  static auto handle = typed_op<std::tuple<at::Tensor, at::Tensor>(const at::Tensor&, const at::Tensor&,
                                                             const at::Tensor&, at::IntArrayRef)>(
      "hqrn::_apply_unitary_backward");
  return handle.call(grad, rho, u, targets);
}

}  // namespace hqrn::backward
