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
  // [n, h, n] @ [n, n, 1] -> [n, h]; column j of controls_[j] is zero, so W_jj never enters.
  const auto controls = controls_.to(weights.scalar_type());
  return torch::bmm(controls, weights.unsqueeze(-1)).squeeze(-1) + bias.unsqueeze(-1);
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

}  // namespace hqrn
