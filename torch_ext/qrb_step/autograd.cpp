// Autograd kernels of qrb_step, qrb_sweep and aware_step: the forward runs
// below the autograd key, the backward calls the registered backward op. Their
// backward is not itself differentiable, so double backward is refused.
#include "torch_ext/autograd_function.h"
#include "torch_ext/autograd_kernels.h"
#include "torch_ext/qrb_step/qrb_step.h"

namespace hqrn {
namespace {

class QrbStepFunction : public torch::autograd::Function<QrbStepFunction> {
 public:
  static Variable forward(AutogradContext* ctx, const Variable& rho, const Variable& theta,
                          const Variable& phi, int64_t target, bool dephase) {
    ctx->saved_data["target"] = target;
    ctx->saved_data["dephase"] = dephase;
    ctx->save_for_backward({rho, theta, phi});
    at::AutoDispatchBelowADInplaceOrView guard;
    return hqrn::qrb_step(rho, theta, phi, target, dephase);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const BackwardScope scope(grads, "qrb_step");
    const auto saved = ctx->get_saved_variables();
    auto [g_rho, g_theta, g_phi] =
        backward::qrb_step(grads[0], saved[0], saved[1], saved[2], ctx->saved_data["target"].toInt(),
                           ctx->saved_data["dephase"].toBool());
    return {g_rho, g_theta, g_phi, Variable(), Variable()};
  }
};

// Saves only the block's input; backward recomputes the intermediate states
// (the registered backward does), so memory per block is one saved state.
class QrbSweepFunction : public torch::autograd::Function<QrbSweepFunction> {
 public:
  static Variable forward(AutogradContext* ctx, const Variable& rho, const Variable& theta, const Variable& phi,
                          at::IntArrayRef targets) {
    ctx->saved_data["targets"] = targets.vec();
    ctx->save_for_backward({rho, theta, phi});
    at::AutoDispatchBelowADInplaceOrView guard;
    return hqrn::qrb_sweep(rho, theta, phi, targets);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const BackwardScope scope(grads, "qrb_sweep");
    const auto saved = ctx->get_saved_variables();
    const auto targets = ctx->saved_data["targets"].toIntVector();
    auto [g_rho, g_theta, g_phi] = backward::qrb_sweep(grads[0], saved[0], saved[1], saved[2], targets);
    return {g_rho, g_theta, g_phi, Variable()};
  }
};

class AwareStepFunction : public torch::autograd::Function<AwareStepFunction> {
 public:
  static Variable forward(AutogradContext* ctx, const Variable& blocks, const Variable& theta, const Variable& phi,
                          int64_t target, at::IntArrayRef diagonal) {
    ctx->saved_data["target"] = target;
    ctx->saved_data["diagonal"] = diagonal.vec();
    ctx->save_for_backward({blocks, theta, phi});
    at::AutoDispatchBelowADInplaceOrView guard;
    return hqrn::aware_step(blocks, theta, phi, target, diagonal);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const BackwardScope scope(grads, "aware_step");
    const auto saved = ctx->get_saved_variables();
    const auto diagonal = ctx->saved_data["diagonal"].toIntVector();
    auto [g_blocks, g_theta, g_phi] = backward::aware_step(grads[0], saved[0], saved[1], saved[2],
                                                           ctx->saved_data["target"].toInt(), diagonal);
    return {g_blocks, g_theta, g_phi, Variable(), Variable()};
  }
};

at::Tensor qrb_step_autograd(const at::Tensor& rho, const at::Tensor& theta, const at::Tensor& phi,
                             int64_t target, bool dephase) {
  return QrbStepFunction::apply(rho, theta, phi, target, dephase);
}
at::Tensor qrb_sweep_autograd(const at::Tensor& rho, const at::Tensor& theta, const at::Tensor& phi,
                              at::IntArrayRef targets) {
  return QrbSweepFunction::apply(rho, theta, phi, targets);
}
at::Tensor aware_step_autograd(const at::Tensor& blocks, const at::Tensor& theta, const at::Tensor& phi,
                               int64_t target, at::IntArrayRef diagonal) {
  return AwareStepFunction::apply(blocks, theta, phi, target, diagonal);
}

}  // namespace

void add_qrb_step_autograd(AutogradKernels& out) {
  out.emplace_back("qrb_step", torch::CppFunction(&qrb_step_autograd));
  out.emplace_back("qrb_sweep", torch::CppFunction(&qrb_sweep_autograd));
  out.emplace_back("aware_step", torch::CppFunction(&aware_step_autograd));
}

}  // namespace hqrn
