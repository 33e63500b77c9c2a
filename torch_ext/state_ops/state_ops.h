// Operations on the register: dephasing, appending ancillas, partial trace
// and the Z-basis distribution. Each is linear in rho.
//
// All go through the dispatcher (so they record autograd like
// `torch.ops.hqrn.probs` from Python) and are differentiable in rho.
// dephase is its own adjoint and differentiable to any order; the others
// refuse double backward.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/util/ArrayRef.h>

namespace hqrn {

// Measures qubit `target` in Z and forgets the outcome: zeroes every entry
// whose row and column differ on that qubit.
at::Tensor dephase(const at::Tensor& rho, int64_t target);

// rho (x) |0..0><0..0| with n_aux ancillas appended after (below) rho's qubits.
at::Tensor embed_ancillas(const at::Tensor& rho, int64_t n_aux);

// Traces out every qubit not in `keep`; the result's qubits follow `keep`'s order.
at::Tensor partial_trace(const at::Tensor& rho, at::IntArrayRef keep);

// The real diagonal of rho, `[B, d]`: the Z-basis outcome distribution.
at::Tensor probs(const at::Tensor& rho);

}  // namespace hqrn

namespace hqrn::backward {

// The registered backward ops (hqrn::_embed_ancillas_backward and so on): the
// adjoint of each op applied to the output's gradient (n: rho's qubit count).
at::Tensor embed_ancillas(const at::Tensor& grad, int64_t n_aux);
at::Tensor partial_trace(const at::Tensor& grad, at::IntArrayRef keep, int64_t n);
at::Tensor probs(const at::Tensor& grad);

}  // namespace hqrn::backward
