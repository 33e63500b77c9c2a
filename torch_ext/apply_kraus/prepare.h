// Validation and planning of apply_kraus / aware_apply_kraus, shared by the
// forward and backward kernels (device-neutral: only shapes, dtypes and, for
// the aware layout's diagonal-target case, a small check on the Kraus values
// with ATen ops). The kernels receive a KrausPlan and do arithmetic only.
//
// Every check names the op, the argument and the problem, and raises
// c10::Error (RuntimeError in Python).
#pragma once

#include <ATen/ATen.h>
#include <c10/util/ArrayRef.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "torch_ext/check.h"
#include "torch_ext/qubit_index.h"
#include "torch_ext/step_layout.h"

namespace hqrn::kraus {
// Internal linkage: every translation unit (the kernels, and the tests that
// call the preparation directly) gets its own copy, so a test executable's
// copy can never interpose the library's at dynamic link time.
namespace {

constexpr int64_t kMaxKrausQubits = 2;

// How the kernel runs.
//  - conjugate: out_i = sum_m K_m rho_i K_m^dagger on each of `batch` square
//    matrices of side `d` (the dense op, and the aware layout with every
//    target coherent, whose blocks are `batch` = B * 2^|D| matrices).
//  - mix: the aware layout with the single target in D: block a' is
//    sum_b T[a'_t, b] * block(a with bit t = b), T[x, b] = sum_m |K_m[x, b]|^2.
enum class Mode { conjugate, mix };

struct KrausPlan {
  Mode mode = Mode::conjugate;
  int64_t k = 0;       // qubits the channel acts on
  int64_t k_dim = 0;   // 2^k
  int64_t ops = 0;     // number of Kraus operators m
  int64_t batch = 0;   // matrices (conjugate) or states (mix) in the input
  // Kraus sets: 1 when shared over the batch, else one per sample.
  bool per_sample = false;
  int64_t kraus_sets = 1;
  // Consecutive input matrices that use one Kraus set (per sample only):
  // 1 for the dense op, 2^|D| for the aware layout (blocks of one sample).
  int64_t per_set = 1;
  // conjugate: the matrices' side, and the row/column offset of each
  // configuration of the targets (targets[0] = most significant bit of K's
  // index) and of the other qubits.
  int64_t d = 0;
  std::vector<int64_t> gate, rest;
  // mix: 2^|D| blocks of `block_entries` (= 2^m * 2^m) entries per state;
  // `mix_mask` is the target's bit in a block index a.
  int64_t blocks = 0, block_entries = 0, mix_mask = 0;
  std::vector<int64_t> out_shape;

