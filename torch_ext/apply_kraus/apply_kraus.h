// Quantum channels given by Kraus operators: apply_kraus on dense states and
// aware_apply_kraus in the coherence-aware layout of aware_step.
//
// Both go through the dispatcher (so they record autograd like
// `torch.ops.hqrn.apply_kraus` from Python) and are differentiable in the
// state and in the Kraus operators; double backward is refused.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/util/ArrayRef.h>

#include <tuple>

namespace hqrn {

// rho -> sum_m K_m rho K_m^dagger on a batch of density matrices rho
// `[B, d, d]` (complex64/complex128). kraus is `[m, 2^k, 2^k]` (shared by the
// batch) or `[B, m, 2^k, 2^k]` (per sample), m >= 1, with rho's dtype, acting
// on the k = len(targets) <= 2 qubits `targets` in the order listed:
// targets[0] is the most significant bit of K's row and column index (as for
// apply_unitary). sum_m K_m^dagger K_m = I is not required.
at::Tensor apply_kraus(const at::Tensor& rho, const at::Tensor& kraus, at::IntArrayRef targets);

// The same channel on a state in the coherence-aware layout (see aware_step):
// blocks `[B, 2^|D|, 2^m, 2^m]`, D = `diagonal` (ascending). Returns the same
// layout and shape, D unchanged. Supported:
//  - every target coherent (not in D): the channel acts inside every block;
//  - one target t in D (k = 1), for a channel that keeps t diagonal
//    (sum_m K_m[0,b] conj(K_m[1,b]) = 0 for b = 0, 1; true for depolarizing,
//    bit flip, amplitude and phase damping): block a' becomes
//    sum_b T[a'_t, b] block(a with bit t = b), T[x, b] = sum_m |K_m[x, b]|^2.
// Raises for a channel that would create coherence on t, and for k = 2 with a
// target in D (use apply_kraus on the dense state for those).
at::Tensor aware_apply_kraus(const at::Tensor& blocks, const at::Tensor& kraus, at::IntArrayRef targets,
                             at::IntArrayRef diagonal);

}  // namespace hqrn

namespace hqrn::backward {

// The registered backward ops (hqrn::_apply_kraus_backward and
// hqrn::_aware_apply_kraus_backward): given the output's gradient, the
// gradients of the state and of kraus (LibTorch's complex convention).
std::tuple<at::Tensor, at::Tensor> apply_kraus(const at::Tensor& grad, const at::Tensor& rho,
                                               const at::Tensor& kraus, at::IntArrayRef targets);
std::tuple<at::Tensor, at::Tensor> aware_apply_kraus(const at::Tensor& grad, const at::Tensor& blocks,
                                                     const at::Tensor& kraus, at::IntArrayRef targets,
                                                     at::IntArrayRef diagonal);

}  // namespace hqrn::backward
