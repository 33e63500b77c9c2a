// Slow dense references for the hqrn ops, built from the definitions in the
// definitions (docs/model.md, docs/operators.md) as full d x d matrices with plain LibTorch algebra.
// They share no code with torch_ext/ and are differentiable by LibTorch
// autograd, so the ops' forward and backward can both be checked against them.
//
// Conventions: n qubits, d = 2^n, qubit 0 is the most significant bit of a
// basis index. States are [B, d, d] complex; probability vectors [B, d] real;
// angle tables [2^(n-1)] (shared) or [B, 2^(n-1)] (per sample).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace hqrn::dense {

// Bit of qubit q (0 = most significant) in the n-qubit basis index x.
int64_t qubit_bit(int64_t x, int64_t n, int64_t q);

// cidx(x, j): the other qubits' bits of x, in qubit order, as an (n-1)-bit index.
int64_t other_qubits_index(int64_t x, int64_t n, int64_t j);

// Number of qubits of a register of dimension d (d must be a power of two).
int64_t qubits_of_dim(int64_t d);

// R(theta, phi) = [[cos(t/2), -e^{i phi} sin(t/2)], [e^{-i phi} sin(t/2), cos(t/2)]]
// for every entry of theta/phi (broadcast to a shape S): returns [S..., 2, 2] complex.
torch::Tensor rotation(const torch::Tensor& theta, const torch::Tensor& phi);

// U_j = sum_c |c><c|_others (x) R(theta[c], phi[c])_j as a full matrix:
// [d, d] for shared tables, [B, d, d] when either table is per sample.
torch::Tensor multiplexed_rotation(const torch::Tensor& theta, const torch::Tensor& phi, int64_t n,
                                   int64_t target);

// P_b = |b><b| on qubit `target`, identity elsewhere: [d, d] of `dtype`.
torch::Tensor projector(int64_t n, int64_t target, int64_t b, torch::ScalarType dtype);

// Delta_j(rho) = sum_b P_b rho P_b.
torch::Tensor dephase(const torch::Tensor& rho, int64_t target);

// Delta_j(U_j rho U_j^dagger), or U_j rho U_j^dagger when dephase is false.
torch::Tensor qrb_step(const torch::Tensor& rho, const torch::Tensor& theta, const torch::Tensor& phi,
                       int64_t target, bool dephase);

// U_j psi[b, k] for state vectors psi [B, r, d], U_j as multiplexed_rotation
// gives it; theta, phi shared [2^(n-1)], per sample [B, 2^(n-1)] or grouped
// [G, 2^(n-1)] (row g for samples g B/G .. (g+1) B/G - 1).
torch::Tensor vector_step(const torch::Tensor& psi, const torch::Tensor& theta, const torch::Tensor& phi,
                          int64_t target);

// Column-stochastic matrix M of the classical analog, p' = M p:
// M[x, x] = 1 - f(x), M[x, x XOR e_j] = f(x), f(x) = sin^2(theta[cidx(x, j)] / 2).
// [d, d] for a shared table, [B, d, d] per sample.
// theta_j(c) = bias_j + sum_{i != j} weights_ji c_i for every configuration c
// of the other qubits, indexed by cidx, from the definition (docs/model.md):
// [2^(n-1)] float64, a product with explicit 0/1 control bits, so autograd
// reaches weights and bias.
torch::Tensor angle_table(const torch::Tensor& weights, const torch::Tensor& bias, int64_t j);

torch::Tensor markov_matrix(const torch::Tensor& theta, int64_t n, int64_t target);

torch::Tensor markov_step(const torch::Tensor& p, const torch::Tensor& theta, int64_t target);

// rho (x) |0..0><0..0| (n_aux ancillas after rho's qubits), by kron per sample.
torch::Tensor embed_ancillas(const torch::Tensor& rho, int64_t n_aux);

// sum over the traced qubits' configurations t of V_t rho V_t^T, with
// V_t[k, x] = 1 when x has keep's bits from k (keep[0] most significant) and
// the other qubits' bits from t.
torch::Tensor partial_trace(const torch::Tensor& rho, const std::vector<int64_t>& keep);

// Real part of the diagonal.
torch::Tensor probs(const torch::Tensor& rho);

// Full matrix of the k-qubit gate u on `targets` (targets[0] = most significant
// bit of u's index): Pm (u (x) I) Pm^T with Pm the basis permutation that puts
// the targets first. [d, d] for u [2^k, 2^k], [B, d, d] for u [B, 2^k, 2^k].
torch::Tensor embedded_unitary(const torch::Tensor& u, int64_t n, const std::vector<int64_t>& targets);

torch::Tensor apply_unitary(const torch::Tensor& rho, const torch::Tensor& u,
                            const std::vector<int64_t>& targets);

// sum_m K_m rho K_m^dagger in complex128, each K_m embedded by Kronecker
// products; kraus [m, 2^k, 2^k] (shared) or [B, m, 2^k, 2^k] (per sample),
// acting on `targets` (targets[0] = most significant bit of K's index).
torch::Tensor apply_kraus(const torch::Tensor& rho, const torch::Tensor& kraus, const std::vector<int64_t>& targets);

// The coherence-aware layout of hqrn::aware_step, from its definition:
// blocks[b, a, r, s] = rho[b, x(a, r), x(a, s)], where x takes a's bits on the
// diagonal qubits and r's on the others (both in qubit order, first most
// significant). Entries of rho outside the blocks are dropped / set to zero.
torch::Tensor aware_from_dense(const torch::Tensor& rho, const std::vector<int64_t>& diagonal);
torch::Tensor aware_to_dense(const torch::Tensor& blocks, const std::vector<int64_t>& diagonal, int64_t n);

// Random inputs (use torch::manual_seed for reproducibility).
// G G^dagger / tr with G a d x rank complex Gaussian matrix (rank <= 0: d).
torch::Tensor random_density(int64_t batch, int64_t n, torch::ScalarType dtype, int64_t rank = 0);
// Complex Gaussian matrices scaled by 1/d (not Hermitian).
torch::Tensor random_matrix(int64_t batch, int64_t n, torch::ScalarType dtype);
// Haar-like unitaries from QR: [dim, dim], or [batch, dim, dim] when batch > 0.
torch::Tensor random_unitary(int64_t dim, torch::ScalarType dtype, int64_t batch = 0);
// Random probability vectors [B, d].
torch::Tensor random_probabilities(int64_t batch, int64_t n, torch::ScalarType dtype);
// Angles uniform in [-pi, pi): [len] shared or [batch, len] when batch > 0.
torch::Tensor random_angles(int64_t len, torch::ScalarType dtype, int64_t batch = 0);

// The real dtype matching a complex one (and the identity on real dtypes).
torch::ScalarType real_dtype(torch::ScalarType complex_type);

}  // namespace hqrn::dense
