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

#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "../memory.h"
#include "../parallel.h"
#include "../rotation.h"
#include "prepare.h"

namespace hqrn {
namespace {

using step::Output;
using step::StepPlan;

// Rotations of every table entry (per sample when the tables are), with
// their matrices computed once instead of once per block.
template <typename real_t>
struct RotationTable {
  std::vector<Rotation<real_t>> rotations;
  std::vector<Mat2<real_t>> matrices;
  int64_t stride;  // 0 for shared tables, the table length for per-sample ones

  RotationTable(const at::Tensor& theta, const at::Tensor& phi)
      : stride(theta.dim() == 2 ? theta.size(1) : 0) {
    const real_t* t = theta.data_ptr<real_t>();
    const real_t* p = phi.data_ptr<real_t>();
    rotations.reserve(theta.numel());
    matrices.reserve(theta.numel());
    for (int64_t i = 0; i < theta.numel(); ++i) {
      rotations.emplace_back(t[i], p[i]);
      matrices.push_back(rotations.back().matrix());
    }
  }
};

// The input block of rows (row0, row1) at column offsets (c0, c1); without
// coherence the target is diagonal and the off-diagonal entries are zero.
template <bool coherent, typename real_t>
Mat2<real_t> load_block(const c10::complex<real_t>* row0, const c10::complex<real_t>* row1, int64_t c0,
                        int64_t c1) {
  if constexpr (coherent) return {row0[c0], row0[c1], row1[c0], row1[c1]};
  return {row0[c0], {}, {}, row1[c1]};
}

template <bool coherent, typename real_t>
void store_block(c10::complex<real_t>* row0, c10::complex<real_t>* row1, int64_t c0, int64_t c1,
                 const Mat2<real_t>& m) {
  row0[c0] = m.m00;
  row1[c1] = m.m11;
  if constexpr (coherent) {
    row0[c1] = m.m01;
    row1[c0] = m.m10;
  }
}

template <typename real_t, bool coherent, Output output>
void forward_kernel(const StepLayout& l, int64_t batch, const RotationTable<real_t>& table,
                    const c10::complex<real_t>* in, c10::complex<real_t>* out) {
  using complex_t = c10::complex<real_t>;
  const int64_t rows = l.groups * l.pairs;
  at::parallel_for(0, batch * rows, grain_for(4 * l.pairs), [&](int64_t begin, int64_t end) {
    for (int64_t task = begin; task < end; ++task) {
      const int64_t b = task / rows, gp = task % rows, group = gp - gp % l.pairs;
      const Rotation<real_t>* rot = table.rotations.data() + b * table.stride;
      const Mat2<real_t>* mat = table.matrices.data() + b * table.stride;
      const int64_t cx = l.ctrl[gp];
      const Mat2<real_t>& rx = mat[cx];
      const complex_t* in0 = in + b * l.in_size + l.in_row[0][gp];
      const complex_t* in1 = in + b * l.in_size + l.in_row[1][gp];
      complex_t* out0 = out + b * l.out_size + l.out_row[0][gp];
      complex_t* out1 = out + b * l.out_size + l.out_row[1][gp];
      for (int64_t q = 0; q < l.pairs; ++q) {
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
      }
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

  for_each_chunk(work, chunks, [&](int64_t chunk, int64_t begin, int64_t end) {
    Acc* a = acc.data() + chunk * entries;
    for (int64_t task = begin; task < end; ++task) {
      const int64_t b = task / rows, gp = task % rows, group = gp - gp % l.pairs;
      const Rotation<real_t>* rot = table.rotations.data() + b * table.stride;
      const Mat2<real_t>* mat = table.matrices.data() + b * table.stride;
      Acc* a_b = a + b * table.stride;
      const int64_t cx = l.ctrl[gp];
      const int64_t i0 = b * l.in_size + l.in_row[0][gp], i1 = b * l.in_size + l.in_row[1][gp];
      const complex_t* g0 = g + b * l.out_size + l.out_row[0][gp];
      const complex_t* g1 = g + b * l.out_size + l.out_row[1][gp];
      Acc row_sum{};
      for (int64_t q = 0; q < l.pairs; ++q) {
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
      }
      a_b[cx] += row_sum;
    }
  });

  for (int64_t i = 0; i < entries; ++i) {
    Acc total{};
    for (int64_t chunk = 0; chunk < chunks; ++chunk) total += acc[chunk * entries + i];
    std::tie(grad_theta[i], grad_phi[i]) = angle_gradients(table.rotations[i], total);
  }
}

// Calls body(coherent, output) with both as compile-time constants
// (std::integral_constant) for the runtime choice.
template <typename Body>
void with_variant(bool coherent, Output output, const Body& body) {
  if (!coherent) return body(std::false_type{}, std::integral_constant<Output, Output::dephased>{});
  switch (output) {
    case Output::full: return body(std::true_type{}, std::integral_constant<Output, Output::full>{});
    case Output::dephased_zeros:
      return body(std::true_type{}, std::integral_constant<Output, Output::dephased_zeros>{});
    case Output::dephased: return body(std::true_type{}, std::integral_constant<Output, Output::dephased>{});
  }
}

// The kernels read both tables with one stride: a shared table meets a
// per-sample one by broadcasting over the batch.
std::pair<at::Tensor, at::Tensor> common_tables(int64_t batch, const at::Tensor& theta, const at::Tensor& phi) {
  if (theta.dim() == phi.dim()) return {theta.contiguous(), phi.contiguous()};
  const auto shape = std::vector<int64_t>{batch, theta.size(-1)};
  return {theta.expand(shape).contiguous(), phi.expand(shape).contiguous()};
}

// Gradient of a table that was broadcast over the batch: summed back.
at::Tensor reduce_to(const at::Tensor& grad, const at::Tensor& table) {
  return table.dim() == grad.dim() ? grad : grad.sum(0);
}

// The step planned by `plan` on `state` ([B, ...] complex), into a new tensor.
at::Tensor run_forward(const StepPlan& plan, const at::Tensor& state, const at::Tensor& theta,
                       const at::Tensor& phi) {
  const auto state_c = state.contiguous();
  const auto tables = common_tables(state.size(0), theta, phi);
  auto out = empty_large(plan.out_shape, state_c.options());
  AT_DISPATCH_FLOATING_TYPES(theta.scalar_type(), "hqrn_step_forward", [&] {
    using complex_t = c10::complex<scalar_t>;
    const RotationTable<scalar_t> table(tables.first, tables.second);
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
  const auto tables = common_tables(state.size(0), theta, phi);
  auto grad_state = empty_large(state_c.sizes(), state_c.options());
  auto grad_theta = at::empty_like(tables.first);
  auto grad_phi = at::empty_like(tables.second);
  AT_DISPATCH_FLOATING_TYPES(theta.scalar_type(), "hqrn_step_backward", [&] {
    using complex_t = c10::complex<scalar_t>;
    const RotationTable<scalar_t> table(tables.first, tables.second);
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

// ---- qrb_sweep: the dense steps of one block, validated once by
// prepare_sweep and run on their plans (no per-step validation). The forward
// keeps one state alive at a time; the backward recomputes the block's
// intermediate states from its input, so autograd saves one state per block
// instead of one per step (deep networks fit in memory).

at::Tensor qrb_sweep_cpu(const at::Tensor& rho, const at::Tensor& theta, const at::Tensor& phi,
                         at::IntArrayRef targets) {
  const auto plan = step::prepare_sweep(rho, theta, phi, targets);
  if (targets.empty()) return rho.clone();
  at::Tensor state = rho;
  for (const auto j : targets) state = run_forward(plan.step(j), state, theta[j], phi[j]);
  return state;
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> qrb_sweep_backward_cpu(const at::Tensor& grad, const at::Tensor& rho,
                                                                      const at::Tensor& theta, const at::Tensor& phi,
                                                                      at::IntArrayRef targets) {
  const auto plan = step::prepare_sweep(rho, theta, phi, targets);
  check::grad_like(grad, rho, "_qrb_sweep_backward", "rho");
  // Inputs of every step, recomputed; each is released once its step's backward has run.
  std::vector<at::Tensor> inputs{rho};
  for (size_t k = 0; k + 1 < targets.size(); ++k) {
    const int64_t j = targets[k];
    inputs.push_back(run_forward(plan.step(j), inputs.back(), theta[j], phi[j]));
  }
  auto grad_theta = at::zeros_like(theta);
  auto grad_phi = at::zeros_like(phi);
  if (targets.empty()) return {grad.clone(), grad_theta, grad_phi};
  at::Tensor g = grad;
  for (auto k = static_cast<int64_t>(targets.size()) - 1; k >= 0; --k) {
    const int64_t j = targets[k];
    auto [g_state, g_theta, g_phi] = run_backward(plan.step(j), g, inputs[k], theta[j], phi[j]);
    inputs[k] = at::Tensor();
    g = g_state;
    grad_theta[j] += g_theta;
    grad_phi[j] += g_phi;
  }
  return {g, grad_theta, grad_phi};
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
