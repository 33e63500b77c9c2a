// The residual step on state vectors (docs/model.md, "Pure and low-rank
// inputs at state-vector cost"; spec section 8).
//
// Goes through the dispatcher (so it records autograd like
// `torch.ops.hqrn.vector_step` from Python) and is differentiable in psi and
// in the angle tables; double backward is refused.
#pragma once

#include <ATen/core/Tensor.h>

#include <tuple>

namespace hqrn {

// U_target psi[b, k] for every sample b and component k of psi `[B, r, 2^n]`
// (complex64 or complex128): the multiplexed rotation R(theta[c], phi[c]) on
// qubit `target`, c = cidx(x, target). No measurement: the caller adds the
// target to its set of measured qubits. theta, phi as for aware_step: shared
// `[2^(n-1)]`, per sample `[B, 2^(n-1)]` or one per group of consecutive
// samples `[G, 2^(n-1)]` (G dividing B), psi's real dtype.
at::Tensor vector_step(const at::Tensor& psi, const at::Tensor& theta, const at::Tensor& phi, int64_t target);

}  // namespace hqrn

namespace hqrn::backward {

// The registered backward op (hqrn::_vector_step_backward): the gradients of
// psi, theta and phi.
std::tuple<at::Tensor, at::Tensor, at::Tensor> vector_step(const at::Tensor& grad, const at::Tensor& psi,
                                                           const at::Tensor& theta, const at::Tensor& phi,
                                                           int64_t target);

}  // namespace hqrn::backward
