// Public C++ entry points of the HQRN operators (spec section 5).
//
// Each function goes through the dispatcher, so it records autograd exactly
// like `torch.ops.hqrn.<name>` does from Python. Conventions: n qubits,
// d = 2^n, qubit 0 is the most significant bit of a basis index; states are
// batched `[B, d, d]` complex64/complex128 tensors, probability vectors
// `[B, d]` float32/float64. Angle tables have 2^(n-1) entries indexed by the
// other qubits' bits (cidx), either shared `[2^(n-1)]` or per sample
// `[B, 2^(n-1)]`, and must have the state's real dtype.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/util/ArrayRef.h>

#include "torch_ext/apply_kraus/apply_kraus.h"

namespace hqrn {

// S_j(rho) = Delta_j(U_j rho U_j^dagger), or U_j rho U_j^dagger when
// dephase is false; U_j is the rotation R(theta[c], phi[c]) on qubit `target`
// multiplexed over the configuration c of the other qubits.
at::Tensor qrb_step(const at::Tensor& rho, const at::Tensor& theta,
                    const at::Tensor& phi, int64_t target, bool dephase = true);

// Classical analog of qrb_step on probability vectors `[B, d]`: bit `target`
// flips with probability sin^2(theta[c]/2).
at::Tensor markov_step(const at::Tensor& p, const at::Tensor& theta, int64_t target);

// Measures qubit `target` in Z and forgets the outcome: zeroes every entry
// whose row and column differ on that qubit.
at::Tensor dephase(const at::Tensor& rho, int64_t target);

// rho (x) |0..0><0..0| with n_aux ancillas appended after (below) rho's qubits.
at::Tensor embed_ancillas(const at::Tensor& rho, int64_t n_aux);

// Traces out every qubit not in `keep`; the result's qubits follow `keep`'s order.
at::Tensor partial_trace(const at::Tensor& rho, at::IntArrayRef keep);

// The real diagonal of rho, `[B, d]`: the Z-basis outcome distribution.
at::Tensor probs(const at::Tensor& rho);

// U rho U^dagger for a k-qubit matrix u (`[2^k, 2^k]` or `[B, 2^k, 2^k]`,
// k <= 3) on `targets`; targets[0] is the most significant bit of u's index.
at::Tensor apply_unitary(const at::Tensor& rho, const at::Tensor& u, at::IntArrayRef targets);

// One residual block: S_j for j in `targets`, in order, where qubit j's
// tables are theta[j], phi[j] (`[n, 2^(n-1)]`, shared over the batch).
// Equal to chaining qrb_step; its autograd keeps only the input state and
// recomputes the intermediate ones in backward, so a deep network holds one
// saved state per block instead of one per step.
at::Tensor qrb_sweep(const at::Tensor& rho, const at::Tensor& theta, const at::Tensor& phi,
                     at::IntArrayRef targets);

// Coherence-aware residual step (spec section 6). `blocks` `[B, 2^|D|, 2^m, 2^m]`
// holds, for each assignment a of the diagonal qubits D (`diagonal`,
// ascending), the entries of rho whose rows and columns both agree with a,
// over the other m qubits (ascending); n = |D| + m and every other entry of
// rho is zero. a's and the blocks' bits follow qubit order, the lowest qubit
// most significant. Returns S_target(rho) in the same layout: the same shape
// when target is in D; else `[B, 2^(|D|+1), 2^(m-1), 2^(m-1)]`, target having
// joined D (measured). theta, phi as for qrb_step on n qubits.
at::Tensor aware_step(const at::Tensor& blocks, const at::Tensor& theta, const at::Tensor& phi,
                      int64_t target, at::IntArrayRef diagonal);

}  // namespace hqrn
