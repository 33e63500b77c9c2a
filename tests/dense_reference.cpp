// Dense references: every op as full-matrix algebra on [B, d, d] tensors. Index
// tables are built with plain loops over basis states (no bit tricks shared with
// the kernels); everything that touches the inputs is a differentiable torch op.
#include "tests/dense_reference.h"

#include <c10/util/Exception.h>

#include <cmath>

namespace hqrn::dense {
namespace {

// A [rows, cols] 0/1 matrix in `dtype` from a predicate on (row, col).
template <typename Pred>
torch::Tensor indicator_matrix(int64_t rows, int64_t cols, torch::ScalarType dtype, Pred pred) {
  auto m = torch::zeros({rows, cols}, torch::kDouble);
  auto acc = m.accessor<double, 2>();
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      if (pred(r, c)) acc[r][c] = 1.0;
    }
  }
  return m.to(dtype);
}

// Basis index built from per-qubit bits: bits[q] for qubit q = 0..n-1.
int64_t index_from_bits(const std::vector<int64_t>& bits) {
  int64_t x = 0;
  for (int64_t b : bits) x = 2 * x + b;
  return x;
}

// The register's qubits not in `listed`, in increasing order.
std::vector<int64_t> unlisted_qubits(int64_t n, const std::vector<int64_t>& listed) {
  std::vector<int64_t> rest;
  for (int64_t q = 0; q < n; ++q) {
    bool found = false;
    for (int64_t l : listed) found = found || l == q;
    if (!found) rest.push_back(q);
  }
  return rest;
}

torch::Tensor dagger(const torch::Tensor& m) { return m.transpose(-2, -1).conj(); }

// The bits of `qubits` in each basis state x, read as a number (first listed
// qubit most significant): one entry per x.
std::vector<int64_t> subregister_values(int64_t n, const std::vector<int64_t>& qubits) {
  std::vector<int64_t> values;
  for (int64_t x = 0; x < (int64_t{1} << n); ++x) {
    std::vector<int64_t> bits;
    for (int64_t q : qubits) bits.push_back(qubit_bit(x, n, q));
    values.push_back(index_from_bits(bits));
  }
  return values;
}

}  // namespace

int64_t qubit_bit(int64_t x, int64_t n, int64_t q) { return (x / (int64_t{1} << (n - 1 - q))) % 2; }

int64_t other_qubits_index(int64_t x, int64_t n, int64_t j) {
  std::vector<int64_t> bits;
  for (int64_t q = 0; q < n; ++q) {
    if (q != j) bits.push_back(qubit_bit(x, n, q));
  }
  return index_from_bits(bits);
}

int64_t qubits_of_dim(int64_t d) {
  int64_t n = 0;
  while ((int64_t{1} << n) < d) ++n;
  TORCH_CHECK((int64_t{1} << n) == d, "dense reference: dimension ", d, " is not a power of two");
  return n;
}

torch::ScalarType real_dtype(torch::ScalarType type) {
  if (type == torch::kComplexFloat) return torch::kFloat;
  if (type == torch::kComplexDouble) return torch::kDouble;
  return type;
}

torch::Tensor rotation(const torch::Tensor& theta_in, const torch::Tensor& phi_in) {
  // A shared table may meet a per-sample one: broadcast to the common shape.
  const auto both = torch::broadcast_tensors({theta_in, phi_in});
  const auto& theta = both[0];
  const auto& phi = both[1];
  const auto c = torch::cos(theta / 2);
  const auto s = torch::sin(theta / 2);
  const auto e = torch::complex(torch::cos(phi), torch::sin(phi));  // e^{i phi}
  const auto cc = torch::complex(c, torch::zeros_like(c));
  const auto row0 = torch::stack({cc, -e * s}, -1);
  const auto row1 = torch::stack({e.conj() * s, cc}, -1);
  return torch::stack({row0, row1}, -2);
}

torch::Tensor multiplexed_rotation(const torch::Tensor& theta, const torch::Tensor& phi, int64_t n,
                                   int64_t target) {
  const int64_t d = int64_t{1} << n;
  const auto r = rotation(theta, phi);  // [.., T, 2, 2]
  const auto flat = r.flatten(-3);      // [.., T * 4]
  std::vector<int64_t> cidx(d), bit(d);
  for (int64_t x = 0; x < d; ++x) {
    cidx[x] = other_qubits_index(x, n, target);
    bit[x] = qubit_bit(x, n, target);
  }
  // <x|U|y> = [cidx(x) == cidx(y)] R(cidx(x))[x_j, y_j]
  auto gather = torch::empty({d * d}, torch::kLong);
  auto g = gather.accessor<int64_t, 1>();
  for (int64_t x = 0; x < d; ++x) {
    for (int64_t y = 0; y < d; ++y) g[x * d + y] = cidx[x] * 4 + bit[x] * 2 + bit[y];
  }
  const auto same_controls =
      indicator_matrix(d, d, r.scalar_type(), [&](int64_t x, int64_t y) { return cidx[x] == cidx[y]; });
  auto entries = flat.index_select(-1, gather);
  if (r.dim() == 3) return entries.reshape({d, d}) * same_controls;
  return entries.reshape({r.size(0), d, d}) * same_controls;
}

