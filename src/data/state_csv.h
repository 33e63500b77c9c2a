// Quantum-state datasets and their CSV format: one state per
// row, an integer label then Re rho[0,0], Im rho[0,0], Re rho[0,1], ... in
// row-major order, 1 + 2*d*d fields with d = 2^n, n >= 1.
#pragma once

#include <string>
#include <vector>

#include <torch/types.h>

namespace hqrn::data {

struct StateDataset {
  torch::Tensor states;  // [N, d, d] complex128
  torch::Tensor labels;  // [N] int64
};

// How loaded states are checked. A valid state is Hermitian (every
// |rho_ij - conj(rho_ji)| <= tolerance), has |tr rho - 1| <= tolerance and
// eigenvalues of its Hermitian part >= -tolerance. The tolerance is absolute:
// 1e-8 accepts states written in single precision or after a few roundings.
struct StateCheck {
  double tolerance = 1e-8;
  // false: an invalid state is an error naming file and line.
  // true: an invalid state is replaced by project_to_density_matrix(state);
  // valid states load unchanged either way.
  bool project = false;
};

// Loads a state CSV (plain or gzip). Throws std::runtime_error naming the file
// and line for malformed rows (see read_numeric_csv), a row length that is not
// 1 + 2*d*d with d a power of two, rows of different d, labels that are not
// non-negative integers, and (unless check.project) invalid states.
StateDataset load_state_csv(const std::string& path, const StateCheck& check = {});

// Writes the states in the same format with %.17g, so load_state_csv reads
// back the identical values. Writes a temporary file in the same directory
// and renames it over path; gzip-compressed when path ends in ".gz".
void save_state_csv(const std::string& path, const StateDataset& dataset);

// Eigenvalues, ascending, of the Hermitian part (M + M^dagger)/2 of a square
// complex matrix [d, d].
std::vector<double> hermitian_eigenvalues(const torch::Tensor& matrix);

// Why matrix [d, d] is not a density matrix within tolerance (see StateCheck),
// or an empty string when it is one.
std::string density_matrix_problem(const torch::Tensor& matrix, double tolerance);

// A density matrix close to matrix [d, d]: its Hermitian part with negative
// eigenvalues set to zero, then divided by its trace. (This is the usual
// clip-and-renormalise repair, not the exact Frobenius-nearest state.) Throws
// std::invalid_argument when no eigenvalue is positive.
torch::Tensor project_to_density_matrix(const torch::Tensor& matrix);

}  // namespace hqrn::data
