// Schema of adam_step_ (a fragment of the hqrn library declared in
// torch_ext/ops.cpp) and its C++ entry through the dispatcher.
#include "torch_ext/adam_step/adam_step.h"

#include <ATen/core/grad_mode.h>
#include <ATen/core/LegacyTypeDispatch.h>
#include <c10/util/Exception.h>
#include <torch/library.h>

#include "torch_ext/dispatch.h"

namespace hqrn {
TORCH_LIBRARY_FRAGMENT(hqrn, m) {
  m.def(
      "adam_step_(Tensor(a!)[] params, Tensor[] grads, Tensor(b!)[] exp_avgs, Tensor(c!)[] exp_avg_sqs, "
      "Tensor(d!)[] steps, float lr, float beta1, float beta2, float eps) -> ()");
}

namespace {

// An optimizer update has no derivative. Its Autograd kernel (in this
// library, for either LibTorch: the package registers none for it) refuses a
// call that autograd would have to record, as the in-place update of a leaf
// that requires grad is refused; under no_grad it passes the call down.
void adam_step_autograd(at::TensorList params, at::TensorList grads, at::TensorList exp_avgs,
                        at::TensorList exp_avg_sqs, at::TensorList steps, double lr, double beta1, double beta2,
                        double eps) {
  if (at::GradMode::is_enabled()) {
    for (at::TensorList list : {params, grads, exp_avgs, exp_avg_sqs, steps}) {
      for (const auto& t : list) {
        TORCH_CHECK(!(t.defined() && t.requires_grad()), "adam_step_: an optimizer update is not differentiable; "
                    "call it under torch.no_grad() (a tensor argument requires grad)");
      }
    }
  }
  at::AutoDispatchBelowADInplaceOrView guard;
  adam_step_(params, grads, exp_avgs, exp_avg_sqs, steps, lr, beta1, beta2, eps);
}

}  // namespace

TORCH_LIBRARY_IMPL(hqrn, Autograd, m) { m.impl("adam_step_", &adam_step_autograd); }

void adam_step_(at::TensorList params, at::TensorList grads, at::TensorList exp_avgs, at::TensorList exp_avg_sqs,
                at::TensorList steps, double lr, double beta1, double beta2, double eps) {
  static auto handle = typed_op<void(at::TensorList, at::TensorList, at::TensorList, at::TensorList, at::TensorList,
                                     double, double, double, double)>("hqrn::adam_step_");
  handle.call(params, grads, exp_avgs, exp_avg_sqs, steps, lr, beta1, beta2, eps);
}

}  // namespace hqrn
