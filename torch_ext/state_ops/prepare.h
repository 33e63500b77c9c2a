// Validation and planning of dephase, embed_ancillas, partial_trace, probs and
// their backward ops (device-neutral: shapes, dtypes and basis offsets only).
// The kernels receive a plan and do arithmetic only. Every check names the
// op, the argument and the problem, and raises c10::Error (RuntimeError in
// Python).
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/util/ArrayRef.h>
#include <c10/util/Exception.h>

#include <cstdint>
#include <vector>

#include "torch_ext/check.h"
#include "torch_ext/limits.h"
#include "torch_ext/qubit_index.h"

namespace hqrn::state_ops {
// Internal linkage: every translation unit gets its own copy, so a test
// executable's copy can never interpose the library's at dynamic link time.
namespace {

// A batch of `batch` states of side d: the input of dephase and probs, the
// output of _probs_backward.
struct StatePlan {
  int64_t batch, d;
  int64_t mask = 0;  // dephase: the target's bit
};

inline StatePlan prepare_dephase(const at::Tensor& rho, int64_t target) {
  const int64_t n = check::density_batch(rho, "dephase");
  check::qubit(target, n, "dephase", "target");
  return {rho.size(0), rho.size(1), index::qubit_mask(n, target)};
}

inline StatePlan prepare_probs(const at::Tensor& rho) {
  check::density_batch(rho, "probs");
  return {rho.size(0), rho.size(1)};
}

inline StatePlan prepare_probs_backward(const at::Tensor& grad) {
  const int64_t n = check::probability_batch(grad, "_probs_backward", "grad");
  TORCH_CHECK(n <= kMaxQubits, "_probs_backward: grad has too many qubits (", n, ")");
  return {grad.size(0), grad.size(1)};
}

// embed_ancillas: entry (x, y) of the side-d state sits at (x 0..0, y 0..0) of
// the side-`big` one (the n_aux ancillas are the low bits).
struct EmbedPlan {
  int64_t batch, d, n_aux, big;
};

inline EmbedPlan prepare_embed(const at::Tensor& rho, int64_t n_aux) {
  constexpr const char* op = "embed_ancillas";
  const int64_t n = check::density_batch(rho, op);
  TORCH_CHECK(n_aux >= 0, op, ": n_aux must be >= 0, got ", n_aux);
  TORCH_CHECK(n + n_aux <= kMaxQubits, op, ": ", n, " + ", n_aux, " = ", n + n_aux,
              " qubits exceeds the dense-state limit of ", kMaxQubits);
  return {rho.size(0), rho.size(1), n_aux, rho.size(1) << n_aux};
}

inline EmbedPlan prepare_embed_backward(const at::Tensor& grad, int64_t n_aux) {
  const int64_t n_total = check::density_batch(grad, "_embed_ancillas_backward", "grad");
  TORCH_CHECK(n_aux >= 0 && n_aux <= n_total, "_embed_ancillas_backward: n_aux = ", n_aux,
              " does not fit a ", n_total, "-qubit gradient");
  return {grad.size(0), grad.size(1) >> n_aux, n_aux, grad.size(1)};
}

// partial_trace: the side-d state's basis offsets of the kept and the traced
// sub-registers (the result has side kept.size()).
struct TracePlan {
  int64_t batch, d;
  std::vector<int64_t> kept, traced;
};

inline TracePlan trace_plan(int64_t batch, int64_t n, at::IntArrayRef keep, const char* op) {
  const auto keep_list = check::qubit_list(keep, n, op, "keep");
  return {batch, int64_t{1} << n, index::subregister_offsets(n, keep_list),
          index::subregister_offsets(n, index::complement(n, keep_list))};
}

inline TracePlan prepare_trace(const at::Tensor& rho, at::IntArrayRef keep) {
  const int64_t n = check::density_batch(rho, "partial_trace");
  return trace_plan(rho.size(0), n, keep, "partial_trace");
}

// n: the forward input's qubit count.
inline TracePlan prepare_trace_backward(const at::Tensor& grad, at::IntArrayRef keep, int64_t n) {
  const int64_t n_kept = check::density_batch(grad, "_partial_trace_backward", "grad");
  TORCH_CHECK(n_kept == static_cast<int64_t>(keep.size()) && n <= kMaxQubits,
              "_partial_trace_backward: grad of ", n_kept, " qubit(s) does not match keep ", keep);
  return trace_plan(grad.size(0), n, keep, "_partial_trace_backward");
}

}  // namespace
}  // namespace hqrn::state_ops
