// Meta kernels of vector_step (torch_ext/meta.h).
#include <ATen/ATen.h>
#include <torch/library.h>

#include <tuple>

#include "../check.h"
#include "../meta.h"
#include "prepare.h"

namespace hqrn {
namespace {

at::Tensor vector_step_meta(const at::Tensor& psi, const at::Tensor& theta, const at::Tensor& phi, int64_t target) {
  meta::same_device(vstep::kOp, {{"psi", &psi}, {"theta", &theta}, {"phi", &phi}});
  vstep::prepare(psi, theta, phi, target);
  return meta::empty_like(psi);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> vector_step_backward_meta(const at::Tensor& grad, const at::Tensor& psi,
                                                                         const at::Tensor& theta,
                                                                         const at::Tensor& phi, int64_t target) {
  meta::same_device(vstep::kBackwardOp, {{"grad", &grad}, {"psi", &psi}, {"theta", &theta}, {"phi", &phi}});
  vstep::prepare(psi, theta, phi, target);
  check::output_grad(grad, psi.sizes(), psi, vstep::kBackwardOp);
  return {meta::empty_like(psi), meta::empty_like(theta), meta::empty_like(phi)};
}

}  // namespace

TORCH_LIBRARY_IMPL(hqrn, Meta, m) {
  m.impl("vector_step", &vector_step_meta);
  m.impl("_vector_step_backward", &vector_step_backward_meta);
}

}  // namespace hqrn
