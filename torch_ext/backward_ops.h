// Entry points of the registered backward ops (hqrn::_<name>_backward). They
// are ops of their own, as in torchvision, so other backends can implement
// them; users normally reach them only through autograd.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/util/ArrayRef.h>

#include <tuple>

namespace hqrn::backward {

std::tuple<at::Tensor, at::Tensor, at::Tensor> qrb_step(const at::Tensor& grad, const at::Tensor& rho,
                                                        const at::Tensor& theta, const at::Tensor& phi,
                                                        int64_t target, bool dephase);
std::tuple<at::Tensor, at::Tensor, at::Tensor> qrb_sweep(const at::Tensor& grad, const at::Tensor& rho,
                                                         const at::Tensor& theta, const at::Tensor& phi,
                                                         at::IntArrayRef targets);
std::tuple<at::Tensor, at::Tensor, at::Tensor> aware_step(const at::Tensor& grad, const at::Tensor& blocks,
                                                          const at::Tensor& theta, const at::Tensor& phi,
                                                          int64_t target, at::IntArrayRef diagonal);
std::tuple<at::Tensor, at::Tensor> markov_step(const at::Tensor& grad, const at::Tensor& p,
                                               const at::Tensor& theta, int64_t target);
at::Tensor embed_ancillas(const at::Tensor& grad, int64_t n_aux);
at::Tensor partial_trace(const at::Tensor& grad, at::IntArrayRef keep, int64_t n);
at::Tensor probs(const at::Tensor& grad);
std::tuple<at::Tensor, at::Tensor> apply_unitary(const at::Tensor& grad, const at::Tensor& rho,
                                                 const at::Tensor& u, at::IntArrayRef targets);

}  // namespace hqrn::backward
