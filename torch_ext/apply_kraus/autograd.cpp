// Autograd kernels of apply_kraus / aware_apply_kraus: the forward runs below
// the autograd key, the backward calls the registered backward op. Their
// backward is not itself differentiable, so double backward is refused.

#include "torch_ext/apply_kraus/apply_kraus.h"
#include "torch_ext/autograd_function.h"
#include "torch_ext/autograd_kernels.h"

namespace hqrn {
namespace {

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
    const BackwardScope scope(grads, "apply_kraus");
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
    const BackwardScope scope(grads, "aware_apply_kraus");
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

void add_apply_kraus_autograd(AutogradKernels& out) {
  out.emplace_back("apply_kraus", torch::CppFunction(&apply_kraus_autograd));
  out.emplace_back("aware_apply_kraus", torch::CppFunction(&aware_apply_kraus_autograd));
}

}  // namespace hqrn
