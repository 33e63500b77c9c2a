// CPU kernels of apply_kraus and aware_apply_kraus (arithmetic only; the
// inputs are validated and planned by prepare.h).
//
// Conjugate mode, rho -> sum_m K_m rho K_m^dagger: rho splits into k_dim x
// k_dim blocks M_rs = rho[(., r), (., s)] (targets' bits ., other qubits' bits
// r and s), and each becomes sum_m K_m M_rs K_m^dagger = S vec(M_rs), with the
// superoperator S[(a,c),(a',c')] = sum_m K_m[a,a'] conj(K_m[c,c']). One read
// and one write per entry whatever the number of Kraus operators.
//
// Backward, for a real loss and LibTorch's convention (grad = dL/dRe + i dL/dIm):
//   grad_rho = sum_m K_m^dagger G K_m                 (S^dagger on each block of G)
//   grad_K_m = sum_rs G_rs K_m rho_rs^dagger + G_rs^dagger K_m rho_rs
// (G K_full rho^dagger + G^dagger K_full rho restricted onto the targets), so
// with C[a,a',c,c'] = sum_rs G_rs[a,a'] conj(rho_rs[c,c']):
//   grad_K_m[a,c] = sum_{a',c'} (C[a,a',c,c'] + conj(C[a',a,c',c])) K_m[a',c'].
// C is accumulated in the same pass as grad_rho, per fixed chunk, and the
// chunks are reduced in order (deterministic for a given thread count).
//
// Mix mode (aware layout, target t in D): out block a' = sum_b T[a'_t, b]
// block(a with t = b), T[x, b] = sum_m |K_m[x, b]|^2 (real); backward:
// grad block b = sum_x T[x, b] G_x, grad_T[x, b] = sum Re(conj(G_x) block_b),
// grad_K_m[x, b] = 2 grad_T[x, b] K_m[x, b].
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <complex>
#include <vector>

#include "../memory.h"
#include "../parallel.h"
#include "prepare.h"
#include "superoperator.h"

