// CUDA kernels of apply_unitary, on prepare.h's plan and gate_line.h's
// arithmetic (the CPU kernel's own). The gate acts on one line (a column of
// the rows' gate bits, or a row of the columns') per thread; the gradient of
// u sums, per (sample, entry of u), one partial per configuration of the
// other qubits, then those partials in a fixed order: no atomics.
#include <ATen/ATen.h>
#include <torch/library.h>

#include <tuple>

#include "../check.h"
#include "../cuda_launch.cuh"
#include "gate_line.h"
#include "prepare.h"

namespace hqrn {
namespace {

using gate::GatePlan;
using gate::kMaxGateQubits;

struct DeviceGate {
  int64_t batch, d, k_dim, u_stride, groups;
  const int64_t *gate, *rest;
};

// dst = M src (rows' gate bits) or src M^dagger (`on_columns`): one thread
// per (sample, other qubits' configuration r, line).
template <typename complex_t>
__global__ void apply_gate_kernel(DeviceGate g, const complex_t* m, const complex_t* src, complex_t* dst,
                                  bool on_columns) {
  for (int64_t t = cuda::first_index(); t < g.batch * g.groups * g.d; t += cuda::stride()) {
    const int64_t line = t % g.d, task = t / g.d, b = task / g.groups, r = g.rest[task % g.groups];
    const complex_t* s = src + b * g.d * g.d;
    complex_t* o = dst + b * g.d * g.d;
    complex_t in[1 << kMaxGateQubits], out[1 << kMaxGateQubits];
    for (int64_t a = 0; a < g.k_dim; ++a) {
      in[a] = s[on_columns ? line * g.d + (g.gate[a] | r) : (g.gate[a] | r) * g.d + line];
    }
    gate::gate_line(m + b * g.u_stride, g.k_dim, in, out, on_columns);
    for (int64_t a = 0; a < g.k_dim; ++a) {
      o[on_columns ? line * g.d + (g.gate[a] | r) : (g.gate[a] | r) * g.d + line] = out[a];
    }
  }
}

// partial[r_index][(b * kk + a * k_dim + c)] = sum_z A[b][(a, r), z] B[b][z, (c, r)].
template <typename complex_t>
__global__ void contract_kernel(DeviceGate g, const complex_t* a_mat, const complex_t* b_mat, complex_t* partial) {
  const int64_t kk = g.k_dim * g.k_dim, cols = g.batch * kk;
  for (int64_t t = cuda::first_index(); t < g.groups * cols; t += cuda::stride()) {
    const int64_t r_index = t / cols, col_index = t % cols;
    const int64_t b = col_index / kk, a = (col_index % kk) / g.k_dim, c = col_index % g.k_dim;
    const int64_t r = g.rest[r_index];
    const complex_t* row = a_mat + b * g.d * g.d + (g.gate[a] | r) * g.d;
    const complex_t* bm = b_mat + b * g.d * g.d;
    const int64_t col = g.gate[c] | r;
    complex_t sum(0);
    for (int64_t z = 0; z < g.d; ++z) sum += row[z] * bm[z * g.d + col];
    partial[t] = sum;
  }
}

at::Tensor conj_transpose(const at::Tensor& m) { return at::conj_physical(m).transpose(-2, -1).contiguous(); }

template <typename complex_t>
void apply_gate(const DeviceGate& g, const at::Tensor& m, const at::Tensor& src, at::Tensor& dst, bool on_columns) {
  const int64_t work = g.batch * g.groups * g.d;
  if (work == 0) return;
  apply_gate_kernel<complex_t><<<cuda::grid_for(work), cuda::kThreads, 0, cuda::stream()>>>(
      g, m.data_ptr<complex_t>(), src.data_ptr<complex_t>(), dst.data_ptr<complex_t>(), on_columns);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

// [B, k, k]: contract_kernel's partials summed over the configurations in order.
template <typename complex_t>
at::Tensor contract(const DeviceGate& g, const at::Tensor& a_mat, const at::Tensor& b_mat) {
  const int64_t cols = g.batch * g.k_dim * g.k_dim;
  const at::Tensor partial = at::empty({g.groups, cols}, a_mat.options());
  const at::Tensor out = at::empty({g.batch, g.k_dim, g.k_dim}, a_mat.options());
  if (cols == 0) return out;
  contract_kernel<complex_t><<<cuda::grid_for(g.groups * cols), cuda::kThreads, 0, cuda::stream()>>>(
      g, a_mat.data_ptr<complex_t>(), b_mat.data_ptr<complex_t>(), partial.data_ptr<complex_t>());
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  cuda::sum_rows(partial.data_ptr<complex_t>(), g.groups, cols, out.data_ptr<complex_t>());
  return out;
}

DeviceGate device_gate(const GatePlan& p, const cuda::Uploaded& offsets) {
  return {p.batch, p.d, p.k_dim, p.u_stride, static_cast<int64_t>(p.rest.size()), offsets.at(0), offsets.at(1)};
}

at::Tensor apply_unitary_cuda(const at::Tensor& rho, const at::Tensor& u, at::IntArrayRef targets) {
  check::same_device("apply_unitary", {{"rho", &rho}, {"u", &u}});
  const c10::cuda::CUDAGuard guard(rho.device());
  const GatePlan p = gate::prepare(rho, u, targets);
  const auto rho_c = rho.contiguous();
  const auto u_c = u.resolve_conj().contiguous();
  auto half = at::empty_like(rho_c);
  auto out = at::empty_like(rho_c);
  const auto offsets = cuda::upload({&p.gate, &p.rest}, rho.device());
  const DeviceGate g = device_gate(p, offsets);
  AT_DISPATCH_COMPLEX_TYPES(rho.scalar_type(), "apply_unitary_cuda", [&] {
    apply_gate<scalar_t>(g, u_c, rho_c, half, false);
    apply_gate<scalar_t>(g, u_c, half, out, true);
  });
  return out;
}

// As on the CPU: grad_rho = U^dagger G U; grad_U(full) = G U rho^dagger +
// G^dagger U rho reduced onto u (and over the batch for a shared u).
std::tuple<at::Tensor, at::Tensor> apply_unitary_backward_cuda(const at::Tensor& grad, const at::Tensor& rho,
                                                               const at::Tensor& u, at::IntArrayRef targets) {
  check::same_device("_apply_unitary_backward", {{"grad", &grad}, {"rho", &rho}, {"u", &u}});
  const c10::cuda::CUDAGuard guard(rho.device());
  const GatePlan p = gate::prepare(rho, u, targets);
  check::grad_like(grad, rho, "_apply_unitary_backward", "rho");
  const auto grad_c = grad.resolve_conj().contiguous();
  const auto rho_c = rho.resolve_conj().contiguous();
  const auto u_c = u.resolve_conj().contiguous();
  const auto u_adj = conj_transpose(u_c);
  const auto grad_adj = conj_transpose(grad_c);
  const auto rho_adj = conj_transpose(rho_c);
  auto tmp = at::empty_like(rho_c);
  auto grad_rho = at::empty_like(rho_c);
  auto u_rho = at::empty_like(rho_c);
  auto u_rho_adj = at::empty_like(rho_c);
  at::Tensor grad_u;
  const auto offsets = cuda::upload({&p.gate, &p.rest}, rho.device());
  const DeviceGate g = device_gate(p, offsets);
  AT_DISPATCH_COMPLEX_TYPES(rho.scalar_type(), "apply_unitary_backward_cuda", [&] {
    apply_gate<scalar_t>(g, u_adj, grad_c, tmp, false);
    apply_gate<scalar_t>(g, u_adj, tmp, grad_rho, true);
    apply_gate<scalar_t>(g, u_c, rho_adj, u_rho_adj, false);
    apply_gate<scalar_t>(g, u_c, rho_c, u_rho, false);
    grad_u = contract<scalar_t>(g, grad_c, u_rho_adj);
    grad_u.add_(contract<scalar_t>(g, grad_adj, u_rho));
    if (p.u_stride == 0) {  // shared u: summed over the batch in order
      const at::Tensor shared = at::empty({p.k_dim, p.k_dim}, grad_u.options());
      cuda::sum_rows(grad_u.data_ptr<scalar_t>(), p.batch, p.k_dim * p.k_dim, shared.data_ptr<scalar_t>());
      grad_u = shared;
    }
  });
  return {grad_rho, grad_u};
}

}  // namespace

TORCH_LIBRARY_IMPL(hqrn, CUDA, m) {
  m.impl("apply_unitary", &apply_unitary_cuda);
  m.impl("_apply_unitary_backward", &apply_unitary_backward_cuda);
}

}  // namespace hqrn
