// CUDA kernels of apply_kraus and aware_apply_kraus, on the plans of
// prepare.h and the arithmetic of superoperator.h, both the CPU kernels' own
// (cpu_kernel.cpp's header comment has the formulas).
//
// Conjugate mode: one thread per k_dim x k_dim block (forward and the input
// gradient). The Kraus gradient's C = sum G_rs (x) conj(rho_rs) is summed per
// (matrix, column group) by one thread over the row groups, then over those
// partials per Kraus set in a fixed order. Mix mode: one thread per entry;
// grad_T per (state, entry) in double, reduced in a fixed order. No atomics.
//
// aware_apply_kraus's check that a channel keeps a diagonal qubit diagonal
// (prepare.h, check_keeps_diagonal) reads the Kraus values on the host: one
// device-to-host copy of the small Kraus tensor per call on that path.
#include <ATen/ATen.h>
#include <torch/library.h>

#include <cstdint>
#include <tuple>

#include "../check.h"
#include "../cuda_launch.cuh"
#include "prepare.h"
#include "superoperator.h"

namespace hqrn {
namespace {

using kraus::KrausPlan;
using kraus::Mode;

constexpr int64_t kMaxDim = int64_t{1} << kraus::kMaxKrausQubits;  // 4
constexpr int64_t kMaxBlock = kMaxDim * kMaxDim;                   // 16

at::Tensor prepared(const at::Tensor& t) { return t.resolve_conj().resolve_neg().contiguous(); }

// The plan's scalars and its offset tables on the device.
struct DevicePlan {
  int64_t k_dim, ops, batch, kraus_sets, per_set, d, groups;
  bool per_sample;
  const int64_t *gate, *rest;
  int64_t blocks, block_entries, mix_mask;
  C10_HOST_DEVICE int64_t set_of(int64_t i) const { return per_sample ? i / per_set : 0; }
};

// Offsets of block (i, r, s)'s entries, pos[a * k_dim + c].
C10_DEVICE inline void block_positions(const DevicePlan& p, int64_t i, int64_t r, int64_t s, int64_t* pos) {
  const int64_t base = i * p.d * p.d;
  for (int64_t a = 0; a < p.k_dim; ++a)
    for (int64_t c = 0; c < p.k_dim; ++c) pos[a * p.k_dim + c] = base + (p.gate[a] | r) * p.d + (p.gate[c] | s);
}

// S (or S^dagger) of every Kraus set: one thread per set.
template <typename complex_t>
__global__ void superoperator_kernel(DevicePlan p, const complex_t* kraus, bool adjoint, complex_t* s) {
  const int64_t kk = p.k_dim * p.k_dim;
  for (int64_t j = cuda::first_index(); j < p.kraus_sets; j += cuda::stride()) {
    complex_t* sj = s + j * kk * kk;
    for (int64_t e = 0; e < kk * kk; ++e) sj[e] = complex_t(0);
    for (int64_t m = 0; m < p.ops; ++m) kraus::add_superoperator(kraus + (j * p.ops + m) * kk, p.k_dim, sj, adjoint);
  }
}

// out block = S vec(in block), one thread per block (i, r, s), s fastest.
template <typename complex_t>
__global__ void conjugate_kernel(DevicePlan p, const complex_t* s_all, const complex_t* src, complex_t* dst) {
  const int64_t kk = p.k_dim * p.k_dim, work = p.batch * p.groups * p.groups;
  for (int64_t t = cuda::first_index(); t < work; t += cuda::stride()) {
    const int64_t s_index = t % p.groups, r_index = (t / p.groups) % p.groups, i = t / (p.groups * p.groups);
    int64_t pos[kMaxBlock];
    complex_t in[kMaxBlock], out[kMaxBlock];
    block_positions(p, i, p.rest[r_index], p.rest[s_index], pos);
    for (int64_t e = 0; e < kk; ++e) in[e] = src[pos[e]];
    kraus::mat_vec(s_all + p.set_of(i) * kk * kk, in, out, kk);
    for (int64_t e = 0; e < kk; ++e) dst[pos[e]] = out[e];
  }
}

// C partial of matrix i and column group s_index, summed over the row
// groups in order: partial[(i * groups + s_index) * c_size + ...].
template <typename complex_t>
__global__ void outer_kernel(DevicePlan p, const complex_t* grad, const complex_t* src, complex_t* partial) {
  const int64_t kk = p.k_dim * p.k_dim, c_size = kk * kk, work = p.batch * p.groups;
  for (int64_t t = cuda::first_index(); t < work; t += cuda::stride()) {
    const int64_t s_index = t % p.groups, i = t / p.groups;
    complex_t* acc = partial + t * c_size;
    for (int64_t e = 0; e < c_size; ++e) acc[e] = complex_t(0);
    int64_t pos[kMaxBlock];
    complex_t g_block[kMaxBlock], rho_conj[kMaxBlock];
    for (int64_t r_index = 0; r_index < p.groups; ++r_index) {
      block_positions(p, i, p.rest[r_index], p.rest[s_index], pos);
      for (int64_t e = 0; e < kk; ++e) {
        g_block[e] = grad[pos[e]];
        rho_conj[e] = std::conj(src[pos[e]]);
      }
      kraus::add_outer(acc, g_block, rho_conj, kk);
    }
  }
}

// C of each Kraus set: its partials (matrices of the set, column groups) in order.
template <typename complex_t>
__global__ void set_sum_kernel(DevicePlan p, const complex_t* partial, complex_t* c_total) {
  const int64_t c_size = p.k_dim * p.k_dim * p.k_dim * p.k_dim, work = p.kraus_sets * c_size;
  const int64_t rows_per_set = (p.per_sample ? p.per_set : p.batch) * p.groups;
  for (int64_t t = cuda::first_index(); t < work; t += cuda::stride()) {
    const int64_t j = t / c_size, e = t % c_size;
    const complex_t* base = partial + j * rows_per_set * c_size + e;
    complex_t total(0);
    for (int64_t row = 0; row < rows_per_set; ++row) total += base[row * c_size];
    c_total[t] = total;
  }
}

// grad_K_m[a, c] per thread.
template <typename complex_t>
__global__ void kraus_grad_kernel(DevicePlan p, const complex_t* c_total, const complex_t* kraus,
                                  complex_t* grad_kraus) {
  const int64_t kd = p.k_dim, kk = kd * kd, c_size = kk * kk, work = p.kraus_sets * p.ops * kk;
  for (int64_t t = cuda::first_index(); t < work; t += cuda::stride()) {
    const int64_t jm = t / kk, a = (t % kk) / kd, c = t % kd, j = jm / p.ops;
    grad_kraus[t] = kraus::kraus_grad_entry(c_total + j * c_size, kraus + jm * kk, kd, a, c);
  }
}

// T of every Kraus set (mix mode), one thread per set.
template <typename complex_t, typename real_t>
__global__ void transfer_kernel(DevicePlan p, const complex_t* kraus, real_t* t) {
  for (int64_t j = cuda::first_index(); j < p.kraus_sets; j += cuda::stride()) {
    for (int64_t e = 0; e < 4; ++e) t[j * 4 + e] = real_t(0);
    for (int64_t m = 0; m < p.ops; ++m) kraus::add_transfer(kraus + (j * p.ops + m) * 4, t + j * 4);
  }
}

// Mix forward: one thread per (state i, block pair, entry e).
template <typename complex_t, typename real_t>
__global__ void mix_forward_kernel(DevicePlan p, const real_t* t_all, const complex_t* src, complex_t* dst) {
  const int64_t pairs = p.blocks / 2, e_count = p.block_entries, work = p.batch * pairs * e_count;
  for (int64_t t = cuda::first_index(); t < work; t += cuda::stride()) {
    const int64_t e = t % e_count, task = t / e_count, i = task / pairs;
    const int64_t a0 = index::insert_zero_bit(task % pairs, p.mix_mask), a1 = a0 | p.mix_mask;
    const real_t* tj = t_all + p.set_of(i) * 4;
    const complex_t v0 = src[(i * p.blocks + a0) * e_count + e], v1 = src[(i * p.blocks + a1) * e_count + e];
    dst[(i * p.blocks + a0) * e_count + e] = tj[0] * v0 + tj[1] * v1;
    dst[(i * p.blocks + a1) * e_count + e] = tj[2] * v0 + tj[3] * v1;
  }
}

// Mix backward: one thread per (state i, entry e), over the block pairs in
// order: the input gradient, and grad_T's partial (double) per (i, e).
template <typename complex_t, typename real_t>
__global__ void mix_backward_kernel(DevicePlan p, const real_t* t_all, const complex_t* grad, const complex_t* src,
                                    complex_t* grad_src, double* partial) {
  const int64_t pairs = p.blocks / 2, e_count = p.block_entries, work = p.batch * e_count;
  for (int64_t t = cuda::first_index(); t < work; t += cuda::stride()) {
    const int64_t e = t % e_count, i = t / e_count;
    const real_t* tj = t_all + p.set_of(i) * 4;
    double acc[4] = {0, 0, 0, 0};
    for (int64_t pair = 0; pair < pairs; ++pair) {
      const int64_t a0 = index::insert_zero_bit(pair, p.mix_mask), a1 = a0 | p.mix_mask;
      const int64_t at0 = (i * p.blocks + a0) * e_count + e, at1 = (i * p.blocks + a1) * e_count + e;
      const complex_t x0 = grad[at0], x1 = grad[at1], v0 = src[at0], v1 = src[at1];
      grad_src[at0] = tj[0] * x0 + tj[2] * x1;
      grad_src[at1] = tj[1] * x0 + tj[3] * x1;
      acc[0] += (std::conj(x0) * v0).real();
      acc[1] += (std::conj(x0) * v1).real();
      acc[2] += (std::conj(x1) * v0).real();
      acc[3] += (std::conj(x1) * v1).real();
    }
    for (int k = 0; k < 4; ++k) partial[t * 4 + k] = acc[k];
  }
}

// grad_K_m[x, b] = 2 grad_T[x, b] K_m[x, b]; grad_T of set j sums the partials
// of its states' entries in order. One thread per (set, m, entry).
template <typename complex_t, typename real_t>
__global__ void mix_kraus_grad_kernel(DevicePlan p, const double* partial, const complex_t* kraus,
                                      complex_t* grad_kraus) {
  const int64_t work = p.kraus_sets * p.ops * 4, e_count = p.block_entries;
  const int64_t states_per_set = p.per_sample ? 1 : p.batch;
  for (int64_t t = cuda::first_index(); t < work; t += cuda::stride()) {
    const int64_t k = t % 4, j = t / (4 * p.ops);
    double g_t = 0;
    for (int64_t i = j * states_per_set; i < (j + 1) * states_per_set; ++i)
      for (int64_t e = 0; e < e_count; ++e) g_t += partial[(i * e_count + e) * 4 + k];
    grad_kraus[t] = static_cast<real_t>(2 * g_t) * kraus[t];
  }
}

struct UploadedPlan {
  cuda::Uploaded tables;
  DevicePlan view;
};

UploadedPlan upload_plan(const KrausPlan& p, const at::Device& device) {
  UploadedPlan u;
  u.tables = cuda::upload({&p.gate, &p.rest}, device);
  u.view = {p.k_dim, p.ops, p.batch, p.kraus_sets, p.per_set, p.d, static_cast<int64_t>(p.rest.size()),
            p.per_sample, u.tables.at(0), u.tables.at(1), p.blocks, p.block_entries, p.mix_mask};
  return u;
}

// Per Kraus set, on the device: the mix mode's 2x2 transfer table (real), or
// the superoperator (its adjoint for the backward), as forward and backward use them.
template <typename complex_t, typename View>
at::Tensor transfer_tables(const View& p, const KrausPlan& plan, const complex_t* kraus,
                           const at::TensorOptions& options) {
  using real_t = typename complex_t::value_type;
  at::Tensor t = at::empty({plan.kraus_sets * 4}, options.dtype(c10::CppTypeToScalarType<real_t>::value));
  transfer_kernel<complex_t, real_t><<<cuda::grid_for(plan.kraus_sets), cuda::kThreads, 0, cuda::stream()>>>(
      p, kraus, t.data_ptr<real_t>());
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return t;
}

template <typename complex_t, typename View>
at::Tensor superoperators(const View& p, const KrausPlan& plan, const complex_t* kraus, bool adjoint,
                          const at::TensorOptions& options) {
  const int64_t kk = plan.k_dim * plan.k_dim;
  at::Tensor out = at::empty({plan.kraus_sets * kk * kk}, options);
  superoperator_kernel<complex_t><<<cuda::grid_for(plan.kraus_sets), cuda::kThreads, 0, cuda::stream()>>>(
      p, kraus, adjoint, out.data_ptr<complex_t>());
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return out;
}

template <typename complex_t>
void run_forward(const KrausPlan& plan, const complex_t* kraus, const complex_t* src, complex_t* dst,
                 const at::TensorOptions& options) {
  using real_t = typename complex_t::value_type;
  const auto u = upload_plan(plan, options.device());
  const auto& p = u.view;
  const auto s = cuda::stream();
  if (plan.mode == Mode::mix) {
    const at::Tensor t = transfer_tables<complex_t>(p, plan, kraus, options);
    const int64_t work = plan.batch * (plan.blocks / 2) * plan.block_entries;
    if (work == 0) return;
    mix_forward_kernel<complex_t, real_t><<<cuda::grid_for(work), cuda::kThreads, 0, s>>>(
        p, t.data_ptr<real_t>(), src, dst);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
    return;
  }
  const at::Tensor s_all = superoperators<complex_t>(p, plan, kraus, false, options);
  const int64_t work = plan.batch * p.groups * p.groups;
  if (work == 0) return;
  conjugate_kernel<complex_t><<<cuda::grid_for(work), cuda::kThreads, 0, s>>>(p, s_all.data_ptr<complex_t>(), src,
                                                                               dst);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

template <typename complex_t>
void run_backward(const KrausPlan& plan, const complex_t* kraus, const complex_t* grad, const complex_t* src,
                  complex_t* grad_src, complex_t* grad_kraus, const at::TensorOptions& options) {
  using real_t = typename complex_t::value_type;
  const auto u = upload_plan(plan, options.device());
  const auto& p = u.view;
  const auto s = cuda::stream();
  if (plan.mode == Mode::mix) {
    const at::Tensor t = transfer_tables<complex_t>(p, plan, kraus, options);
    const int64_t work = plan.batch * plan.block_entries;
    const at::Tensor partial = at::zeros({std::max<int64_t>(work, 1) * 4}, options.dtype(at::kDouble));
    if (work > 0) {
      mix_backward_kernel<complex_t, real_t><<<cuda::grid_for(work), cuda::kThreads, 0, s>>>(
          p, t.data_ptr<real_t>(), grad, src, grad_src, partial.data_ptr<double>());
      C10_CUDA_KERNEL_LAUNCH_CHECK();
    }
    const int64_t k_work = plan.kraus_sets * plan.ops * 4;
    mix_kraus_grad_kernel<complex_t, real_t><<<cuda::grid_for(k_work), cuda::kThreads, 0, s>>>(
        p, partial.data_ptr<double>(), kraus, grad_kraus);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
    return;
  }
  const int64_t kk = plan.k_dim * plan.k_dim, c_size = kk * kk;
  const at::Tensor s_adj = superoperators<complex_t>(p, plan, kraus, true, options);
  const int64_t blocks = plan.batch * p.groups * p.groups, rows = plan.batch * p.groups;
  const at::Tensor partial = at::zeros({std::max<int64_t>(rows, 1) * c_size}, options);
  if (blocks > 0) {
    conjugate_kernel<complex_t><<<cuda::grid_for(blocks), cuda::kThreads, 0, s>>>(
        p, s_adj.data_ptr<complex_t>(), grad, grad_src);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
    outer_kernel<complex_t><<<cuda::grid_for(rows), cuda::kThreads, 0, s>>>(p, grad, src,
                                                                            partial.data_ptr<complex_t>());
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  }
  const at::Tensor c_total = at::empty({plan.kraus_sets * c_size}, options);
  set_sum_kernel<complex_t><<<cuda::grid_for(plan.kraus_sets * c_size), cuda::kThreads, 0, s>>>(
      p, partial.data_ptr<complex_t>(), c_total.data_ptr<complex_t>());
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  kraus_grad_kernel<complex_t><<<cuda::grid_for(plan.kraus_sets * plan.ops * kk), cuda::kThreads, 0, s>>>(
      p, c_total.data_ptr<complex_t>(), kraus, grad_kraus);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

at::Tensor forward(const KrausPlan& plan, const at::Tensor& state, const at::Tensor& kraus) {
  const auto state_c = prepared(state);
  const auto kraus_c = prepared(kraus);
  auto out = at::empty(plan.out_shape, state_c.options());
  AT_DISPATCH_COMPLEX_TYPES(state.scalar_type(), "apply_kraus_cuda", [&] {
    run_forward<scalar_t>(plan, kraus_c.data_ptr<scalar_t>(), state_c.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(),
                          state_c.options());
  });
  return out;
}

std::tuple<at::Tensor, at::Tensor> backward(const KrausPlan& plan, const at::Tensor& grad, const at::Tensor& state,
                                            const at::Tensor& kraus) {
  const auto grad_c = prepared(grad);
  const auto state_c = prepared(state);
  const auto kraus_c = prepared(kraus);
  auto grad_state = at::empty(state_c.sizes(), state_c.options());
  auto grad_kraus = at::empty(kraus_c.sizes(), kraus_c.options());
  AT_DISPATCH_COMPLEX_TYPES(state.scalar_type(), "apply_kraus_backward_cuda", [&] {
    run_backward<scalar_t>(plan, kraus_c.data_ptr<scalar_t>(), grad_c.data_ptr<scalar_t>(),
                           state_c.data_ptr<scalar_t>(), grad_state.data_ptr<scalar_t>(),
                           grad_kraus.data_ptr<scalar_t>(), state_c.options());
  });
  return {grad_state, grad_kraus};
}

at::Tensor apply_kraus_cuda(const at::Tensor& rho, const at::Tensor& kraus, at::IntArrayRef targets) {
  check::same_device("apply_kraus", {{"rho", &rho}, {"kraus", &kraus}});
  const c10::cuda::CUDAGuard guard(rho.device());
  return forward(kraus::prepare_dense(rho, kraus, targets), rho, kraus);
}

std::tuple<at::Tensor, at::Tensor> apply_kraus_backward_cuda(const at::Tensor& grad, const at::Tensor& rho,
                                                             const at::Tensor& kraus, at::IntArrayRef targets) {
  check::same_device("_apply_kraus_backward", {{"grad", &grad}, {"rho", &rho}, {"kraus", &kraus}});
  const c10::cuda::CUDAGuard guard(rho.device());
  const auto plan = kraus::prepare_dense(rho, kraus, targets, "_apply_kraus_backward");
  check::output_grad(grad, plan.out_shape, rho, "_apply_kraus_backward");
  return backward(plan, grad, rho, kraus);
}

at::Tensor aware_apply_kraus_cuda(const at::Tensor& blocks, const at::Tensor& kraus, at::IntArrayRef targets,
                                  at::IntArrayRef diagonal) {
  check::same_device("aware_apply_kraus", {{"blocks", &blocks}, {"kraus", &kraus}});
  const c10::cuda::CUDAGuard guard(blocks.device());
  return forward(kraus::prepare_aware(blocks, kraus, targets, diagonal), blocks, kraus);
}

std::tuple<at::Tensor, at::Tensor> aware_apply_kraus_backward_cuda(const at::Tensor& grad, const at::Tensor& blocks,
                                                                   const at::Tensor& kraus, at::IntArrayRef targets,
                                                                   at::IntArrayRef diagonal) {
  check::same_device("_aware_apply_kraus_backward", {{"grad", &grad}, {"blocks", &blocks}, {"kraus", &kraus}});
  const c10::cuda::CUDAGuard guard(blocks.device());
  const auto plan = kraus::prepare_aware(blocks, kraus, targets, diagonal, "_aware_apply_kraus_backward");
  check::output_grad(grad, plan.out_shape, blocks, "_aware_apply_kraus_backward");
  return backward(plan, grad, blocks, kraus);
}

}  // namespace

TORCH_LIBRARY_IMPL(hqrn, CUDA, m) {
  m.impl("apply_kraus", &apply_kraus_cuda);
  m.impl("_apply_kraus_backward", &apply_kraus_backward_cuda);
  m.impl("aware_apply_kraus", &aware_apply_kraus_cuda);
  m.impl("_aware_apply_kraus_backward", &aware_apply_kraus_backward_cuda);
}

}  // namespace hqrn
