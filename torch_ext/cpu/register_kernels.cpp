// CPU kernels of the register operations: dephasing, appending ancillas,
// partial trace and the Z-basis distribution. Each is linear in rho; the
// backward kernels are their adjoints.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <vector>

#include "../check.h"
#include "../limits.h"
#include "../memory.h"
#include "../parallel.h"
#include "../qubit_index.h"

namespace hqrn {
namespace {


at::Tensor dephase_cpu(const at::Tensor& rho, int64_t target) {
  const int64_t n = check::density_batch(rho, "dephase");
  check::qubit(target, n, "dephase", "target");
  const auto in = rho.contiguous();
  auto out = empty_large(in.sizes(), in.options());
  const int64_t d = rho.size(1), mask = index::qubit_mask(n, target);
  AT_DISPATCH_COMPLEX_TYPES(rho.scalar_type(), "dephase", [&] {
    const scalar_t* src = in.data_ptr<scalar_t>();
    scalar_t* dst = out.data_ptr<scalar_t>();
    at::parallel_for(0, rho.size(0) * d, grain_for(d), [&](int64_t begin, int64_t end) {
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

void check_ancilla_count(int64_t n, int64_t n_aux, const char* op) {
  TORCH_CHECK(n_aux >= 0, op, ": n_aux must be >= 0, got ", n_aux);
  TORCH_CHECK(n + n_aux <= kMaxQubits, op, ": ", n, " + ", n_aux, " = ", n + n_aux,
              " qubits exceeds the dense-state limit of ", kMaxQubits);
}

// Entry (x, y) of rho lands at (x 0..0, y 0..0): the ancillas are the low bits.
at::Tensor embed_ancillas_cpu(const at::Tensor& rho, int64_t n_aux) {
  const int64_t n = check::density_batch(rho, "embed_ancillas");
  check_ancilla_count(n, n_aux, "embed_ancillas");
  const auto in = rho.contiguous();
  const int64_t batch = rho.size(0), d = rho.size(1), big = d << n_aux;
  auto out = empty_large({batch, big, big}, rho.options()).zero_();
  AT_DISPATCH_COMPLEX_TYPES(rho.scalar_type(), "embed_ancillas", [&] {
    const scalar_t* src = in.data_ptr<scalar_t>();
    scalar_t* dst = out.data_ptr<scalar_t>();
    at::parallel_for(0, batch * d, grain_for(d), [&](int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; ++row) {
        const int64_t b = row / d, x = row % d;
        scalar_t* out_row = dst + (b * big + (x << n_aux)) * big;
        for (int64_t y = 0; y < d; ++y) out_row[y << n_aux] = src[row * d + y];
      }
    });
  });
  return out;
}

at::Tensor embed_ancillas_backward_cpu(const at::Tensor& grad, int64_t n_aux) {
  const int64_t n_total = check::density_batch(grad, "_embed_ancillas_backward", "grad");
  TORCH_CHECK(n_aux >= 0 && n_aux <= n_total, "_embed_ancillas_backward: n_aux = ", n_aux,
              " does not fit a ", n_total, "-qubit gradient");
  const auto g = grad.contiguous();
  const int64_t batch = grad.size(0), big = grad.size(1), d = big >> n_aux;
  auto out = at::empty({batch, d, d}, grad.options());
  AT_DISPATCH_COMPLEX_TYPES(grad.scalar_type(), "embed_ancillas_backward", [&] {
    const scalar_t* src = g.data_ptr<scalar_t>();
    scalar_t* dst = out.data_ptr<scalar_t>();
    at::parallel_for(0, batch * d, grain_for(d), [&](int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; ++row) {
        const int64_t b = row / d, x = row % d;
        const scalar_t* in_row = src + (b * big + (x << n_aux)) * big;
        for (int64_t y = 0; y < d; ++y) dst[row * d + y] = in_row[y << n_aux];
      }
    });
  });
  return out;
}

// Basis offsets of the kept and the traced sub-registers, shared by the
// partial trace and its adjoint.
struct TraceLayout {
  std::vector<int64_t> kept, traced;
};

TraceLayout trace_layout(int64_t n, at::IntArrayRef keep, const char* op) {
  const auto keep_list = check::qubit_list(keep, n, op, "keep");
  return {index::subregister_offsets(n, keep_list),
          index::subregister_offsets(n, index::complement(n, keep_list))};
}

at::Tensor partial_trace_cpu(const at::Tensor& rho, at::IntArrayRef keep) {
  const int64_t n = check::density_batch(rho, "partial_trace");
  const TraceLayout layout = trace_layout(n, keep, "partial_trace");
  const auto in = rho.contiguous();
  const int64_t batch = rho.size(0), d = rho.size(1);
  const auto k = static_cast<int64_t>(layout.kept.size());
  auto out = at::empty({batch, k, k}, rho.options());
  AT_DISPATCH_COMPLEX_TYPES(rho.scalar_type(), "partial_trace", [&] {
    const scalar_t* src = in.data_ptr<scalar_t>();
    scalar_t* dst = out.data_ptr<scalar_t>();
    at::parallel_for(0, batch * k, grain_for(k * static_cast<int64_t>(layout.traced.size())), [&](int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; ++row) {
        const int64_t b = row / k, i = row % k;
        const scalar_t* block = src + b * d * d;
        for (int64_t j = 0; j < k; ++j) {
          scalar_t sum(0);
          for (const int64_t t : layout.traced) {
            sum += block[(layout.kept[i] | t) * d + (layout.kept[j] | t)];
          }
          dst[row * k + j] = sum;
        }
      }
    });
  });
  return out;
}

at::Tensor partial_trace_backward_cpu(const at::Tensor& grad, at::IntArrayRef keep, int64_t n) {
  const int64_t n_kept = check::density_batch(grad, "_partial_trace_backward", "grad");
  TORCH_CHECK(n_kept == static_cast<int64_t>(keep.size()) && n <= kMaxQubits,
              "_partial_trace_backward: grad of ", n_kept, " qubit(s) does not match keep ", keep);
  const TraceLayout layout = trace_layout(n, keep, "_partial_trace_backward");
  const auto g = grad.contiguous();
  const int64_t batch = grad.size(0), d = int64_t{1} << n;
  const auto k = static_cast<int64_t>(layout.kept.size());
  auto out = empty_large({batch, d, d}, grad.options()).zero_();
  AT_DISPATCH_COMPLEX_TYPES(grad.scalar_type(), "partial_trace_backward", [&] {
    const scalar_t* src = g.data_ptr<scalar_t>();
    scalar_t* dst = out.data_ptr<scalar_t>();
    at::parallel_for(0, batch * k, grain_for(k * static_cast<int64_t>(layout.traced.size())), [&](int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; ++row) {
        const int64_t b = row / k, i = row % k;
        scalar_t* block = dst + b * d * d;
        for (int64_t j = 0; j < k; ++j) {
          for (const int64_t t : layout.traced) {
            block[(layout.kept[i] | t) * d + (layout.kept[j] | t)] = src[row * k + j];
          }
        }
      }
    });
  });
  return out;
}

at::Tensor probs_cpu(const at::Tensor& rho) {
  check::density_batch(rho, "probs");
  const auto in = rho.contiguous();
  const int64_t batch = rho.size(0), d = rho.size(1);
  auto out = at::empty({batch, d}, rho.options().dtype(c10::toRealValueType(rho.scalar_type())));
  AT_DISPATCH_COMPLEX_TYPES(rho.scalar_type(), "probs", [&] {
    using real_t = typename scalar_t::value_type;
    const scalar_t* src = in.data_ptr<scalar_t>();
    real_t* dst = out.data_ptr<real_t>();
    for (int64_t b = 0; b < batch; ++b) {
      for (int64_t x = 0; x < d; ++x) dst[b * d + x] = src[(b * d + x) * d + x].real();
    }
  });
  return out;
}

at::Tensor probs_backward_cpu(const at::Tensor& grad) {
  const int64_t n = check::probability_batch(grad, "_probs_backward", "grad");
  TORCH_CHECK(n <= kMaxQubits, "_probs_backward: grad has too many qubits (", n, ")");
  const auto g = grad.contiguous();
  const int64_t batch = grad.size(0), d = grad.size(1);
  auto out = empty_large({batch, d, d}, grad.options().dtype(c10::toComplexType(grad.scalar_type()))).zero_();
  AT_DISPATCH_FLOATING_TYPES(grad.scalar_type(), "probs_backward", [&] {
    const scalar_t* src = g.data_ptr<scalar_t>();
    auto* dst = out.data_ptr<c10::complex<scalar_t>>();
    for (int64_t b = 0; b < batch; ++b) {
      for (int64_t x = 0; x < d; ++x) dst[(b * d + x) * d + x] = c10::complex<scalar_t>(src[b * d + x]);
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
