// CPU kernels of the quantum residual step (docs/model.md, "One residual
// step"; docs/operators.md, "Kernels"): qrb_step on the dense layout,
// aware_step on the coherence-aware one, and qrb_sweep, a block of dense
// steps. Arithmetic only: the inputs are validated and planned by prepare.h.
//
// Each 2x2 block M (rows x0, x1 sharing control configuration cx, columns
// y0, y1 sharing cy) becomes R(cx) M R(cy)^dagger; dephasing keeps the block's
// diagonal only, so the two discarded entries are never computed. One pass
// reads and writes each block once, forward and backward. A StepLayout says
// where the blocks live, so both layouts run the same loops.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>
#include <cstring>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "../memory.h"
#include "../parallel.h"
#include "../rotation.h"
#include "block.h"
#include "prepare.h"
#include "sweep.h"

namespace hqrn {
namespace {

using step::common_tables;
using step::load_block;
using step::Output;
using step::reduce_to;
using step::StepPlan;
using step::store_block;
using step::with_variant;

// Rotations of every table entry (per sample when the tables are), with
// their matrices computed once instead of once per block.
template <typename real_t>
struct RotationTable {
  std::vector<Rotation<real_t>> rotations;
  std::vector<Mat2<real_t>> matrices;
  // The factors c and u = (u_re, u_im) of every entry, as arrays: what the
  // vectorised run loops read.
  std::vector<real_t> c, u_re, u_im;

  // theta, phi: one table [len], or one per group of consecutive samples
  // [G, len] (G = batch: per sample), the same shape for both.
  RotationTable(const at::Tensor& theta, const at::Tensor& phi, int64_t batch)
      : len_(theta.size(-1)),
        samples_per_table_(theta.dim() == 2 && theta.size(0) > 0 ? batch / theta.size(0) : std::max<int64_t>(batch, 1)) {
    const real_t* t = theta.data_ptr<real_t>();
    const real_t* p = phi.data_ptr<real_t>();
    const auto n = static_cast<size_t>(theta.numel());
    rotations.reserve(n);
    matrices.reserve(n);
    // Per-sample tables often repeat a row (a branch's tables broadcast over
    // its samples): a repeated row's rotations are copied, not recomputed.
    const int64_t row = len_;
    for (int64_t begin = 0; begin < theta.numel(); begin += row) {
      const bool repeat = begin > 0 && same_row(t, begin, row) && same_row(p, begin, row);
      for (int64_t i = begin; i < begin + row; ++i) {
        if (repeat) {
          // Reserved above: appending never moves the element read.
          rotations.push_back(rotations[i - row]);
          matrices.push_back(matrices[i - row]);
        } else {
          rotations.emplace_back(t[i], p[i]);
          matrices.push_back(rotations.back().matrix());
        }
      }
    }
    c.reserve(n);
    u_re.reserve(n);
    u_im.reserve(n);
    for (const auto& r : rotations) {
      c.push_back(r.c);
      u_re.push_back(r.u.real());
      u_im.push_back(r.u.imag());
    }
  }

  // Where sample b's table starts in the entry arrays.
  int64_t offset(int64_t b) const { return b / samples_per_table_ * len_; }

 private:
  int64_t len_;
  int64_t samples_per_table_;

