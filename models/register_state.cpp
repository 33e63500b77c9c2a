#include "models/register_state.h"
#include "models/errors.h"

#include "torch_ext/limits.h"
#include "torch_ext/ops.h"
#include "torch_ext/qubit_index.h"

#include <algorithm>

namespace hqrn {

namespace {

// aware_step reads one table per group of consecutive samples ([G, h], G
// dividing the rows); qrb_step and markov_step take one per sample: each
// group's table repeated over its rows, [G, h] -> [rows, h] for a step or
// [n, G, h] -> [n, rows, h] for a sweep (a no-op for per-sample tables).
torch::Tensor per_sample(const torch::Tensor& table, int64_t rows) {
  if (!table.defined() || table.dim() < 2 || table.size(-2) == rows) return table;
  const int64_t groups = table.size(-2);
  require(groups >= 1 && rows % groups == 0, "RegisterState: ", groups, " table rows do not split ", rows,
          " samples into equal groups");
  auto grouped = table.sizes().vec();
  grouped.insert(grouped.end() - 1, rows / groups);
  auto by_row = table.sizes().vec();
  by_row[by_row.size() - 2] = rows;
  return table.unsqueeze(-2).expand(grouped).reshape(by_row);
}

// The diagonals of aware blocks [B, A, m, m] as [B, A m] (block-major), real:
// hqrn::probs on the blocks as one batch of m x m matrices, one operator
// (and one backward node) where real() of a diagonal view makes three.
torch::Tensor block_diagonals(const torch::Tensor& blocks) {
  const int64_t m = blocks.size(-1);
  return hqrn::probs(blocks.reshape({-1, m, m})).reshape({blocks.size(0), -1});
}

// sum_k |w_k(x)|^2 of component vectors [B, r, 2^n]: the Z distribution
// [B, 2^n] (measuring the qubits in D does not change the diagonal).
torch::Tensor component_weights(const torch::Tensor& w) {
  return torch::view_as_real(w).square().sum(-1).sum(1);
}

// The basis indices x with bit `mask` set, as a 0/1 tensor of w's dtype [2^n].
torch::Tensor bit_set(int64_t n, int64_t mask, const torch::Tensor& like) {
  const auto x = torch::arange(int64_t{1} << n, like.options().dtype(torch::kLong));
  return x.bitwise_and(mask).ne(0).to(like.scalar_type());
}

// Density matrices (dense, aware) stop at kMaxQubits; vectors and
// probability vectors hold 2^n numbers per component and go to kMaxVectorQubits.
void require_qubit_limit(int64_t n, Representation representation) {
  const bool matrices = representation == Representation::dense || representation == Representation::aware;
  const int64_t limit = matrices ? kMaxQubits : kMaxVectorQubits;
  require(n <= limit, "RegisterState: ", n, " qubits exceed the ", to_string(representation),
          " representation's limit of ", limit,
          matrices ? " (state-vector inputs go further in the vectors execution)" : "");
}

int64_t log2_exact(int64_t size, const char* what) {
  const int64_t n = index::qubits_of_dimension(size);
  require(n >= 0, "RegisterState: ", what, " has size ", size, ", not a power of two");
  return n;
}

std::vector<int64_t> all_qubits(int64_t n) {
  std::vector<int64_t> out(static_cast<size_t>(n));
  for (int64_t q = 0; q < n; ++q) out[static_cast<size_t>(q)] = q;
  return out;
}

void require_states(const torch::Tensor& rho) {
  require(rho.defined() && rho.dim() == 3 && rho.is_complex() && rho.size(1) == rho.size(2),
          "RegisterState: expected complex states [B, d, d], got ", rho.defined() ? rho.sizes() : c10::IntArrayRef{},
          " ", rho.defined() ? c10::toString(rho.scalar_type()) : "undefined");
}

// Basis index of entry (a, r) of the aware layout: [2^|D|, 2^m], int64.
torch::Tensor basis_indices(int64_t n, const std::vector<int64_t>& diagonal) {
  const auto a_offsets = index::subregister_offsets(n, diagonal);
  const auto r_offsets = index::subregister_offsets(n, index::complement(n, diagonal));
  auto out = torch::empty({static_cast<int64_t>(a_offsets.size()), static_cast<int64_t>(r_offsets.size())},
                          torch::kLong);
  auto acc = out.accessor<int64_t, 2>();
  for (size_t a = 0; a < a_offsets.size(); ++a) {
    for (size_t r = 0; r < r_offsets.size(); ++r) acc[a][r] = a_offsets[a] | r_offsets[r];
  }
  return out;
}

// Ancillas in |0> are the low bits: p(x, 0..0) = p_data(x).
torch::Tensor with_ancillas(const torch::Tensor& p_data, int64_t ancillas) {
  const int64_t aux = int64_t{1} << ancillas;
  if (aux == 1) return p_data;
  return torch::constant_pad_nd(p_data.unsqueeze(-1), {0, aux - 1}).reshape({p_data.size(0), -1});
}

}  // namespace

std::string to_string(Representation representation) {
  switch (representation) {
    case Representation::dense: return "dense";
    case Representation::aware: return "aware";
    case Representation::probabilities: return "probabilities";
    case Representation::vectors: return "vectors";
  }
  return "?";
}

RegisterState::RegisterState(Representation representation, int64_t qubits, std::vector<int64_t> diagonal,
                             torch::Tensor values)
    : representation_(representation), qubits_(qubits), diagonal_(std::move(diagonal)), values_(std::move(values)) {
  // Aware blocks that are 1x1 are the probability vector (D = every qubit,
  // so the block index is the basis index).
  if (static_cast<int64_t>(diagonal_.size()) == qubits_ && values_.is_complex()) {
    // Component vectors [B, r, 2^n], or 1x1 blocks [B, 2^n, 1, 1] (a
    // channel applied to a probability vector through aware_apply_kraus).
    values_ = values_.dim() == 3 ? component_weights(values_) : block_diagonals(values_);
  }
}

RegisterState RegisterState::with_values(torch::Tensor values) const {
  return RegisterState(representation_, qubits_, diagonal_, std::move(values));
}

RegisterState RegisterState::from_data_state(const torch::Tensor& rho_data, int64_t ancillas,
                                             Representation representation) {
  require_states(rho_data);
  require(ancillas >= 0, "RegisterState: ancillas must be >= 0, got ", ancillas);
  const int64_t data_qubits = log2_exact(rho_data.size(1), "the data register");
  const int64_t n = data_qubits + ancillas;
  require_qubit_limit(n, representation);
  switch (representation) {
    case Representation::dense:
      return RegisterState(representation, n, {}, hqrn::embed_ancillas(rho_data, ancillas));
    case Representation::probabilities:
      return from_distribution(hqrn::probs(rho_data), ancillas, representation);
    case Representation::vectors:
      return from_vectors(to_state_vectors(rho_data).vectors, ancillas, representation);
    case Representation::aware: break;
  }
  std::vector<int64_t> diagonal;
  for (int64_t q = data_qubits; q < n; ++q) diagonal.push_back(q);
  // The ancillas' only nonzero block is a = 0..0.
  const auto block = rho_data.unsqueeze(1);
  const int64_t empty_blocks = (int64_t{1} << ancillas) - 1;
  auto values = empty_blocks == 0
                    ? block
                    : torch::cat({block, torch::zeros({rho_data.size(0), empty_blocks, rho_data.size(1),
                                                       rho_data.size(2)},
                                                      rho_data.options())},
                                 1);
  return RegisterState(representation, n, std::move(diagonal), std::move(values));
}

RegisterState RegisterState::from_distribution(const torch::Tensor& p_data, int64_t ancillas,
                                               Representation representation) {
  require(p_data.defined() && p_data.dim() == 2 && !p_data.is_complex(),
          "RegisterState: expected real probability vectors [B, d], got ",
          p_data.defined() ? p_data.sizes() : c10::IntArrayRef{}, " ",
          p_data.defined() ? c10::toString(p_data.scalar_type()) : "undefined");
  require(ancillas >= 0, "RegisterState: ancillas must be >= 0, got ", ancillas);
  const int64_t n = log2_exact(p_data.size(1), "the probability vector") + ancillas;
  // A distribution in the aware representation is its probability vector.
  require_qubit_limit(n, representation == Representation::aware ? Representation::probabilities : representation);
  const auto p = with_ancillas(p_data, ancillas);
  if (representation == Representation::dense) {
    return RegisterState(representation, n, {}, torch::diag_embed(p).to(c10::toComplexType(p.scalar_type())));
  }
  return RegisterState(representation, n, all_qubits(n), p);
}

RegisterState RegisterState::from_vectors(const torch::Tensor& vectors_data, int64_t ancillas,
                                          Representation representation) {
  const auto& v = vectors_data;
  require(v.defined() && v.dim() == 3 && v.is_complex() && v.size(1) >= 1,
          "RegisterState: expected complex component vectors [B, r, d] with r >= 1, got ",
          v.defined() ? v.sizes() : c10::IntArrayRef{}, " ", v.defined() ? c10::toString(v.scalar_type()) : "undefined");
  require(ancillas >= 0, "RegisterState: ancillas must be >= 0, got ", ancillas);
  const int64_t n = log2_exact(v.size(2), "the state vector") + ancillas;
  require_qubit_limit(n, representation);
  if (representation == Representation::probabilities) {
    return from_distribution(component_weights(v), ancillas, representation);
  }
  if (representation != Representation::vectors) {
    return from_data_state(density_of_components(v), ancillas, representation);
  }
  // W (x) |0..0>: the ancillas are the low bits, so each amplitude moves to
  // x 2^ancillas and the rest are zero.
  const int64_t aux = int64_t{1} << ancillas;
  auto values = aux == 1 ? v
                         : torch::constant_pad_nd(v.unsqueeze(-1), {0, aux - 1})
                               .reshape({v.size(0), v.size(1), v.size(2) * aux});
  return RegisterState(representation, n, {}, std::move(values));
}

torch::Tensor density_of_components(const torch::Tensor& vectors) {
  // V^T conj(V) per state, V the [r, d] components.
  return torch::matmul(vectors.transpose(1, 2), vectors.conj());
}

StateVectors to_state_vectors(const torch::Tensor& rho, double tolerance) {
  require_states(rho);
  require(!rho.requires_grad(),
          "to_state_vectors: the states require grad, but their eigendecomposition is taken as data (its gradient is "
          "unstable at degenerate eigenvalues); pass component vectors to differentiate by the input");
  require(tolerance >= 0, "to_state_vectors: tolerance must be >= 0, got ", tolerance);
  const auto [values, vectors] = torch::linalg_eigh(rho);  // ascending
  const auto kept = values.gt(tolerance);
  const int64_t d = rho.size(1);
  const int64_t rank = rho.size(0) == 0 ? 1 : std::max<int64_t>(1, kept.sum(1).max().item<int64_t>());
  // Every eigenvalue above the tolerance is among the `rank` largest.
  const auto top = values.narrow(1, d - rank, rank);
  const auto scale = torch::where(top.gt(tolerance), top.clamp_min(0).sqrt(), torch::zeros_like(top));
  auto components = (vectors.narrow(2, d - rank, rank) * scale.unsqueeze(1)).transpose(1, 2).contiguous();
  return {components, values.masked_fill(kept, 0).sum(1)};
}

RegisterState RegisterState::aware_from_dense(const torch::Tensor& rho, std::vector<int64_t> diagonal) {
  require_states(rho);
  const int64_t n = log2_exact(rho.size(1), "the register");
  std::sort(diagonal.begin(), diagonal.end());
  for (const auto q : diagonal) require(q >= 0 && q < n, "RegisterState: diagonal qubit ", q, " out of range");
  const auto idx = basis_indices(n, diagonal);
  using torch::indexing::Slice;
  auto values = rho.index({Slice(), idx.unsqueeze(2), idx.unsqueeze(1)});
  return RegisterState(Representation::aware, n, std::move(diagonal), std::move(values));
}

RegisterState RegisterState::step(const torch::Tensor& theta, const torch::Tensor& phi, int64_t target) const {
  const int64_t rows = values_.size(0);
  if (is_distribution()) return with_values(hqrn::markov_step(values_, per_sample(theta, rows), target));
  if (representation_ == Representation::dense) {
    return with_values(hqrn::qrb_step(values_, per_sample(theta, rows), per_sample(phi, rows), target));
  }
  if (representation_ == Representation::vectors) return vectors_step(theta, phi, target);
  auto diagonal = diagonal_;
  if (!std::binary_search(diagonal.begin(), diagonal.end(), target)) {
    diagonal.insert(std::upper_bound(diagonal.begin(), diagonal.end(), target), target);
  }
  return RegisterState(representation_, qubits_, std::move(diagonal),
                       hqrn::aware_step(values_, theta, phi, target, diagonal_));
}

RegisterState RegisterState::vectors_step(const torch::Tensor& theta, const torch::Tensor& phi,
                                          int64_t target) const {
  require(target >= 0 && target < qubits_, "RegisterState: target ", target, " out of range for ", qubits_, " qubits");
  auto diagonal = diagonal_;
  const auto at = std::lower_bound(diagonal.begin(), diagonal.end(), target);
  if (at == diagonal.end() || *at != target) {
    // U_j never mixes assignments of D, and the two outcomes of measuring j
    // have disjoint supports on j: the rotated vectors and D + {j} stand for
    // the measured state exactly.
    diagonal.insert(at, target);
    return RegisterState(representation_, qubits_, std::move(diagonal),
                         hqrn::vector_step(values_, theta, phi, target));
  }
  // j already measured, some qubit not: U_j mixes the assignments of j, so
  // the halves w_k P_0 and w_k P_1 become components of their own (the rank
  // doubles) and are rotated apart.
  const auto upper = values_ * bit_set(qubits_, index::qubit_mask(qubits_, target), values_);
  const auto halves = torch::cat({values_ - upper, upper}, 1);
  return with_values(hqrn::vector_step(halves, theta, phi, target));
}

RegisterState RegisterState::sweep(const torch::Tensor& theta, const torch::Tensor& phi,
                                   const std::vector<int64_t>& targets, const torch::Tensor& step_channel) const {
  const bool noisy = step_channel.defined();
  // qrb_sweep takes shared tables [n, 2^(n-1)]; per-sample ones [n, B, 2^(n-1)] run step by step.
  if (representation_ == Representation::dense && !noisy && theta.dim() == 2) {
    return with_values(hqrn::qrb_sweep(values_, theta, phi, targets));
  }
  // One unbind per table instead of a select per step: one autograd node
  // each, where a select's backward writes a whole zero table per step.
  const auto per_qubit = [&](const torch::Tensor& tables, const char* name) {
    if (!tables.defined()) return std::vector<torch::Tensor>{};
    require(tables.dim() >= 1 && tables.size(0) == qubits_, "RegisterState: ", name, " must hold one table per qubit (",
            qubits_, "), got ", tables.sizes());
    return tables.unbind(0);
  };
  const auto thetas = per_qubit(theta, "theta");
  const auto phis = per_qubit(phi, "phi");
  // Grouped tables ([n, G, h], branches side by side) repeated per row once
  // for the whole sweep, when a step needs them so (markov_step, qrb_step).
  std::vector<torch::Tensor> theta_rows, phi_rows;
  const int64_t rows = values_.size(0);
  RegisterState state = *this;
  for (const auto j : targets) {
    require(j >= 0 && j < qubits_, "RegisterState: target ", j, " out of range for ", qubits_, " qubits");
    require(!thetas.empty(), "RegisterState: theta is undefined");
    const bool reads_phi = !state.is_distribution();
    require(!reads_phi || !phis.empty(), "RegisterState: phi is undefined");
    const bool by_row = theta.dim() == 3 && (state.is_distribution() || state.representation_ == Representation::dense);
    if (by_row && theta_rows.empty()) theta_rows = per_qubit(per_sample(theta, rows), "theta");
    if (by_row && reads_phi && phi_rows.empty()) phi_rows = per_qubit(per_sample(phi, rows), "phi");
    const auto& t = by_row ? theta_rows : thetas;
    const auto& p = by_row ? phi_rows : phis;
    state = state.step(t[static_cast<size_t>(j)], reads_phi ? p[static_cast<size_t>(j)] : torch::Tensor(), j);
    if (!noisy) continue;
    // The spec places the channels between the rotation and the measurement;
    // applying them after the fused step gives the same state, because every
    // channel of a NoiseModel commutes with the measurement (docs/model.md,
    // "Exactness under noise"), and it keeps the target diagonal for the
    // coherence-aware blocks. tests/test_noise.cpp checks against the spec's order.
    for (int64_t q = 0; q < qubits_; ++q) state = state.apply_channel(step_channel, {q});
  }
  return state;
}

RegisterState RegisterState::repeated(int64_t copies) const {
  require(copies >= 1, "RegisterState: copies must be >= 1, got ", copies);
  // One copy of an expanded view (repeat() makes several calls for it).
  auto expanded = values_.sizes().vec();
  expanded.insert(expanded.begin(), copies);
  auto rows = values_.sizes().vec();
  rows[0] *= copies;
  return with_values(values_.unsqueeze(0).expand(expanded).contiguous().view(rows));
}

RegisterState RegisterState::apply_channel(const torch::Tensor& kraus, const std::vector<int64_t>& targets) const {
  require(representation_ != Representation::vectors || is_distribution(),
          "RegisterState: the vectors representation takes no noise channels (a channel on a coherent qubit raises the "
          "rank at every step); run noisy networks in the aware or dense execution");
  if (representation_ == Representation::dense) return with_values(hqrn::apply_kraus(values_, kraus, targets));
  if (!is_distribution()) return with_values(hqrn::aware_apply_kraus(values_, kraus, targets, diagonal_));
  // A probability vector is the aware layout with 1x1 blocks: the same op
  // (its checks and hand-written backward) mixes the entries.
  const auto blocks = values_.to(c10::toComplexType(values_.scalar_type())).reshape({values_.size(0), -1, 1, 1});
  return with_values(hqrn::aware_apply_kraus(blocks, kraus, targets, diagonal_));
}

torch::Tensor RegisterState::probabilities() const {
  if (is_distribution()) return values_;
  if (representation_ == Representation::dense) return hqrn::probs(values_);
  if (representation_ == Representation::vectors) return component_weights(values_);
  const auto diag = block_diagonals(values_);
  // Entry k of `diag` belongs to basis index idx[k]; gather with the inverse.
  const auto idx = basis_indices(qubits_, diagonal_).flatten();
  return diag.index_select(1, torch::argsort(idx));
}

torch::Tensor RegisterState::to_dense() const {
  if (is_distribution()) return torch::diag_embed(values_).to(c10::toComplexType(values_.scalar_type()));
  if (representation_ == Representation::dense) return values_;
  const int64_t d = int64_t{1} << qubits_;
  if (representation_ == Representation::vectors) {
    // sum_k |w_k><w_k| with the entries whose row and column differ on D zeroed.
    int64_t measured = 0;
    for (const auto q : diagonal_) measured |= index::qubit_mask(qubits_, q);
    const auto x = torch::arange(d, torch::TensorOptions().dtype(torch::kLong).device(values_.device()));
    const auto coherent = x.unsqueeze(1).bitwise_xor(x.unsqueeze(0)).bitwise_and(measured).eq(0);
    return density_of_components(values_) * coherent.to(values_.scalar_type());
  }
  const auto idx = basis_indices(qubits_, diagonal_);
  using torch::indexing::Slice;
  auto rho = torch::zeros({values_.size(0), d, d}, values_.options());
  rho.index_put_({Slice(), idx.unsqueeze(2), idx.unsqueeze(1)}, values_);
  return rho;
}

}  // namespace hqrn
