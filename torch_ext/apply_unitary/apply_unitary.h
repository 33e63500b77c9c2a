// A k-qubit gate on density matrices, U rho U^dagger; used to simulate
// exported circuits gate by gate.
//
// Goes through the dispatcher (so it records autograd like
// `torch.ops.hqrn.apply_unitary` from Python) and is differentiable in rho
// and u; double backward is refused.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/util/ArrayRef.h>

#include <tuple>

namespace hqrn {

// U rho U^dagger for a k-qubit matrix u (`[2^k, 2^k]` or `[B, 2^k, 2^k]`,
// k <= 3) on `targets`; targets[0] is the most significant bit of u's index.
at::Tensor apply_unitary(const at::Tensor& rho, const at::Tensor& u, at::IntArrayRef targets);

}  // namespace hqrn

namespace hqrn::backward {

// The registered backward op (hqrn::_apply_unitary_backward): the gradients
// of rho and u (LibTorch's complex convention).
std::tuple<at::Tensor, at::Tensor> apply_unitary(const at::Tensor& grad, const at::Tensor& rho,
                                                 const at::Tensor& u, at::IntArrayRef targets);

}  // namespace hqrn::backward