  // Whether the `row` entries from `begin` equal the row before them, bit for bit.
  static bool same_row(const real_t* values, int64_t begin, int64_t row) {
    return std::memcmp(values + begin, values + begin - row, static_cast<size_t>(row) * sizeof(real_t)) == 0;
  }
};

// ---- Column runs (StepLayout::column_run): the measured blocks of one row
// pair over `count` consecutive column pairs whose entries and rotations are
// consecutive in memory, written on real and imaginary parts so that the
// compiler vectorises the loops for the build's CPU (-march=native: AVX2 or
// AVX-512; plain scalar code without it, see docs/operators.md). The block
// whose rows and columns share the rotation is never passed here: it keeps
// measured_block's exact form (cross_factor).
//
// With s = R_x M = [[a0, b0], [a1, b1]] the measured block is
// (s R_y^dagger)_00 = c_y a0 - conj(u_y) b0 and (s R_y^dagger)_11 = u_y a1 + c_y b1.

// One row rotation (c_x, u_x) and pointers to a run's entries (interleaved re, im).
template <typename real_t>
struct RunRows {
  real_t xc, xr, xi;
};

template <typename real_t>
void forward_run(const RunRows<real_t>& x, const real_t* __restrict yc, const real_t* __restrict yr,
                 const real_t* __restrict yi, const real_t* __restrict m00, const real_t* __restrict m01,
                 const real_t* __restrict m10, const real_t* __restrict m11, real_t* __restrict o0,
                 real_t* __restrict o1, int64_t count) {
  const real_t xc = x.xc, xr = x.xr, xi = x.xi;
  for (int64_t i = 0; i < count; ++i) {
    const real_t m00r = m00[2 * i], m00i = m00[2 * i + 1], m01r = m01[2 * i], m01i = m01[2 * i + 1];
    const real_t m10r = m10[2 * i], m10i = m10[2 * i + 1], m11r = m11[2 * i], m11i = m11[2 * i + 1];
    // s = R_x M: a0 = c m00 - u m10, b0 = c m01 - u m11, a1 = conj(u) m00 + c m10, b1 = conj(u) m01 + c m11.
    const real_t a0r = xc * m00r - (xr * m10r - xi * m10i), a0i = xc * m00i - (xr * m10i + xi * m10r);
    const real_t b0r = xc * m01r - (xr * m11r - xi * m11i), b0i = xc * m01i - (xr * m11i + xi * m11r);
    const real_t a1r = (xr * m00r + xi * m00i) + xc * m10r, a1i = (xr * m00i - xi * m00r) + xc * m10i;
    const real_t b1r = (xr * m01r + xi * m01i) + xc * m11r, b1i = (xr * m01i - xi * m01r) + xc * m11i;
    const real_t cy = yc[i], ur = yr[i], ui = yi[i];
    o0[2 * i] = cy * a0r - (ur * b0r + ui * b0i);
    o0[2 * i + 1] = cy * a0i - (ur * b0i - ui * b0r);
    o1[2 * i] = (ur * a1r - ui * a1i) + cy * b1r;
    o1[2 * i + 1] = (ur * a1i + ui * a1r) + cy * b1i;
  }
}

// Backward of forward_run with incoming gradients g0 (at o0) and g1 (at o1):
// the input gradient R_x^dagger diag(g0, g1) R_y into d00..d11, each column's
// factor gradient added to (col_c, col_kr, col_ki)[i] and the row's per
// column to (row_c, row_kr, row_ki)[i] (summed by the caller in order).
template <typename real_t>
void backward_run(const RunRows<real_t>& x, const real_t* __restrict yc, const real_t* __restrict yr,
                  const real_t* __restrict yi, const real_t* __restrict m00, const real_t* __restrict m01,
                  const real_t* __restrict m10, const real_t* __restrict m11, const real_t* __restrict g0p,
                  const real_t* __restrict g1p, real_t* __restrict d00, real_t* __restrict d01,
                  real_t* __restrict d10, real_t* __restrict d11, real_t* __restrict col_c,
                  real_t* __restrict col_kr, real_t* __restrict col_ki, real_t* __restrict row_c,
                  real_t* __restrict row_kr, real_t* __restrict row_ki, int64_t count) {
  const real_t xc = x.xc, xr = x.xr, xi = x.xi;
  for (int64_t i = 0; i < count; ++i) {
    const real_t m00r = m00[2 * i], m00i = m00[2 * i + 1], m01r = m01[2 * i], m01i = m01[2 * i + 1];
    const real_t m10r = m10[2 * i], m10i = m10[2 * i + 1], m11r = m11[2 * i], m11i = m11[2 * i + 1];
    const real_t g0r = g0p[2 * i], g0i = g0p[2 * i + 1], g1r = g1p[2 * i], g1i = g1p[2 * i + 1];
    const real_t cy = yc[i], ur = yr[i], ui = yi[i];
    // Input gradient: p0 = c_y g0, p1 = conj(u_y) g1, r0 = -u_y g0, r1 = c_y g1;
    // d00 = c_x p0 + u_x p1, d10 = c_x p1 - conj(u_x) p0, d01 = c_x r0 + u_x r1, d11 = c_x r1 - conj(u_x) r0.
    const real_t p0r = cy * g0r, p0i = cy * g0i;
    const real_t p1r = ur * g1r + ui * g1i, p1i = ur * g1i - ui * g1r;
    const real_t r0r = -(ur * g0r - ui * g0i), r0i = -(ur * g0i + ui * g0r);
    const real_t r1r = cy * g1r, r1i = cy * g1i;
    d00[2 * i] = xc * p0r + (xr * p1r - xi * p1i);
    d00[2 * i + 1] = xc * p0i + (xr * p1i + xi * p1r);
    d10[2 * i] = xc * p1r - (xr * p0r + xi * p0i);
    d10[2 * i + 1] = xc * p1i - (xr * p0i - xi * p0r);
    d01[2 * i] = xc * r0r + (xr * r1r - xi * r1i);
    d01[2 * i + 1] = xc * r0i + (xr * r1i + xi * r1r);
    d11[2 * i] = xc * r1r - (xr * r0r + xi * r0i);
    d11[2 * i + 1] = xc * r1i - (xr * r0i - xi * r0r);
    // Row factors through t = M R_y^dagger: t00 = c_y m00 - conj(u_y) m01,
    // t10 = c_y m10 - conj(u_y) m11, t01 = u_y m00 + c_y m01, t11 = u_y m10 + c_y m11;
    // dL/dc_x += Re(conj(g0) t00 + conj(g1) t11), K_x += g1 conj(t01) - conj(g0) t10.
    const real_t t00r = cy * m00r - (ur * m01r + ui * m01i), t00i = cy * m00i - (ur * m01i - ui * m01r);
    const real_t t10r = cy * m10r - (ur * m11r + ui * m11i), t10i = cy * m10i - (ur * m11i - ui * m11r);
    const real_t t01r = (ur * m00r - ui * m00i) + cy * m01r, t01i = (ur * m00i + ui * m00r) + cy * m01i;
    const real_t t11r = (ur * m10r - ui * m10i) + cy * m11r, t11i = (ur * m10i + ui * m10r) + cy * m11i;
    row_c[i] += (g0r * t00r + g0i * t00i) + (g1r * t11r + g1i * t11i);
    row_kr[i] += (g1r * t01r + g1i * t01i) - (g0r * t10r + g0i * t10i);
    row_ki[i] += (g1i * t01r - g1r * t01i) - (g0r * t10i - g0i * t10r);
    // Column factors through s = R_x M: dL/dc_y += Re(conj(g0) s00 + conj(g1) s11),
    // K_y += conj(g1) s10 - g0 conj(s01).
    const real_t s00r = xc * m00r - (xr * m10r - xi * m10i), s00i = xc * m00i - (xr * m10i + xi * m10r);
    const real_t s01r = xc * m01r - (xr * m11r - xi * m11i), s01i = xc * m01i - (xr * m11i + xi * m11r);
    const real_t s10r = (xr * m00r + xi * m00i) + xc * m10r, s10i = (xr * m00i - xi * m00r) + xc * m10i;
    const real_t s11r = (xr * m01r + xi * m01i) + xc * m11r, s11i = (xr * m01i - xi * m01r) + xc * m11i;
    col_c[i] += (g0r * s00r + g0i * s00i) + (g1r * s11r + g1i * s11i);
    col_kr[i] += (g1r * s10r + g1i * s10i) - (g0r * s01r + g0i * s01i);
    col_ki[i] += (g1r * s10i - g1i * s10r) - (g0i * s01r - g0r * s01i);
  }
}

// Calls body(q, count) for the pieces of [0, pairs) in runs of `run`, with
// the pair `skip` left out (the shared-rotation block, run by the caller).
template <typename Body>
void for_each_run_piece(int64_t pairs, int64_t run, int64_t skip, const Body& body) {
  for (int64_t q0 = 0; q0 < pairs; q0 += run) {
    if (skip >= q0 && skip < q0 + run) {
      if (skip > q0) body(q0, skip - q0);
      if (skip + 1 < q0 + run) body(skip + 1, q0 + run - skip - 1);
    } else {
      body(q0, run);
    }
  }
}

template <typename real_t>
const real_t* reals(const c10::complex<real_t>* z) {
  return reinterpret_cast<const real_t*>(z);
}
template <typename real_t>
real_t* reals(c10::complex<real_t>* z) {
  return reinterpret_cast<real_t*>(z);
}

template <typename real_t, bool coherent, Output output>
void forward_kernel(const StepLayout& l, int64_t batch, const RotationTable<real_t>& table,
                    const c10::complex<real_t>* in, c10::complex<real_t>* out) {
  using complex_t = c10::complex<real_t>;
  const int64_t rows = l.groups * l.pairs;
  at::parallel_for(0, batch * rows, grain_for(4 * l.pairs), [&](int64_t begin, int64_t end) {
    for (int64_t task = begin; task < end; ++task) {
      const int64_t b = task / rows, gp = task % rows, group = gp - gp % l.pairs;
      const Rotation<real_t>* rot = table.rotations.data() + table.offset(b);
      const Mat2<real_t>* mat = table.matrices.data() + table.offset(b);
      const int64_t cx = l.ctrl[gp];
      const Mat2<real_t>& rx = mat[cx];
      const complex_t* in0 = in + b * l.in_size + l.in_row[0][gp];
      const complex_t* in1 = in + b * l.in_size + l.in_row[1][gp];
      complex_t* out0 = out + b * l.out_size + l.out_row[0][gp];
      complex_t* out1 = out + b * l.out_size + l.out_row[1][gp];
      const auto block = [&](int64_t q) {
        const int64_t cy = l.ctrl[group + q];
        const Mat2<real_t> m = load_block<coherent>(in0, in1, l.in_col[0][q], l.in_col[1][q]);
        const int64_t o0 = l.out_col[0][q], o1 = l.out_col[1][q];
        if constexpr (output == Output::full) {
          store_block<true>(out0, out1, o0, o1, rx * m * mat[cy].adjoint());
        } else {
          const auto diag = measured_block<coherent>(rot[cx], rot[cy], cy == cx, m);
          out0[o0] = diag.first;
          out1[o1] = diag.second;
          if constexpr (output == Output::dephased_zeros) out0[o1] = out1[o0] = complex_t(0);
        }
      };
      if constexpr (coherent && output != Output::full) {
        if (l.column_run > 1) {
          const RunRows<real_t> x{rot[cx].c, rot[cx].u.real(), rot[cx].u.imag()};
          const int64_t shared = gp - group;  // the column pair with the rows' own rotation
          for_each_run_piece(l.pairs, l.column_run, shared, [&](int64_t q, int64_t count) {
            const int64_t e = table.offset(b) + l.ctrl[group + q];
            const int64_t c0 = l.in_col[0][q], c1 = l.in_col[1][q];
            forward_run(x, table.c.data() + e, table.u_re.data() + e, table.u_im.data() + e, reals(in0 + c0),
                        reals(in0 + c1), reals(in1 + c0), reals(in1 + c1), reals(out0 + l.out_col[0][q]),
                        reals(out1 + l.out_col[1][q]), count);
            if constexpr (output == Output::dephased_zeros) {
              std::fill_n(out0 + l.out_col[1][q], count, complex_t(0));
              std::fill_n(out1 + l.out_col[0][q], count, complex_t(0));
            }
          });
          block(shared);
          continue;
        }
      }
      for (int64_t q = 0; q < l.pairs; ++q) block(q);
    }
  });
}

// Backward. Measured steps: the input gradient is R(cx)^dagger diag(g0, g1) R(cy),
// and each block adds to the factor gradients of its rows' and its columns'
// table entries (rotation.h). Unmeasured steps (full output): grad block =
// R(cx)^dagger G R(cy), and Re<G, dR(cx) M R(cy)^dagger> = Re tr(dR(cx) P) with
// P = M R(cy)^dagger G^dagger, Re<G, R(cx) M dR(cy)^dagger> = Re tr(dR(cy) Q)
// with Q = M^dagger R(cx)^dagger G. Sums are kept per chunk and reduced in
// order (deterministic), then turned into angle gradients once per entry.
template <typename real_t, bool coherent, Output output>
void backward_kernel(const StepLayout& l, int64_t batch, const RotationTable<real_t>& table,
                     const c10::complex<real_t>* g, const c10::complex<real_t>* in, c10::complex<real_t>* grad_in,
                     real_t* grad_theta, real_t* grad_phi) {
  using complex_t = c10::complex<real_t>;
  using Acc = std::conditional_t<output == Output::full, Mat2<real_t>, FactorGrad<real_t>>;
  const int64_t rows = l.groups * l.pairs;
  const int64_t work = batch * rows;
  const auto entries = static_cast<int64_t>(table.rotations.size());
  const int64_t chunks = chunk_count(work, grain_for(4 * l.pairs));
  std::vector<Acc> acc(chunks * entries, Acc{});

  // Measured coherent steps with column runs: the column factors of a chunk
  // are summed in arrays (col_*, one per entry) and the row's per lane
  // position (row_*), then folded into the chunk's sums in order.
  constexpr bool runs_apply = coherent && output != Output::full;
  const bool use_runs = runs_apply && l.column_run > 1;

  for_each_chunk(work, chunks, [&](int64_t chunk, int64_t begin, int64_t end) {
    Acc* a = acc.data() + chunk * entries;
    std::vector<real_t> col_c, col_kr, col_ki, row_c, row_kr, row_ki;
    if (use_runs) {
      for (auto* v : {&col_c, &col_kr, &col_ki}) v->assign(static_cast<size_t>(entries), real_t(0));
      for (auto* v : {&row_c, &row_kr, &row_ki}) v->resize(static_cast<size_t>(l.column_run));
    }
    for (int64_t task = begin; task < end; ++task) {
      const int64_t b = task / rows, gp = task % rows, group = gp - gp % l.pairs;
      const Rotation<real_t>* rot = table.rotations.data() + table.offset(b);
      const Mat2<real_t>* mat = table.matrices.data() + table.offset(b);
      Acc* a_b = a + table.offset(b);
      const int64_t cx = l.ctrl[gp];
      const int64_t i0 = b * l.in_size + l.in_row[0][gp], i1 = b * l.in_size + l.in_row[1][gp];
      const complex_t* g0 = g + b * l.out_size + l.out_row[0][gp];
      const complex_t* g1 = g + b * l.out_size + l.out_row[1][gp];
      Acc row_sum{};
      const auto block = [&](int64_t q) {
        const int64_t cy = l.ctrl[group + q];
        const int64_t c0 = l.in_col[0][q], c1 = l.in_col[1][q];
        const Mat2<real_t> m = load_block<coherent>(in + i0, in + i1, c0, c1);
        if constexpr (output == Output::full) {
          const Mat2<real_t> rx_adj = mat[cx].adjoint(), ry = mat[cy];
          const Mat2<real_t> gb = load_block<true>(g0, g1, l.out_col[0][q], l.out_col[1][q]);
          store_block<coherent>(grad_in + i0, grad_in + i1, c0, c1, rx_adj * gb * ry);
          row_sum += m * ry.adjoint() * gb.adjoint();
          a_b[cy] += m.adjoint() * rx_adj * gb;
        } else {
          const complex_t gd0 = g0[l.out_col[0][q]], gd1 = g1[l.out_col[1][q]];
          store_block<coherent>(grad_in + i0, grad_in + i1, c0, c1,
                                measured_block_input_grad(rot[cx], rot[cy], cy == cx, gd0, gd1));
          add_measured_block_factor_grads<coherent>(rot[cx], rot[cy], m, gd0, gd1, row_sum, a_b[cy]);
        }
      };
      if constexpr (runs_apply) {
        if (use_runs) {
          const RunRows<real_t> x{rot[cx].c, rot[cx].u.real(), rot[cx].u.imag()};
          const int64_t shared = gp - group;  // the column pair with the rows' own rotation
          std::fill(row_c.begin(), row_c.end(), real_t(0));
          std::fill(row_kr.begin(), row_kr.end(), real_t(0));
          std::fill(row_ki.begin(), row_ki.end(), real_t(0));
          for_each_run_piece(l.pairs, l.column_run, shared, [&](int64_t q, int64_t count) {
            const int64_t e = table.offset(b) + l.ctrl[group + q];
            const int64_t c0 = l.in_col[0][q], c1 = l.in_col[1][q];
            backward_run(x, table.c.data() + e, table.u_re.data() + e, table.u_im.data() + e, reals(in + i0 + c0),
                         reals(in + i0 + c1), reals(in + i1 + c0), reals(in + i1 + c1), reals(g0 + l.out_col[0][q]),
                         reals(g1 + l.out_col[1][q]), reals(grad_in + i0 + c0), reals(grad_in + i0 + c1),
                         reals(grad_in + i1 + c0), reals(grad_in + i1 + c1), col_c.data() + e, col_kr.data() + e,
                         col_ki.data() + e, row_c.data(), row_kr.data(), row_ki.data(), count);
          });
          for (int64_t i = 0; i < l.column_run; ++i) {
            row_sum.c += row_c[i];
            row_sum.k += complex_t(row_kr[i], row_ki[i]);
          }
          block(shared);
          a_b[cx] += row_sum;
          continue;
        }
      }
      for (int64_t q = 0; q < l.pairs; ++q) block(q);
      a_b[cx] += row_sum;
    }
    if constexpr (runs_apply) {
      if (use_runs) {
        for (int64_t e = 0; e < entries; ++e) {
          a[e].c += col_c[e];
          a[e].k += complex_t(col_kr[e], col_ki[e]);
        }
      }
    }
  });

  for (int64_t i = 0; i < entries; ++i) {
    Acc total{};
    for (int64_t chunk = 0; chunk < chunks; ++chunk) total += acc[chunk * entries + i];
    std::tie(grad_theta[i], grad_phi[i]) = angle_gradients(table.rotations[i], total);
  }
}

// The step planned by `plan` on `state` ([B, ...] complex), into a new tensor.
at::Tensor run_forward(const StepPlan& plan, const at::Tensor& state, const at::Tensor& theta,
                       const at::Tensor& phi) {
  const auto state_c = state.contiguous();
  const auto tables = common_tables(theta, phi);
  auto out = empty_large(plan.out_shape, state_c.options());
  AT_DISPATCH_FLOATING_TYPES(theta.scalar_type(), "hqrn_step_forward", [&] {
    using complex_t = c10::complex<scalar_t>;
    const RotationTable<scalar_t> table(tables.first, tables.second, state_c.size(0));
    with_variant(plan.layout.coherent, plan.output, [&](auto coherent, auto out_kind) {
      forward_kernel<scalar_t, decltype(coherent)::value, decltype(out_kind)::value>(
          plan.layout, state_c.size(0), table, state_c.data_ptr<complex_t>(), out.data_ptr<complex_t>());
    });
  });
  return out;
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> run_backward(const StepPlan& plan, const at::Tensor& grad,
                                                            const at::Tensor& state, const at::Tensor& theta,
                                                            const at::Tensor& phi) {
  const auto grad_c = grad.contiguous();
  const auto state_c = state.contiguous();
  const auto tables = common_tables(theta, phi);
  auto grad_state = empty_large(state_c.sizes(), state_c.options());
  auto grad_theta = at::empty_like(tables.first);
  auto grad_phi = at::empty_like(tables.second);
  AT_DISPATCH_FLOATING_TYPES(theta.scalar_type(), "hqrn_step_backward", [&] {
    using complex_t = c10::complex<scalar_t>;
    const RotationTable<scalar_t> table(tables.first, tables.second, state_c.size(0));
    with_variant(plan.layout.coherent, plan.output, [&](auto coherent, auto out_kind) {
      backward_kernel<scalar_t, decltype(coherent)::value, decltype(out_kind)::value>(
          plan.layout, state_c.size(0), table, grad_c.data_ptr<complex_t>(), state_c.data_ptr<complex_t>(),
          grad_state.data_ptr<complex_t>(), grad_theta.data_ptr<scalar_t>(), grad_phi.data_ptr<scalar_t>());
    });
  });
  return {grad_state, reduce_to(grad_theta, theta), reduce_to(grad_phi, phi)};
}

// ---- qrb_step: the dense layout [B, d, d]

at::Tensor qrb_step_cpu(const at::Tensor& rho, const at::Tensor& theta, const at::Tensor& phi, int64_t target,
                        bool dephase) {
  return run_forward(step::prepare_dense(rho, theta, phi, target, dephase), rho, theta, phi);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> qrb_step_backward_cpu(const at::Tensor& grad, const at::Tensor& rho,
                                                                     const at::Tensor& theta, const at::Tensor& phi,
                                                                     int64_t target, bool dephase) {
  const auto plan = step::prepare_dense(rho, theta, phi, target, dephase);
  check::output_grad(grad, plan.out_shape, rho, "_qrb_step_backward");
  return run_backward(plan, grad, rho, theta, phi);
}

// ---- aware_step: the coherence-aware layout [B, 2^|D|, 2^m, 2^m]

at::Tensor aware_step_cpu(const at::Tensor& blocks, const at::Tensor& theta, const at::Tensor& phi, int64_t target,
                          at::IntArrayRef diagonal) {
  return run_forward(step::prepare_aware(blocks, theta, phi, target, diagonal), blocks, theta, phi);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> aware_step_backward_cpu(const at::Tensor& grad,
                                                                       const at::Tensor& blocks,
                                                                       const at::Tensor& theta, const at::Tensor& phi,
                                                                       int64_t target, at::IntArrayRef diagonal) {
  const auto plan = step::prepare_aware(blocks, theta, phi, target, diagonal);
  check::output_grad(grad, plan.out_shape, blocks, "_aware_step_backward");
  return run_backward(plan, grad, blocks, theta, phi);
}

// ---- qrb_sweep: sweep.h on this file's step kernels.

at::Tensor qrb_sweep_cpu(const at::Tensor& rho, const at::Tensor& theta, const at::Tensor& phi,
                         at::IntArrayRef targets) {
  return step::sweep_forward(rho, theta, phi, targets, run_forward);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> qrb_sweep_backward_cpu(const at::Tensor& grad, const at::Tensor& rho,
                                                                      const at::Tensor& theta, const at::Tensor& phi,
                                                                      at::IntArrayRef targets) {
  return step::sweep_backward(grad, rho, theta, phi, targets, run_forward, run_backward);
}

}  // namespace

TORCH_LIBRARY_IMPL(hqrn, CPU, m) {
  m.impl("qrb_step", &qrb_step_cpu);
  m.impl("_qrb_step_backward", &qrb_step_backward_cpu);
  m.impl("qrb_sweep", &qrb_sweep_cpu);
  m.impl("_qrb_sweep_backward", &qrb_sweep_backward_cpu);
  m.impl("aware_step", &aware_step_cpu);
  m.impl("_aware_step_backward", &aware_step_backward_cpu);
}

}  // namespace hqrn
