#include "models/residual_block.h"
#include "models/errors.h"

#include "torch_ext/ops.h"

#include <stdexcept>
#include <string>

namespace hqrn {

QuantumResidualBlockImpl::QuantumResidualBlockImpl(const ResidualBlockOptions& options)
    : options_(options), targets_(options.targets()) {
  const int64_t n = options.qubits();
  if (n < 1) throw InvalidInput("QuantumResidualBlock: qubits must be >= 1");
  if (targets_.empty()) {
    for (int64_t j = 0; j < n; ++j) targets_.push_back(j);
  }
  for (const auto j : targets_) {
    if (j < 0 || j >= n)
      throw InvalidInput("QuantumResidualBlock: target " + std::to_string(j) + " out of range");
  }
  const double s = options.init_std();
  W = register_parameter("W", torch::randn({n, n}, torch::kFloat64) * s);
  b = register_parameter("b", torch::randn({n}, torch::kFloat64) * s);
  if (options.quantum_weights()) {
    V = register_parameter("V", torch::randn({n, n}, torch::kFloat64) * s);
    a = register_parameter("a", torch::randn({n}, torch::kFloat64) * s);
  }
}

torch::Tensor QuantumResidualBlockImpl::theta_tables() const { return angle_tables({W}, {b}).squeeze(1); }

torch::Tensor QuantumResidualBlockImpl::phi_tables() const {
  if (!has_quantum_weights()) {
    const int64_t n = options_.qubits();
    return torch::zeros({n, int64_t{1} << (n - 1)}, W.options());
  }
  return angle_tables({V}, {a}).squeeze(1);
}

RegisterState QuantumResidualBlockImpl::forward(const RegisterState& state, const torch::Tensor& step_channel) const {
  // Probability vectors never read phi: skip building its tables.
  return state.sweep(theta_tables(), state.is_distribution() ? torch::Tensor() : phi_tables(), targets_,
                     step_channel);
}

RegisterState QuantumResidualBlockImpl::forward_side_by_side(const std::vector<const QuantumResidualBlockImpl*>& blocks,
                                                            const RegisterState& state,
                                                            const torch::Tensor& step_channel) {
  require(!blocks.empty(), "QuantumResidualBlock: no blocks to run side by side");
  const auto& first = *blocks.front();
  const auto branches = static_cast<int64_t>(blocks.size());
  const int64_t rows = state.values().size(0);
  require(rows % branches == 0, "QuantumResidualBlock: ", rows, " rows do not split into ", branches, " branches");
  const bool reads_phi = !state.is_distribution();
  const bool quantum = first.has_quantum_weights();
  // theta's weights for every branch, then phi's: one operator call for all
  // the tables.
  std::vector<torch::Tensor> weights, biases;
  for (const auto* block : blocks) {
    require(block->options_.qubits() == first.options_.qubits() && block->targets_ == first.targets_ &&
                block->has_quantum_weights() == quantum,
            "QuantumResidualBlock: blocks run side by side must have one shape and one target order");
    weights.push_back(block->W);
    biases.push_back(block->b);
  }
  const bool phi_from_weights = reads_phi && quantum;
  if (phi_from_weights) {
    for (const auto* block : blocks) {
      weights.push_back(block->V);
      biases.push_back(block->a);
    }
  }
  const auto tables = angle_tables(weights, biases);  // [n, T K, h], T = 1 or 2
  // [n, T K, h] -> T tables [n, K, h]: one table per branch, which the
  // coherence-aware steps read for each of the branch's rows (rows k B ..
  // k B + B - 1 are branch k's) and the other steps get repeated per row.
  const auto by_kind = tables.split(branches, 1);
  const auto& theta = by_kind[0];
  torch::Tensor phi;
  if (reads_phi) phi = phi_from_weights ? by_kind[1] : torch::zeros_like(theta);
  return state.sweep(theta, phi, first.targets_, step_channel);
}

}  // namespace hqrn
