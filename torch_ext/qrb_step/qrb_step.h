// The quantum residual step: qrb_step on dense states, aware_step in the
// coherence-aware layout, and qrb_sweep, one residual block of steps.
//
// All go through the dispatcher (so they record autograd like
// `torch.ops.hqrn.qrb_step` from Python) and are differentiable in the state
// and in the angle tables; double backward is refused. Angle tables have
// 2^(n-1) entries indexed by the other qubits' bits (cidx), either shared
// `[2^(n-1)]` or per sample `[B, 2^(n-1)]`, and the state's real dtype.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/util/ArrayRef.h>

#include <tuple>

namespace hqrn {

// S_j(rho) = Delta_j(U_j rho U_j^dagger), or U_j rho U_j^dagger when
// dephase is false; U_j is the rotation R(theta[c], phi[c]) on qubit `target`
// multiplexed over the configuration c of the other qubits.
at::Tensor qrb_step(const at::Tensor& rho, const at::Tensor& theta,
                    const at::Tensor& phi, int64_t target, bool dephase = true);

// One residual block: S_j for j in `targets`, in order, where qubit j's
// tables are theta[j], phi[j] (`[n, 2^(n-1)]`, shared over the batch).
// Equal to chaining qrb_step; its autograd keeps only the input state and
// recomputes the intermediate ones in backward, so a deep network holds one
// saved state per block instead of one per step.
at::Tensor qrb_sweep(const at::Tensor& rho, const at::Tensor& theta, const at::Tensor& phi,
                     at::IntArrayRef targets);

// Coherence-aware residual step (docs/operators.md, "The coherence-aware
// layout"). `blocks` `[B, 2^|D|, 2^m, 2^m]` holds, for each assignment a of
// the diagonal qubits D (`diagonal`, ascending), the entries of rho whose rows
// and columns both agree with a, over the other m qubits (ascending);
// n = |D| + m and every other entry of rho is zero. a's and the blocks' bits
// follow qubit order, the lowest qubit most significant. Returns
// S_target(rho) in the same layout: the same shape when target is in D; else
// `[B, 2^(|D|+1), 2^(m-1), 2^(m-1)]`, target having joined D (measured).
// theta, phi as for qrb_step on n qubits, or one table per group of
// consecutive samples `[G, 2^(n-1)]` with G dividing B (sample b reads row
// b / (B / G)): branches run side by side pass one table per branch.
at::Tensor aware_step(const at::Tensor& blocks, const at::Tensor& theta, const at::Tensor& phi,
                      int64_t target, at::IntArrayRef diagonal);

}  // namespace hqrn

namespace hqrn::backward {

// The registered backward ops (hqrn::_qrb_step_backward and so on): given the
// output's gradient, the gradients of the state and of theta and phi.
std::tuple<at::Tensor, at::Tensor, at::Tensor> qrb_step(const at::Tensor& grad, const at::Tensor& rho,
                                                        const at::Tensor& theta, const at::Tensor& phi,
                                                        int64_t target, bool dephase);
std::tuple<at::Tensor, at::Tensor, at::Tensor> qrb_sweep(const at::Tensor& grad, const at::Tensor& rho,
                                                         const at::Tensor& theta, const at::Tensor& phi,
                                                         at::IntArrayRef targets);
std::tuple<at::Tensor, at::Tensor, at::Tensor> aware_step(const at::Tensor& grad, const at::Tensor& blocks,
                                                          const at::Tensor& theta, const at::Tensor& phi,
                                                          int64_t target, at::IntArrayRef diagonal);

}  // namespace hqrn::backward
