// Validation and planning of qrb_step, aware_step and qrb_sweep, shared by
// the forward and backward kernels (device-neutral: shapes, dtypes and the
// StepLayout, never the tensors' values). The kernels receive a StepPlan and
// do arithmetic only; qrb_sweep validates its whole block once and then runs
// one StepPlan per step.
//
// Every check names the op, the argument and the problem, and raises
// c10::Error (RuntimeError in Python).
#pragma once

#include <ATen/ATen.h>
#include <c10/util/ArrayRef.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "torch_ext/check.h"
#include "torch_ext/step_layout.h"

namespace hqrn::step {
// Internal linkage: every translation unit gets its own copy, so a test
// executable's copy can never interpose the library's at dynamic link time.
namespace {

enum class Output {
  full,            // U rho U^dagger (no measurement): all four entries
  dephased_zeros,  // dense layout: the diagonal, and zeros in the discarded places
  dephased,        // aware layout: the discarded entries have no place
};

// One checked step: where its blocks live, what it writes, its output's shape.
struct StepPlan {
  StepLayout layout;
  Output output = Output::dephased;
  std::vector<int64_t> out_shape;
};

constexpr const char* kDenseOp = "qrb_step";
constexpr const char* kAwareOp = "aware_step";
constexpr const char* kSweepOp = "qrb_sweep";

// A dense state of at least one qubit; returns n.
inline int64_t dense_qubits(const at::Tensor& rho, const char* op) {
  const int64_t n = check::density_batch(rho, op);
  TORCH_CHECK(n >= 1, op, ": rho must describe at least one qubit (d >= 2), got d = ", rho.size(1));
  return n;
}

// The step on qubit `target` of the dense [B, d, d] state `rho` (n qubits).
inline StepPlan dense_plan(const at::Tensor& rho, int64_t n, int64_t target, bool dephase) {
  return {dense_layout(n, target), dephase ? Output::dephased_zeros : Output::full, rho.sizes().vec()};
}

// qrb_step(rho, theta, phi, target, dephase); its backward reports under the same name.
inline StepPlan prepare_dense(const at::Tensor& rho, const at::Tensor& theta, const at::Tensor& phi,
                              int64_t target, bool dephase) {
  const int64_t n = dense_qubits(rho, kDenseOp);
  check::qubit(target, n, kDenseOp, "target");
  const auto real_type = c10::toRealValueType(rho.scalar_type());
  check::angle_table(theta, rho.size(0), n, real_type, kDenseOp, "theta");
  check::angle_table(phi, rho.size(0), n, real_type, kDenseOp, "phi");
  return dense_plan(rho, n, target, dephase);
}

// aware_step(blocks, theta, phi, target, diagonal): the layout alone decides
// whether the target is already diagonal, and so the output's shape.
inline StepPlan prepare_aware(const at::Tensor& blocks, const at::Tensor& theta, const at::Tensor& phi,
                              int64_t target, at::IntArrayRef diagonal) {
  check::kernel_device(blocks, kAwareOp, "blocks");
  TORCH_CHECK(blocks.dim() == 4, kAwareOp, ": blocks must have shape [B, 2^|D|, 2^m, 2^m], got ", blocks.sizes());
  TORCH_CHECK(blocks.scalar_type() == at::kComplexFloat || blocks.scalar_type() == at::kComplexDouble, kAwareOp,
              ": blocks must be complex64 or complex128, got ", blocks.scalar_type());
  TORCH_CHECK(blocks.size(2) == blocks.size(3), kAwareOp, ": blocks must be square, got ", blocks.size(2), " x ",
              blocks.size(3));
  const int64_t n_diagonal = check::qubit_count(blocks.size(1), kAwareOp, "blocks' dimension 1 (2^|D|)");
  const int64_t n_coherent = check::qubit_count(blocks.size(2), kAwareOp, "blocks' dimension 2 (2^m)");
  const int64_t n = n_diagonal + n_coherent;
  TORCH_CHECK(n >= 1, kAwareOp, ": the register must have at least one qubit");
  TORCH_CHECK(static_cast<int64_t>(diagonal.size()) == n_diagonal, kAwareOp, ": diagonal lists ", diagonal.size(),
              " qubit(s) but blocks' dimension 1 is 2^", n_diagonal);
  auto list = check::qubit_list(diagonal, n, kAwareOp, "diagonal");
  TORCH_CHECK(std::is_sorted(list.begin(), list.end()), kAwareOp, ": diagonal must list its qubits in ascending order");
  check::qubit(target, n, kAwareOp, "target");
  const auto real_type = c10::toRealValueType(blocks.scalar_type());
  check::angle_table(theta, blocks.size(0), n, real_type, kAwareOp, "theta", /*grouped=*/true);
  check::angle_table(phi, blocks.size(0), n, real_type, kAwareOp, "phi", /*grouped=*/true);
  check::one_grouping(theta, phi, kAwareOp);
  StepPlan plan{aware_layout(n, target, list), Output::dephased, blocks.sizes().vec()};
  if (plan.layout.coherent) {  // the target is measured: it joins D
    plan.out_shape[1] *= 2;
    plan.out_shape[2] /= 2;
    plan.out_shape[3] /= 2;
  }
  return plan;
}

// The kernels read both tables with one layout: a shared table meets a
// per-sample (or per-group) one by broadcasting over its rows.
inline std::pair<at::Tensor, at::Tensor> common_tables(const at::Tensor& theta, const at::Tensor& phi) {
  if (theta.dim() == phi.dim()) return {theta.contiguous(), phi.contiguous()};
  const auto shape = (theta.dim() == 2 ? theta : phi).sizes();
  return {theta.expand(shape).contiguous(), phi.expand(shape).contiguous()};
}

// Gradient of a table that was broadcast over the batch: summed back.
inline at::Tensor reduce_to(const at::Tensor& grad, const at::Tensor& table) {
  return table.dim() == grad.dim() ? grad : grad.sum(0);
}

// qrb_sweep: the dephasing step of every qubit that `targets` lists, planned
// once however often the qubit is listed.
struct SweepPlan {
  std::vector<StepPlan> by_qubit;  // entry j is planned only when j is a target

