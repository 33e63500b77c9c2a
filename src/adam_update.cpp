#include "src/adam_update.h"

#include <cmath>

namespace hqrn {

namespace {

template <typename real_t>
__attribute__((always_inline)) inline void update(real_t* __restrict p, const real_t* __restrict g,
                                                  real_t* __restrict m, real_t* __restrict v, int64_t n,
                                                  const AdamCoefficients& c) {
  const auto b1 = static_cast<real_t>(c.beta1), b2 = static_cast<real_t>(c.beta2);
  const auto a1 = static_cast<real_t>(1 - c.beta1), a2 = static_cast<real_t>(1 - c.beta2);
  const auto e = static_cast<real_t>(c.eps), s = static_cast<real_t>(c.step_size);
  const auto c2 = static_cast<real_t>(c.bias_correction2_sqrt);
  for (int64_t i = 0; i < n; ++i) {
    const real_t mi = b1 * m[i] + a1 * g[i];
    const real_t vi = b2 * v[i] + a2 * g[i] * g[i];
    m[i] = mi;
    v[i] = vi;
    p[i] -= s * (mi / (std::sqrt(vi) / c2 + e));
  }
}

}  // namespace

__attribute__((target_clones("avx512f", "avx2", "default"))) void adam_update(double* p, const double* g, double* m,
                                                                             double* v, int64_t n,
                                                                             const AdamCoefficients& c) {
  update(p, g, m, v, n, c);
}

__attribute__((target_clones("avx512f", "avx2", "default"))) void adam_update(float* p, const float* g, float* m,
                                                                             float* v, int64_t n,
                                                                             const AdamCoefficients& c) {
  update(p, g, m, v, n, c);
}

}  // namespace hqrn
