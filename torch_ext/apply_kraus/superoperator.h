// The arithmetic of apply_kraus / aware_apply_kraus on one Kraus set or one
// block, shared by the CPU and CUDA kernels (C10_HOST_DEVICE is empty for a
// host compiler). See cpu_kernel.cpp's header comment for the formulas.
#pragma once

#include <c10/macros/Macros.h>
#include <c10/util/complex.h>

#include <cstdint>

namespace hqrn::kraus {
// Internal linkage, as in prepare.h.
namespace {

// Adds K_m (x) conj(K_m) (or its adjoint) to the superoperator s (kk x kk,
// kk = kd^2): s[(a,c),(a',c')] += K_m[a,a'] conj(K_m[c,c']).
template <typename complex_t>
C10_HOST_DEVICE inline void add_superoperator(const complex_t* km, int64_t kd, complex_t* s, bool adjoint) {
  const int64_t kk = kd * kd;
  for (int64_t a = 0; a < kd; ++a)
    for (int64_t c = 0; c < kd; ++c)
      for (int64_t a1 = 0; a1 < kd; ++a1)
        for (int64_t c1 = 0; c1 < kd; ++c1) {
          const complex_t v = km[a * kd + a1] * std::conj(km[c * kd + c1]);
          if (adjoint) {
            s[(a1 * kd + c1) * kk + (a * kd + c)] += std::conj(v);
          } else {
            s[(a * kd + c) * kk + (a1 * kd + c1)] += v;
          }
        }
}

// out = s in for a kk x kk matrix s.
template <typename complex_t>
C10_HOST_DEVICE inline void mat_vec(const complex_t* s, const complex_t* in, complex_t* out, int64_t kk) {
  for (int64_t row = 0; row < kk; ++row) {
    complex_t sum(0);
    for (int64_t col = 0; col < kk; ++col) sum += s[row * kk + col] * in[col];
    out[row] = sum;
  }
}

// C[(a,a'),(c,c')] += G[a,a'] conj(rho[c,c']): one block's outer product.
template <typename complex_t>
C10_HOST_DEVICE inline void add_outer(complex_t* acc, const complex_t* g_block, const complex_t* rho_conj,
                                      int64_t kk) {
  for (int64_t e = 0; e < kk; ++e) {
    const complex_t g = g_block[e];
    complex_t* row = acc + e * kk;
    for (int64_t f = 0; f < kk; ++f) row[f] += g * rho_conj[f];
  }
}

// grad_K_m[a,c] = sum_{a',c'} (C[a,a',c,c'] + conj(C[a',a,c',c])) K_m[a',c'],
// C indexed ((a * kd + a') * kd + c) * kd + c'.
template <typename complex_t>
C10_HOST_DEVICE inline complex_t kraus_grad_entry(const complex_t* c_total, const complex_t* km, int64_t kd,
                                                  int64_t a, int64_t c) {
  const auto c_at = [&](int64_t i, int64_t i1, int64_t j, int64_t j1) {
    return c_total[((i * kd + i1) * kd + j) * kd + j1];
  };
  complex_t sum(0);
  for (int64_t a1 = 0; a1 < kd; ++a1)
    for (int64_t c1 = 0; c1 < kd; ++c1) sum += (c_at(a, a1, c, c1) + std::conj(c_at(a1, a, c1, c))) * km[a1 * kd + c1];
  return sum;
}

// T[x * 2 + b] += |K_m[x, b]|^2 for one single-qubit Kraus operator.
template <typename complex_t, typename real_t>
C10_HOST_DEVICE inline void add_transfer(const complex_t* km, real_t* t) {
  for (int64_t e = 0; e < 4; ++e) t[e] += std::norm(km[e]);
}

}  // namespace
}  // namespace hqrn::kraus
