// Validation and planning of markov_step, shared by the forward and backward
// kernels (device-neutral: shapes and dtypes only). The kernels receive a
// MarkovPlan and do arithmetic only. Every check names the op, the argument
// and the problem, and raises c10::Error (RuntimeError in Python).
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/util/Exception.h>

#include <cstdint>

#include "torch_ext/check.h"
#include "torch_ext/qubit_index.h"

namespace hqrn::markov {
// Internal linkage: every translation unit gets its own copy, so a test
// executable's copy can never interpose the library's at dynamic link time.
namespace {

constexpr const char* kOp = "markov_step";

// d entries per vector, in half = d/2 pairs (x0, x0 | mask); table entry
// b * table_stride + c belongs to pair c of sample b.
struct MarkovPlan {
  int64_t batch, d, half, mask, table_stride;
};

// markov_step(p, theta, target); its backward reports under the same name.
inline MarkovPlan prepare(const at::Tensor& p, const at::Tensor& theta, int64_t target) {
  const int64_t n = check::probability_batch(p, kOp);
  TORCH_CHECK(n >= 1, kOp, ": p must describe at least one bit (d >= 2), got d = ", p.size(1));
  check::qubit(target, n, kOp, "target");
  check::angle_table(theta, p.size(0), n, p.scalar_type(), kOp, "theta");
  const int64_t half = p.size(1) / 2;
  return {p.size(0), p.size(1), half, index::qubit_mask(n, target), theta.dim() == 2 ? half : 0};
}

}  // namespace
}  // namespace hqrn::markov
