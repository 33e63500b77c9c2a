// One pair (x0, x1 = x0 | mask) of the classical step, the arithmetic the CPU
// and CUDA kernels share: a symmetric 2x2 stochastic map with flip
// probability f, so its adjoint (the gradient of p) is the same map, and the
// pair's share of d loss / d theta with f' = d f / d theta.
#pragma once

#include <c10/macros/Macros.h>

namespace hqrn::markov {

template <typename real_t>
C10_HOST_DEVICE inline void flip_pair(real_t f, real_t a0, real_t a1, real_t* out0, real_t* out1) {
  *out0 = (1 - f) * a0 + f * a1;
  *out1 = f * a0 + (1 - f) * a1;
}

template <typename real_t>
C10_HOST_DEVICE inline real_t flip_pair_angle_grad(real_t slope, real_t p0, real_t p1, real_t g0, real_t g1) {
  return slope * (p1 - p0) * (g0 - g1);
}

}  // namespace hqrn::markov
