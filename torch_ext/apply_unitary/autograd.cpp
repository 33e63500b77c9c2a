// Autograd kernel of apply_unitary: the forward runs below the autograd key,
// the backward calls the registered backward op. That backward is not itself
// differentiable, so double backward is refused.

#include "torch_ext/apply_unitary/apply_unitary.h"
#include "torch_ext/autograd_function.h"
#include "torch_ext/autograd_kernels.h"

namespace hqrn {
namespace {

class ApplyUnitaryFunction : public torch::autograd::Function<ApplyUnitaryFunction> {
 public:
  static Variable forward(AutogradContext* ctx, const Variable& rho, const Variable& u,
                          at::IntArrayRef targets) {
    ctx->saved_data["targets"] = targets.vec();
    ctx->save_for_backward({rho, u});
    at::AutoDispatchBelowADInplaceOrView guard;
    return hqrn::apply_unitary(rho, u, targets);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const BackwardScope scope(grads, "apply_unitary");
    const auto saved = ctx->get_saved_variables();
    const auto targets = ctx->saved_data["targets"].toIntVector();
    auto [g_rho, g_u] = backward::apply_unitary(grads[0], saved[0], saved[1], targets);
    return {g_rho, g_u, Variable()};
  }
};

at::Tensor apply_unitary_autograd(const at::Tensor& rho, const at::Tensor& u, at::IntArrayRef targets) {
  return ApplyUnitaryFunction::apply(rho, u, targets);
}

}  // namespace

void add_apply_unitary_autograd(AutogradKernels& out) {
  out.emplace_back("apply_unitary", torch::CppFunction(&apply_unitary_autograd));
}

}  // namespace hqrn
