// The element loop of hqrn::FusedAdam, apart from LibTorch so that it builds
// with its own flags (no errno from sqrt, so the loop vectorises) and is
// cloned per instruction set (AVX-512, AVX2, baseline), the widest this CPU
// has picked when the program loads.
#pragma once

#include <cstdint>

namespace hqrn {

// The update of torch::optim::Adam (amsgrad off, no weight decay), element by
// element: m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2,
// p -= step_size * m / (sqrt(v) / bias_correction2_sqrt + eps).
// The four arrays must not overlap.
struct AdamCoefficients {
  double beta1, beta2, eps, step_size, bias_correction2_sqrt;
};
void adam_update(double* p, const double* g, double* m, double* v, int64_t n, const AdamCoefficients& c);
void adam_update(float* p, const float* g, float* m, float* v, int64_t n, const AdamCoefficients& c);

}  // namespace hqrn
