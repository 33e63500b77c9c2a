#include "models/residual_block.h"
#include "models/errors.h"

#include "torch_ext/ops.h"
#include "torch_ext/qubit_index.h"

#include <stdexcept>
#include <string>

namespace hqrn {

namespace {

torch::Tensor control_bits(int64_t n) {
  const int64_t half = int64_t{1} << (n - 1);
  auto bits = torch::zeros({n, half, n}, torch::kFloat64);
  auto acc = bits.accessor<double, 3>();
  for (int64_t j = 0; j < n; ++j) {
    const int64_t mask = index::qubit_mask(n, j);
    for (int64_t c = 0; c < half; ++c) {
      const int64_t x = index::insert_zero_bit(c, mask);
      for (int64_t i = 0; i < n; ++i) acc[j][c][i] = (x & index::qubit_mask(n, i)) ? 1.0 : 0.0;
    }
  }
  return bits;
}

}  // namespace

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
  controls_ = control_bits(n);
}

torch::Tensor QuantumResidualBlockImpl::tables(const torch::Tensor& weights, const torch::Tensor& bias) const {
  // [n, h, n] @ [..., n, n, 1] -> [..., n, h]; column j of controls_[j] is
  // zero, so W_jj never enters.
  const auto controls = controls_.to(weights.scalar_type());
  return torch::matmul(controls, weights.unsqueeze(-1)).squeeze(-1) + bias.unsqueeze(-1);
}

torch::Tensor QuantumResidualBlockImpl::theta_tables() const { return tables(W, b); }

torch::Tensor QuantumResidualBlockImpl::phi_tables() const {
  if (!has_quantum_weights()) {
    const int64_t n = options_.qubits();
    return torch::zeros({n, int64_t{1} << (n - 1)}, W.options());
  }
  return tables(V, a);
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
  std::vector<torch::Tensor> w, b, v, a;
  for (const auto* block : blocks) {
    require(block->options_.qubits() == first.options_.qubits() && block->targets_ == first.targets_ &&
                block->has_quantum_weights() == first.has_quantum_weights(),
            "QuantumResidualBlock: blocks run side by side must have one shape and one target order");
    w.push_back(block->W);
    b.push_back(block->b);
    if (block->has_quantum_weights()) {
      v.push_back(block->V);
      a.push_back(block->a);
    }
  }
  // [K, n, h] -> [n, K B, h]: row k B + b of step j's table is branch k's.
  const auto per_row = [&](const torch::Tensor& tables) {
    const auto sizes = tables.sizes();
    return tables.unsqueeze(2)
        .expand({sizes[0], sizes[1], rows / branches, sizes[2]})
        .transpose(0, 1)
        .reshape({sizes[1], rows, sizes[2]});
  };
  const auto theta = per_row(first.tables(torch::stack(w), torch::stack(b)));
  torch::Tensor phi;
  if (!state.is_distribution()) {
    phi = first.has_quantum_weights() ? per_row(first.tables(torch::stack(v), torch::stack(a)))
                                      : torch::zeros_like(theta);
  }
  return state.sweep(theta, phi, first.targets_, step_channel);
}

}  // namespace hqrn
