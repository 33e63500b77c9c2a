// One Adam step over many parameters in one operator call (the update of
// torch.optim.Adam without amsgrad, weight decay or maximize), for the Python
// package's hqrn.optim.Adam: torch's own Adam on the CPU makes several ATen
// calls per parameter tensor (torch 1.13's foreach path one per tensor and
// operation), which for the networks here cost ten times the arithmetic.
#pragma once

#include <ATen/core/Tensor.h>

namespace hqrn {

// For every k: steps[k] += 1, then with t = steps[k],
//   m = beta1 m + (1 - beta1) g,  v = beta2 v + (1 - beta2) g^2,
//   p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps),
// where p, g, m, v are params[k], grads[k], exp_avgs[k], exp_avg_sqs[k]:
// dense contiguous CPU tensors of one shape and dtype (float32 or float64)
// each; steps[k] a one-element float tensor (torch.optim.Adam's state["step"]).
// Everything is validated before anything is written.
void adam_step_(at::TensorList params, at::TensorList grads, at::TensorList exp_avgs, at::TensorList exp_avg_sqs,
                at::TensorList steps, double lr, double beta1, double beta2, double eps);

}  // namespace hqrn
