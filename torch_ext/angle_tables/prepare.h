// Validation of angle_tables and its backward (shapes and dtypes only); the
// kernels receive a TablesPlan and do arithmetic only.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/macros/Macros.h>
#include <c10/util/Exception.h>

#include <cstdint>

#include "torch_ext/check.h"
#include "torch_ext/limits.h"
#include "torch_ext/qubit_index.h"

namespace hqrn::tables {
// Internal linkage, as in the other ops' prepare.h.
namespace {

constexpr const char* kOp = "angle_tables";

// R weight sets of n qubits; h = 2^(n-1) configurations per target.
struct TablesPlan {
  int64_t sets, n, half;
};

// The lists' lengths and every tensor defined: checked by the C++ entry before
// dispatch too, since the dispatcher itself cannot route an empty list or an
// undefined tensor and its own message names neither argument.
inline void check_lists(at::TensorList weights, at::TensorList biases) {
  TORCH_CHECK(!weights.empty(), kOp, ": weights is an empty list (expected at least one [n, n] matrix)");
  TORCH_CHECK(weights.size() == biases.size(), kOp, ": ", weights.size(), " weight matrices but ", biases.size(),
              " bias vectors (expected one bias per matrix)");
  for (size_t r = 0; r < weights.size(); ++r) {
    TORCH_CHECK(weights[r].defined(), kOp, ": weights[", r, "] is an undefined tensor");
    TORCH_CHECK(biases[r].defined(), kOp, ": biases[", r, "] is an undefined tensor");
  }
}

inline TablesPlan prepare(at::TensorList weights, at::TensorList biases) {
  check_lists(weights, biases);
  const auto& first = weights[0];
  TORCH_CHECK(first.scalar_type() == at::kDouble || first.scalar_type() == at::kFloat, kOp,
              ": weights must be float32 or float64, got ", first.scalar_type());
  TORCH_CHECK(first.dim() == 2 && first.size(0) == first.size(1) && first.size(0) >= 1, kOp,
              ": weights[0] must be a square matrix [n, n] with n >= 1, got ", first.sizes());
  const int64_t n = first.size(0);
  TORCH_CHECK(n <= kMaxVectorQubits, kOp, ": ", n, " qubits is more than the ", kMaxVectorQubits, " supported");
  for (size_t r = 0; r < weights.size(); ++r) {
    const auto& w = weights[r];
    const auto& b = biases[r];
    check::kernel_device(w, kOp, "weights");
    check::kernel_device(b, kOp, "biases");
    TORCH_CHECK(w.scalar_type() == first.scalar_type() && b.scalar_type() == first.scalar_type(), kOp,
                ": weights and biases must share one dtype (", first.scalar_type(), "), got weights[", r, "] ",
                w.scalar_type(), " and biases[", r, "] ", b.scalar_type());
    TORCH_CHECK(w.dim() == 2 && w.size(0) == n && w.size(1) == n, kOp, ": weights[", r, "] must have shape [", n,
                ", ", n, "] like weights[0], got ", w.sizes());
    TORCH_CHECK(b.dim() == 1 && b.size(0) == n, kOp, ": biases[", r, "] must have shape [", n, "], got ",
                b.sizes());
  }
  return {static_cast<int64_t>(weights.size()), n, int64_t{1} << (n - 1)};
}

// The basis index whose other-qubit bits for target j are configuration c;
// its bit j is zero, so W_jj never enters. Shared by the CPU and CUDA kernels.
C10_HOST_DEVICE inline int64_t configuration_index(const TablesPlan& s, int64_t j, int64_t c) {
  return index::insert_zero_bit(c, index::qubit_mask(s.n, j));
}

C10_HOST_DEVICE inline bool has_bit(const TablesPlan& s, int64_t x, int64_t i) {
  return (x & index::qubit_mask(s.n, i)) != 0;
}

// The backward reads only the tables' gradient [n, R, 2^(n-1)].
inline TablesPlan prepare_backward(const at::Tensor& grad) {
  constexpr const char* op = "_angle_tables_backward";
  TORCH_CHECK(grad.defined(), op, ": grad is an undefined tensor");
  check::kernel_device(grad, op, "grad");
  TORCH_CHECK(grad.scalar_type() == at::kDouble || grad.scalar_type() == at::kFloat, op,
              ": grad must be float32 or float64, got ", grad.scalar_type());
  const bool shaped = grad.dim() == 3 && grad.size(0) >= 1 && grad.size(0) <= kMaxVectorQubits && grad.size(1) >= 1 &&
                      grad.size(2) == (int64_t{1} << (grad.size(0) - 1));
  TORCH_CHECK(shaped, op, ": grad must have the tables' shape [n, R, 2^(n-1)] (1 <= n <= ", kMaxVectorQubits,
              "), got ", grad.sizes());
  return {grad.size(1), grad.size(0), grad.size(2)};
}

}  // namespace
}  // namespace hqrn::tables
