// The classical analog of the residual step on probability vectors
// (docs/model.md, "The classical analog").
//
// Goes through the dispatcher (so it records autograd like
// `torch.ops.hqrn.markov_step` from Python) and is differentiable in p and
// theta; double backward is refused.
#pragma once

#include <ATen/core/Tensor.h>

#include <tuple>

namespace hqrn {

// Classical analog of qrb_step on probability vectors `[B, d]`: bit `target`
// flips with probability sin^2(theta[c]/2). theta is an angle table of p's
// dtype, shared `[2^(n-1)]` or per sample `[B, 2^(n-1)]`.
at::Tensor markov_step(const at::Tensor& p, const at::Tensor& theta, int64_t target);

}  // namespace hqrn

namespace hqrn::backward {

// The registered backward op (hqrn::_markov_step_backward): the gradients of p and theta.
std::tuple<at::Tensor, at::Tensor> markov_step(const at::Tensor& grad, const at::Tensor& p,
                                               const at::Tensor& theta, int64_t target);

}  // namespace hqrn::backward
