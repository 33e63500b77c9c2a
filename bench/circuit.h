// The two baselines of a residual step, written in plain LibTorch from the
// definition (docs/model.md, "One residual step") the way a user would, independently of the HQRN kernels:
// the dense product Delta_j(U rho U^dagger) with the d x d multiplexed
// rotation, and the gate-by-gate circuit of the factorisation
//   U_j = [RZ(-a_j) prod_i CRZ_i->j(-V_ji)] [RY(b_j) prod_i CRY_i->j(W_ji)]
//         [RZ(a_j) prod_i CRZ_i->j(V_ji)]
// followed by the measurement of qubit j.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace hqrn::bench {

// One block's weights and the angle tables qrb_step takes for them:
// theta_j(c) = b_j + sum_{i != j} W_ji c_i, phi_j(c) = a_j + sum_{i != j} V_ji c_i.
struct StepWeights {
  int64_t n = 0;
  torch::Tensor W, b, V, a;    // float64 [n, n], [n]
  torch::Tensor theta, phi;    // float64 [n, 2^(n-1)], indexed by cidx
};

// Random weights with unit spread (large angles, so the checks mean something);
// the tables come from hqrn::QuantumResidualBlock, the model's own definition.
StepWeights random_weights(int64_t n);

// A k-qubit gate: matrix [2^k, 2^k]; qubits[0] is the most significant bit of its index.
struct Gate {
  torch::Tensor matrix;
  std::vector<int64_t> qubits;
};

// rho <- G rho G^dagger on gate.qubits, the generic way: rho viewed as
// [B, 2,..,2 (rows), 2,..,2 (columns)], the gate's axes moved last, a matmul, and back.
torch::Tensor apply_gate(const torch::Tensor& rho, const Gate& gate);

// The 3n gates of U_j in application order, in the given complex dtype.
std::vector<Gate> step_circuit(const StepWeights& w, int64_t j, torch::ScalarType complex_dtype);

// U_j as a dense d x d matrix (sum_c |c><c| (x) R(theta[c], phi[c])).
torch::Tensor dense_rotation(const StepWeights& w, int64_t j, torch::ScalarType complex_dtype);

// 1 where row and column agree on qubit j, else 0: Delta_j is a product with it.
torch::Tensor dephasing_mask(int64_t n, int64_t j, torch::ScalarType complex_dtype);

// The baselines' steps: gates one at a time / U rho U^dagger; then the measurement.
torch::Tensor circuit_step(const torch::Tensor& rho, const std::vector<Gate>& gates, const torch::Tensor& mask);
torch::Tensor dense_step(const torch::Tensor& rho, const torch::Tensor& u, const torch::Tensor& mask);

// Compares both baselines with hqrn::qrb_step for every target at n = 4 in
// complex128; prints a message and exits with status 2 if any entry differs by
// more than 1e-10. Returns the largest difference seen.
double check_baselines();

}  // namespace hqrn::bench