  // The Kraus set of input matrix i (conjugate) or state i (mix).
  int64_t set_of(int64_t i) const { return per_sample ? i / per_set : 0; }
};

// The targets, distinct and in range, 1 to kMaxKrausQubits of them.
inline std::vector<int64_t> checked_targets(at::IntArrayRef targets, int64_t n, const char* op) {
  const auto k = static_cast<int64_t>(targets.size());
  TORCH_CHECK(k >= 1 && k <= kMaxKrausQubits, op, ": targets must list 1 to ", kMaxKrausQubits,
              " qubit(s) (k = len(targets) <= ", kMaxKrausQubits, "), got ", k);
  return check::qubit_list(targets, n, op, "targets");
}

// kraus: [m, 2^k, 2^k] (shared) or [batch, m, 2^k, 2^k] (per sample), m >= 1,
// of the state's dtype. Fills k/k_dim/ops/per_sample/kraus_sets.
inline void check_kraus(const at::Tensor& kraus, int64_t k, int64_t batch, at::ScalarType state_type,
                        const char* state_name, const char* op, KrausPlan& plan) {
  check::kernel_device(kraus, op, "kraus");
  TORCH_CHECK(kraus.scalar_type() == state_type, op, ": kraus must have ", state_name, "'s dtype ", state_type,
              ", got ", kraus.scalar_type());
  const int64_t k_dim = int64_t{1} << k;
  TORCH_CHECK(kraus.dim() == 3 || kraus.dim() == 4, op, ": kraus must have shape [m, ", k_dim, ", ", k_dim,
              "] (shared) or [B, m, ", k_dim, ", ", k_dim, "] (per sample) for ", k, " target(s), got ",
              kraus.dim(), " dimensions ", kraus.sizes());
  const bool per_sample = kraus.dim() == 4;
  TORCH_CHECK(kraus.size(-1) == k_dim && kraus.size(-2) == k_dim, op, ": kraus must hold ", k_dim, " x ", k_dim,
              " matrices for ", k, " target(s), got ", kraus.size(-2), " x ", kraus.size(-1), " (shape ",
              kraus.sizes(), ")");
  const int64_t ops = kraus.size(-3);
  TORCH_CHECK(ops >= 1, op, ": kraus must hold at least one Kraus operator (m >= 1), got m = ", ops, " (shape ",
              kraus.sizes(), ")");
  if (per_sample) {
    TORCH_CHECK(kraus.size(0) == batch, op, ": kraus is per sample [B, m, ", k_dim, ", ", k_dim,
                "] but its batch size ", kraus.size(0), " does not match ", state_name, "'s batch size ", batch);
  }
  plan.k = k;
  plan.k_dim = k_dim;
  plan.ops = ops;
  plan.per_sample = per_sample;
  plan.kraus_sets = per_sample ? batch : 1;
}

// The conjugate-mode offsets for `targets` on an n-qubit register of matrices of side 2^n.
inline void set_offsets(int64_t n, const std::vector<int64_t>& targets, KrausPlan& plan) {
  plan.d = int64_t{1} << n;
  plan.gate = index::subregister_offsets(n, targets);
  plan.rest = index::subregister_offsets(n, index::complement(n, targets));
}

// apply_kraus(rho, kraus, targets).
inline KrausPlan prepare_dense(const at::Tensor& rho, const at::Tensor& kraus, at::IntArrayRef targets,
                               const char* op = "apply_kraus") {
  const int64_t n = check::density_batch(rho, op);
  const auto list = checked_targets(targets, n, op);
  KrausPlan plan;
  check_kraus(kraus, static_cast<int64_t>(list.size()), rho.size(0), rho.scalar_type(), "rho", op, plan);
  plan.batch = rho.size(0);
  plan.per_set = 1;
  set_offsets(n, list, plan);
  plan.out_shape = rho.sizes().vec();
  return plan;
}

// For k = 1 on a diagonal qubit t: sum_m K_m[0, b] conj(K_m[1, b]) must vanish
// for b = 0, 1 (relative to the column's weight sum_m |K_m[0,b]|^2 + |K_m[1,b]|^2),
// else the channel would put coherence on t, which the layout cannot store.
inline void check_keeps_diagonal(const at::Tensor& kraus, int64_t target, const char* op) {
  const auto values = kraus.detach().resolve_conj().resolve_neg().to(at::kComplexDouble);
  const auto row0 = values.select(-2, 0), row1 = values.select(-2, 1);  // [..., m, 2] over b
  const auto cross = (row0 * at::conj(row1)).sum(-2).abs();             // [..., 2]
  const auto weight = (row0.abs().square() + row1.abs().square()).sum(-2);
  const double rel_tol = kraus.scalar_type() == at::kComplexDouble ? 1e-12 : 1e-6;
  const auto excess = cross - rel_tol * weight;
  const double worst = excess.numel() ? excess.max().item<double>() : 0.0;
  if (worst > 0) {
    const auto at_flat = excess.flatten().argmax().item<int64_t>();
    const int64_t b = at_flat % 2;
    TORCH_CHECK(false, op, ": the channel would create coherence on diagonal qubit ", target,
                " (|sum_m K_m[0,", b, "] conj(K_m[1,", b, "])| = ", cross.flatten()[at_flat].item<double>(),
                " is not 0), which the coherence-aware layout cannot hold; the dense execution (apply_kraus on "
                "the full state) handles it");
  }
}

// aware_apply_kraus(blocks, kraus, targets, diagonal), the layout of aware_step.
inline KrausPlan prepare_aware(const at::Tensor& blocks, const at::Tensor& kraus, at::IntArrayRef targets,
                               at::IntArrayRef diagonal, const char* op = "aware_apply_kraus") {
  check::kernel_device(blocks, op, "blocks");
  TORCH_CHECK(blocks.dim() == 4, op, ": blocks must have shape [B, 2^|D|, 2^m, 2^m], got ", blocks.dim(),
              " dimensions ", blocks.sizes());
  TORCH_CHECK(blocks.scalar_type() == at::kComplexFloat || blocks.scalar_type() == at::kComplexDouble, op,
              ": blocks must be complex64 or complex128, got ", blocks.scalar_type());
  TORCH_CHECK(blocks.size(2) == blocks.size(3), op, ": blocks must hold square blocks, got ", blocks.size(2),
              " x ", blocks.size(3));
  const int64_t n_diagonal = check::qubit_count(blocks.size(1), op, "blocks' dimension 1 (2^|D|)");
  const int64_t n_coherent = check::qubit_count(blocks.size(2), op, "blocks' dimension 2 (2^m)");
  const int64_t n = n_diagonal + n_coherent;
  TORCH_CHECK(static_cast<int64_t>(diagonal.size()) == n_diagonal, op, ": diagonal lists ", diagonal.size(),
              " qubit(s) but blocks' dimension 1 is 2^", n_diagonal);
  const auto diag = check::qubit_list(diagonal, n, op, "diagonal");
  TORCH_CHECK(std::is_sorted(diag.begin(), diag.end()), op, ": diagonal must list its qubits in ascending order");
  const auto list = checked_targets(targets, n, op);
  const auto k = static_cast<int64_t>(list.size());
  KrausPlan plan;
  check_kraus(kraus, k, blocks.size(0), blocks.scalar_type(), "blocks", op, plan);
  plan.out_shape = blocks.sizes().vec();
  const int64_t a_count = blocks.size(1);

  std::vector<int64_t> on_diagonal;
  for (auto t : list) {
    if (std::find(diag.begin(), diag.end(), t) != diag.end()) on_diagonal.push_back(t);
  }
  if (on_diagonal.empty()) {
    // Every target coherent: the channel acts inside each block, on the
    // targets' positions among the coherent qubits (ascending).
    const auto coherent = index::complement(n, diag);
    std::vector<int64_t> local;
    for (auto t : list) {
      local.push_back(std::find(coherent.begin(), coherent.end(), t) - coherent.begin());
    }
    plan.mode = Mode::conjugate;
    plan.batch = blocks.size(0) * a_count;
    plan.per_set = a_count;
    set_offsets(n_coherent, local, plan);
    return plan;
  }
  TORCH_CHECK(k == 1, op, ": a ", k, "-qubit channel on targets ", at::IntArrayRef(list),
              " with diagonal qubit ", on_diagonal.front(),
              " is not supported in the coherence-aware layout; apply it with apply_kraus on the dense state");
  // A check of the operators' values: the Meta kernel, which has none, leaves
  // it to the kernel that runs.
  if (!kraus.is_meta()) check_keeps_diagonal(kraus, list[0], op);
  plan.mode = Mode::mix;
  plan.batch = blocks.size(0);
  plan.per_set = 1;
  plan.blocks = a_count;
  plan.block_entries = blocks.size(2) * blocks.size(3);
  plan.mix_mask = local_mask(diag, list[0]);
  return plan;
}

}  // namespace
}  // namespace hqrn::kraus
