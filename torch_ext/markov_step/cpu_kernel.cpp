// CPU kernels of the classical analog of a residual step: on a probability
// vector, bit `target` flips with probability f = sin^2(theta[c]/2).
// Arithmetic only: the inputs are validated and planned by prepare.h.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <vector>

#include "../parallel.h"
#include "../qubit_index.h"
#include "../rotation.h"
#include "pair.h"
#include "prepare.h"

namespace hqrn {
namespace {

using markov::MarkovPlan;

// f(theta) (or its derivative) per table entry, computed once per call
// rather than once per batch element.
template <typename real_t, typename Fn>
std::vector<real_t> per_entry(const real_t* theta, int64_t entries, Fn fn) {
  std::vector<real_t> out(entries);
  for (int64_t i = 0; i < entries; ++i) out[i] = fn(theta[i]);
  return out;
}

template <typename real_t>
void forward_kernel(const MarkovPlan& s, const real_t* p, const real_t* theta, int64_t entries, real_t* out) {
  const auto flips = per_entry(theta, entries, Rotation<real_t>::flip_probability);
  at::parallel_for(0, s.batch * s.half, grain_for(2), [&](int64_t begin, int64_t end) {
    for (int64_t task = begin; task < end; ++task) {
      const int64_t b = task / s.half, c = task % s.half;
      const int64_t x0 = index::insert_zero_bit(c, s.mask), x1 = x0 | s.mask;
      const real_t f = flips[b * s.table_stride + c];
      const real_t p0 = p[b * s.d + x0], p1 = p[b * s.d + x1];
      markov::flip_pair(f, p0, p1, &out[b * s.d + x0], &out[b * s.d + x1]);
    }
  });
}

// The step is a symmetric 2x2 stochastic map per pair, so grad_p uses the
// same map; d out/d theta = f'(theta) * (p1 - p0) * (g0 - g1).
template <typename real_t>
void backward_kernel(const MarkovPlan& s, const real_t* g, const real_t* p, const real_t* theta,
                     int64_t entries, real_t* grad_p, real_t* grad_theta) {
  const auto flips = per_entry(theta, entries, Rotation<real_t>::flip_probability);
  const auto slopes = per_entry(theta, entries, Rotation<real_t>::flip_probability_d_theta);
  const int64_t work = s.batch * s.half;
  const int64_t chunks = chunk_count(work, grain_for(2));
  std::vector<real_t> acc(chunks * entries, real_t(0));
  const auto body = [&](int64_t chunk, int64_t begin, int64_t end) {
    real_t* a = acc.data() + chunk * entries;
    for (int64_t task = begin; task < end; ++task) {
      const int64_t b = task / s.half, c = task % s.half;
      const int64_t x0 = index::insert_zero_bit(c, s.mask), x1 = x0 | s.mask;
      const int64_t t = b * s.table_stride + c;
      const real_t f = flips[t];
      const real_t g0 = g[b * s.d + x0], g1 = g[b * s.d + x1];
      const real_t p0 = p[b * s.d + x0], p1 = p[b * s.d + x1];
      markov::flip_pair(f, g0, g1, &grad_p[b * s.d + x0], &grad_p[b * s.d + x1]);
      a[t] += markov::flip_pair_angle_grad(slopes[t], p0, p1, g0, g1);
    }
  };
  for_each_chunk(work, chunks, body);
  for (int64_t i = 0; i < entries; ++i) {
    real_t total = 0;
    for (int64_t chunk = 0; chunk < chunks; ++chunk) total += acc[chunk * entries + i];
    grad_theta[i] = total;
  }
}

at::Tensor markov_step_cpu(const at::Tensor& p, const at::Tensor& theta, int64_t target) {
  const MarkovPlan s = markov::prepare(p, theta, target);
  const auto p_c = p.contiguous();
  const auto theta_c = theta.contiguous();
  auto out = at::empty_like(p_c);
  AT_DISPATCH_FLOATING_TYPES(p.scalar_type(), "markov_step_forward", [&] {
    forward_kernel<scalar_t>(s, p_c.data_ptr<scalar_t>(), theta_c.data_ptr<scalar_t>(), theta_c.numel(),
                             out.data_ptr<scalar_t>());
  });
  return out;
}

std::tuple<at::Tensor, at::Tensor> markov_step_backward_cpu(const at::Tensor& grad, const at::Tensor& p,
                                                            const at::Tensor& theta, int64_t target) {
  const MarkovPlan s = markov::prepare(p, theta, target);
  check::grad_like(grad, p, "_markov_step_backward", "p");
  const auto g_c = grad.contiguous();
  const auto p_c = p.contiguous();
  const auto theta_c = theta.contiguous();
  auto grad_p = at::empty_like(p_c);
  auto grad_theta = at::empty_like(theta_c);
  AT_DISPATCH_FLOATING_TYPES(p.scalar_type(), "markov_step_backward", [&] {
    backward_kernel<scalar_t>(s, g_c.data_ptr<scalar_t>(), p_c.data_ptr<scalar_t>(),
                              theta_c.data_ptr<scalar_t>(), theta_c.numel(), grad_p.data_ptr<scalar_t>(),
                              grad_theta.data_ptr<scalar_t>());
  });
  return {grad_p, grad_theta};
}

}  // namespace

TORCH_LIBRARY_IMPL(hqrn, CPU, m) {
  m.impl("markov_step", &markov_step_cpu);
  m.impl("_markov_step_backward", &markov_step_backward_cpu);
}

}  // namespace hqrn
