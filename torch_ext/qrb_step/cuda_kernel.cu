// CUDA kernels of the quantum residual step: qrb_step (dense layout),
// aware_step (coherence-aware layout) and qrb_sweep, on the plans of
// prepare.h (validated once, as for the CPU) and the arithmetic of rotation.h
// and block.h, which the CPU kernels use too.
//
// One thread per 2x2 block (sample b, row pair gp, column pair q): the block
// is read once and written once. The backward runs on 16 x 16 tiles of
// blocks; each tile sums its row pairs' and its column pairs' factor
// gradients in shared memory in a fixed order into per-tile partials, and a
// second kernel adds the partials of each table entry in a fixed order and
// turns them into dL/dtheta, dL/dphi: no atomics, the same bits every run.
#include <ATen/ATen.h>
#include <torch/library.h>

#include <cstdint>
#include <tuple>
#include <type_traits>
#include <vector>

#include "../check.h"
#include "../cuda_launch.cuh"
#include "../rotation.h"
#include "block.h"
#include "prepare.h"
#include "sweep.h"

namespace hqrn {
namespace {

using step::Output;
using step::StepPlan;

// The StepLayout's tables on the device (cuda::upload of the host plan).
struct DeviceLayout {
  int64_t groups, pairs, in_size, out_size;
  const int64_t *ctrl, *in_row0, *in_row1, *out_row0, *out_row1, *in_col0, *in_col1, *out_col0, *out_col1;
};

struct UploadedLayout {
  cuda::Uploaded tables;
  DeviceLayout view;
};

UploadedLayout upload_layout(const StepLayout& l, const at::Device& device) {
  UploadedLayout u;
  u.tables = cuda::upload({&l.ctrl, &l.in_row[0], &l.in_row[1], &l.out_row[0], &l.out_row[1], &l.in_col[0],
                           &l.in_col[1], &l.out_col[0], &l.out_col[1]},
                          device);
  const auto& t = u.tables;
  u.view = {l.groups, l.pairs, l.in_size, l.out_size, t.at(0), t.at(1), t.at(2), t.at(3),
            t.at(4),  t.at(5), t.at(6),   t.at(7),    t.at(8)};
  return u;
}

// The rotation of every table entry, built once per call on the device.
template <typename real_t>
__global__ void rotations_kernel(const real_t* theta, const real_t* phi, int64_t entries, Rotation<real_t>* out) {
  for (int64_t i = cuda::first_index(); i < entries; i += cuda::stride()) out[i] = Rotation<real_t>(theta[i], phi[i]);
}

template <typename real_t>
Rotation<real_t>* rotations(const at::Tensor& storage) {
  return reinterpret_cast<Rotation<real_t>*>(storage.data_ptr<uint8_t>());
}

// Device storage of the rotations of (expanded, contiguous) tables.
template <typename real_t>
at::Tensor rotation_table(const at::Tensor& theta, const at::Tensor& phi) {
  const int64_t entries = theta.numel();
  auto storage = at::empty({std::max<int64_t>(entries, 1) * static_cast<int64_t>(sizeof(Rotation<real_t>))},
                           theta.options().dtype(at::kByte));
  if (entries > 0) {
    rotations_kernel<real_t><<<cuda::grid_for(entries), cuda::kThreads, 0, cuda::stream()>>>(
        theta.data_ptr<real_t>(), phi.data_ptr<real_t>(), entries, rotations<real_t>(storage));
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  }
  return storage;
}

// Which table row sample b reads: tables of `len` entries, one per
// `per_table` consecutive samples (all of them for a shared table).
struct TableRows {
  int64_t len, per_table;
  C10_HOST_DEVICE int64_t offset(int64_t b) const { return b / per_table * len; }
};

TableRows rows_of_tables(const at::Tensor& expanded_theta, int64_t batch) {
  const int64_t len = expanded_theta.size(-1);
  const int64_t rows = expanded_theta.dim() == 2 ? expanded_theta.size(0) : 1;
  return {len, rows > 0 && batch > 0 ? std::max<int64_t>(batch / rows, 1) : 1};
}

template <typename real_t, bool coherent, Output output>
__global__ void forward_kernel(DeviceLayout l, int64_t batch, TableRows tr, const Rotation<real_t>* rotations,
                               const c10::complex<real_t>* in, c10::complex<real_t>* out) {
  using complex_t = c10::complex<real_t>;
  const int64_t rows = l.groups * l.pairs, work = batch * rows * l.pairs;
  for (int64_t i = cuda::first_index(); i < work; i += cuda::stride()) {
    const int64_t q = i % l.pairs, task = i / l.pairs;
    const int64_t b = task / rows, gp = task % rows, group = gp - gp % l.pairs;
    const Rotation<real_t>* rot = rotations + tr.offset(b);
    const int64_t cx = l.ctrl[gp], cy = l.ctrl[group + q];
    const complex_t* in0 = in + b * l.in_size + l.in_row0[gp];
    const complex_t* in1 = in + b * l.in_size + l.in_row1[gp];
    complex_t* out0 = out + b * l.out_size + l.out_row0[gp];
    complex_t* out1 = out + b * l.out_size + l.out_row1[gp];
    const Mat2<real_t> m = step::load_block<coherent>(in0, in1, l.in_col0[q], l.in_col1[q]);
    const int64_t o0 = l.out_col0[q], o1 = l.out_col1[q];
    if constexpr (output == Output::full) {
      step::store_block<true>(out0, out1, o0, o1, rot[cx].matrix() * m * rot[cy].matrix().adjoint());
    } else {
      const auto diag = measured_block<coherent>(rot[cx], rot[cy], cy == cx, m);
      out0[o0] = diag.first;
      out1[o1] = diag.second;
      if constexpr (output == Output::dephased_zeros) out0[o1] = out1[o0] = complex_t(0);
    }
  }
}

constexpr int kTile = 16;

// Backward on tiles of kTile x kTile blocks: blockIdx.x = (b * groups + group)
// * row_tiles + row tile, blockIdx.y = column tile. Writes the input gradient
// and, per tile, the row pairs' summed factor gradients (row_part[(b * rows +
// gp) * col_tiles + column tile]) and the column pairs' (col_part[((b * groups
// + group) * row_tiles + row tile) * pairs + q]).
template <typename real_t, bool coherent, Output output, typename Acc>
__global__ void backward_tile_kernel(DeviceLayout l, TableRows tr, const Rotation<real_t>* rotations,
                                     const c10::complex<real_t>* g, const c10::complex<real_t>* in,
                                     c10::complex<real_t>* grad_in, int64_t row_tiles, int64_t col_tiles,
                                     Acc* row_part, Acc* col_part) {
  using complex_t = c10::complex<real_t>;
  // Shared storage without constructors (CUDA allows none on __shared__).
  __shared__ alignas(Acc) unsigned char row_raw[kTile * kTile * sizeof(Acc)];
  __shared__ alignas(Acc) unsigned char col_raw[kTile * kTile * sizeof(Acc)];
  Acc* row_acc = reinterpret_cast<Acc*>(row_raw);
  Acc* col_acc = reinterpret_cast<Acc*>(col_raw);

  const int tx = threadIdx.x, ty = threadIdx.y;
  const int64_t rt = blockIdx.x % row_tiles, bg = blockIdx.x / row_tiles;
  const int64_t group_index = bg % l.groups, b = bg / l.groups, ct = blockIdx.y;
  const int64_t p = rt * kTile + ty, q = ct * kTile + tx;
  const int64_t group = group_index * l.pairs, gp = group + p;
  const int64_t rows = l.groups * l.pairs;

  Acc row{}, col{};
  if (p < l.pairs && q < l.pairs) {
    const Rotation<real_t>* rot = rotations + tr.offset(b);
    const int64_t cx = l.ctrl[gp], cy = l.ctrl[group + q];
    const int64_t i0 = b * l.in_size + l.in_row0[gp], i1 = b * l.in_size + l.in_row1[gp];
    const complex_t* g0 = g + b * l.out_size + l.out_row0[gp];
    const complex_t* g1 = g + b * l.out_size + l.out_row1[gp];
    const int64_t c0 = l.in_col0[q], c1 = l.in_col1[q];
    const Mat2<real_t> m = step::load_block<coherent>(in + i0, in + i1, c0, c1);
    if constexpr (output == Output::full) {
      const Mat2<real_t> rx_adj = rot[cx].matrix().adjoint(), ry = rot[cy].matrix();
      const Mat2<real_t> gb = step::load_block<true>(g0, g1, l.out_col0[q], l.out_col1[q]);
      step::store_block<coherent>(grad_in + i0, grad_in + i1, c0, c1, rx_adj * gb * ry);
      row += m * ry.adjoint() * gb.adjoint();
      col += m.adjoint() * rx_adj * gb;
    } else {
      const complex_t gd0 = g0[l.out_col0[q]], gd1 = g1[l.out_col1[q]];
      step::store_block<coherent>(grad_in + i0, grad_in + i1, c0, c1,
                                  measured_block_input_grad(rot[cx], rot[cy], cy == cx, gd0, gd1));
      add_measured_block_factor_grads<coherent>(rot[cx], rot[cy], m, gd0, gd1, row, col);
    }
  }
  row_acc[ty * kTile + tx] = row;
  col_acc[ty * kTile + tx] = col;
  __syncthreads();
  if (tx == 0 && p < l.pairs) {
    Acc sum = row_acc[ty * kTile];
    for (int x = 1; x < kTile; ++x) sum += row_acc[ty * kTile + x];
    row_part[(b * rows + gp) * col_tiles + ct] = sum;
  }
  if (ty == 0 && q < l.pairs) {
    Acc sum = col_acc[tx];
    for (int y = 1; y < kTile; ++y) sum += col_acc[y * kTile + tx];
    col_part[((b * l.groups + group_index) * row_tiles + rt) * l.pairs + q] = sum;
  }
}

// One thread per (table row, slot s = group * pairs + p): the slot's row
// partials, then its column partials, over the table's samples in order.
// ctrl maps the slots of a table one to one onto its entries.
template <typename real_t, typename Acc>
__global__ void angle_grad_kernel(DeviceLayout l, int64_t batch, TableRows tr, int64_t table_rows,
                                  const Rotation<real_t>* rotations, int64_t row_tiles, int64_t col_tiles,
                                  const Acc* row_part, const Acc* col_part, real_t* grad_theta, real_t* grad_phi) {
  const int64_t rows = l.groups * l.pairs, work = table_rows * rows;
  for (int64_t i = cuda::first_index(); i < work; i += cuda::stride()) {
    const int64_t table = i / rows, s = i % rows, group_index = s / l.pairs, p = s % l.pairs;
    Acc total{};
    const int64_t b_end = table == table_rows - 1 ? batch : std::min(batch, (table + 1) * tr.per_table);
    for (int64_t b = table * tr.per_table; b < b_end; ++b) {
      for (int64_t ct = 0; ct < col_tiles; ++ct) total += row_part[(b * rows + s) * col_tiles + ct];
      for (int64_t rt = 0; rt < row_tiles; ++rt) {
        total += col_part[((b * l.groups + group_index) * row_tiles + rt) * l.pairs + p];
      }
    }
    const int64_t e = table * tr.len + l.ctrl[s];
    const auto grads = angle_gradients(rotations[e], total);
    grad_theta[e] = grads.first;
    grad_phi[e] = grads.second;
  }
}

// A table's gradient summed back over the batch where it was broadcast
// (step::reduce_to, in a fixed order).
at::Tensor reduce_to_table(const at::Tensor& grad, const at::Tensor& table) {
  if (table.dim() == grad.dim()) return grad;
  auto out = at::empty({grad.size(1)}, grad.options());
  AT_DISPATCH_FLOATING_TYPES(grad.scalar_type(), "hqrn_step_reduce", [&] {
    cuda::sum_rows(grad.data_ptr<scalar_t>(), grad.size(0), grad.size(1), out.data_ptr<scalar_t>());
  });
  return out;
}

at::Tensor run_forward(const StepPlan& plan, const at::Tensor& state, const at::Tensor& theta,
                       const at::Tensor& phi) {
  const auto state_c = state.contiguous();
  const auto tables = step::common_tables(theta, phi);
  auto out = at::empty(plan.out_shape, state_c.options());
  const int64_t batch = state_c.size(0);
  const auto& l = plan.layout;
  const int64_t work = batch * l.groups * l.pairs * l.pairs;
  if (work == 0) return out;
  const auto layout = upload_layout(l, state_c.device());
  const auto tr = rows_of_tables(tables.first, batch);
  AT_DISPATCH_FLOATING_TYPES(theta.scalar_type(), "hqrn_step_forward_cuda", [&] {
    using complex_t = c10::complex<scalar_t>;
    const auto rot = rotation_table<scalar_t>(tables.first, tables.second);
    step::with_variant(l.coherent, plan.output, [&](auto coherent, auto out_kind) {
      forward_kernel<scalar_t, decltype(coherent)::value, decltype(out_kind)::value>
          <<<cuda::grid_for(work), cuda::kThreads, 0, cuda::stream()>>>(
              layout.view, batch, tr, rotations<scalar_t>(rot), state_c.data_ptr<complex_t>(),
              out.data_ptr<complex_t>());
      C10_CUDA_KERNEL_LAUNCH_CHECK();
    });
  });
  return out;
}

// The backward's two kernels for one variant: tiles, then the table entries.
template <typename real_t, bool coherent, Output output>
void launch_backward(const DeviceLayout& l, int64_t batch, TableRows tr, int64_t table_rows,
                     const Rotation<real_t>* rot, const c10::complex<real_t>* g, const c10::complex<real_t>* in,
                     c10::complex<real_t>* grad_in, real_t* grad_theta, real_t* grad_phi,
                     const at::TensorOptions& options) {
  using Acc = std::conditional_t<output == Output::full, Mat2<real_t>, FactorGrad<real_t>>;
  const int64_t rows = l.groups * l.pairs;
  const int64_t row_tiles = (l.pairs + kTile - 1) / kTile, col_tiles = row_tiles;
  const auto buffer = [&](int64_t count) {
    return at::empty({std::max<int64_t>(count, 1) * static_cast<int64_t>(sizeof(Acc))}, options.dtype(at::kByte));
  };
  const auto row_part = buffer(batch * rows * col_tiles);
  const auto col_part = buffer(batch * l.groups * row_tiles * l.pairs);
  Acc* row_ptr = static_cast<Acc*>(row_part.data_ptr());
  Acc* col_ptr = static_cast<Acc*>(col_part.data_ptr());
  if (batch > 0 && rows > 0) {
    const dim3 grid(static_cast<unsigned>(batch * l.groups * row_tiles), static_cast<unsigned>(col_tiles));
    backward_tile_kernel<real_t, coherent, output, Acc><<<grid, dim3(kTile, kTile), 0, cuda::stream()>>>(
        l, tr, rot, g, in, grad_in, row_tiles, col_tiles, row_ptr, col_ptr);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  }
  if (table_rows * rows > 0) {
    angle_grad_kernel<real_t, Acc><<<cuda::grid_for(table_rows * rows), cuda::kThreads, 0, cuda::stream()>>>(
        l, batch, tr, table_rows, rot, row_tiles, col_tiles, row_ptr, col_ptr, grad_theta, grad_phi);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  }
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> run_backward(const StepPlan& plan, const at::Tensor& grad,
                                                            const at::Tensor& state, const at::Tensor& theta,
                                                            const at::Tensor& phi) {
  const auto grad_c = grad.contiguous();
  const auto state_c = state.contiguous();
  const auto tables = step::common_tables(theta, phi);
  auto grad_state = at::empty(state_c.sizes(), state_c.options());
  auto grad_theta = at::empty_like(tables.first);
  auto grad_phi = at::empty_like(tables.second);
  const int64_t batch = state_c.size(0);
  const int64_t table_rows = tables.first.numel() / std::max<int64_t>(tables.first.size(-1), 1);
  const auto layout = upload_layout(plan.layout, state_c.device());
  const auto tr = rows_of_tables(tables.first, batch);
  AT_DISPATCH_FLOATING_TYPES(theta.scalar_type(), "hqrn_step_backward_cuda", [&] {
    using complex_t = c10::complex<scalar_t>;
    const auto rot = rotation_table<scalar_t>(tables.first, tables.second);
    step::with_variant(plan.layout.coherent, plan.output, [&](auto coherent, auto out_kind) {
      launch_backward<scalar_t, decltype(coherent)::value, decltype(out_kind)::value>(
          layout.view, batch, tr, table_rows, rotations<scalar_t>(rot), grad_c.data_ptr<complex_t>(),
          state_c.data_ptr<complex_t>(), grad_state.data_ptr<complex_t>(), grad_theta.data_ptr<scalar_t>(),
          grad_phi.data_ptr<scalar_t>(), state_c.options());
    });
  });
  return {grad_state, reduce_to_table(grad_theta, theta), reduce_to_table(grad_phi, phi)};
}

// ---- The registered kernels: the CPU kernels' prepare steps, then the device.

at::Tensor qrb_step_cuda(const at::Tensor& rho, const at::Tensor& theta, const at::Tensor& phi, int64_t target,
                         bool dephase) {
  check::same_device("qrb_step", {{"rho", &rho}, {"theta", &theta}, {"phi", &phi}});
  const c10::cuda::CUDAGuard guard(rho.device());
  return run_forward(step::prepare_dense(rho, theta, phi, target, dephase), rho, theta, phi);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> qrb_step_backward_cuda(const at::Tensor& grad, const at::Tensor& rho,
                                                                      const at::Tensor& theta, const at::Tensor& phi,
                                                                      int64_t target, bool dephase) {
  check::same_device("_qrb_step_backward", {{"grad", &grad}, {"rho", &rho}, {"theta", &theta}, {"phi", &phi}});
  const c10::cuda::CUDAGuard guard(rho.device());
  const auto plan = step::prepare_dense(rho, theta, phi, target, dephase);
  check::output_grad(grad, plan.out_shape, rho, "_qrb_step_backward");
  return run_backward(plan, grad, rho, theta, phi);
}

at::Tensor aware_step_cuda(const at::Tensor& blocks, const at::Tensor& theta, const at::Tensor& phi, int64_t target,
                           at::IntArrayRef diagonal) {
  check::same_device("aware_step", {{"blocks", &blocks}, {"theta", &theta}, {"phi", &phi}});
  const c10::cuda::CUDAGuard guard(blocks.device());
  return run_forward(step::prepare_aware(blocks, theta, phi, target, diagonal), blocks, theta, phi);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> aware_step_backward_cuda(const at::Tensor& grad,
                                                                        const at::Tensor& blocks,
                                                                        const at::Tensor& theta, const at::Tensor& phi,
                                                                        int64_t target, at::IntArrayRef diagonal) {
  check::same_device("_aware_step_backward",
                     {{"grad", &grad}, {"blocks", &blocks}, {"theta", &theta}, {"phi", &phi}});
  const c10::cuda::CUDAGuard guard(blocks.device());
  const auto plan = step::prepare_aware(blocks, theta, phi, target, diagonal);
  check::output_grad(grad, plan.out_shape, blocks, "_aware_step_backward");
  return run_backward(plan, grad, blocks, theta, phi);
}

// qrb_sweep: as on the CPU, validated once, each step on its plan; the
// backward recomputes the block's intermediate states from its input.
// ---- qrb_sweep: sweep.h on this file's step kernels.

at::Tensor qrb_sweep_cuda(const at::Tensor& rho, const at::Tensor& theta, const at::Tensor& phi,
                          at::IntArrayRef targets) {
  check::same_device("qrb_sweep", {{"rho", &rho}, {"theta", &theta}, {"phi", &phi}});
  const c10::cuda::CUDAGuard guard(rho.device());
  return step::sweep_forward(rho, theta, phi, targets, run_forward);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> qrb_sweep_backward_cuda(const at::Tensor& grad, const at::Tensor& rho,
                                                                       const at::Tensor& theta, const at::Tensor& phi,
                                                                       at::IntArrayRef targets) {
  check::same_device("_qrb_sweep_backward", {{"grad", &grad}, {"rho", &rho}, {"theta", &theta}, {"phi", &phi}});
  const c10::cuda::CUDAGuard guard(rho.device());
  return step::sweep_backward(grad, rho, theta, phi, targets, run_forward, run_backward);
}

}  // namespace

TORCH_LIBRARY_IMPL(hqrn, CUDA, m) {
  m.impl("qrb_step", &qrb_step_cuda);
  m.impl("_qrb_step_backward", &qrb_step_backward_cuda);
  m.impl("qrb_sweep", &qrb_sweep_cuda);
  m.impl("_qrb_sweep_backward", &qrb_sweep_backward_cuda);
  m.impl("aware_step", &aware_step_cuda);
  m.impl("_aware_step_backward", &aware_step_backward_cuda);
}

}  // namespace hqrn
