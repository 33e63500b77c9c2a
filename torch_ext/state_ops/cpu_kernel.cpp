// CPU kernels of the register operations: dephasing, appending ancillas,
// partial trace and the Z-basis distribution. Each is linear in rho; the
// backward kernels are their adjoints. Arithmetic only: the inputs are
// validated and planned by prepare.h.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <vector>

#include "../memory.h"
#include "../parallel.h"
#include "prepare.h"

namespace hqrn {
namespace {

using state_ops::EmbedPlan;
using state_ops::StatePlan;
using state_ops::TracePlan;

at::Tensor dephase_cpu(const at::Tensor& rho, int64_t target) {
  const StatePlan s = state_ops::prepare_dephase(rho, target);
  const auto in = rho.contiguous();
  auto out = empty_large(in.sizes(), in.options());
  const int64_t d = s.d, mask = s.mask;
  AT_DISPATCH_COMPLEX_TYPES(rho.scalar_type(), "dephase", [&] {
    const scalar_t* src = in.data_ptr<scalar_t>();
    scalar_t* dst = out.data_ptr<scalar_t>();
    at::parallel_for(0, s.batch * d, grain_for(d), [&](int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; ++row) {
        const int64_t x_bit = (row % d) & mask;
        for (int64_t y = 0; y < d; ++y) {
          dst[row * d + y] = ((y & mask) == x_bit) ? src[row * d + y] : scalar_t(0);
        }
      }
    });
  });
  return out;
}

// Calls body(small_row, big_row) for every row of the side-d state in [begin,
// end) (over the batch) and the matching row of the side-big one: the ancillas
// are the low bits, so entry y of the first sits at y << n_aux in the second.
template <typename scalar_t, typename Body>
void for_embedded_rows(const EmbedPlan& e, scalar_t* small, scalar_t* big, const Body& body) {
  at::parallel_for(0, e.batch * e.d, grain_for(e.d), [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t b = row / e.d, x = row % e.d;
      body(small + row * e.d, big + (b * e.big + (x << e.n_aux)) * e.big);
    }
  });
}

at::Tensor embed_ancillas_cpu(const at::Tensor& rho, int64_t n_aux) {
  const EmbedPlan e = state_ops::prepare_embed(rho, n_aux);
  const auto in = rho.contiguous();
  auto out = empty_large({e.batch, e.big, e.big}, rho.options()).zero_();
  AT_DISPATCH_COMPLEX_TYPES(rho.scalar_type(), "embed_ancillas", [&] {
    for_embedded_rows(e, in.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(), [&](const scalar_t* src, scalar_t* dst) {
      for (int64_t y = 0; y < e.d; ++y) dst[y << e.n_aux] = src[y];
    });
  });
  return out;
}

at::Tensor embed_ancillas_backward_cpu(const at::Tensor& grad, int64_t n_aux) {
  const EmbedPlan e = state_ops::prepare_embed_backward(grad, n_aux);
  const auto g = grad.contiguous();
  auto out = at::empty({e.batch, e.d, e.d}, grad.options());
  AT_DISPATCH_COMPLEX_TYPES(grad.scalar_type(), "embed_ancillas_backward", [&] {
    for_embedded_rows(e, out.data_ptr<scalar_t>(), g.data_ptr<scalar_t>(), [&](scalar_t* dst, const scalar_t* src) {
      for (int64_t y = 0; y < e.d; ++y) dst[y] = src[y << e.n_aux];
    });
  });
  return out;
}

// Calls body(block, row, i, j) for every entry (i, j) of the result's rows in
// the batch, `block` being the side-d state of the row's sample.
template <typename scalar_t, typename Body>
void for_trace_entries(const TracePlan& t, scalar_t* full, const Body& body) {
  const auto k = static_cast<int64_t>(t.kept.size());
  at::parallel_for(0, t.batch * k, grain_for(k * static_cast<int64_t>(t.traced.size())),
                   [&](int64_t begin, int64_t end) {
                     for (int64_t row = begin; row < end; ++row) {
                       const int64_t b = row / k, i = row % k;
                       for (int64_t j = 0; j < k; ++j) body(full + b * t.d * t.d, row * k + j, i, j);
                     }
                   });
}

