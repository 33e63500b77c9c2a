// Autograd kernels of apply_kraus / aware_apply_kraus: the forward runs below
// the autograd key, the backward calls the registered backward op. Their
// backward is not itself differentiable, so double backward is refused.
#include <ATen/core/grad_mode.h>
#include <torch/autograd.h>
#include <torch/library.h>

#include "torch_ext/apply_kraus/apply_kraus.h"

namespace hqrn {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::Variable;
using torch::autograd::variable_list;

// Backward with create_graph (GradMode on) or through a gradient that itself
// requires grad would silently drop second-order terms: refuse it.
void refuse_double_backward(const variable_list& grads, const char* op) {
  bool grad_requires_grad = false;
  for (const auto& g : grads) grad_requires_grad = grad_requires_grad || (g.defined() && g.requires_grad());
  TORCH_CHECK(!at::GradMode::is_enabled() && !grad_requires_grad, op,
              ": double backward is not supported (its backward is not differentiable; call backward "
              "without create_graph)");
}

// An undefined tensor would fail inside autograd with an anonymous message;
// name it here (the kernels' preparation step checks everything else).
void require_defined(const at::Tensor& t, const char* op, const char* name) {
  TORCH_CHECK(t.defined(), op, ": ", name, " is an undefined tensor");
}

class ApplyKrausFunction : public torch::autograd::Function<ApplyKrausFunction> {
 public:
  static Variable forward(AutogradContext* ctx, const Variable& rho, const Variable& kraus,
                          at::IntArrayRef targets) {
    ctx->saved_data["targets"] = targets.vec();
    ctx->save_for_backward({rho, kraus});
    at::AutoDispatchBelowADInplaceOrView guard;
    return hqrn::apply_kraus(rho, kraus, targets);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    refuse_double_backward(grads, "apply_kraus");
    const auto saved = ctx->get_saved_variables();
    const auto targets = ctx->saved_data["targets"].toIntVector();
    auto [g_rho, g_kraus] = backward::apply_kraus(grads[0], saved[0], saved[1], targets);
    return {g_rho, g_kraus, Variable()};
  }
};

class AwareApplyKrausFunction : public torch::autograd::Function<AwareApplyKrausFunction> {
 public:
  static Variable forward(AutogradContext* ctx, const Variable& blocks, const Variable& kraus,
                          at::IntArrayRef targets, at::IntArrayRef diagonal) {
    ctx->saved_data["targets"] = targets.vec();
    ctx->saved_data["diagonal"] = diagonal.vec();
    ctx->save_for_backward({blocks, kraus});
    at::AutoDispatchBelowADInplaceOrView guard;
    return hqrn::aware_apply_kraus(blocks, kraus, targets, diagonal);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    refuse_double_backward(grads, "aware_apply_kraus");
    const auto saved = ctx->get_saved_variables();
    const auto targets = ctx->saved_data["targets"].toIntVector();
    const auto diagonal = ctx->saved_data["diagonal"].toIntVector();
    auto [g_blocks, g_kraus] = backward::aware_apply_kraus(grads[0], saved[0], saved[1], targets, diagonal);
    return {g_blocks, g_kraus, Variable(), Variable()};
  }
};

at::Tensor apply_kraus_autograd(const at::Tensor& rho, const at::Tensor& kraus, at::IntArrayRef targets) {
  require_defined(rho, "apply_kraus", "rho");
  require_defined(kraus, "apply_kraus", "kraus");
  return ApplyKrausFunction::apply(rho, kraus, targets);
}

at::Tensor aware_apply_kraus_autograd(const at::Tensor& blocks, const at::Tensor& kraus, at::IntArrayRef targets,
                                      at::IntArrayRef diagonal) {
  require_defined(blocks, "aware_apply_kraus", "blocks");
  require_defined(kraus, "aware_apply_kraus", "kraus");
  return AwareApplyKrausFunction::apply(blocks, kraus, targets, diagonal);
}

}  // namespace

TORCH_LIBRARY_IMPL(hqrn, Autograd, m) {
  m.impl("apply_kraus", &apply_kraus_autograd);
  m.impl("aware_apply_kraus", &aware_apply_kraus_autograd);
}

}  // namespace hqrn
