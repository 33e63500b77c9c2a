// The few-body counterpart of the two-qubit tomography baseline (phases
// experiment): every one- and two-body Pauli expectation of an n-qubit state,
// 3n + 9 n(n-1)/2 numbers, computed from its component vectors at 2^n cost
// per Pauli image, never from a 2^n x 2^n matrix. An MLP on them
// (TomographyMLP) is the baseline that sees all local correlations but none
// of the many-body ones (the string order parameter is an N/2-body operator).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>

namespace hqrn {

// 3n + 9 n(n-1)/2.
int64_t few_body_pauli_count(int64_t qubits);

// Expectations [B, F] float64 of the states rho = sum_k |v_k><v_k| given by
// component vectors [B, r, 2^n] (or pure states [B, 2^n]), complex. Column
// order: one-body first, column 3i + a holds <P_a on qubit i> (a = 0, 1, 2
// for X, Y, Z); then for each pair i < j in lexicographic order, column
// 3n + 9 p + 3a + b (p the pair's rank) holds <P_a on i, P_b on j>. Qubit 0
// is the most significant bit of a basis index (spec section 1).
torch::Tensor few_body_pauli_expectations(const torch::Tensor& vectors);

// "X0", "Y3", "Z0X5": the column's Pauli string, qubits numbered.
std::string few_body_pauli_name(int64_t qubits, int64_t column);

// Estimates of expectations [..., F] in [-1, 1] from `shots` outcomes of
// each one's own measurement (a +-1 variable with P(+1) = (1 + e) / 2, so
// the count of +1 is binomial): 2 k / shots - 1, independently per entry.
// Not differentiable.
torch::Tensor sample_pauli_expectations(const torch::Tensor& expectations, int64_t shots, torch::Generator& generator);

}  // namespace hqrn
