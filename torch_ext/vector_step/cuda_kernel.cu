// CUDA kernels of vector_step, on prepare.h's plan and pair.h's arithmetic
// (the CPU kernel's own). The rotation of every table entry is built once
// per call; the forward runs one thread per pair. The backward runs one
// thread per (group, slab, pair c): it writes the state's gradient of its
// slab's pairs c and the angle gradients of their X sums, and a second
// kernel adds those partials per table entry in a fixed order (no atomics:
// the same bits every run).
#include <ATen/ATen.h>
#include <torch/library.h>

#include <algorithm>
#include <tuple>

#include "../check.h"
#include "../cuda_launch.cuh"
#include "../qubit_index.h"
#include "../rotation.h"
#include "pair.h"
#include "prepare.h"

namespace hqrn {
namespace {

using vstep::VectorPlan;

template <typename real_t>
__global__ void rotations_kernel(VectorPlan s, const real_t* theta, const real_t* phi, Rotation<real_t>* out) {
  for (int64_t i = cuda::first_index(); i < s.groups * s.half; i += cuda::stride()) {
    const int64_t g = i / s.half, c = i % s.half;
    out[i] = Rotation<real_t>(theta[vstep::table_index(s.theta_shared, g, s.half, c)],
                              phi[vstep::table_index(s.phi_shared, g, s.half, c)]);
  }
}

// Device storage of the rotations of entries (g, c), g < groups.
template <typename real_t>
at::Tensor rotation_table(const VectorPlan& s, const at::Tensor& theta, const at::Tensor& phi) {
  const int64_t entries = s.groups * s.half;
  auto storage = at::empty({entries * static_cast<int64_t>(sizeof(Rotation<real_t>))},
                           theta.options().dtype(at::kByte));
  rotations_kernel<real_t><<<cuda::grid_for(entries), cuda::kThreads, 0, cuda::stream()>>>(
      s, theta.data_ptr<real_t>(), phi.data_ptr<real_t>(), reinterpret_cast<Rotation<real_t>*>(storage.data_ptr()));
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return storage;
}

template <typename real_t>
const Rotation<real_t>* rotations(const at::Tensor& storage) {
  return reinterpret_cast<const Rotation<real_t>*>(storage.data_ptr());
}

template <typename real_t>
__global__ void forward_kernel(VectorPlan s, const Rotation<real_t>* rot, const c10::complex<real_t>* psi,
                               c10::complex<real_t>* out) {
  for (int64_t task = cuda::first_index(); task < s.vectors * s.half; task += cuda::stride()) {
    const int64_t v = task / s.half, c = task % s.half;
    const int64_t x0 = index::insert_zero_bit(c, s.mask), x1 = x0 | s.mask;
    const Mat2<real_t> m = rot[v / s.group_vectors * s.half + c].matrix();
    const c10::complex<real_t>* in = psi + v * s.d;
    vstep::rotate_pair(m, in[x0], in[x1], &out[v * s.d + x0], &out[v * s.d + x1]);
  }
}

// Slabs per group: enough threads to fill the device where groups * half
// pairs alone would not (a shared table on few qubits).
constexpr int64_t kMinThreads = int64_t{1} << 16;

int64_t slabs_of(const VectorPlan& s) {
  const int64_t wanted = (kMinThreads + s.groups * s.half - 1) / (s.groups * s.half);
  return std::clamp<int64_t>(wanted, 1, std::max<int64_t>(s.group_vectors, 1));
}

// Thread (g, slab, c), consecutive threads on consecutive c: the state's
// gradient of pair c in each of the slab's vectors, and the angle gradients
// of their summed X into part_theta / part_phi (pair.h's layout).
template <typename real_t>
__global__ void backward_kernel(VectorPlan s, int64_t slabs, const Rotation<real_t>* rot,
                                const c10::complex<real_t>* g, const c10::complex<real_t>* psi,
                                c10::complex<real_t>* grad_psi, real_t* part_theta, real_t* part_phi) {
  for (int64_t i = cuda::first_index(); i < s.groups * slabs * s.half; i += cuda::stride()) {
    const int64_t c = i % s.half, gs = i / s.half, group = gs / slabs;
    int64_t v_begin = 0, v_end = 0;
    vstep::slab_range(s.group_vectors, slabs, gs % slabs, &v_begin, &v_end);
    const Rotation<real_t> r = rot[group * s.half + c];
    const Mat2<real_t> r_adj = r.matrix().adjoint();
    const int64_t x0 = index::insert_zero_bit(c, s.mask), x1 = x0 | s.mask;
    Mat2<real_t> x{};
    for (int64_t v = group * s.group_vectors + v_begin; v < group * s.group_vectors + v_end; ++v) {
      const c10::complex<real_t>* in = psi + v * s.d;
      const c10::complex<real_t>* gv = g + v * s.d;
      vstep::rotate_pair(r_adj, gv[x0], gv[x1], &grad_psi[v * s.d + x0], &grad_psi[v * s.d + x1]);
      x += vstep::pair_outer(in[x0], in[x1], gv[x0], gv[x1]);
    }
    const auto grads = angle_gradients(r, x);
    part_theta[i] = grads.first;
    part_phi[i] = grads.second;
  }
}

template <typename real_t>
__global__ void reduce_kernel(VectorPlan s, int64_t slabs, const real_t* part, bool shared, real_t* out) {
  const int64_t entries = (shared ? 1 : s.groups) * s.half;
  for (int64_t e = cuda::first_index(); e < entries; e += cuda::stride()) {
    out[e] = vstep::table_entry_grad(part, shared, s.groups, slabs, s.half, e / s.half, e % s.half);
  }
}

at::Tensor vector_step_cuda(const at::Tensor& psi, const at::Tensor& theta, const at::Tensor& phi, int64_t target) {
  check::same_device(vstep::kOp, {{"psi", &psi}, {"theta", &theta}, {"phi", &phi}});
  const c10::cuda::CUDAGuard guard(psi.device());
  const VectorPlan s = vstep::prepare(psi, theta, phi, target);
  const auto psi_c = psi.contiguous();
  const auto theta_c = theta.contiguous();
  const auto phi_c = phi.contiguous();
  auto out = at::empty_like(psi_c);
  if (s.vectors * s.half == 0) return out;
  AT_DISPATCH_COMPLEX_TYPES(psi.scalar_type(), "vector_step_cuda", [&] {
    using real_t = typename scalar_t::value_type;
    const auto rot = rotation_table<real_t>(s, theta_c, phi_c);
    forward_kernel<real_t><<<cuda::grid_for(s.vectors * s.half), cuda::kThreads, 0, cuda::stream()>>>(
        s, rotations<real_t>(rot), psi_c.data_ptr<scalar_t>(), out.data_ptr<scalar_t>());
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
  return out;
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> vector_step_backward_cuda(const at::Tensor& grad, const at::Tensor& psi,
                                                                         const at::Tensor& theta,
                                                                         const at::Tensor& phi, int64_t target) {
  check::same_device(vstep::kBackwardOp, {{"grad", &grad}, {"psi", &psi}, {"theta", &theta}, {"phi", &phi}});
  const c10::cuda::CUDAGuard guard(psi.device());
  const VectorPlan s = vstep::prepare(psi, theta, phi, target);
  check::output_grad(grad, psi.sizes(), psi, vstep::kBackwardOp);
  const auto g_c = grad.contiguous();
  const auto psi_c = psi.contiguous();
  const auto theta_c = theta.contiguous();
  const auto phi_c = phi.contiguous();
  const int64_t slabs = slabs_of(s);
  const int64_t parts = s.groups * slabs * s.half;
  auto grad_psi = at::empty_like(psi_c);
  auto grad_theta = at::empty_like(theta_c);
  auto grad_phi = at::empty_like(phi_c);
  auto part = at::empty({2, parts}, theta_c.options());
  AT_DISPATCH_COMPLEX_TYPES(psi.scalar_type(), "vector_step_backward_cuda", [&] {
    using real_t = typename scalar_t::value_type;
    const auto rot = rotation_table<real_t>(s, theta_c, phi_c);
    real_t* part_theta = part.data_ptr<real_t>();
    real_t* part_phi = part_theta + parts;
    // Every thread writes its partials, an empty slab's as zeros.
    backward_kernel<real_t><<<cuda::grid_for(parts), cuda::kThreads, 0, cuda::stream()>>>(
        s, slabs, rotations<real_t>(rot), g_c.data_ptr<scalar_t>(), psi_c.data_ptr<scalar_t>(),
        grad_psi.data_ptr<scalar_t>(), part_theta, part_phi);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
    const auto reduce = [&](const real_t* p, bool shared, at::Tensor& out) {
      reduce_kernel<real_t><<<cuda::grid_for(out.numel()), cuda::kThreads, 0, cuda::stream()>>>(
          s, slabs, p, shared, out.data_ptr<real_t>());
      C10_CUDA_KERNEL_LAUNCH_CHECK();
    };
    reduce(part_theta, s.theta_shared, grad_theta);
    reduce(part_phi, s.phi_shared, grad_phi);
  });
  return {grad_psi, grad_theta, grad_phi};
}

}  // namespace

TORCH_LIBRARY_IMPL(hqrn, CUDA, m) {
  m.impl("vector_step", &vector_step_cuda);
  m.impl("_vector_step_backward", &vector_step_backward_cuda);
}

}  // namespace hqrn