torch::Tensor projector(int64_t n, int64_t target, int64_t b, torch::ScalarType dtype) {
  const int64_t d = int64_t{1} << n;
  return indicator_matrix(d, d, dtype,
                          [&](int64_t x, int64_t y) { return x == y && qubit_bit(x, n, target) == b; });
}

torch::Tensor dephase(const torch::Tensor& rho, int64_t target) {
  const int64_t n = qubits_of_dim(rho.size(-1));
  const auto p0 = projector(n, target, 0, rho.scalar_type());
  const auto p1 = projector(n, target, 1, rho.scalar_type());
  return torch::matmul(torch::matmul(p0, rho), p0) + torch::matmul(torch::matmul(p1, rho), p1);
}

torch::Tensor qrb_step(const torch::Tensor& rho, const torch::Tensor& theta, const torch::Tensor& phi,
                       int64_t target, bool dephase_target) {
  const int64_t n = qubits_of_dim(rho.size(-1));
  const auto u = multiplexed_rotation(theta, phi, n, target).to(rho.scalar_type());
  const auto rotated = torch::matmul(torch::matmul(u, rho), dagger(u));
  return dephase_target ? dephase(rotated, target) : rotated;
}

torch::Tensor vector_step(const torch::Tensor& psi, const torch::Tensor& theta, const torch::Tensor& phi,
                          int64_t target) {
  const int64_t n = qubits_of_dim(psi.size(-1));
  const auto u = multiplexed_rotation(theta, phi, n, target).to(psi.scalar_type());  // [d, d] or [G, d, d]
  const int64_t groups = u.dim() == 3 ? u.size(0) : 1;
  // Group g's vectors as the columns of one matrix: U_g [v_0 v_1 ...].
  const auto columns = psi.reshape({groups, psi.size(0) / groups * psi.size(1), psi.size(2)}).transpose(1, 2);
  return torch::matmul(u, columns).transpose(1, 2).reshape(psi.sizes());
}

torch::Tensor angle_table(const torch::Tensor& weights, const torch::Tensor& bias, int64_t j) {
  const int64_t n = bias.size(0);
  // controls[cidx(x, j)][i] = bit i of x (x with bit j = 0); column j stays zero.
  auto controls = torch::zeros({int64_t{1} << (n - 1), n}, torch::kFloat64);
  auto bits = controls.accessor<double, 2>();
  for (int64_t x = 0; x < (int64_t{1} << n); ++x) {
    if (qubit_bit(x, n, j) != 0) continue;
    for (int64_t i = 0; i < n; ++i) {
      if (i != j) bits[other_qubits_index(x, n, j)][i] = static_cast<double>(qubit_bit(x, n, i));
    }
  }
  return controls.matmul(weights[j].to(torch::kFloat64)) + bias[j].to(torch::kFloat64);
}

torch::Tensor markov_matrix(const torch::Tensor& theta, int64_t n, int64_t target) {
  const int64_t d = int64_t{1} << n;
  const auto flip = torch::sin(theta / 2).pow(2);  // [.., T]
  std::vector<int64_t> cidx(d), bit(d);
  for (int64_t x = 0; x < d; ++x) {
    cidx[x] = other_qubits_index(x, n, target);
    bit[x] = qubit_bit(x, n, target);
  }
  const auto flip_x = flip.index_select(-1, torch::tensor(cidx, torch::kLong));  // [.., d]
  // F[x, y] = 1 when y is x with the target's bit flipped.
  const auto partner = indicator_matrix(d, d, theta.scalar_type(), [&](int64_t x, int64_t y) {
    return bit[x] != bit[y] && cidx[x] == cidx[y];
  });
  return torch::diag_embed(1 - flip_x) + flip_x.unsqueeze(-1) * partner;
}

torch::Tensor markov_step(const torch::Tensor& p, const torch::Tensor& theta, int64_t target) {
  const int64_t n = qubits_of_dim(p.size(-1));
  const auto m = markov_matrix(theta, n, target);
  return torch::matmul(m, p.unsqueeze(-1)).squeeze(-1);
}

