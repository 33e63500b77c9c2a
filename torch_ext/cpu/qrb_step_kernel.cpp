// CPU kernels of the quantum residual step (spec sections 2 and 6).
//
// For target j, row pairs (x0, x1 = x0 | e_j) share the control configuration
// cx, column pairs (y0, y1) share cy, and each 2x2 block M of rho becomes
// R(cx) M R(cy)^dagger. Dephasing keeps the block's diagonal only. One pass
// reads and writes each block once, forward and backward.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <utility>
#include <vector>

#include "../check.h"
#include "../parallel.h"
#include "../qubit_index.h"
#include "../rotation.h"

namespace hqrn {
namespace {

constexpr const char* kOp = "qrb_step";

template <typename real_t>
std::vector<Rotation<real_t>> rotation_table(const at::Tensor& theta, const at::Tensor& phi) {
  const auto count = theta.numel();
  const real_t* t = theta.data_ptr<real_t>();
  const real_t* p = phi.data_ptr<real_t>();
  std::vector<Rotation<real_t>> rotations;
  rotations.reserve(count);
  for (int64_t i = 0; i < count; ++i) rotations.emplace_back(t[i], p[i]);
  return rotations;
}

template <typename real_t>
Mat2<real_t> load_block(const c10::complex<real_t>* row0, const c10::complex<real_t>* row1,
                        int64_t y0, int64_t y1) {
  return {row0[y0], row0[y1], row1[y0], row1[y1]};
}

template <typename real_t>
void store_block(c10::complex<real_t>* row0, c10::complex<real_t>* row1, int64_t y0, int64_t y1,
                 const Mat2<real_t>& m) {
  row0[y0] = m.m00;
  row0[y1] = m.m01;
  row1[y0] = m.m10;
  row1[y1] = m.m11;
}

struct StepShape {
  int64_t batch, n, d, half, mask;
  int64_t table_stride;  // 0 for shared angle tables, half for per-sample ones
};

StepShape step_shape(const at::Tensor& rho, const at::Tensor& theta, int64_t target) {
  const int64_t n = rho.size(1) > 1 ? static_cast<int64_t>(__builtin_ctzll(rho.size(1))) : 0;
  const int64_t half = rho.size(1) / 2;
  return {rho.size(0), n, rho.size(1), half, index::qubit_mask(n, target), theta.dim() == 2 ? half : 0};
}

template <typename real_t>
void forward_kernel(const at::Tensor& rho, const at::Tensor& theta, const at::Tensor& phi,
                    int64_t target, bool dephase, at::Tensor& out) {
  using complex_t = c10::complex<real_t>;
  const StepShape s = step_shape(rho, theta, target);
  const auto rotations = rotation_table<real_t>(theta, phi);
  const complex_t* in = rho.data_ptr<complex_t>();
  complex_t* res = out.data_ptr<complex_t>();

  at::parallel_for(0, s.batch * s.half, grain_for(2 * s.d), [&](int64_t begin, int64_t end) {
    for (int64_t task = begin; task < end; ++task) {
      const int64_t b = task / s.half, cx = task % s.half;
      const int64_t x0 = index::insert_zero_bit(cx, s.mask), x1 = x0 | s.mask;
      const Rotation<real_t>* rot = rotations.data() + b * s.table_stride;
      const Mat2<real_t> rx = rot[cx].matrix();
      const complex_t* in0 = in + (b * s.d + x0) * s.d;
      const complex_t* in1 = in + (b * s.d + x1) * s.d;
      complex_t* out0 = res + (b * s.d + x0) * s.d;
      complex_t* out1 = res + (b * s.d + x1) * s.d;
      for (int64_t cy = 0; cy < s.half; ++cy) {
        const int64_t y0 = index::insert_zero_bit(cy, s.mask), y1 = y0 | s.mask;
        if (dephase && cy == cx) {
          const auto diag = rot[cx].conjugated_diagonal(load_block(in0, in1, y0, y1));
          out0[y0] = diag.first;
          out0[y1] = out1[y0] = complex_t(0);
          out1[y1] = diag.second;
          continue;
        }
        const Mat2<real_t> t = load_block(in0, in1, y0, y1) * rot[cy].matrix().adjoint();
        if (dephase) {
          // Only the block's diagonal survives the measurement of the target.
          out0[y0] = rx.m00 * t.m00 + rx.m01 * t.m10;
          out0[y1] = complex_t(0);
          out1[y0] = complex_t(0);
          out1[y1] = rx.m10 * t.m01 + rx.m11 * t.m11;
        } else {
          store_block(out0, out1, y0, y1, rx * t);
        }
      }
    }
  });
}

// Backward: grad_rho block = R(cx)^dagger G R(cy) with G the (dephased)
// incoming gradient. For the angles, Re<G, dR(cx) M R(cy)^dagger> =
// Re tr(dR(cx) P) with P = M R(cy)^dagger G^dagger, and Re<G, R(cx) M dR(cy)^dagger>
// = Re tr(dR(cy) Q) with Q = M^dagger R(cx)^dagger G; P and Q are summed per
// table entry (per chunk, then reduced in order) and contracted with dR once.
template <typename real_t>
void backward_kernel(const at::Tensor& grad, const at::Tensor& rho, const at::Tensor& theta,
                     const at::Tensor& phi, int64_t target, bool dephase, at::Tensor& grad_rho,
                     at::Tensor& grad_theta, at::Tensor& grad_phi) {
  using complex_t = c10::complex<real_t>;
  const StepShape s = step_shape(rho, theta, target);
  const auto rotations = rotation_table<real_t>(theta, phi);
  const complex_t* g = grad.data_ptr<complex_t>();
  const complex_t* in = rho.data_ptr<complex_t>();
  complex_t* gr = grad_rho.data_ptr<complex_t>();
  const int64_t entries = theta.numel();
  const int64_t work = s.batch * s.half;
  const int64_t chunks = chunk_count(work, grain_for(2 * s.d));
  std::vector<Mat2<real_t>> acc(chunks * entries, Mat2<real_t>{});

  for_each_chunk(work, chunks, [&](int64_t chunk, int64_t begin, int64_t end) {
    Mat2<real_t>* a = acc.data() + chunk * entries;
    for (int64_t task = begin; task < end; ++task) {
      const int64_t b = task / s.half, cx = task % s.half;
      const int64_t x0 = index::insert_zero_bit(cx, s.mask), x1 = x0 | s.mask;
      const Rotation<real_t>* rot = rotations.data() + b * s.table_stride;
      Mat2<real_t>* a_b = a + b * s.table_stride;
      const Mat2<real_t> rx = rot[cx].matrix();
      const Mat2<real_t> rx_adj = rx.adjoint();
      const int64_t r0 = (b * s.d + x0) * s.d, r1 = (b * s.d + x1) * s.d;
      Mat2<real_t> p_sum{};
      for (int64_t cy = 0; cy < s.half; ++cy) {
        const int64_t y0 = index::insert_zero_bit(cy, s.mask), y1 = y0 | s.mask;
        const Mat2<real_t> ry = rot[cy].matrix();
        const Mat2<real_t> m = load_block(in + r0, in + r1, y0, y1);
        Mat2<real_t> gb = load_block(g + r0, g + r1, y0, y1);
        if (dephase) gb.m01 = gb.m10 = complex_t(0);
        store_block(gr + r0, gr + r1, y0, y1, rx_adj * gb * ry);
        const Mat2<real_t> p = m * ry.adjoint() * gb.adjoint();
        p_sum += p;
        a_b[cy] += m.adjoint() * rx_adj * gb;
      }
      a_b[cx] += p_sum;
    }
  });

  real_t* gt = grad_theta.data_ptr<real_t>();
  real_t* gp = grad_phi.data_ptr<real_t>();
  for (int64_t i = 0; i < entries; ++i) {
    Mat2<real_t> total{};
    for (int64_t chunk = 0; chunk < chunks; ++chunk) total += acc[chunk * entries + i];
    const Rotation<real_t>& r = rotations[i];
    gt[i] = (r.d_theta() * total).trace_real();
    gp[i] = (r.d_phi() * total).trace_real();
  }
}

void check_inputs(const at::Tensor& rho, const at::Tensor& theta, const at::Tensor& phi, int64_t target) {
  const int64_t n = check::density_batch(rho, kOp);
  TORCH_CHECK(n >= 1, kOp, ": rho must describe at least one qubit (d >= 2), got d = ", rho.size(1));
  check::qubit(target, n, kOp, "target");
  const auto real_type = c10::toRealValueType(rho.scalar_type());
  check::angle_table(theta, rho.size(0), n, real_type, kOp, "theta");
  check::angle_table(phi, rho.size(0), n, real_type, kOp, "phi");
}

// The kernels read both tables with one stride: a shared table meets a
// per-sample one by broadcasting over the batch.
std::pair<at::Tensor, at::Tensor> common_tables(const at::Tensor& rho, const at::Tensor& theta,
                                                const at::Tensor& phi) {
  if (theta.dim() == phi.dim()) return {theta.contiguous(), phi.contiguous()};
  const auto shape = std::vector<int64_t>{rho.size(0), rho.size(1) / 2};
  return {theta.expand(shape).contiguous(), phi.expand(shape).contiguous()};
}

// Gradient of a table that was broadcast over the batch: summed back.
at::Tensor reduce_to(const at::Tensor& grad, const at::Tensor& table) {
  return table.dim() == grad.dim() ? grad : grad.sum(0);
}

at::Tensor qrb_step_cpu(const at::Tensor& rho, const at::Tensor& theta, const at::Tensor& phi,
                        int64_t target, bool dephase) {
  check_inputs(rho, theta, phi, target);
  const auto rho_c = rho.contiguous();
  const auto tables = common_tables(rho, theta, phi);
  auto out = at::empty_like(rho_c);
  AT_DISPATCH_FLOATING_TYPES(theta.scalar_type(), "qrb_step_forward", [&] {
    forward_kernel<scalar_t>(rho_c, tables.first, tables.second, target, dephase, out);
  });
  return out;
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> qrb_step_backward_cpu(
    const at::Tensor& grad, const at::Tensor& rho, const at::Tensor& theta, const at::Tensor& phi,
    int64_t target, bool dephase) {
  check_inputs(rho, theta, phi, target);
  TORCH_CHECK(grad.sizes() == rho.sizes() && grad.scalar_type() == rho.scalar_type(),
              "_qrb_step_backward: grad must match rho's shape and dtype, got ", grad.sizes(), " ",
              grad.scalar_type());
  const auto grad_c = grad.contiguous();
  const auto rho_c = rho.contiguous();
  const auto tables = common_tables(rho, theta, phi);
  auto grad_rho = at::empty_like(rho_c);
  auto grad_theta = at::empty_like(tables.first);
  auto grad_phi = at::empty_like(tables.second);
  AT_DISPATCH_FLOATING_TYPES(theta.scalar_type(), "qrb_step_backward", [&] {
    backward_kernel<scalar_t>(grad_c, rho_c, tables.first, tables.second, target, dephase, grad_rho, grad_theta,
                              grad_phi);
  });
  return {grad_rho, reduce_to(grad_theta, theta), reduce_to(grad_phi, phi)};
}

}  // namespace

TORCH_LIBRARY_IMPL(hqrn, CPU, m) {
  m.impl("qrb_step", &qrb_step_cpu);
  m.impl("_qrb_step_backward", &qrb_step_backward_cpu);
}

}  // namespace hqrn
