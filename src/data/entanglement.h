// Two-qubit entanglement data (docs/model.md, "The network"): random mixed states labelled
// by the PPT criterion, and separable "twins" of entangled states that fool
// classifiers seeing only part of the state.
//
// Qubit 0 = A is the most significant bit of a basis index (big-endian), so
// a product state rho_A (x) rho_B is kron(rho_A, rho_B) and
// rho[2a + b, 2a' + b'] carries the indices of A (a, a') and B (b, b').
#pragma once

#include <cstdint>
#include <random>
#include <string>

#include <torch/types.h>

#include "src/data/state_csv.h"

namespace hqrn::data {

enum class Family {
  random,                // balanced: label 1 = entangled, 0 = separable
  adversarial_dephased,  // entangled states (1) and their dephased twins (0)
  adversarial_marginal,  // entangled states (1) and their marginal twins (0)
};

// Accepts "random", "adversarial-dephased", "adversarial-marginal".
// Throws std::invalid_argument listing these otherwise.
Family parse_family(const std::string& name);
std::string family_name(Family family);

// A state is called entangled when the smallest eigenvalue of its partial
// transpose is below this. PPT is exact for two qubits; the margin keeps
// rounding (~1e-16) from making separable twins, whose partial transposes
// have eigenvalues >= 0 in exact arithmetic, look entangled.
inline constexpr double kPptThreshold = -1e-12;

// rho = G G^dagger / tr(G G^dagger): k = 1 + uniform_below(rng, 4), then G
// [4, k] filled row-major with complex_gaussian(rng). Returns [4, 4]
// complex128, exactly Hermitian.
torch::Tensor random_mixed_state(std::mt19937_64& rng);

// The functions below take one state [4, 4] or a batch [..., 4, 4].
torch::Tensor partial_transpose_b(const torch::Tensor& rho);  // transposes B's indices b <-> b'
torch::Tensor reduced_state_a(const torch::Tensor& rho);      // tr_B rho, [..., 2, 2]
torch::Tensor reduced_state_b(const torch::Tensor& rho);      // tr_A rho, [..., 2, 2]
// diag(rho): same computational-basis statistics, no coherences.
torch::Tensor dephased_twin(const torch::Tensor& rho);
// rho_A (x) rho_B: same reduced states, hence the same local statistics.
torch::Tensor marginal_twin(const torch::Tensor& rho);

// True when partial_transpose_b(rho) has an eigenvalue below kPptThreshold.
// rho: one state [4, 4].
bool is_entangled_ppt(const torch::Tensor& rho);

// n states (n even, > 0) from std::mt19937_64(seed), [n, 4, 4] complex128
// with int64 labels (1 = entangled):
// - random: random_mixed_state draws, each kept while its class has fewer
//   than n/2 members; the n kept states are then put in a random order.
// - adversarial_dephased / adversarial_marginal: n/2 entangled draws; row 2i
//   is the i-th (label 1) and row 2i+1 its twin (label 0), so pairs stay
//   recognisable.
StateDataset generate_states(Family family, int64_t n, uint64_t seed);

// Full-tomography features: [N, 15] float64, column 4a + b - 1 holds
// tr(rho P_a (x) P_b) for (a, b) != (0, 0), P = (I, X, Y, Z), P_a on qubit A.
// So the order is IX IY IZ XI XX XY XZ YI YX YY YZ ZI ZX ZY ZZ.
torch::Tensor pauli_expectations(const torch::Tensor& states);

// The name of column index of pauli_expectations, e.g. 4 -> "XX".
std::string pauli_feature_name(int64_t index);

}  // namespace hqrn::data