torch::Tensor embed_ancillas(const torch::Tensor& rho, int64_t n_aux) {
  const int64_t a = int64_t{1} << n_aux;
  const auto zero_state = indicator_matrix(a, a, rho.scalar_type(),
                                           [](int64_t x, int64_t y) { return x == 0 && y == 0; });
  std::vector<torch::Tensor> samples;
  for (int64_t b = 0; b < rho.size(0); ++b) samples.push_back(torch::kron(rho[b].contiguous(), zero_state));
  return torch::stack(samples);
}

torch::Tensor partial_trace(const torch::Tensor& rho, const std::vector<int64_t>& keep) {
  const int64_t n = qubits_of_dim(rho.size(-1));
  const int64_t d = int64_t{1} << n;
  const auto traced = unlisted_qubits(n, keep);
  const auto nk = static_cast<int64_t>(keep.size());
  const auto nt = static_cast<int64_t>(traced.size());
  const int64_t dk = int64_t{1} << nk;
  const auto kept_value = subregister_values(n, keep);
  const auto traced_value = subregister_values(n, traced);
  torch::Tensor out;
  for (int64_t t = 0; t < (int64_t{1} << nt); ++t) {
    const auto v = indicator_matrix(dk, d, rho.scalar_type(), [&](int64_t k, int64_t x) {
      return kept_value[x] == k && traced_value[x] == t;
    });
    const auto term = torch::matmul(torch::matmul(v, rho), v.transpose(0, 1));
    out = out.defined() ? out + term : term;
  }
  return out;
}

torch::Tensor probs(const torch::Tensor& rho) { return torch::real(torch::diagonal(rho, 0, -2, -1)); }

torch::Tensor embedded_unitary(const torch::Tensor& u, int64_t n, const std::vector<int64_t>& targets) {
  const int64_t d = int64_t{1} << n;
  const auto k = static_cast<int64_t>(targets.size());
  auto order = targets;
  for (int64_t q : unlisted_qubits(n, targets)) order.push_back(q);
  // Pm[x, z] = 1 when z lists x's bits in `order`.
  const auto reordered = subregister_values(n, order);
  const auto pm =
      indicator_matrix(d, d, u.scalar_type(), [&](int64_t x, int64_t z) { return reordered[x] == z; });
  const auto identity_rest = torch::eye(int64_t{1} << (n - k), torch::TensorOptions().dtype(u.scalar_type()));
  if (u.dim() == 2) return torch::matmul(torch::matmul(pm, torch::kron(u.contiguous(), identity_rest)), pm.transpose(0, 1));
  std::vector<torch::Tensor> samples;
  for (int64_t b = 0; b < u.size(0); ++b) {
    samples.push_back(torch::matmul(torch::matmul(pm, torch::kron(u[b].contiguous(), identity_rest)), pm.transpose(0, 1)));
  }
  return torch::stack(samples);
}

torch::Tensor apply_unitary(const torch::Tensor& rho, const torch::Tensor& u,
                            const std::vector<int64_t>& targets) {
  const int64_t n = qubits_of_dim(rho.size(-1));
  const auto full = embedded_unitary(u, n, targets);
  return torch::matmul(torch::matmul(full, rho), dagger(full));
}

namespace {
// |p><r| on one qubit.
torch::Tensor unit_matrix(int64_t p, int64_t r) {
  auto e = torch::zeros({2, 2}, torch::kComplexDouble);
  e.index_put_({p, r}, 1.0);
  return e;
}

// The full operator of K (`[..., 2^k, 2^k]`) on `targets` of n qubits, built
// from its definition rather than by permuting (as embedded_unitary does):
// sum_{row, col} K[row, col] (x)_q F_q with F_q = |row_i><col_i| on q =
// targets[i] (row_i: bit i of row, first listed = most significant) and the
// identity elsewhere. Returns `[..., 2^n, 2^n]` complex128; differentiable in K.
torch::Tensor embed_operator(const torch::Tensor& k_ops, int64_t n, const std::vector<int64_t>& targets) {
  const auto kC = torch::kComplexDouble;
  const auto k = static_cast<int64_t>(targets.size());
  const int64_t kd = int64_t{1} << k, d = int64_t{1} << n;
  std::vector<int64_t> shape(k_ops.sizes().begin(), k_ops.sizes().end() - 2);
  shape.push_back(d);
  shape.push_back(d);
  auto full = torch::zeros(shape, k_ops.options().dtype(kC));
  const auto k_wide = k_ops.to(kC);
  for (int64_t row = 0; row < kd; ++row) {
    for (int64_t col = 0; col < kd; ++col) {
      auto product = torch::ones({1, 1}, kC);
      for (int64_t q = 0; q < n; ++q) {
        torch::Tensor factor = torch::eye(2, kC);
        for (int64_t i = 0; i < k; ++i) {
          if (targets[i] == q) factor = unit_matrix((row >> (k - 1 - i)) & 1, (col >> (k - 1 - i)) & 1);
        }
        product = torch::kron(product, factor);
      }
      const auto coefficient = k_wide.select(-1, col).select(-1, row).unsqueeze(-1).unsqueeze(-1);
      full = full + coefficient * product;
    }
  }
  return full;
}
}  // namespace

