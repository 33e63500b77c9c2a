// CUDA kernels of markov_step, on prepare.h's plan and rotation.h's flip
// probability (the CPU kernel's own). One thread per pair (x0, x0 | mask) of
// a sample; a shared table's gradient sums the per-sample contributions in a
// fixed order (cuda::sum_rows), so results do not depend on scheduling.
#include <ATen/ATen.h>
#include <torch/library.h>

#include <tuple>

#include "../check.h"
#include "../cuda_launch.cuh"
#include "../qubit_index.h"
#include "../rotation.h"
#include "pair.h"
#include "prepare.h"

namespace hqrn {
namespace {

using markov::MarkovPlan;

template <typename real_t>
__global__ void forward_kernel(MarkovPlan s, const real_t* p, const real_t* theta, real_t* out) {
  for (int64_t task = cuda::first_index(); task < s.batch * s.half; task += cuda::stride()) {
    const int64_t b = task / s.half, c = task % s.half;
    const int64_t x0 = index::insert_zero_bit(c, s.mask), x1 = x0 | s.mask;
    const real_t f = Rotation<real_t>::flip_probability(theta[b * s.table_stride + c]);
    const real_t p0 = p[b * s.d + x0], p1 = p[b * s.d + x1];
    markov::flip_pair(f, p0, p1, &out[b * s.d + x0], &out[b * s.d + x1]);
  }
}

// grad_p through the same symmetric map; contrib[b * half + c] = the pair's
// d loss / d theta (one table entry per sample, or summed after).
template <typename real_t>
__global__ void backward_kernel(MarkovPlan s, const real_t* g, const real_t* p, const real_t* theta, real_t* grad_p,
                                real_t* contrib) {
  for (int64_t task = cuda::first_index(); task < s.batch * s.half; task += cuda::stride()) {
    const int64_t b = task / s.half, c = task % s.half;
    const int64_t x0 = index::insert_zero_bit(c, s.mask), x1 = x0 | s.mask;
    const real_t angle = theta[b * s.table_stride + c];
    const real_t f = Rotation<real_t>::flip_probability(angle);
    const real_t g0 = g[b * s.d + x0], g1 = g[b * s.d + x1];
    const real_t p0 = p[b * s.d + x0], p1 = p[b * s.d + x1];
    markov::flip_pair(f, g0, g1, &grad_p[b * s.d + x0], &grad_p[b * s.d + x1]);
    contrib[task] =
        markov::flip_pair_angle_grad(Rotation<real_t>::flip_probability_d_theta(angle), p0, p1, g0, g1);
  }
}

at::Tensor markov_step_cuda(const at::Tensor& p, const at::Tensor& theta, int64_t target) {
  check::same_device("markov_step", {{"p", &p}, {"theta", &theta}});
  const c10::cuda::CUDAGuard guard(p.device());
  const MarkovPlan s = markov::prepare(p, theta, target);
  const auto p_c = p.contiguous();
  const auto theta_c = theta.contiguous();
  auto out = at::empty_like(p_c);
  if (s.batch * s.half == 0) return out;
  AT_DISPATCH_FLOATING_TYPES(p.scalar_type(), "markov_step_cuda", [&] {
    forward_kernel<scalar_t><<<cuda::grid_for(s.batch * s.half), cuda::kThreads, 0, cuda::stream()>>>(
        s, p_c.data_ptr<scalar_t>(), theta_c.data_ptr<scalar_t>(), out.data_ptr<scalar_t>());
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
  return out;
}

std::tuple<at::Tensor, at::Tensor> markov_step_backward_cuda(const at::Tensor& grad, const at::Tensor& p,
                                                             const at::Tensor& theta, int64_t target) {
  check::same_device("_markov_step_backward", {{"grad", &grad}, {"p", &p}, {"theta", &theta}});
  const c10::cuda::CUDAGuard guard(p.device());
  const MarkovPlan s = markov::prepare(p, theta, target);
  check::grad_like(grad, p, "_markov_step_backward", "p");
  const auto g_c = grad.contiguous();
  const auto p_c = p.contiguous();
  const auto theta_c = theta.contiguous();
  auto grad_p = at::empty_like(p_c);
  auto contrib = at::empty({s.batch, s.half}, theta_c.options());
  auto grad_theta = at::empty_like(theta_c);
  AT_DISPATCH_FLOATING_TYPES(p.scalar_type(), "markov_step_backward_cuda", [&] {
    if (s.batch * s.half > 0) {
      backward_kernel<scalar_t><<<cuda::grid_for(s.batch * s.half), cuda::kThreads, 0, cuda::stream()>>>(
          s, g_c.data_ptr<scalar_t>(), p_c.data_ptr<scalar_t>(), theta_c.data_ptr<scalar_t>(),
          grad_p.data_ptr<scalar_t>(), contrib.data_ptr<scalar_t>());
      C10_CUDA_KERNEL_LAUNCH_CHECK();
    }
    if (s.table_stride == 0) {  // shared table: summed over the batch in order
      cuda::sum_rows(contrib.data_ptr<scalar_t>(), s.batch, s.half, grad_theta.data_ptr<scalar_t>());
    }
  });
  if (s.table_stride != 0) grad_theta.copy_(contrib);
  return {grad_p, grad_theta};
}

}  // namespace

TORCH_LIBRARY_IMPL(hqrn, CUDA, m) {
  m.impl("markov_step", &markov_step_cuda);
  m.impl("_markov_step_backward", &markov_step_backward_cuda);
}

}  // namespace hqrn
