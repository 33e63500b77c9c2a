// CPU kernels of the quantum residual step (spec sections 2 and 6), dense
// (qrb_step) and coherence-aware (aware_step).
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

#include "../check.h"
#include "../memory.h"
#include "../parallel.h"
#include "../rotation.h"
#include "../step_layout.h"

namespace hqrn {
namespace {

enum class Output {
  full,            // U rho U^dagger (no measurement): all four entries
  dephased_zeros,  // dense layout: the diagonal, and zeros in the discarded places
  dephased,        // aware layout: the discarded entries have no place
};

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

// A step on a checked input `state` ([B, ...] complex, contiguous) described
// by layout `l`, into a new tensor of shape `out_shape`.
at::Tensor run_forward(const StepLayout& l, const at::Tensor& state, const at::Tensor& theta, const at::Tensor& phi,
                       Output output, at::IntArrayRef out_shape) {
  const auto state_c = state.contiguous();
  const auto tables = common_tables(state.size(0), theta, phi);
  auto out = empty_large(out_shape, state_c.options());
  AT_DISPATCH_FLOATING_TYPES(theta.scalar_type(), "hqrn_step_forward", [&] {
    using complex_t = c10::complex<scalar_t>;
    const RotationTable<scalar_t> table(tables.first, tables.second);
    with_variant(l.coherent, output, [&](auto coherent, auto out_kind) {
      forward_kernel<scalar_t, decltype(coherent)::value, decltype(out_kind)::value>(
          l, state_c.size(0), table, state_c.data_ptr<complex_t>(), out.data_ptr<complex_t>());
    });
  });
  return out;
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> run_backward(const StepLayout& l, const at::Tensor& grad,
                                                            const at::Tensor& state, const at::Tensor& theta,
                                                            const at::Tensor& phi, Output output) {
  const auto grad_c = grad.contiguous();
  const auto state_c = state.contiguous();
  const auto tables = common_tables(state.size(0), theta, phi);
  auto grad_state = empty_large(state_c.sizes(), state_c.options());
  auto grad_theta = at::empty_like(tables.first);
  auto grad_phi = at::empty_like(tables.second);
  AT_DISPATCH_FLOATING_TYPES(theta.scalar_type(), "hqrn_step_backward", [&] {
    using complex_t = c10::complex<scalar_t>;
    const RotationTable<scalar_t> table(tables.first, tables.second);
    with_variant(l.coherent, output, [&](auto coherent, auto out_kind) {
      backward_kernel<scalar_t, decltype(coherent)::value, decltype(out_kind)::value>(
          l, state_c.size(0), table, grad_c.data_ptr<complex_t>(), state_c.data_ptr<complex_t>(),
          grad_state.data_ptr<complex_t>(), grad_theta.data_ptr<scalar_t>(), grad_phi.data_ptr<scalar_t>());
    });
  });
  return {grad_state, reduce_to(grad_theta, theta), reduce_to(grad_phi, phi)};
}

void check_grad(const at::Tensor& grad, at::IntArrayRef shape, const at::Tensor& state, const char* op) {
  check::cpu_tensor(grad, op, "grad");
  TORCH_CHECK(grad.sizes() == shape && grad.scalar_type() == state.scalar_type(), op,
              ": grad must have the output's shape ", shape, " and dtype ", state.scalar_type(), ", got ",
              grad.sizes(), " ", grad.scalar_type());
}

// ---- qrb_step: the dense layout [B, d, d]

constexpr const char* kDenseOp = "qrb_step";

int64_t check_dense(const at::Tensor& rho, const at::Tensor& theta, const at::Tensor& phi, int64_t target) {
  const int64_t n = check::density_batch(rho, kDenseOp);
  TORCH_CHECK(n >= 1, kDenseOp, ": rho must describe at least one qubit (d >= 2), got d = ", rho.size(1));
  check::qubit(target, n, kDenseOp, "target");
  const auto real_type = c10::toRealValueType(rho.scalar_type());
  check::angle_table(theta, rho.size(0), n, real_type, kDenseOp, "theta");
  check::angle_table(phi, rho.size(0), n, real_type, kDenseOp, "phi");
  return n;
}

at::Tensor qrb_step_cpu(const at::Tensor& rho, const at::Tensor& theta, const at::Tensor& phi, int64_t target,
                        bool dephase) {
  const int64_t n = check_dense(rho, theta, phi, target);
  return run_forward(dense_layout(n, target), rho, theta, phi, dephase ? Output::dephased_zeros : Output::full,
                     rho.sizes());
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> qrb_step_backward_cpu(const at::Tensor& grad, const at::Tensor& rho,
                                                                     const at::Tensor& theta, const at::Tensor& phi,
                                                                     int64_t target, bool dephase) {
  const int64_t n = check_dense(rho, theta, phi, target);
  check_grad(grad, rho.sizes(), rho, "_qrb_step_backward");
  return run_backward(dense_layout(n, target), grad, rho, theta, phi,
                      dephase ? Output::dephased_zeros : Output::full);
}

// ---- aware_step: the coherence-aware layout [B, 2^|D|, 2^m, 2^m]

constexpr const char* kAwareOp = "aware_step";

// A checked aware_step call: where its blocks live and its output's shape
// (the layout alone decides whether the target is already diagonal).
struct AwareCall {
  StepLayout layout;
  std::vector<int64_t> out_shape;
};

AwareCall prepare_aware(const at::Tensor& blocks, const at::Tensor& theta, const at::Tensor& phi, int64_t target,
                       at::IntArrayRef diagonal) {
  check::cpu_tensor(blocks, kAwareOp, "blocks");
  TORCH_CHECK(blocks.dim() == 4, kAwareOp, ": blocks must have shape [B, 2^|D|, 2^m, 2^m], got ", blocks.sizes());
  TORCH_CHECK(blocks.scalar_type() == at::kComplexFloat || blocks.scalar_type() == at::kComplexDouble, kAwareOp,
              ": blocks must be complex64 or complex128, got ", blocks.scalar_type());
  TORCH_CHECK(blocks.size(2) == blocks.size(3), kAwareOp, ": blocks must be square, got ", blocks.size(2), " x ",
              blocks.size(3));
  const int64_t n_diagonal = check::qubit_count(blocks.size(1), kAwareOp, "blocks' dimension 1 (2^|D|)");
  const int64_t n_coherent = check::qubit_count(blocks.size(2), kAwareOp, "blocks' dimension 2 (2^m)");
  const int64_t n = n_diagonal + n_coherent;
  TORCH_CHECK(n >= 1, kAwareOp, ": the register must have at least one qubit");
  TORCH_CHECK(static_cast<int64_t>(diagonal.size()) == n_diagonal, kAwareOp, ": diagonal lists ", diagonal.size(),
              " qubit(s) but blocks' dimension 1 is 2^", n_diagonal);
  auto list = check::qubit_list(diagonal, n, kAwareOp, "diagonal");
  TORCH_CHECK(std::is_sorted(list.begin(), list.end()), kAwareOp, ": diagonal must list its qubits in ascending order");
  check::qubit(target, n, kAwareOp, "target");
  const auto real_type = c10::toRealValueType(blocks.scalar_type());
  check::angle_table(theta, blocks.size(0), n, real_type, kAwareOp, "theta");
  check::angle_table(phi, blocks.size(0), n, real_type, kAwareOp, "phi");
  AwareCall call{aware_layout(n, target, list), blocks.sizes().vec()};
  if (call.layout.coherent) {  // the target is measured: it joins D
    call.out_shape[1] *= 2;
    call.out_shape[2] /= 2;
    call.out_shape[3] /= 2;
  }
  return call;
}

at::Tensor aware_step_cpu(const at::Tensor& blocks, const at::Tensor& theta, const at::Tensor& phi, int64_t target,
                          at::IntArrayRef diagonal) {
  const auto call = prepare_aware(blocks, theta, phi, target, diagonal);
  return run_forward(call.layout, blocks, theta, phi, Output::dephased, call.out_shape);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> aware_step_backward_cpu(const at::Tensor& grad,
                                                                       const at::Tensor& blocks,
                                                                       const at::Tensor& theta, const at::Tensor& phi,
                                                                       int64_t target, at::IntArrayRef diagonal) {
  const auto call = prepare_aware(blocks, theta, phi, target, diagonal);
  check_grad(grad, call.out_shape, blocks, "_aware_step_backward");
  return run_backward(call.layout, grad, blocks, theta, phi, Output::dephased);
}

}  // namespace

TORCH_LIBRARY_IMPL(hqrn, CPU, m) {
  m.impl("qrb_step", &qrb_step_cpu);
  m.impl("_qrb_step_backward", &qrb_step_backward_cpu);
  m.impl("aware_step", &aware_step_cpu);
  m.impl("_aware_step_backward", &aware_step_backward_cpu);
}

}  // namespace hqrn
