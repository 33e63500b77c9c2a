// Autograd kernel of markov_step: the forward runs below the autograd key, the
// backward calls the registered backward op. That backward is not itself
// differentiable, so double backward is refused.
#include "torch_ext/autograd_function.h"
#include "torch_ext/autograd_kernels.h"
#include "torch_ext/markov_step/markov_step.h"

namespace hqrn {
namespace {

class MarkovStepFunction : public torch::autograd::Function<MarkovStepFunction> {
 public:
  static Variable forward(AutogradContext* ctx, const Variable& p, const Variable& theta, int64_t target) {
    ctx->saved_data["target"] = target;
    ctx->save_for_backward({p, theta});
    at::AutoDispatchBelowADInplaceOrView guard;
    return hqrn::markov_step(p, theta, target);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const BackwardScope scope(grads, "markov_step");
    const auto saved = ctx->get_saved_variables();
    auto [g_p, g_theta] =
        backward::markov_step(grads[0], saved[0], saved[1], ctx->saved_data["target"].toInt());
    return {g_p, g_theta, Variable()};
  }
};

at::Tensor markov_step_autograd(const at::Tensor& p, const at::Tensor& theta, int64_t target) {
  return MarkovStepFunction::apply(p, theta, target);
}

}  // namespace

void add_markov_step_autograd(AutogradKernels& out) {
  out.emplace_back("markov_step", torch::CppFunction(&markov_step_autograd));
}

}  // namespace hqrn
