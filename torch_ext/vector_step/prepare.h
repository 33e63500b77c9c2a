// Validation and planning of vector_step, shared by the forward and backward
// kernels (device-neutral: shapes and dtypes only). The kernels receive a
// VectorPlan and do arithmetic only. Every check names the op, the argument
// and the problem, and raises c10::Error (RuntimeError in Python).
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <cstdint>

#include "torch_ext/check.h"
#include "torch_ext/limits.h"
#include "torch_ext/qubit_index.h"

namespace hqrn::vstep {
// Internal linkage: every translation unit gets its own copy, so a test
// executable's copy can never interpose the library's at dynamic link time.
namespace {

constexpr const char* kOp = "vector_step";
constexpr const char* kBackwardOp = "_vector_step_backward";

// psi [B, r, d] as B * r vectors of d amplitudes, each in half = d/2 pairs
// (x0, x0 | mask). The tables are read in `groups` rows (1 when both are
// shared, else the rows of the one(s) with rows); group g holds the
// `group_vectors` consecutive vectors from g * group_vectors and rotates pair
// c with entry (g, c): row g of a table with rows, row 0 of a shared one.
struct VectorPlan {
  int64_t vectors, d, half, mask;
  int64_t groups, group_vectors;
  bool theta_shared, phi_shared;
};

// vector_step(psi, theta, phi, target); its backward reports under the same name.
inline VectorPlan prepare(const at::Tensor& psi, const at::Tensor& theta, const at::Tensor& phi, int64_t target) {
  const int64_t n = check::vector_batch(psi, kOp);
  TORCH_CHECK(n >= 1, kOp, ": psi must describe at least one qubit (2^n >= 2 amplitudes), got ", psi.size(2));
  TORCH_CHECK(n <= kMaxVectorQubits, kOp, ": psi has ", n, " qubits, more than the ", kMaxVectorQubits,
              " supported (2^", kMaxVectorQubits, " amplitudes per component)");
  check::qubit(target, n, kOp, "target");
  const auto real_type = c10::toRealValueType(psi.scalar_type());
  check::angle_table(theta, psi.size(0), n, real_type, kOp, "theta", /*grouped=*/true);
  check::angle_table(phi, psi.size(0), n, real_type, kOp, "phi", /*grouped=*/true);
  check::one_grouping(theta, phi, kOp);
  const int64_t groups = std::max(theta.dim() == 2 ? theta.size(0) : 1, phi.dim() == 2 ? phi.size(0) : 1);
  const int64_t batch = psi.size(0), comps = psi.size(1), half = psi.size(2) / 2;
  return {batch * comps, psi.size(2), half, index::qubit_mask(n, target),
          groups, batch / groups * comps, theta.dim() == 1, phi.dim() == 1};
}

}  // namespace
}  // namespace hqrn::vstep
