#include "models/aware_state.h"
#include "models/errors.h"

#include "torch_ext/ops.h"
#include "torch_ext/qubit_index.h"

#include <algorithm>
#include <stdexcept>

namespace hqrn {

namespace {

int64_t log2_exact(int64_t size, const char* what) {
  const int64_t n = index::qubits_of_dimension(size);
  if (n < 0) {
    throw InvalidInput(std::string("AwareState: ") + what + " has size " + std::to_string(size) +
                                ", not a power of two");
  }
  return n;
}

// Basis index of entry (a, r) of the aware layout: [2^|D|, 2^m], int64.
torch::Tensor basis_indices(int64_t n, const std::vector<int64_t>& diagonal) {
  const auto coherent = index::complement(n, diagonal);
  const auto a_offsets = index::subregister_offsets(n, diagonal);
  const auto r_offsets = index::subregister_offsets(n, coherent);
  auto out = torch::empty({static_cast<int64_t>(a_offsets.size()), static_cast<int64_t>(r_offsets.size())},
                          torch::kLong);
  auto acc = out.accessor<int64_t, 2>();
  for (size_t a = 0; a < a_offsets.size(); ++a) {
    for (size_t r = 0; r < r_offsets.size(); ++r) acc[a][r] = a_offsets[a] | r_offsets[r];
  }
  return out;
}

// A state whose blocks are 1x1 is the probability vector (D = every qubit,
// so the block index is the basis index).
AwareState normalised(AwareState state) {
  if (state.classical() && state.values.is_complex()) {
    state.values = torch::real(state.values).reshape({state.values.size(0), -1});
  }
  return state;
}

}  // namespace

AwareState AwareState::from_data_state(const torch::Tensor& rho_data, int64_t ancillas) {
  require(rho_data.dim() == 3 && rho_data.is_complex(), "AwareState: expected complex states [B, d, d], got ",
              rho_data.sizes(), " ", rho_data.scalar_type());
  AwareState state;
  const int64_t data_qubits = log2_exact(rho_data.size(1), "the data register");
  state.qubits = data_qubits + ancillas;
  for (int64_t q = data_qubits; q < state.qubits; ++q) state.diagonal.push_back(q);
  const auto block = rho_data.unsqueeze(1);
  const int64_t empty_blocks = (int64_t{1} << ancillas) - 1;
  state.values = empty_blocks == 0
                     ? block
                     : torch::cat({block, torch::zeros({rho_data.size(0), empty_blocks, rho_data.size(1),
                                                        rho_data.size(2)},
                                                       rho_data.options())},
                                  1);
  return normalised(std::move(state));
}

AwareState AwareState::from_distribution(const torch::Tensor& p) {
  require(p.dim() == 2 && !p.is_complex(), "AwareState: expected real probability vectors [B, d], got ",
              p.sizes(), " ", p.scalar_type());
  AwareState state;
  state.qubits = log2_exact(p.size(1), "the probability vector");
  for (int64_t q = 0; q < state.qubits; ++q) state.diagonal.push_back(q);
  state.values = p;
  return state;
}

AwareState AwareState::from_dense(const torch::Tensor& rho, std::vector<int64_t> diagonal) {
  require(rho.dim() == 3 && rho.is_complex(), "AwareState: expected complex states [B, d, d], got ",
              rho.sizes(), " ", rho.scalar_type());
  AwareState state;
  state.qubits = log2_exact(rho.size(1), "the register");
  std::sort(diagonal.begin(), diagonal.end());
  state.diagonal = std::move(diagonal);
  const auto idx = basis_indices(state.qubits, state.diagonal);
  using torch::indexing::Slice;
  state.values = rho.index({Slice(), idx.unsqueeze(2), idx.unsqueeze(1)});
  return normalised(std::move(state));
}

AwareState AwareState::step(const torch::Tensor& theta, const torch::Tensor& phi, int64_t target) const {
  AwareState next = *this;
  if (classical()) {
    next.values = hqrn::markov_step(values, theta, target);
    return next;
  }
  next.values = hqrn::aware_step(values, theta, phi, target, diagonal);
  if (!std::binary_search(diagonal.begin(), diagonal.end(), target)) {
    next.diagonal.insert(std::upper_bound(next.diagonal.begin(), next.diagonal.end(), target), target);
  }
  return normalised(std::move(next));
}

torch::Tensor AwareState::probabilities() const {
  if (classical()) return values;
  const auto diag = torch::real(values.diagonal(0, 2, 3)).reshape({values.size(0), -1});
  // Entry k of `diag` belongs to basis index idx[k]; gather with the inverse.
  const auto idx = basis_indices(qubits, diagonal).flatten();
  return diag.index_select(1, torch::argsort(idx));
}

torch::Tensor AwareState::to_dense() const {
  if (classical()) return torch::diag_embed(values).to(c10::toComplexType(values.scalar_type()));
  const int64_t d = int64_t{1} << qubits;
  const auto idx = basis_indices(qubits, diagonal);
  using torch::indexing::Slice;
  auto rho = torch::zeros({values.size(0), d, d}, values.options());
  rho.index_put_({Slice(), idx.unsqueeze(2), idx.unsqueeze(1)}, values);
  return rho;
}

}  // namespace hqrn
