// Meta kernels of angle_tables (torch_ext/meta.h).
#include <ATen/ATen.h>
#include <torch/library.h>

#include <c10/util/Exception.h>

#include <tuple>

#include "../meta.h"
#include "prepare.h"

namespace hqrn {
namespace {

at::Tensor angle_tables_meta(at::TensorList weights, at::TensorList biases) {
  const auto s = tables::prepare(weights, biases);
  for (size_t r = 0; r < weights.size(); ++r) {
    TORCH_CHECK(weights[r].device() == weights[0].device() && biases[r].device() == weights[0].device(),
                "angle_tables: weights[", r, "] and biases[", r, "] must be on weights[0]'s device ",
                weights[0].device(), ", got ", weights[r].device(), " and ", biases[r].device());
  }
  return meta::empty({s.n, s.sets, s.half}, weights[0].options());
}

std::tuple<at::Tensor, at::Tensor> angle_tables_backward_meta(const at::Tensor& grad) {
  const auto s = tables::prepare_backward(grad);
  return {meta::empty({s.sets, s.n, s.n}, grad.options()), meta::empty({s.sets, s.n}, grad.options())};
}

}  // namespace

TORCH_LIBRARY_IMPL(hqrn, Meta, m) {
  m.impl("angle_tables", &angle_tables_meta);
  m.impl("_angle_tables_backward", &angle_tables_backward_meta);
}

}  // namespace hqrn
