// One pair (x0, x1 = x0 | mask) of a vector step and the fixed-order sums of
// its angle gradients: the arithmetic the CPU and CUDA kernels share
// (C10_HOST_DEVICE is empty for a host compiler).
//
// Forward, (out0, out1) = R (v0, v1); backward, the state's gradient is
// R^dagger (g0, g1), and the pair adds X = v g^H (X_ab = v_a conj(g_b)) to
// its table entry, whose angle gradients are Re tr(dR/dtheta X) and
// Re tr(dR/dphi X) (rotation.h's angle_gradients) of the summed X.
//
// Both kernels split the angle-gradient work the same way: group g's vectors
// in `slabs` contiguous slabs (slab_range), each slab's sums per table entry
// kept apart (part[(g * slabs + slab) * half + c]) and added in a fixed order
// afterwards (table_entry_grad). The slab count is a function of the plan
// alone, never of the thread count, so the gradients are the same bits on
// any number of threads.
#pragma once

#include <c10/macros/Macros.h>
#include <c10/util/complex.h>

#include <cstdint>

#include "torch_ext/rotation.h"

namespace hqrn::vstep {

template <typename real_t>
C10_HOST_DEVICE inline void rotate_pair(const Mat2<real_t>& m, c10::complex<real_t> a0, c10::complex<real_t> a1,
                                        c10::complex<real_t>* out0, c10::complex<real_t>* out1) {
  *out0 = m.m00 * a0 + m.m01 * a1;
  *out1 = m.m10 * a0 + m.m11 * a1;
}

// X = v g^H of one pair: input amplitudes v, incoming gradient g.
template <typename real_t>
C10_HOST_DEVICE inline Mat2<real_t> pair_outer(c10::complex<real_t> v0, c10::complex<real_t> v1,
                                               c10::complex<real_t> g0, c10::complex<real_t> g1) {
  const auto g0c = std::conj(g0), g1c = std::conj(g1);
  return {v0 * g0c, v0 * g1c, v1 * g0c, v1 * g1c};
}

// Where a table with rows (per sample or grouped) or a shared one keeps entry (g, c).
C10_HOST_DEVICE inline int64_t table_index(bool shared, int64_t g, int64_t half, int64_t c) {
  return shared ? c : g * half + c;
}

// The vectors [*begin, *end) of slab `slab` of a group of `count` vectors
// (offsets within the group).
C10_HOST_DEVICE inline void slab_range(int64_t count, int64_t slabs, int64_t slab, int64_t* begin, int64_t* end) {
  *begin = slab * count / slabs;
  *end = (slab + 1) * count / slabs;
}

// d loss / d entry (row, c) of a table: its groups' (all of them for a
// shared table) and slabs' partial sums, groups then slabs ascending.
template <typename real_t>
C10_HOST_DEVICE inline real_t table_entry_grad(const real_t* part, bool shared, int64_t groups, int64_t slabs,
                                               int64_t half, int64_t row, int64_t c) {
  const int64_t g_begin = shared ? 0 : row, g_end = shared ? groups : row + 1;
  real_t total = 0;
  for (int64_t g = g_begin; g < g_end; ++g) {
    for (int64_t slab = 0; slab < slabs; ++slab) total += part[(g * slabs + slab) * half + c];
  }
  return total;
}

}  // namespace hqrn::vstep