namespace hqrn {
namespace {

using kraus::add_outer;
using kraus::add_superoperator;
using kraus::add_transfer;
using kraus::KrausPlan;
using kraus::kraus_grad_entry;
using kraus::mat_vec;
using kraus::Mode;

constexpr int64_t kMaxDim = int64_t{1} << kraus::kMaxKrausQubits;  // 4
constexpr int64_t kMaxBlock = kMaxDim * kMaxDim;                   // 16

at::Tensor prepared(const at::Tensor& t) { return t.resolve_conj().resolve_neg().contiguous(); }

// S (or S^dagger when `adjoint`) for every Kraus set: [sets, kk, kk], kk = k_dim^2.
template <typename complex_t>
std::vector<complex_t> superoperators(const KrausPlan& p, const complex_t* kraus, bool adjoint) {
  const int64_t kd = p.k_dim, kk = kd * kd;
  std::vector<complex_t> s(static_cast<size_t>(p.kraus_sets * kk * kk), complex_t(0));
  for (int64_t j = 0; j < p.kraus_sets; ++j) {
    complex_t* sj = s.data() + j * kk * kk;
    for (int64_t m = 0; m < p.ops; ++m) add_superoperator(kraus + (j * p.ops + m) * kk, kd, sj, adjoint);
  }
  return s;
}

// Calls body(i, pos) for every k_dim x k_dim block of tasks [begin, end)
// (task = i * |rest| + r; every column group s): pos[a * k_dim + c] is the
// offset of the block's entry (a, c) in the input and the output alike.
template <typename Body>
void for_blocks(const KrausPlan& p, int64_t begin, int64_t end, const Body& body) {
  const int64_t kd = p.k_dim, groups = static_cast<int64_t>(p.rest.size());
  int64_t pos[kMaxBlock];
  for (int64_t task = begin; task < end; ++task) {
    const int64_t i = task / groups, r = p.rest[task % groups];
    const int64_t base = i * p.d * p.d;
    for (int64_t s_index = 0; s_index < groups; ++s_index) {
      const int64_t s = p.rest[s_index];
      for (int64_t a = 0; a < kd; ++a)
        for (int64_t c = 0; c < kd; ++c) pos[a * kd + c] = base + (p.gate[a] | r) * p.d + (p.gate[c] | s);
      body(i, pos);
    }
  }
}

template <typename complex_t>
void conjugate_forward(const KrausPlan& p, const complex_t* kraus, const complex_t* src, complex_t* dst) {
  const auto s = superoperators(p, kraus, false);
  const int64_t kk = p.k_dim * p.k_dim, groups = static_cast<int64_t>(p.rest.size());
  at::parallel_for(0, p.batch * groups, grain_for(p.d * p.k_dim * kk), [&](int64_t begin, int64_t end) {
    complex_t in[kMaxBlock], out[kMaxBlock];
    for_blocks(p, begin, end, [&](int64_t i, const int64_t* pos) {
      for (int64_t e = 0; e < kk; ++e) in[e] = src[pos[e]];
      mat_vec(s.data() + p.set_of(i) * kk * kk, in, out, kk);
      for (int64_t e = 0; e < kk; ++e) dst[pos[e]] = out[e];
    });
  });
}

// grad_rho into grad_src; grad_kraus [sets, m, kd, kd] into grad_kraus.
template <typename complex_t>
void conjugate_backward(const KrausPlan& p, const complex_t* kraus, const complex_t* grad, const complex_t* src,
                        complex_t* grad_src, complex_t* grad_kraus) {
  const auto s_adj = superoperators(p, kraus, true);
  const int64_t kd = p.k_dim, kk = kd * kd, c_size = kk * kk;
  const int64_t groups = static_cast<int64_t>(p.rest.size()), work = p.batch * groups;
  const int64_t chunks = chunk_count(work, grain_for(p.d * kk * kk));
  // Per chunk and Kraus set: the partial sum of C.
  std::vector<complex_t> partial(static_cast<size_t>(chunks * p.kraus_sets * c_size), complex_t(0));
  for_each_chunk(work, chunks, [&](int64_t chunk, int64_t begin, int64_t end) {
    complex_t* acc_base = partial.data() + chunk * p.kraus_sets * c_size;
    complex_t g_block[kMaxBlock], rho_conj[kMaxBlock], out[kMaxBlock];
    for_blocks(p, begin, end, [&](int64_t i, const int64_t* pos) {
      for (int64_t e = 0; e < kk; ++e) {
        g_block[e] = grad[pos[e]];
        rho_conj[e] = std::conj(src[pos[e]]);
      }
      mat_vec(s_adj.data() + p.set_of(i) * kk * kk, g_block, out, kk);
      for (int64_t e = 0; e < kk; ++e) grad_src[pos[e]] = out[e];
      // C[(a,a'),(c,c')] += G[a,a'] conj(rho[c,c']): an outer product.
      add_outer(acc_base + p.set_of(i) * c_size, g_block, rho_conj, kk);
    });
  });
  // Reduce the chunks in order, then contract with K.
  std::vector<complex_t> c_total(static_cast<size_t>(c_size));
  for (int64_t j = 0; j < p.kraus_sets; ++j) {
    std::fill(c_total.begin(), c_total.end(), complex_t(0));
    for (int64_t chunk = 0; chunk < chunks; ++chunk) {
      const complex_t* part = partial.data() + (chunk * p.kraus_sets + j) * c_size;
      for (int64_t e = 0; e < c_size; ++e) c_total[e] += part[e];
    }
    for (int64_t m = 0; m < p.ops; ++m) {
      const complex_t* km = kraus + (j * p.ops + m) * kk;
      complex_t* gm = grad_kraus + (j * p.ops + m) * kk;
      for (int64_t a = 0; a < kd; ++a)
        for (int64_t c = 0; c < kd; ++c) gm[a * kd + c] = kraus_grad_entry(c_total.data(), km, kd, a, c);
    }
  }
}

// T[j][x * 2 + b] = sum_m |K_m[x, b]|^2 for every Kraus set j.
template <typename complex_t, typename real_t>
std::vector<real_t> transfer_tables(const KrausPlan& p, const complex_t* kraus) {
  std::vector<real_t> t(static_cast<size_t>(p.kraus_sets * 4), real_t(0));
  for (int64_t j = 0; j < p.kraus_sets; ++j)
    for (int64_t m = 0; m < p.ops; ++m)
      add_transfer(kraus + (j * p.ops + m) * 4, t.data() + j * 4);
  return t;
}

template <typename complex_t>
void mix_forward(const KrausPlan& p, const complex_t* kraus, const complex_t* src, complex_t* dst) {
  using real_t = typename complex_t::value_type;
  const auto t = transfer_tables<complex_t, real_t>(p, kraus);
  const int64_t pairs = p.blocks / 2, e_count = p.block_entries;
  at::parallel_for(0, p.batch * pairs, grain_for(2 * e_count), [&](int64_t begin, int64_t end) {
    for (int64_t task = begin; task < end; ++task) {
      const int64_t i = task / pairs, a0 = index::insert_zero_bit(task % pairs, p.mix_mask), a1 = a0 | p.mix_mask;
      const real_t* tj = t.data() + p.set_of(i) * 4;
      const complex_t* s0 = src + (i * p.blocks + a0) * e_count;
      const complex_t* s1 = src + (i * p.blocks + a1) * e_count;
      complex_t* o0 = dst + (i * p.blocks + a0) * e_count;
      complex_t* o1 = dst + (i * p.blocks + a1) * e_count;
      for (int64_t e = 0; e < e_count; ++e) {
        const complex_t v0 = s0[e], v1 = s1[e];
        o0[e] = tj[0] * v0 + tj[1] * v1;
        o1[e] = tj[2] * v0 + tj[3] * v1;
      }
    }
  });
}

template <typename complex_t>
void mix_backward(const KrausPlan& p, const complex_t* kraus, const complex_t* grad, const complex_t* src,
                  complex_t* grad_src, complex_t* grad_kraus) {
  using real_t = typename complex_t::value_type;
  const auto t = transfer_tables<complex_t, real_t>(p, kraus);
  const int64_t pairs = p.blocks / 2, e_count = p.block_entries, work = p.batch * pairs;
  const int64_t chunks = chunk_count(work, grain_for(2 * e_count));
  std::vector<double> partial(static_cast<size_t>(chunks * p.kraus_sets * 4), 0.0);  // grad_T per chunk, set
  for_each_chunk(work, chunks, [&](int64_t chunk, int64_t begin, int64_t end) {
    for (int64_t task = begin; task < end; ++task) {
      const int64_t i = task / pairs, a0 = index::insert_zero_bit(task % pairs, p.mix_mask), a1 = a0 | p.mix_mask;
      const real_t* tj = t.data() + p.set_of(i) * 4;
      const complex_t* g0 = grad + (i * p.blocks + a0) * e_count;
      const complex_t* g1 = grad + (i * p.blocks + a1) * e_count;
      const complex_t* s0 = src + (i * p.blocks + a0) * e_count;
      const complex_t* s1 = src + (i * p.blocks + a1) * e_count;
      complex_t* o0 = grad_src + (i * p.blocks + a0) * e_count;
      complex_t* o1 = grad_src + (i * p.blocks + a1) * e_count;
      double acc[4] = {0, 0, 0, 0};  // grad_T[x * 2 + b] = sum Re(conj(G_x) block_b)
      for (int64_t e = 0; e < e_count; ++e) {
        const complex_t x0 = g0[e], x1 = g1[e], v0 = s0[e], v1 = s1[e];
        o0[e] = tj[0] * x0 + tj[2] * x1;
        o1[e] = tj[1] * x0 + tj[3] * x1;
        acc[0] += (std::conj(x0) * v0).real();
        acc[1] += (std::conj(x0) * v1).real();
        acc[2] += (std::conj(x1) * v0).real();
        acc[3] += (std::conj(x1) * v1).real();
      }
      double* part = partial.data() + (chunk * p.kraus_sets + p.set_of(i)) * 4;
      for (int e = 0; e < 4; ++e) part[e] += acc[e];
    }
  });
  for (int64_t j = 0; j < p.kraus_sets; ++j) {
    double g_t[4] = {0, 0, 0, 0};
    for (int64_t chunk = 0; chunk < chunks; ++chunk)
      for (int e = 0; e < 4; ++e) g_t[e] += partial[(chunk * p.kraus_sets + j) * 4 + e];
    for (int64_t m = 0; m < p.ops; ++m)
      for (int e = 0; e < 4; ++e) {
        const int64_t at_k = (j * p.ops + m) * 4 + e;
        grad_kraus[at_k] = static_cast<real_t>(2 * g_t[e]) * kraus[at_k];
      }
  }
}

template <typename complex_t>
void run_forward(const KrausPlan& p, const complex_t* kraus, const complex_t* src, complex_t* dst) {
  if (p.mode == Mode::mix) {
    mix_forward(p, kraus, src, dst);
  } else {
    conjugate_forward(p, kraus, src, dst);
  }
}

template <typename complex_t>
void run_backward(const KrausPlan& p, const complex_t* kraus, const complex_t* grad, const complex_t* src,
                  complex_t* grad_src, complex_t* grad_kraus) {
  if (p.mode == Mode::mix) {
    mix_backward(p, kraus, grad, src, grad_src, grad_kraus);
  } else {
    conjugate_backward(p, kraus, grad, src, grad_src, grad_kraus);
  }
}

at::Tensor forward(const KrausPlan& plan, const at::Tensor& state, const at::Tensor& kraus) {
  const auto state_c = prepared(state);
  const auto kraus_c = prepared(kraus);
  auto out = empty_large(plan.out_shape, state_c.options());
  AT_DISPATCH_COMPLEX_TYPES(state.scalar_type(), "apply_kraus", [&] {
    run_forward<scalar_t>(plan, kraus_c.data_ptr<scalar_t>(), state_c.data_ptr<scalar_t>(),
                          out.data_ptr<scalar_t>());
  });
  return out;
}

std::tuple<at::Tensor, at::Tensor> backward(const KrausPlan& plan, const at::Tensor& grad, const at::Tensor& state,
                                            const at::Tensor& kraus) {
  const auto grad_c = prepared(grad);
  const auto state_c = prepared(state);
  const auto kraus_c = prepared(kraus);
  auto grad_state = empty_large(state_c.sizes(), state_c.options());
  auto grad_kraus = at::empty(kraus_c.sizes(), kraus_c.options());
  AT_DISPATCH_COMPLEX_TYPES(state.scalar_type(), "apply_kraus_backward", [&] {
    run_backward<scalar_t>(plan, kraus_c.data_ptr<scalar_t>(), grad_c.data_ptr<scalar_t>(),
                           state_c.data_ptr<scalar_t>(), grad_state.data_ptr<scalar_t>(),
                           grad_kraus.data_ptr<scalar_t>());
  });
  return {grad_state, grad_kraus};
}

at::Tensor apply_kraus_cpu(const at::Tensor& rho, const at::Tensor& kraus, at::IntArrayRef targets) {
  return forward(kraus::prepare_dense(rho, kraus, targets), rho, kraus);
}

std::tuple<at::Tensor, at::Tensor> apply_kraus_backward_cpu(const at::Tensor& grad, const at::Tensor& rho,
                                                            const at::Tensor& kraus, at::IntArrayRef targets) {
  const auto plan = kraus::prepare_dense(rho, kraus, targets, "_apply_kraus_backward");
  check::output_grad(grad, plan.out_shape, rho, "_apply_kraus_backward");
  return backward(plan, grad, rho, kraus);
}

at::Tensor aware_apply_kraus_cpu(const at::Tensor& blocks, const at::Tensor& kraus, at::IntArrayRef targets,
                                 at::IntArrayRef diagonal) {
  return forward(kraus::prepare_aware(blocks, kraus, targets, diagonal), blocks, kraus);
}

std::tuple<at::Tensor, at::Tensor> aware_apply_kraus_backward_cpu(const at::Tensor& grad, const at::Tensor& blocks,
                                                                  const at::Tensor& kraus, at::IntArrayRef targets,
                                                                  at::IntArrayRef diagonal) {
  const auto plan = kraus::prepare_aware(blocks, kraus, targets, diagonal, "_aware_apply_kraus_backward");
  check::output_grad(grad, plan.out_shape, blocks, "_aware_apply_kraus_backward");
  return backward(plan, grad, blocks, kraus);
}

}  // namespace

TORCH_LIBRARY_IMPL(hqrn, CPU, m) {
  m.impl("apply_kraus", &apply_kraus_cpu);
  m.impl("_apply_kraus_backward", &apply_kraus_backward_cpu);
  m.impl("aware_apply_kraus", &aware_apply_kraus_cpu);
  m.impl("_aware_apply_kraus_backward", &aware_apply_kraus_backward_cpu);
}

}  // namespace hqrn
