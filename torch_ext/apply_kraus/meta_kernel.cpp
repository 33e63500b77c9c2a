// Meta kernels of apply_kraus and aware_apply_kraus (torch_ext/meta.h).
#include <ATen/ATen.h>
#include <torch/library.h>

#include <tuple>

#include "../check.h"
#include "../meta.h"
#include "prepare.h"

namespace hqrn {
namespace {

at::Tensor apply_kraus_meta(const at::Tensor& rho, const at::Tensor& kraus, at::IntArrayRef targets) {
  meta::same_device("apply_kraus", {{"rho", &rho}, {"kraus", &kraus}});
  return meta::empty(kraus::prepare_dense(rho, kraus, targets).out_shape, rho.options());
}

std::tuple<at::Tensor, at::Tensor> apply_kraus_backward_meta(const at::Tensor& grad, const at::Tensor& rho,
                                                             const at::Tensor& kraus, at::IntArrayRef targets) {
  meta::same_device("_apply_kraus_backward", {{"grad", &grad}, {"rho", &rho}, {"kraus", &kraus}});
  const auto plan = kraus::prepare_dense(rho, kraus, targets, "_apply_kraus_backward");
  check::output_grad(grad, plan.out_shape, rho, "_apply_kraus_backward");
  return {meta::empty_like(rho), meta::empty_like(kraus)};
}

at::Tensor aware_apply_kraus_meta(const at::Tensor& blocks, const at::Tensor& kraus, at::IntArrayRef targets,
                                  at::IntArrayRef diagonal) {
  meta::same_device("aware_apply_kraus", {{"blocks", &blocks}, {"kraus", &kraus}});
  return meta::empty(kraus::prepare_aware(blocks, kraus, targets, diagonal).out_shape, blocks.options());
}

std::tuple<at::Tensor, at::Tensor> aware_apply_kraus_backward_meta(const at::Tensor& grad, const at::Tensor& blocks,
                                                                   const at::Tensor& kraus, at::IntArrayRef targets,
                                                                   at::IntArrayRef diagonal) {
  meta::same_device("_aware_apply_kraus_backward", {{"grad", &grad}, {"blocks", &blocks}, {"kraus", &kraus}});
  const auto plan = kraus::prepare_aware(blocks, kraus, targets, diagonal, "_aware_apply_kraus_backward");
  check::output_grad(grad, plan.out_shape, blocks, "_aware_apply_kraus_backward");
  return {meta::empty_like(blocks), meta::empty_like(kraus)};
}

}  // namespace

TORCH_LIBRARY_IMPL(hqrn, Meta, m) {
  m.impl("apply_kraus", &apply_kraus_meta);
  m.impl("_apply_kraus_backward", &apply_kraus_backward_meta);
  m.impl("aware_apply_kraus", &aware_apply_kraus_meta);
  m.impl("_aware_apply_kraus_backward", &aware_apply_kraus_backward_meta);
}

}  // namespace hqrn
