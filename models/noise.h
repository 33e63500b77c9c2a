// The noise model's channels as tensors: Kraus operators, the readout
// assignment error on distributions, and finite-shot estimates.
#pragma once

#include <torch/torch.h>

#include <cstdint>

#include "models/noise_model.h"

namespace hqrn {

// Kraus operators [m, 2, 2] of one channel (PennyLane's conventions), complex dtype.
torch::Tensor kraus_operators(const NoiseChannel& channel, torch::ScalarType complex_dtype);

// The model's channels applied in their order as one channel on a qubit:
// products K^(last)_i ... K^(first)_j, [prod m, 2, 2]. Undefined when there
// are no channels.
torch::Tensor step_kraus(const NoiseModel& noise, torch::ScalarType complex_dtype);

// Each bit of distributions [..., 2^r] over r bits flipped independently with
// probability r_flip: p'(x) = sum_y prod_k r^[x_k != y_k] (1-r)^[x_k == y_k] p(y).
// Ordinary LibTorch ops, so autograd reaches p.
torch::Tensor apply_readout_error(const torch::Tensor& distributions, double r_flip);

// An estimate of distributions [..., K] from `shots` outcomes sampled from
// each (multinomial, drawn as a chain of binomials so memory stays that of
// the input): counts / shots. Not differentiable.
torch::Tensor sample_shots(const torch::Tensor& distributions, int64_t shots, torch::Generator& generator);

}  // namespace hqrn
