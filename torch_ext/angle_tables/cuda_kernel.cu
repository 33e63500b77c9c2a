// CUDA kernels of angle_tables, on prepare.h's plan and its index helpers
// (the CPU kernel's own). One thread per table entry (forward) and per
// weight or bias (backward), each summing over the configurations in the
// CPU's order: no atomics.
#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/library.h>

#include <tuple>

#include "../cuda_launch.cuh"
#include "prepare.h"

namespace hqrn {
namespace {

using tables::TablesPlan;

// out[j, r, c] = b_r[j] + sum_i W_r[j, i] c_i; w [R, n, n], b [R, n].
template <typename real_t>
__global__ void forward_kernel(TablesPlan s, const real_t* w, const real_t* b, real_t* out) {
  for (int64_t t = cuda::first_index(); t < s.n * s.sets * s.half; t += cuda::stride()) {
    const int64_t c = t % s.half, r = (t / s.half) % s.sets, j = t / (s.half * s.sets);
    const int64_t x = tables::configuration_index(s, j, c);
    real_t angle = 0;
    for (int64_t i = 0; i < s.n; ++i) {
      if (tables::has_bit(s, x, i)) angle += w[(r * s.n + j) * s.n + i];
    }
    out[t] = angle + b[r * s.n + j];
  }
}

// One thread per (r, j, i), i = n standing for the bias: the table gradient
// summed over the configurations (with control bit i set, for a weight).
template <typename real_t>
__global__ void backward_kernel(TablesPlan s, const real_t* g, real_t* grad_w, real_t* grad_b) {
  const int64_t per_row = s.n + 1;
  for (int64_t t = cuda::first_index(); t < s.sets * s.n * per_row; t += cuda::stride()) {
    const int64_t i = t % per_row, j = (t / per_row) % s.n, r = t / (per_row * s.n);
    const real_t* row = g + (j * s.sets + r) * s.half;
    real_t total = 0;
    for (int64_t c = 0; c < s.half; ++c) {
      if (i == s.n || tables::has_bit(s, tables::configuration_index(s, j, c), i)) total += row[c];
    }
    if (i == s.n) {
      grad_b[r * s.n + j] = total;
    } else {
      grad_w[(r * s.n + j) * s.n + i] = total;
    }
  }
}

at::Tensor angle_tables_cuda(at::TensorList weights, at::TensorList biases) {
  const TablesPlan s = tables::prepare(weights, biases);
  for (size_t r = 0; r < weights.size(); ++r) {
    TORCH_CHECK(weights[r].device() == weights[0].device() && biases[r].device() == weights[0].device(),
                "angle_tables: weights[", r, "] and biases[", r, "] must be on weights[0]'s device ",
                weights[0].device(), ", got ", weights[r].device(), " and ", biases[r].device());
  }
  const c10::cuda::CUDAGuard guard(weights[0].device());
  const auto w = at::stack(weights).contiguous();
  const auto b = at::stack(biases).contiguous();
  auto out = at::empty({s.n, s.sets, s.half}, weights[0].options().memory_format(at::MemoryFormat::Contiguous));
  AT_DISPATCH_FLOATING_TYPES(w.scalar_type(), "angle_tables_cuda", [&] {
    forward_kernel<scalar_t><<<cuda::grid_for(out.numel()), cuda::kThreads, 0, cuda::stream()>>>(
        s, w.data_ptr<scalar_t>(), b.data_ptr<scalar_t>(), out.data_ptr<scalar_t>());
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
  return out;
}

std::tuple<at::Tensor, at::Tensor> angle_tables_backward_cuda(const at::Tensor& grad) {
  const TablesPlan s = tables::prepare_backward(grad);
  const c10::cuda::CUDAGuard guard(grad.device());
  const auto g = grad.contiguous();
  auto grad_w = at::empty({s.sets, s.n, s.n}, g.options());
  auto grad_b = at::empty({s.sets, s.n}, g.options());
  AT_DISPATCH_FLOATING_TYPES(g.scalar_type(), "angle_tables_backward_cuda", [&] {
    backward_kernel<scalar_t><<<cuda::grid_for(s.sets * s.n * (s.n + 1)), cuda::kThreads, 0, cuda::stream()>>>(
        s, g.data_ptr<scalar_t>(), grad_w.data_ptr<scalar_t>(), grad_b.data_ptr<scalar_t>());
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
  return {grad_w, grad_b};
}

}  // namespace

TORCH_LIBRARY_IMPL(hqrn, CUDA, m) {
  m.impl("angle_tables", &angle_tables_cuda);
  m.impl("_angle_tables_backward", &angle_tables_backward_cuda);
}

}  // namespace hqrn
