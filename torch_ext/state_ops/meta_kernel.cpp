// Meta kernels of dephase, embed_ancillas, partial_trace and probs
// (torch_ext/meta.h); each has one tensor argument.
#include <ATen/ATen.h>
#include <torch/library.h>

#include "../meta.h"
#include "prepare.h"

namespace hqrn {
namespace {

at::Tensor dephase_meta(const at::Tensor& rho, int64_t target) {
  state_ops::prepare_dephase(rho, target);
  return meta::empty_like(rho);
}

at::Tensor embed_ancillas_meta(const at::Tensor& rho, int64_t n_aux) {
  const auto e = state_ops::prepare_embed(rho, n_aux);
  return meta::empty({e.batch, e.big, e.big}, rho.options());
}

at::Tensor embed_ancillas_backward_meta(const at::Tensor& grad, int64_t n_aux) {
  const auto e = state_ops::prepare_embed_backward(grad, n_aux);
  return meta::empty({e.batch, e.d, e.d}, grad.options());
}

at::Tensor partial_trace_meta(const at::Tensor& rho, at::IntArrayRef keep) {
  const auto t = state_ops::prepare_trace(rho, keep);
  const auto k = static_cast<int64_t>(t.kept.size());
  return meta::empty({t.batch, k, k}, rho.options());
}

at::Tensor partial_trace_backward_meta(const at::Tensor& grad, at::IntArrayRef keep, int64_t n) {
  const auto t = state_ops::prepare_trace_backward(grad, keep, n);
  return meta::empty({t.batch, t.d, t.d}, grad.options());
}

at::Tensor probs_meta(const at::Tensor& rho) {
  const auto s = state_ops::prepare_probs(rho);
  return meta::empty({s.batch, s.d}, rho.options().dtype(c10::toRealValueType(rho.scalar_type())));
}

at::Tensor probs_backward_meta(const at::Tensor& grad) {
  const auto s = state_ops::prepare_probs_backward(grad);
  return meta::empty({s.batch, s.d, s.d}, grad.options().dtype(c10::toComplexType(grad.scalar_type())));
}

}  // namespace

TORCH_LIBRARY_IMPL(hqrn, Meta, m) {
  m.impl("dephase", &dephase_meta);
  m.impl("embed_ancillas", &embed_ancillas_meta);
  m.impl("_embed_ancillas_backward", &embed_ancillas_backward_meta);
  m.impl("partial_trace", &partial_trace_meta);
  m.impl("_partial_trace_backward", &partial_trace_backward_meta);
  m.impl("probs", &probs_meta);
  m.impl("_probs_backward", &probs_backward_meta);
}

}  // namespace hqrn
