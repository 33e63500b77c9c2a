// CPU kernel of adam_step_: the bookkeeping (step counts, bias corrections)
// per tensor, then adam_update_all's one parallel pass over every element.
#include <ATen/ATen.h>
#include <torch/library.h>

#include <cmath>
#include <initializer_list>
#include <vector>

#include "adam_update.h"
#include "prepare.h"

namespace hqrn {
namespace {

void adam_step_cpu(at::TensorList params, at::TensorList grads, at::TensorList exp_avgs, at::TensorList exp_avg_sqs,
                   at::TensorList steps, double lr, double beta1, double beta2, double eps) {
  adam::prepare(params, grads, exp_avgs, exp_avg_sqs, steps, lr, beta1, beta2, eps);
  std::vector<AdamSpan<double>> doubles;
  std::vector<AdamSpan<float>> floats;
  for (size_t k = 0; k < params.size(); ++k) {
    const auto& step = steps[k];
    double t = 0;
    if (step.scalar_type() == at::kDouble) {
      t = ++*step.data_ptr<double>();
    } else {
      t = ++*step.data_ptr<float>();
    }
    const AdamCoefficients c{beta1, beta2, eps, lr / (1 - std::pow(beta1, t)), std::sqrt(1 - std::pow(beta2, t))};
    const auto& p = params[k];
    if (p.scalar_type() == at::kDouble) {
      doubles.push_back({p.data_ptr<double>(), grads[k].data_ptr<double>(), exp_avgs[k].data_ptr<double>(),
                         exp_avg_sqs[k].data_ptr<double>(), p.numel(), c});
    } else {
      floats.push_back({p.data_ptr<float>(), grads[k].data_ptr<float>(), exp_avgs[k].data_ptr<float>(),
                        exp_avg_sqs[k].data_ptr<float>(), p.numel(), c});
    }
    // Written in place, as torch.optim.Adam's in-place ops would (autograd's
    // checks of saved tensors see it; custom ops get no version bump of their own).
    for (const at::Tensor* written : {&p, &exp_avgs[k], &exp_avg_sqs[k], &step}) {
      written->unsafeGetTensorImpl()->bump_version();
    }
  }
  adam_update_all(doubles.data(), doubles.size());
  adam_update_all(floats.data(), floats.size());
}

}  // namespace

TORCH_LIBRARY_IMPL(hqrn, CPU, m) { m.impl("adam_step_", &adam_step_cpu); }

}  // namespace hqrn
