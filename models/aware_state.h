// A register state in the coherence-aware layout (spec section 6): only the
// entries whose row and column agree on the diagonal qubits D are stored.
// Once every qubit is in D the state is the classical probability vector and
// later steps are Markov steps. Exact: the same numbers as the dense path.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace hqrn {

struct AwareState {
  int64_t qubits = 0;
  std::vector<int64_t> diagonal;  // D, ascending
  // [B, 2^|D|, 2^m, 2^m] complex (see hqrn::aware_step), or [B, 2^n] real
  // once D holds every qubit.
  torch::Tensor values;

  bool classical() const { return static_cast<int64_t>(diagonal.size()) == qubits; }

  // rho_data (x) |0..0><0..0| for `ancillas` ancillas after the data qubits:
  // the ancillas start diagonal, the data qubits coherent.
  static AwareState from_data_state(const torch::Tensor& rho_data, int64_t ancillas);
  // A probability vector [B, 2^n]: every qubit diagonal.
  static AwareState from_distribution(const torch::Tensor& p);
  // Any dense state [B, d, d] with the given qubits known to be diagonal
  // (entries outside the stored blocks are dropped).
  static AwareState from_dense(const torch::Tensor& rho, std::vector<int64_t> diagonal);

  // S_target with angle tables theta, phi [2^(n-1)]: aware_step while some
  // qubit is coherent, markov_step after.
  AwareState step(const torch::Tensor& theta, const torch::Tensor& phi, int64_t target) const;

  // Z distribution of the whole register, [B, 2^n], in basis-index order.
  torch::Tensor probabilities() const;
  // The full density matrix [B, 2^n, 2^n] (for checks; costs 4^n).
  torch::Tensor to_dense() const;
};

}  // namespace hqrn