torch::Tensor apply_kraus(const torch::Tensor& rho, const torch::Tensor& kraus, const std::vector<int64_t>& targets) {
  const int64_t n = qubits_of_dim(rho.size(-1));
  auto full = embed_operator(kraus, n, targets);  // [m, d, d] or [B, m, d, d]
  if (kraus.dim() == 3) full = full.unsqueeze(0);
  const auto r = rho.to(torch::kComplexDouble).unsqueeze(1);  // [B, 1, d, d]
  return torch::matmul(torch::matmul(full, r), dagger(full)).sum(1);
}

namespace {
// x(a, r) for every a, r: [2^|D|, 2^(n-|D|)] int64.
torch::Tensor aware_basis_index(int64_t n, const std::vector<int64_t>& diagonal) {
  const auto k = static_cast<int64_t>(diagonal.size());
  const int64_t a_count = int64_t{1} << k, r_count = int64_t{1} << (n - k);
  auto x = torch::zeros({a_count, r_count}, torch::kLong);
  for (int64_t a = 0; a < a_count; ++a) {
    for (int64_t r = 0; r < r_count; ++r) {
      std::vector<int64_t> bits;
      int64_t di = 0, ci = 0;
      for (int64_t q = 0; q < n; ++q) {
        const bool on_diagonal = di < k && diagonal[di] == q;
        bits.push_back(on_diagonal ? (a >> (k - 1 - di++)) & 1 : (r >> (n - k - 1 - ci++)) & 1);
      }
      x[a][r] = index_from_bits(bits);
    }
  }
  return x;
}
}  // namespace

torch::Tensor aware_from_dense(const torch::Tensor& rho, const std::vector<int64_t>& diagonal) {
  const auto x = aware_basis_index(qubits_of_dim(rho.size(-1)), diagonal);
  using torch::indexing::Slice;
  return rho.index({Slice(), x.unsqueeze(2), x.unsqueeze(1)});
}

torch::Tensor aware_to_dense(const torch::Tensor& blocks, const std::vector<int64_t>& diagonal, int64_t n) {
  const auto x = aware_basis_index(n, diagonal);
  const int64_t d = int64_t{1} << n;
  using torch::indexing::Slice;
  auto rho = torch::zeros({blocks.size(0), d, d}, blocks.options());
  rho.index_put_({Slice(), x.unsqueeze(2), x.unsqueeze(1)}, blocks);
  return rho;
}

torch::Tensor random_density(int64_t batch, int64_t n, torch::ScalarType dtype, int64_t rank) {
  const int64_t d = int64_t{1} << n;
  if (rank <= 0) rank = d;
  const auto g = torch::randn({batch, d, rank}, torch::TensorOptions().dtype(torch::kComplexDouble));
  auto rho = torch::matmul(g, dagger(g));
  const auto tr = torch::real(torch::diagonal(rho, 0, -2, -1)).sum(-1).reshape({batch, 1, 1});
  rho = rho / tr;
  rho = (rho + dagger(rho)) / 2;  // exactly Hermitian in the stored digits
  return rho.to(dtype);
}

torch::Tensor random_matrix(int64_t batch, int64_t n, torch::ScalarType dtype) {
  const int64_t d = int64_t{1} << n;
  return (torch::randn({batch, d, d}, torch::TensorOptions().dtype(torch::kComplexDouble)) / double(d)).to(dtype);
}

torch::Tensor random_unitary(int64_t dim, torch::ScalarType dtype, int64_t batch) {
  const auto opts = torch::TensorOptions().dtype(torch::kComplexDouble);
  const auto a = batch > 0 ? torch::randn({batch, dim, dim}, opts) : torch::randn({dim, dim}, opts);
  return std::get<0>(torch::linalg_qr(a)).to(dtype);
}

torch::Tensor random_probabilities(int64_t batch, int64_t n, torch::ScalarType dtype) {
  const auto w = torch::rand({batch, int64_t{1} << n}, torch::TensorOptions().dtype(torch::kDouble)) + 0.05;
  return (w / w.sum(-1, true)).to(dtype);
}

torch::Tensor random_angles(int64_t len, torch::ScalarType dtype, int64_t batch) {
  const auto opts = torch::TensorOptions().dtype(torch::kDouble);
  const auto u = batch > 0 ? torch::rand({batch, len}, opts) : torch::rand({len}, opts);
  return ((2 * u - 1) * M_PI).to(dtype);
}

}  // namespace hqrn::dense