  const StepPlan& step(int64_t j) const { return by_qubit[static_cast<size_t>(j)]; }
};

// qrb_sweep(rho, theta, phi, targets): theta, phi hold one table per qubit,
// [n, 2^(n-1)], of rho's real dtype; every target is in range.
inline SweepPlan prepare_sweep(const at::Tensor& rho, const at::Tensor& theta, const at::Tensor& phi,
                               at::IntArrayRef targets) {
  const int64_t n = dense_qubits(rho, kSweepOp);
  const auto real_type = c10::toRealValueType(rho.scalar_type());
  for (const auto& [table, name] : {std::pair{theta, "theta"}, std::pair{phi, "phi"}}) {
    check::kernel_device(table, kSweepOp, name);
    TORCH_CHECK(table.scalar_type() == real_type, kSweepOp, ": ", name, " must have dtype ", real_type,
                " to match the state, got ", table.scalar_type());
    TORCH_CHECK(table.dim() == 2 && table.size(0) == n && table.size(1) == rho.size(1) / 2, kSweepOp, ": ", name,
                " must hold one table per qubit, [", n, ", ", rho.size(1) / 2, "], got ", table.sizes());
  }
  for (const auto j : targets) check::qubit(j, n, kSweepOp, "targets");
  SweepPlan plan;
  plan.by_qubit.resize(static_cast<size_t>(n));
  for (const auto j : targets) {
    auto& step = plan.by_qubit[static_cast<size_t>(j)];
    if (step.layout.pairs == 0) step = dense_plan(rho, n, j, true);
  }
  return plan;
}

}  // namespace
}  // namespace hqrn::step
