// One quantum residual block (docs/model.md): a sweep of residual
// steps over its targets, with angle tables computed from the weights by
// ordinary LibTorch ops so that autograd reaches W, b, V and a.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "models/register_state.h"

namespace hqrn {

struct ResidualBlockOptions {
  explicit ResidualBlockOptions(int64_t qubits) : qubits_(qubits) {}
  TORCH_ARG(int64_t, qubits);
  // Registers V and a (the HQRN); without them only the classical analog runs.
  TORCH_ARG(bool, quantum_weights) = true;
  // Update order; empty means every qubit, 0..n-1.
  TORCH_ARG(std::vector<int64_t>, targets) = {};
  // Standard deviation of the initial weights (0: the identity block).
  TORCH_ARG(double, init_std) = 0.1;
};

class QuantumResidualBlockImpl : public torch::nn::Module {
 public:
  explicit QuantumResidualBlockImpl(const ResidualBlockOptions& options);

  // S_j for every target j, in order, in the state's representation (on
  // probability vectors, MarkovStep_j). On dense states autograd saves the
  // block's input only (hqrn::qrb_sweep recomputes inside the block). A
  // defined step channel (hqrn::step_kraus) follows every step on every qubit.
  RegisterState forward(const RegisterState& state, const torch::Tensor& step_channel = {}) const;

  // theta_j(c) = b_j + sum_i W_ji c_i for every qubit j: [n, 2^(n-1)].
  torch::Tensor theta_tables() const;
  // phi_j(c) = a_j + sum_i V_ji c_i (zeros without quantum weights).
  torch::Tensor phi_tables() const;

  const std::vector<int64_t>& targets() const { return targets_; }

  // The same block of K branches on a state that holds the branches' copies
  // of a batch side by side (branch-major: sample b of branch k is row
  // k B + b): each branch's tables are broadcast over its rows, so every step
  // is one operator call for all branches instead of one per branch. The
  // numbers are the K separate forwards'. The blocks must have one shape and
  // one target order.
  static RegisterState forward_side_by_side(const std::vector<const QuantumResidualBlockImpl*>& blocks,
                                            const RegisterState& state, const torch::Tensor& step_channel = {});
  bool has_quantum_weights() const { return V.defined(); }

  torch::Tensor W, b;  // classical weights: [n, n] (diagonal unused), [n]
  torch::Tensor V, a;  // quantum-only weights, same shapes

 private:
  ResidualBlockOptions options_;
  std::vector<int64_t> targets_;
};

TORCH_MODULE(QuantumResidualBlock);

}  // namespace hqrn
