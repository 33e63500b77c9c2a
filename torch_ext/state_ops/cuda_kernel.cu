// CUDA kernels of dephase, embed_ancillas, partial_trace, probs and their
// backward ops, on prepare.h's plans (the CPU kernels' own). Each output
// entry is one thread and is written once (the partial trace sums its
// traced offsets in order), so there are no atomics.
#include <ATen/ATen.h>
#include <torch/library.h>

#include "../cuda_launch.cuh"
#include "prepare.h"

namespace hqrn {
namespace {

using state_ops::EmbedPlan;
using state_ops::StatePlan;
using state_ops::TracePlan;

template <typename scalar_t>
__global__ void dephase_kernel(StatePlan s, const scalar_t* src, scalar_t* dst) {
  for (int64_t i = cuda::first_index(); i < s.batch * s.d * s.d; i += cuda::stride()) {
    const int64_t x = (i / s.d) % s.d, y = i % s.d;
    dst[i] = ((x & s.mask) == (y & s.mask)) ? src[i] : scalar_t(0);
  }
}

// Entry (b, x, y) of the side-d state <-> (b, x << n_aux, y << n_aux) of the
// side-big one; `to_big` picks the direction (the big side pre-zeroed).
template <typename scalar_t>
__global__ void embed_kernel(EmbedPlan e, const scalar_t* src, scalar_t* dst, bool to_big) {
  for (int64_t i = cuda::first_index(); i < e.batch * e.d * e.d; i += cuda::stride()) {
    const int64_t b = i / (e.d * e.d), x = (i / e.d) % e.d, y = i % e.d;
    const int64_t big = (b * e.big + (x << e.n_aux)) * e.big + (y << e.n_aux);
    if (to_big) {
      dst[big] = src[i];
    } else {
      dst[i] = src[big];
    }
  }
}

// One thread per result entry (b, i, j): the sum over the traced offsets.
template <typename scalar_t>
__global__ void trace_kernel(int64_t batch, int64_t d, int64_t k, int64_t traced_count, const int64_t* kept,
                             const int64_t* traced, const scalar_t* src, scalar_t* dst) {
  for (int64_t t = cuda::first_index(); t < batch * k * k; t += cuda::stride()) {
    const int64_t b = t / (k * k), i = (t / k) % k, j = t % k;
    const scalar_t* block = src + b * d * d;
    scalar_t sum(0);
    for (int64_t r = 0; r < traced_count; ++r) sum += block[(kept[i] | traced[r]) * d + (kept[j] | traced[r])];
    dst[t] = sum;
  }
}

template <typename scalar_t>
__global__ void trace_backward_kernel(int64_t batch, int64_t d, int64_t k, int64_t traced_count, const int64_t* kept,
                                      const int64_t* traced, const scalar_t* grad, scalar_t* dst) {
  for (int64_t t = cuda::first_index(); t < batch * k * k; t += cuda::stride()) {
    const int64_t b = t / (k * k), i = (t / k) % k, j = t % k;
    scalar_t* block = dst + b * d * d;
    for (int64_t r = 0; r < traced_count; ++r) block[(kept[i] | traced[r]) * d + (kept[j] | traced[r])] = grad[t];
  }
}

template <typename complex_t, typename real_t>
__global__ void probs_kernel(StatePlan s, const complex_t* src, real_t* dst) {
  for (int64_t i = cuda::first_index(); i < s.batch * s.d; i += cuda::stride()) {
    dst[i] = src[i * s.d + i % s.d].real();
  }
}

template <typename complex_t, typename real_t>
__global__ void probs_backward_kernel(StatePlan s, const real_t* src, complex_t* dst) {
  for (int64_t i = cuda::first_index(); i < s.batch * s.d; i += cuda::stride()) {
    dst[i * s.d + i % s.d] = complex_t(src[i]);
  }
}

at::Tensor dephase_cuda(const at::Tensor& rho, int64_t target) {
  const c10::cuda::CUDAGuard guard(rho.device());
  const StatePlan s = state_ops::prepare_dephase(rho, target);
  const auto in = rho.contiguous();
  auto out = at::empty_like(in);
  if (in.numel() == 0) return out;
  AT_DISPATCH_COMPLEX_TYPES(rho.scalar_type(), "dephase_cuda", [&] {
    dephase_kernel<scalar_t><<<cuda::grid_for(in.numel()), cuda::kThreads, 0, cuda::stream()>>>(
        s, in.data_ptr<scalar_t>(), out.data_ptr<scalar_t>());
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
  return out;
}

at::Tensor embed_ancillas_cuda(const at::Tensor& rho, int64_t n_aux) {
  const c10::cuda::CUDAGuard guard(rho.device());
  const EmbedPlan e = state_ops::prepare_embed(rho, n_aux);
  const auto in = rho.contiguous();
  auto out = at::zeros({e.batch, e.big, e.big}, rho.options());
  if (in.numel() == 0) return out;
  AT_DISPATCH_COMPLEX_TYPES(rho.scalar_type(), "embed_ancillas_cuda", [&] {
    embed_kernel<scalar_t><<<cuda::grid_for(in.numel()), cuda::kThreads, 0, cuda::stream()>>>(
        e, in.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(), true);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
  return out;
}

at::Tensor embed_ancillas_backward_cuda(const at::Tensor& grad, int64_t n_aux) {
  const c10::cuda::CUDAGuard guard(grad.device());
  const EmbedPlan e = state_ops::prepare_embed_backward(grad, n_aux);
  const auto g = grad.contiguous();
  auto out = at::empty({e.batch, e.d, e.d}, grad.options());
  if (out.numel() == 0) return out;
  AT_DISPATCH_COMPLEX_TYPES(grad.scalar_type(), "embed_ancillas_backward_cuda", [&] {
    embed_kernel<scalar_t><<<cuda::grid_for(out.numel()), cuda::kThreads, 0, cuda::stream()>>>(
        e, g.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(), false);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
  return out;
}

at::Tensor partial_trace_cuda(const at::Tensor& rho, at::IntArrayRef keep) {
  const c10::cuda::CUDAGuard guard(rho.device());
  const TracePlan t = state_ops::prepare_trace(rho, keep);
  const auto in = rho.contiguous();
  const auto k = static_cast<int64_t>(t.kept.size());
  auto out = at::empty({t.batch, k, k}, rho.options());
  if (out.numel() == 0) return out;
  const auto offsets = cuda::upload({&t.kept, &t.traced}, rho.device());
  AT_DISPATCH_COMPLEX_TYPES(rho.scalar_type(), "partial_trace_cuda", [&] {
    trace_kernel<scalar_t><<<cuda::grid_for(out.numel()), cuda::kThreads, 0, cuda::stream()>>>(
        t.batch, t.d, k, static_cast<int64_t>(t.traced.size()), offsets.at(0), offsets.at(1),
        in.data_ptr<scalar_t>(), out.data_ptr<scalar_t>());
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
  return out;
}

at::Tensor partial_trace_backward_cuda(const at::Tensor& grad, at::IntArrayRef keep, int64_t n) {
  const c10::cuda::CUDAGuard guard(grad.device());
  const TracePlan t = state_ops::prepare_trace_backward(grad, keep, n);
  const auto g = grad.contiguous();
  const auto k = static_cast<int64_t>(t.kept.size());
  auto out = at::zeros({t.batch, t.d, t.d}, grad.options());
  if (g.numel() == 0) return out;
  const auto offsets = cuda::upload({&t.kept, &t.traced}, grad.device());
  AT_DISPATCH_COMPLEX_TYPES(grad.scalar_type(), "partial_trace_backward_cuda", [&] {
    trace_backward_kernel<scalar_t><<<cuda::grid_for(g.numel()), cuda::kThreads, 0, cuda::stream()>>>(
        t.batch, t.d, k, static_cast<int64_t>(t.traced.size()), offsets.at(0), offsets.at(1),
        g.data_ptr<scalar_t>(), out.data_ptr<scalar_t>());
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
  return out;
}

at::Tensor probs_cuda(const at::Tensor& rho) {
  const c10::cuda::CUDAGuard guard(rho.device());
  const StatePlan s = state_ops::prepare_probs(rho);
  const auto in = rho.contiguous();
  auto out = at::empty({s.batch, s.d}, rho.options().dtype(c10::toRealValueType(rho.scalar_type())));
  if (out.numel() == 0) return out;
  AT_DISPATCH_COMPLEX_TYPES(rho.scalar_type(), "probs_cuda", [&] {
    using real_t = typename scalar_t::value_type;
    probs_kernel<scalar_t, real_t><<<cuda::grid_for(out.numel()), cuda::kThreads, 0, cuda::stream()>>>(
        s, in.data_ptr<scalar_t>(), out.data_ptr<real_t>());
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
  return out;
}

at::Tensor probs_backward_cuda(const at::Tensor& grad) {
  const c10::cuda::CUDAGuard guard(grad.device());
  const StatePlan s = state_ops::prepare_probs_backward(grad);
  const auto g = grad.contiguous();
  auto out = at::zeros({s.batch, s.d, s.d}, grad.options().dtype(c10::toComplexType(grad.scalar_type())));
  if (g.numel() == 0) return out;
  AT_DISPATCH_FLOATING_TYPES(grad.scalar_type(), "probs_backward_cuda", [&] {
    probs_backward_kernel<c10::complex<scalar_t>, scalar_t>
        <<<cuda::grid_for(g.numel()), cuda::kThreads, 0, cuda::stream()>>>(
            s, g.data_ptr<scalar_t>(), out.data_ptr<c10::complex<scalar_t>>());
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(hqrn, CUDA, m) {
  m.impl("dephase", &dephase_cuda);
  m.impl("embed_ancillas", &embed_ancillas_cuda);
  m.impl("_embed_ancillas_backward", &embed_ancillas_backward_cuda);
  m.impl("partial_trace", &partial_trace_cuda);
  m.impl("_partial_trace_backward", &partial_trace_backward_cuda);
  m.impl("probs", &probs_cuda);
  m.impl("_probs_backward", &probs_backward_cuda);
}

}  // namespace hqrn
