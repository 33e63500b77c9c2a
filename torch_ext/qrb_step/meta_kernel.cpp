// Meta kernels of qrb_step, aware_step and qrb_sweep (torch_ext/meta.h).
#include <ATen/ATen.h>
#include <torch/library.h>

#include <tuple>

#include "../check.h"
#include "../meta.h"
#include "prepare.h"

namespace hqrn {
namespace {

using Grads3 = std::tuple<at::Tensor, at::Tensor, at::Tensor>;

at::Tensor qrb_step_meta(const at::Tensor& rho, const at::Tensor& theta, const at::Tensor& phi, int64_t target,
                         bool dephase) {
  meta::same_device("qrb_step", {{"rho", &rho}, {"theta", &theta}, {"phi", &phi}});
  return meta::empty(step::prepare_dense(rho, theta, phi, target, dephase).out_shape, rho.options());
}

Grads3 qrb_step_backward_meta(const at::Tensor& grad, const at::Tensor& rho, const at::Tensor& theta,
                              const at::Tensor& phi, int64_t target, bool dephase) {
  meta::same_device("_qrb_step_backward", {{"grad", &grad}, {"rho", &rho}, {"theta", &theta}, {"phi", &phi}});
  const auto plan = step::prepare_dense(rho, theta, phi, target, dephase);
  check::output_grad(grad, plan.out_shape, rho, "_qrb_step_backward");
  return {meta::empty_like(rho), meta::empty_like(theta), meta::empty_like(phi)};
}

at::Tensor aware_step_meta(const at::Tensor& blocks, const at::Tensor& theta, const at::Tensor& phi, int64_t target,
                           at::IntArrayRef diagonal) {
  meta::same_device("aware_step", {{"blocks", &blocks}, {"theta", &theta}, {"phi", &phi}});
  return meta::empty(step::prepare_aware(blocks, theta, phi, target, diagonal).out_shape, blocks.options());
}

Grads3 aware_step_backward_meta(const at::Tensor& grad, const at::Tensor& blocks, const at::Tensor& theta,
                                const at::Tensor& phi, int64_t target, at::IntArrayRef diagonal) {
  meta::same_device("_aware_step_backward",
                    {{"grad", &grad}, {"blocks", &blocks}, {"theta", &theta}, {"phi", &phi}});
  const auto plan = step::prepare_aware(blocks, theta, phi, target, diagonal);
  check::output_grad(grad, plan.out_shape, blocks, "_aware_step_backward");
  return {meta::empty_like(blocks), meta::empty_like(theta), meta::empty_like(phi)};
}

at::Tensor qrb_sweep_meta(const at::Tensor& rho, const at::Tensor& theta, const at::Tensor& phi,
                          at::IntArrayRef targets) {
  meta::same_device("qrb_sweep", {{"rho", &rho}, {"theta", &theta}, {"phi", &phi}});
  step::prepare_sweep(rho, theta, phi, targets);
  return meta::empty_like(rho);
}

Grads3 qrb_sweep_backward_meta(const at::Tensor& grad, const at::Tensor& rho, const at::Tensor& theta,
                               const at::Tensor& phi, at::IntArrayRef targets) {
  meta::same_device("_qrb_sweep_backward", {{"grad", &grad}, {"rho", &rho}, {"theta", &theta}, {"phi", &phi}});
  step::prepare_sweep(rho, theta, phi, targets);
  check::grad_like(grad, rho, "_qrb_sweep_backward", "rho");
  return {meta::empty_like(rho), meta::empty_like(theta), meta::empty_like(phi)};
}

}  // namespace

TORCH_LIBRARY_IMPL(hqrn, Meta, m) {
  m.impl("qrb_step", &qrb_step_meta);
  m.impl("_qrb_step_backward", &qrb_step_backward_meta);
  m.impl("qrb_sweep", &qrb_sweep_meta);
  m.impl("_qrb_sweep_backward", &qrb_sweep_backward_meta);
  m.impl("aware_step", &aware_step_meta);
  m.impl("_aware_step_backward", &aware_step_backward_meta);
}

}  // namespace hqrn
