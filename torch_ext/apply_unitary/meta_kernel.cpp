// Meta kernels of apply_unitary (torch_ext/meta.h).
#include <ATen/ATen.h>
#include <torch/library.h>

#include <tuple>

#include "../check.h"
#include "../meta.h"
#include "prepare.h"

namespace hqrn {
namespace {

at::Tensor apply_unitary_meta(const at::Tensor& rho, const at::Tensor& u, at::IntArrayRef targets) {
  meta::same_device("apply_unitary", {{"rho", &rho}, {"u", &u}});
  gate::prepare(rho, u, targets);
  return meta::empty_like(rho);
}

std::tuple<at::Tensor, at::Tensor> apply_unitary_backward_meta(const at::Tensor& grad, const at::Tensor& rho,
                                                               const at::Tensor& u, at::IntArrayRef targets) {
  meta::same_device("_apply_unitary_backward", {{"grad", &grad}, {"rho", &rho}, {"u", &u}});
  gate::prepare(rho, u, targets);
  check::grad_like(grad, rho, "_apply_unitary_backward", "rho");
  return {meta::empty_like(rho), meta::empty_like(u)};
}

}  // namespace

TORCH_LIBRARY_IMPL(hqrn, Meta, m) {
  m.impl("apply_unitary", &apply_unitary_meta);
  m.impl("_apply_unitary_backward", &apply_unitary_backward_meta);
}

}  // namespace hqrn
