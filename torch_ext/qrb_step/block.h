// Loading and storing a step's 2x2 blocks, and the choice of kernel variant:
// shared by the CPU and CUDA kernels of qrb_step, aware_step and qrb_sweep
// (C10_HOST_DEVICE is empty for a host compiler). The arithmetic on the
// blocks is rotation.h's.
#pragma once

#include <c10/macros/Macros.h>
#include <c10/util/complex.h>

#include <cstdint>
#include <type_traits>

#include "torch_ext/qrb_step/prepare.h"
#include "torch_ext/rotation.h"

namespace hqrn::step {
// Internal linkage, as in prepare.h.
namespace {

// The input block of rows (row0, row1) at column offsets (c0, c1); without
// coherence the target is diagonal and the off-diagonal entries are zero.
template <bool coherent, typename real_t>
C10_HOST_DEVICE inline Mat2<real_t> load_block(const c10::complex<real_t>* row0, const c10::complex<real_t>* row1,
                                               int64_t c0, int64_t c1) {
  if constexpr (coherent) return {row0[c0], row0[c1], row1[c0], row1[c1]};
  return {row0[c0], {}, {}, row1[c1]};
}

template <bool coherent, typename real_t>
C10_HOST_DEVICE inline void store_block(c10::complex<real_t>* row0, c10::complex<real_t>* row1, int64_t c0,
                                        int64_t c1, const Mat2<real_t>& m) {
  row0[c0] = m.m00;
  row1[c1] = m.m11;
  if constexpr (coherent) {
    row0[c1] = m.m01;
    row1[c0] = m.m10;
  }
}

// Calls body(coherent, output) with both as compile-time constants
// (std::integral_constant) for the runtime choice.
template <typename Body>
void with_variant(bool coherent, Output output, const Body& body) {
  if (!coherent) return body(std::false_type{}, std::integral_constant<Output, Output::dephased>{});
  switch (output) {
    case Output::full: return body(std::true_type{}, std::integral_constant<Output, Output::full>{});
    case Output::dephased_zeros:
      return body(std::true_type{}, std::integral_constant<Output, Output::dephased_zeros>{});
    case Output::dephased: return body(std::true_type{}, std::integral_constant<Output, Output::dephased>{});
  }
}

}  // namespace
}  // namespace hqrn::step
