// CPU kernels of the residual step on state vectors: every component vector
// of every sample is rotated pair by pair by the multiplexed rotation U_target.
// Arithmetic only: the inputs are validated and planned by prepare.h.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>
#include <tuple>
#include <vector>

#include "../memory.h"
#include "../parallel.h"
#include "../qubit_index.h"
#include "../rotation.h"
#include "pair.h"
#include "prepare.h"

namespace hqrn {
namespace {

using vstep::VectorPlan;

// The rotation of every entry (g, c) of the plan's table rows: its
// coefficients computed once per entry rather than once per pair.
// There are as many entries as pairs in one component (2^(n-1) per group),
// so with few states their four transcendentals each weigh as much as the
// rotation itself: they are computed on every thread too.
template <typename real_t>
std::vector<Rotation<real_t>> rotations(const VectorPlan& s, const real_t* theta, const real_t* phi) {
  std::vector<Rotation<real_t>> out(static_cast<size_t>(s.groups * s.half), Rotation<real_t>(0, 0));
  at::parallel_for(0, s.groups * s.half, grain_for(64), [&](int64_t begin, int64_t end) {
    for (int64_t e = begin; e < end; ++e) {
      const int64_t g = e / s.half, c = e % s.half;
      out[static_cast<size_t>(e)] = Rotation<real_t>(theta[vstep::table_index(s.theta_shared, g, s.half, c)],
                                                     phi[vstep::table_index(s.phi_shared, g, s.half, c)]);
    }
  });
  return out;
}

// One vector at a time within each chunk: the vector's table row is found
// once per vector, not with two divisions per pair.
template <typename real_t>
void forward_kernel(const VectorPlan& s, const std::vector<Rotation<real_t>>& rot, const c10::complex<real_t>* psi,
                    c10::complex<real_t>* out) {
  at::parallel_for(0, s.vectors * s.half, grain_for(4), [&](int64_t begin, int64_t end) {
    int64_t v = begin / s.half, c = begin % s.half;
    for (int64_t task = begin; task < end; ++v, c = 0) {
      const Rotation<real_t>* r = rot.data() + v / s.group_vectors * s.half;
      const c10::complex<real_t>* in = psi + v * s.d;
      c10::complex<real_t>* o = out + v * s.d;
      const int64_t stop = std::min(s.half, c + (end - task));
      task += stop - c;
      for (; c < stop; ++c) {
        const int64_t x0 = index::insert_zero_bit(c, s.mask), x1 = x0 | s.mask;
        vstep::rotate_pair(r[c].matrix(), in[x0], in[x1], &o[x0], &o[x1]);
      }
    }
  });
}

// The backward's work units: (group, slab of the group's vectors, tile of
// kTilePairs pairs). Each unit owns its partial sums, so nothing is shared
// between threads, and the units depend on the plan alone, not on the
// thread count (parallel.h's chunk_count would change the order of the sums
// with it): the gradients are the same bits on 1 and on 2 threads. Slabs are
// added only where groups and tiles give fewer than kUnits units (a shared
// table on few qubits), and the tiles keep each unit's accumulators small.
constexpr int64_t kTilePairs = 256;
constexpr int64_t kUnits = 64;

struct Split {
  int64_t tiles, slabs;
};

Split split_of(const VectorPlan& s) {
  const int64_t tiles = (s.half + kTilePairs - 1) / kTilePairs;
  const int64_t wanted = (kUnits + s.groups * tiles - 1) / (s.groups * tiles);
  return {tiles, std::clamp<int64_t>(wanted, 1, std::max<int64_t>(s.group_vectors, 1))};
}

// grad_psi = R^dagger g pairwise; each unit sums X = v g^H over its slab per
// table entry of its tile and stores the entry's angle gradients in
// part_theta / part_phi (pair.h's layout), added up in order by the caller.
template <typename real_t>
void backward_kernel(const VectorPlan& s, const Split& sp, const std::vector<Rotation<real_t>>& rot,
                     const c10::complex<real_t>* g, const c10::complex<real_t>* psi, c10::complex<real_t>* grad_psi,
                     real_t* part_theta, real_t* part_phi) {
  const int64_t units = s.groups * sp.slabs * sp.tiles;
  const int64_t tile = std::min(s.half, kTilePairs);
  const int64_t unit_pairs = std::max<int64_t>(1, (s.group_vectors + sp.slabs - 1) / sp.slabs * tile);
  at::parallel_for(0, units, grain_for(6 * unit_pairs), [&](int64_t begin, int64_t end) {
    std::vector<Mat2<real_t>> x(static_cast<size_t>(tile));
    for (int64_t unit = begin; unit < end; ++unit) {
      const int64_t t = unit % sp.tiles, gs = unit / sp.tiles, group = gs / sp.slabs;
      const int64_t c_begin = t * kTilePairs, c_end = std::min(s.half, c_begin + kTilePairs);
      int64_t v_begin = 0, v_end = 0;
      vstep::slab_range(s.group_vectors, sp.slabs, gs % sp.slabs, &v_begin, &v_end);
      const Rotation<real_t>* r = rot.data() + group * s.half;
      std::fill(x.begin(), x.end(), Mat2<real_t>{});
      for (int64_t v = group * s.group_vectors + v_begin; v < group * s.group_vectors + v_end; ++v) {
        const c10::complex<real_t>* in = psi + v * s.d;
        const c10::complex<real_t>* gv = g + v * s.d;
        c10::complex<real_t>* out = grad_psi + v * s.d;
        for (int64_t c = c_begin; c < c_end; ++c) {
          const int64_t x0 = index::insert_zero_bit(c, s.mask), x1 = x0 | s.mask;
          vstep::rotate_pair(r[c].matrix().adjoint(), gv[x0], gv[x1], &out[x0], &out[x1]);
          x[c - c_begin] += vstep::pair_outer(in[x0], in[x1], gv[x0], gv[x1]);
        }
      }
      for (int64_t c = c_begin; c < c_end; ++c) {
        const auto grads = angle_gradients(r[c], x[c - c_begin]);
        part_theta[gs * s.half + c] = grads.first;
        part_phi[gs * s.half + c] = grads.second;
      }
    }
  });
}

// Every entry of a table from the partial sums, in pair.h's fixed order.
template <typename real_t>
void reduce_table(const VectorPlan& s, const Split& sp, const real_t* part, bool shared, real_t* out) {
  const int64_t entries = (shared ? 1 : s.groups) * s.half;
  const int64_t terms = (shared ? s.groups : 1) * sp.slabs;
  at::parallel_for(0, entries, grain_for(terms), [&](int64_t begin, int64_t end) {
    for (int64_t e = begin; e < end; ++e) {
      out[e] = vstep::table_entry_grad(part, shared, s.groups, sp.slabs, s.half, e / s.half, e % s.half);
    }
  });
}

at::Tensor vector_step_cpu(const at::Tensor& psi, const at::Tensor& theta, const at::Tensor& phi, int64_t target) {
  const VectorPlan s = vstep::prepare(psi, theta, phi, target);
  const auto psi_c = psi.contiguous();
  const auto theta_c = theta.contiguous();
  const auto phi_c = phi.contiguous();
  auto out = empty_large(psi_c.sizes(), psi_c.options());
  AT_DISPATCH_COMPLEX_TYPES(psi.scalar_type(), "vector_step_forward", [&] {
    using real_t = typename scalar_t::value_type;
    const auto rot = rotations(s, theta_c.data_ptr<real_t>(), phi_c.data_ptr<real_t>());
    forward_kernel<real_t>(s, rot, psi_c.data_ptr<scalar_t>(), out.data_ptr<scalar_t>());
  });
  return out;
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> vector_step_backward_cpu(const at::Tensor& grad, const at::Tensor& psi,
                                                                        const at::Tensor& theta, const at::Tensor& phi,
                                                                        int64_t target) {
  const VectorPlan s = vstep::prepare(psi, theta, phi, target);
  check::output_grad(grad, psi.sizes(), psi, vstep::kBackwardOp);
  const auto g_c = grad.contiguous();
  const auto psi_c = psi.contiguous();
  const auto theta_c = theta.contiguous();
  const auto phi_c = phi.contiguous();
  const Split sp = split_of(s);
  auto grad_psi = empty_large(psi_c.sizes(), psi_c.options());
  auto grad_theta = at::empty_like(theta_c);
  auto grad_phi = at::empty_like(phi_c);
  auto part = at::empty({2, s.groups * sp.slabs * s.half}, theta_c.options());
  AT_DISPATCH_COMPLEX_TYPES(psi.scalar_type(), "vector_step_backward", [&] {
    using real_t = typename scalar_t::value_type;
    const auto rot = rotations(s, theta_c.data_ptr<real_t>(), phi_c.data_ptr<real_t>());
    real_t* part_theta = part.data_ptr<real_t>();
    real_t* part_phi = part_theta + s.groups * sp.slabs * s.half;
    backward_kernel<real_t>(s, sp, rot, g_c.data_ptr<scalar_t>(), psi_c.data_ptr<scalar_t>(),
                            grad_psi.data_ptr<scalar_t>(), part_theta, part_phi);
    reduce_table<real_t>(s, sp, part_theta, s.theta_shared, grad_theta.data_ptr<real_t>());
    reduce_table<real_t>(s, sp, part_phi, s.phi_shared, grad_phi.data_ptr<real_t>());
  });
  return {grad_psi, grad_theta, grad_phi};
}

}  // namespace

TORCH_LIBRARY_IMPL(hqrn, CPU, m) {
  m.impl("vector_step", &vector_step_cpu);
  m.impl("_vector_step_backward", &vector_step_backward_cpu);
}

}  // namespace hqrn
