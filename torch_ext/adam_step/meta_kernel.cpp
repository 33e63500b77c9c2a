// Meta kernel of adam_step_: its validation alone (it has no outputs), so
// tracing an optimizer step fails with the real kernel's messages.
#include <ATen/ATen.h>
#include <torch/library.h>

#include "prepare.h"

namespace hqrn {
namespace {

void adam_step_meta(at::TensorList params, at::TensorList grads, at::TensorList exp_avgs, at::TensorList exp_avg_sqs,
                    at::TensorList steps, double lr, double beta1, double beta2, double eps) {
  adam::prepare(params, grads, exp_avgs, exp_avg_sqs, steps, lr, beta1, beta2, eps);
}

}  // namespace

TORCH_LIBRARY_IMPL(hqrn, Meta, m) { m.impl("adam_step_", &adam_step_meta); }

}  // namespace hqrn
