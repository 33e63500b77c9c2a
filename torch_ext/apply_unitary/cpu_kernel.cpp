// CPU kernels of a k-qubit gate on density matrices, U rho U^dagger, with U
// the matrix u on `targets` (targets[0] = most significant bit of u's index)
// and the identity elsewhere. Arithmetic only: the inputs are validated and
// planned by prepare.h.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <vector>

#include "../memory.h"
#include "../parallel.h"
#include "gate_line.h"
#include "prepare.h"

namespace hqrn {
namespace {

using gate::GatePlan;
using gate::kMaxGateQubits;

// dst = M src (M acting on the rows' gate bits), or dst = src M^dagger when
// `on_columns` (M acting on the columns' gate bits).
template <typename complex_t>
void apply_gate(const GatePlan& g, const complex_t* m, const complex_t* src, complex_t* dst, bool on_columns) {
  const int64_t groups = static_cast<int64_t>(g.rest.size());
  at::parallel_for(0, g.batch * groups, grain_for(g.d * g.k_dim * g.k_dim), [&](int64_t begin, int64_t end) {
    complex_t in[1 << kMaxGateQubits], out[1 << kMaxGateQubits];
    for (int64_t task = begin; task < end; ++task) {
      const int64_t b = task / groups, r = g.rest[task % groups];
      const complex_t* mb = m + b * g.u_stride;
      const complex_t* s = src + b * g.d * g.d;
      complex_t* o = dst + b * g.d * g.d;
      for (int64_t line = 0; line < g.d; ++line) {
        // Row mode: column `line` of the rows (gate bits, r); column mode: row `line`.
        const auto pos = [&](int64_t a) { return on_columns ? line * g.d + (g.gate[a] | r) : (g.gate[a] | r) * g.d + line; };
        for (int64_t a = 0; a < g.k_dim; ++a) in[a] = s[pos(a)];
        gate::gate_line(mb, g.k_dim, in, out, on_columns);
        for (int64_t a = 0; a < g.k_dim; ++a) o[pos(a)] = out[a];
      }
    }
  });
}

// out[b][a, c] = sum_r sum_z A[b][(a, r), z] B[b][z, (c, r)]: the gradient of a
// full-register matrix reduced onto the gate's sub-register.
template <typename complex_t>
void contract_gate(const GatePlan& g, const complex_t* a_mat, const complex_t* b_mat, complex_t* out) {
  const int64_t kk = g.k_dim * g.k_dim;
  at::parallel_for(0, g.batch * kk, grain_for(g.d * static_cast<int64_t>(g.rest.size())), [&](int64_t begin, int64_t end) {
    for (int64_t task = begin; task < end; ++task) {
      const int64_t b = task / kk, a = (task % kk) / g.k_dim, c = task % g.k_dim;
      const complex_t* am = a_mat + b * g.d * g.d;
      const complex_t* bm = b_mat + b * g.d * g.d;
      complex_t sum(0);
      for (const int64_t r : g.rest) {
        const complex_t* row = am + (g.gate[a] | r) * g.d;
        const int64_t col = g.gate[c] | r;
        for (int64_t z = 0; z < g.d; ++z) sum += row[z] * bm[z * g.d + col];
      }
      out[task] = sum;
    }
  });
}

at::Tensor conj_transpose(const at::Tensor& m) { return at::conj_physical(m).transpose(-2, -1).contiguous(); }

at::Tensor apply_unitary_cpu(const at::Tensor& rho, const at::Tensor& u, at::IntArrayRef targets) {
  const GatePlan g = gate::prepare(rho, u, targets);
  const auto rho_c = rho.contiguous();
  const auto u_c = u.resolve_conj().contiguous();
  auto half = empty_large(rho_c.sizes(), rho_c.options());
  auto out = empty_large(rho_c.sizes(), rho_c.options());
  AT_DISPATCH_COMPLEX_TYPES(rho.scalar_type(), "apply_unitary", [&] {
    apply_gate(g, u_c.data_ptr<scalar_t>(), rho_c.data_ptr<scalar_t>(), half.data_ptr<scalar_t>(), false);
    apply_gate(g, u_c.data_ptr<scalar_t>(), half.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(), true);
  });
  return out;
}

// grad_rho = U^dagger G U; grad_U(full) = G U rho^dagger + G^dagger U rho,
// reduced onto u by contract_gate (and summed over the batch for a shared u).
std::tuple<at::Tensor, at::Tensor> apply_unitary_backward_cpu(const at::Tensor& grad, const at::Tensor& rho,
                                                              const at::Tensor& u, at::IntArrayRef targets) {
  const GatePlan g = gate::prepare(rho, u, targets);
  check::grad_like(grad, rho, "_apply_unitary_backward", "rho");
  const auto grad_c = grad.resolve_conj().contiguous();
  const auto rho_c = rho.resolve_conj().contiguous();
  const auto u_c = u.resolve_conj().contiguous();
  const auto u_adj = conj_transpose(u_c);
  const auto grad_adj = conj_transpose(grad_c);
  const auto rho_adj = conj_transpose(rho_c);
  auto tmp = empty_large(rho_c.sizes(), rho_c.options());
  auto grad_rho = empty_large(rho_c.sizes(), rho_c.options());
  auto u_rho = empty_large(rho_c.sizes(), rho_c.options());
  auto u_rho_adj = empty_large(rho_c.sizes(), rho_c.options());
  auto grad_u = at::empty({g.batch, g.k_dim, g.k_dim}, u.options());
  auto grad_u_second = at::empty_like(grad_u);
  AT_DISPATCH_COMPLEX_TYPES(rho.scalar_type(), "apply_unitary_backward", [&] {
    using c = scalar_t;
    apply_gate(g, u_adj.data_ptr<c>(), grad_c.data_ptr<c>(), tmp.data_ptr<c>(), false);
    apply_gate(g, u_adj.data_ptr<c>(), tmp.data_ptr<c>(), grad_rho.data_ptr<c>(), true);
    apply_gate(g, u_c.data_ptr<c>(), rho_adj.data_ptr<c>(), u_rho_adj.data_ptr<c>(), false);
    apply_gate(g, u_c.data_ptr<c>(), rho_c.data_ptr<c>(), u_rho.data_ptr<c>(), false);
    contract_gate(g, grad_c.data_ptr<c>(), u_rho_adj.data_ptr<c>(), grad_u.data_ptr<c>());
    contract_gate(g, grad_adj.data_ptr<c>(), u_rho.data_ptr<c>(), grad_u_second.data_ptr<c>());
  });
  grad_u.add_(grad_u_second);
  return {grad_rho, g.u_stride == 0 ? grad_u.sum(0) : grad_u};
}

}  // namespace

TORCH_LIBRARY_IMPL(hqrn, CPU, m) {
  m.impl("apply_unitary", &apply_unitary_cpu);
  m.impl("_apply_unitary_backward", &apply_unitary_backward_cpu);
}

}  // namespace hqrn
