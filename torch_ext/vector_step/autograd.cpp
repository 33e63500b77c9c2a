// Autograd kernel of vector_step: the forward runs below the autograd key, the
// backward calls the registered backward op. That backward is not itself
// differentiable, so double backward is refused.
#include "torch_ext/autograd_function.h"
#include "torch_ext/autograd_kernels.h"
#include "torch_ext/vector_step/vector_step.h"

namespace hqrn {
namespace {

class VectorStepFunction : public torch::autograd::Function<VectorStepFunction> {
 public:
  static Variable forward(AutogradContext* ctx, const Variable& psi, const Variable& theta, const Variable& phi,
                          int64_t target) {
    ctx->saved_data["target"] = target;
    ctx->save_for_backward({psi, theta, phi});
    at::AutoDispatchBelowADInplaceOrView guard;
    return hqrn::vector_step(psi, theta, phi, target);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const BackwardScope scope(grads, "vector_step");
    const auto saved = ctx->get_saved_variables();
    auto [g_psi, g_theta, g_phi] =
        backward::vector_step(grads[0], saved[0], saved[1], saved[2], ctx->saved_data["target"].toInt());
    return {g_psi, g_theta, g_phi, Variable()};
  }
};

at::Tensor vector_step_autograd(const at::Tensor& psi, const at::Tensor& theta, const at::Tensor& phi,
                                int64_t target) {
  return VectorStepFunction::apply(psi, theta, phi, target);
}

}  // namespace

void add_vector_step_autograd(AutogradKernels& out) {
  out.emplace_back("vector_step", torch::CppFunction(&vector_step_autograd));
}

}  // namespace hqrn
