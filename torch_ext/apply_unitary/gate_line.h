// The arithmetic of apply_unitary on one line of a state, shared by the CPU
// and CUDA kernels (C10_HOST_DEVICE is empty for a host compiler).
#pragma once

#include <c10/macros/Macros.h>
#include <c10/util/complex.h>

#include <cstdint>

namespace hqrn::gate {
// Internal linkage, as in prepare.h.
namespace {

// out[a] = sum_c M[a, c] in[c] (conj(M[a, c]) when `on_columns`: the gate
// acting on a row of the state from the right, as M^dagger).
template <typename complex_t>
C10_HOST_DEVICE inline void gate_line(const complex_t* m, int64_t k_dim, const complex_t* in, complex_t* out,
                                      bool on_columns) {
  for (int64_t a = 0; a < k_dim; ++a) {
    complex_t sum(0);
    for (int64_t c = 0; c < k_dim; ++c) sum += (on_columns ? std::conj(m[a * k_dim + c]) : m[a * k_dim + c]) * in[c];
    out[a] = sum;
  }
}

}  // namespace
}  // namespace hqrn::gate
