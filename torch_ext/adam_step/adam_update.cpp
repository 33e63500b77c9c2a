#include "torch_ext/adam_step/adam_update.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

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

// Below this many elements in all, one thread (a parallel region costs a few
// microseconds; 8192 elements take about that long).
constexpr int64_t kParallelElements = 16384;

template <typename real_t>
void update_all(const AdamSpan<real_t>* spans, size_t count) {
  std::vector<int64_t> starts{0};
  for (size_t k = 0; k < count; ++k) starts.push_back(starts.back() + spans[k].n);
  const int64_t total = starts.back();
#pragma omp parallel if (total >= kParallelElements)
  {
    const int64_t threads = omp_get_num_threads(), t = omp_get_thread_num();
    const int64_t begin = total * t / threads, end = total * (t + 1) / threads;
    auto k = static_cast<size_t>(std::upper_bound(starts.begin(), starts.end(), begin) - starts.begin() - 1);
    for (; k < count && starts[k] < end; ++k) {
      const auto& s = spans[k];
      const int64_t from = std::max(begin, starts[k]) - starts[k], to = std::min(end, starts[k + 1]) - starts[k];
      if (to > from) adam_update(s.p + from, s.g + from, s.m + from, s.v + from, to - from, s.c);
    }
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

void adam_update_all(const AdamSpan<double>* spans, size_t count) { update_all(spans, count); }
void adam_update_all(const AdamSpan<float>* spans, size_t count) { update_all(spans, count); }

}  // namespace hqrn
