// CPU kernels of angle_tables: theta_j(c) = b_j + sum_{i != j} W_ji c_i and
// its gradient. Both walk the same (target, configuration) pairs and read the
// control bits c_i from configuration_index(), one helper for the forward and
// the backward. Arithmetic only: prepare.h validates.
#include <ATen/ATen.h>
#include <torch/library.h>

#include <vector>

#include "../qubit_index.h"
#include "prepare.h"

namespace hqrn {
namespace {

using tables::configuration_index;
using tables::has_bit;
using tables::TablesPlan;

template <typename real_t>
void forward_kernel(const TablesPlan& s, const std::vector<const real_t*>& w, const std::vector<const real_t*>& b,
                    real_t* out) {
  for (int64_t j = 0; j < s.n; ++j) {
    for (int64_t r = 0; r < s.sets; ++r) {
      real_t* row = out + (j * s.sets + r) * s.half;
      for (int64_t c = 0; c < s.half; ++c) {
        const int64_t x = configuration_index(s, j, c);
        real_t angle = 0;
        for (int64_t i = 0; i < s.n; ++i) {
          if (has_bit(s, x, i)) angle += w[r][j * s.n + i];
        }
        row[c] = angle + b[r][j];
      }
    }
  }
}

// d theta_j(c) / d W_ji = c_i and / d b_j = 1: each weight's gradient sums
// the table gradient over the configurations where its control bit is set.
template <typename real_t>
void backward_kernel(const TablesPlan& s, const real_t* g, real_t* grad_w, real_t* grad_b) {
  for (int64_t j = 0; j < s.n; ++j) {
    for (int64_t r = 0; r < s.sets; ++r) {
      const real_t* row = g + (j * s.sets + r) * s.half;
      real_t* gw = grad_w + (r * s.n + j) * s.n;
      real_t total = 0;
      for (int64_t i = 0; i < s.n; ++i) gw[i] = 0;
      for (int64_t c = 0; c < s.half; ++c) {
        const int64_t x = configuration_index(s, j, c);
        total += row[c];
        for (int64_t i = 0; i < s.n; ++i) {
          if (has_bit(s, x, i)) gw[i] += row[c];
        }
      }
      grad_b[r * s.n + j] = total;
    }
  }
}

at::Tensor angle_tables_cpu(at::TensorList weights, at::TensorList biases) {
  const TablesPlan s = tables::prepare(weights, biases);
  std::vector<at::Tensor> kept;  // contiguous copies (usually the tensors themselves) live until the end
  kept.reserve(2 * weights.size());
  for (const auto& t : weights) kept.push_back(t.contiguous());
  for (const auto& t : biases) kept.push_back(t.contiguous());
  auto out = at::empty({s.n, s.sets, s.half}, weights[0].options().memory_format(at::MemoryFormat::Contiguous));
  AT_DISPATCH_FLOATING_TYPES(weights[0].scalar_type(), "angle_tables_forward", [&] {
    std::vector<const scalar_t*> w, b;
    for (int64_t r = 0; r < s.sets; ++r) {
      w.push_back(kept[r].data_ptr<scalar_t>());
      b.push_back(kept[s.sets + r].data_ptr<scalar_t>());
    }
    forward_kernel<scalar_t>(s, w, b, out.data_ptr<scalar_t>());
  });
  return out;
}

std::tuple<at::Tensor, at::Tensor> angle_tables_backward_cpu(const at::Tensor& grad) {
  const TablesPlan s = tables::prepare_backward(grad);
  const auto g = grad.contiguous();
  auto grad_w = at::empty({s.sets, s.n, s.n}, g.options());
  auto grad_b = at::empty({s.sets, s.n}, g.options());
  AT_DISPATCH_FLOATING_TYPES(g.scalar_type(), "angle_tables_backward", [&] {
    backward_kernel<scalar_t>(s, g.data_ptr<scalar_t>(), grad_w.data_ptr<scalar_t>(), grad_b.data_ptr<scalar_t>());
  });
  return {grad_w, grad_b};
}

}  // namespace

TORCH_LIBRARY_IMPL(hqrn, CPU, m) {
  m.impl("angle_tables", &angle_tables_cpu);
  m.impl("_angle_tables_backward", &angle_tables_backward_cpu);
}

}  // namespace hqrn
