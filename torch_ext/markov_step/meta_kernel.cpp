// Meta kernels of markov_step (torch_ext/meta.h).
#include <ATen/ATen.h>
#include <torch/library.h>

#include <tuple>

#include "../check.h"
#include "../meta.h"
#include "prepare.h"

namespace hqrn {
namespace {

at::Tensor markov_step_meta(const at::Tensor& p, const at::Tensor& theta, int64_t target) {
  meta::same_device("markov_step", {{"p", &p}, {"theta", &theta}});
  markov::prepare(p, theta, target);
  return meta::empty_like(p);
}

std::tuple<at::Tensor, at::Tensor> markov_step_backward_meta(const at::Tensor& grad, const at::Tensor& p,
                                                             const at::Tensor& theta, int64_t target) {
  meta::same_device("_markov_step_backward", {{"grad", &grad}, {"p", &p}, {"theta", &theta}});
  markov::prepare(p, theta, target);
  check::grad_like(grad, p, "_markov_step_backward", "p");
  return {meta::empty_like(p), meta::empty_like(theta)};
}

}  // namespace

TORCH_LIBRARY_IMPL(hqrn, Meta, m) {
  m.impl("markov_step", &markov_step_meta);
  m.impl("_markov_step_backward", &markov_step_backward_meta);
}

}  // namespace hqrn
