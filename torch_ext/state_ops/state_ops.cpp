// Schemas of dephase, embed_ancillas, partial_trace and probs (a fragment of
// the hqrn library declared in torch_ext/ops.cpp) and their C++ entries
// through the dispatcher.
#include "torch_ext/state_ops/state_ops.h"

#include <torch/library.h>

#include "torch_ext/dispatch.h"

namespace hqrn {
TORCH_LIBRARY_FRAGMENT(hqrn, m) {
  m.def("dephase(Tensor rho, int target) -> Tensor");
  m.def("embed_ancillas(Tensor rho, int n_aux) -> Tensor");
  m.def("_embed_ancillas_backward(Tensor grad, int n_aux) -> Tensor");
  m.def("partial_trace(Tensor rho, int[] keep) -> Tensor");
  m.def("_partial_trace_backward(Tensor grad, int[] keep, int n) -> Tensor");
  m.def("probs(Tensor rho) -> Tensor");
  m.def("_probs_backward(Tensor grad) -> Tensor");
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

}  // namespace hqrn

namespace hqrn::backward {

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

}  // namespace hqrn::backward