at::Tensor partial_trace_cpu(const at::Tensor& rho, at::IntArrayRef keep) {
  const TracePlan t = state_ops::prepare_trace(rho, keep);
  const auto in = rho.contiguous();
  const auto k = static_cast<int64_t>(t.kept.size());
  auto out = at::empty({t.batch, k, k}, rho.options());
  AT_DISPATCH_COMPLEX_TYPES(rho.scalar_type(), "partial_trace", [&] {
    scalar_t* dst = out.data_ptr<scalar_t>();
    for_trace_entries(t, in.data_ptr<scalar_t>(), [&](const scalar_t* block, int64_t at_out, int64_t i, int64_t j) {
      scalar_t sum(0);
      for (const int64_t r : t.traced) sum += block[(t.kept[i] | r) * t.d + (t.kept[j] | r)];
      dst[at_out] = sum;
    });
  });
  return out;
}

at::Tensor partial_trace_backward_cpu(const at::Tensor& grad, at::IntArrayRef keep, int64_t n) {
  const TracePlan t = state_ops::prepare_trace_backward(grad, keep, n);
  const auto g = grad.contiguous();
  auto out = empty_large({t.batch, t.d, t.d}, grad.options()).zero_();
  AT_DISPATCH_COMPLEX_TYPES(grad.scalar_type(), "partial_trace_backward", [&] {
    const scalar_t* src = g.data_ptr<scalar_t>();
    for_trace_entries(t, out.data_ptr<scalar_t>(), [&](scalar_t* block, int64_t at_grad, int64_t i, int64_t j) {
      for (const int64_t r : t.traced) block[(t.kept[i] | r) * t.d + (t.kept[j] | r)] = src[at_grad];
    });
  });
  return out;
}

at::Tensor probs_cpu(const at::Tensor& rho) {
  const StatePlan s = state_ops::prepare_probs(rho);
  const auto in = rho.contiguous();
  auto out = at::empty({s.batch, s.d}, rho.options().dtype(c10::toRealValueType(rho.scalar_type())));
  AT_DISPATCH_COMPLEX_TYPES(rho.scalar_type(), "probs", [&] {
    using real_t = typename scalar_t::value_type;
    const scalar_t* src = in.data_ptr<scalar_t>();
    real_t* dst = out.data_ptr<real_t>();
    for (int64_t b = 0; b < s.batch; ++b) {
      for (int64_t x = 0; x < s.d; ++x) dst[b * s.d + x] = src[(b * s.d + x) * s.d + x].real();
    }
  });
  return out;
}

at::Tensor probs_backward_cpu(const at::Tensor& grad) {
  const StatePlan s = state_ops::prepare_probs_backward(grad);
  const auto g = grad.contiguous();
  auto out = empty_large({s.batch, s.d, s.d}, grad.options().dtype(c10::toComplexType(grad.scalar_type()))).zero_();
  AT_DISPATCH_FLOATING_TYPES(grad.scalar_type(), "probs_backward", [&] {
    const scalar_t* src = g.data_ptr<scalar_t>();
    auto* dst = out.data_ptr<c10::complex<scalar_t>>();
    for (int64_t b = 0; b < s.batch; ++b) {
      for (int64_t x = 0; x < s.d; ++x) dst[(b * s.d + x) * s.d + x] = c10::complex<scalar_t>(src[b * s.d + x]);
    }
  });
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(hqrn, CPU, m) {
  m.impl("dephase", &dephase_cpu);
  m.impl("embed_ancillas", &embed_ancillas_cpu);
  m.impl("_embed_ancillas_backward", &embed_ancillas_backward_cpu);
  m.impl("partial_trace", &partial_trace_cpu);
  m.impl("_partial_trace_backward", &partial_trace_backward_cpu);
  m.impl("probs", &probs_cpu);
  m.impl("_probs_backward", &probs_backward_cpu);
}

}  // namespace hqrn
