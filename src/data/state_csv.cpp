#include "src/data/state_csv.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <iterator>
#include <stdexcept>

#include <Eigen/Dense>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "src/data/csv.h"

namespace hqrn::data {
namespace {

using Matrix = Eigen::MatrixXcd;
using RowMajorMatrix = Eigen::Matrix<std::complex<double>, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

Matrix to_eigen(const torch::Tensor& matrix) {
  if (matrix.dim() != 2 || matrix.size(0) != matrix.size(1)) {
    throw std::invalid_argument(
        fmt::format("expected a square matrix [d, d], got [{}]", fmt::join(matrix.sizes(), ", ")));
  }
  const torch::Tensor m = matrix.to(torch::kCPU, torch::kComplexDouble).contiguous();
  // c10::complex<double> and std::complex<double> share their layout.
  return Eigen::Map<const RowMajorMatrix>(reinterpret_cast<const std::complex<double>*>(m.data_ptr()),
                                          m.size(0), m.size(1));
}

torch::Tensor to_tensor(const Matrix& matrix) {
  const RowMajorMatrix row_major = matrix;
  return torch::from_blob(const_cast<std::complex<double>*>(row_major.data()), {matrix.rows(), matrix.cols()},
                          torch::kComplexDouble)
      .clone();
}

Matrix hermitian_part(const Matrix& m) { return (m + m.adjoint()) / 2.0; }

// d with 2*d*d == value_count and d = 2^n, n >= 1; 0 when there is none.
int64_t dimension_for(int64_t value_count) {
  for (int64_t d = 2; 2 * d * d <= value_count; d *= 2) {
    if (2 * d * d == value_count) return d;
  }
  return 0;
}

bool is_power_of_two_dimension(int64_t d) { return d >= 2 && (d & (d - 1)) == 0; }

}  // namespace

std::vector<double> hermitian_eigenvalues(const torch::Tensor& matrix) {
  const Eigen::SelfAdjointEigenSolver<Matrix> solver(hermitian_part(to_eigen(matrix)), Eigen::EigenvaluesOnly);
  const Eigen::VectorXd& values = solver.eigenvalues();
  return {values.data(), values.data() + values.size()};
}

std::string density_matrix_problem(const torch::Tensor& matrix, double tolerance) {
  const Matrix m = to_eigen(matrix);
  const double asymmetry = (m - m.adjoint()).cwiseAbs().maxCoeff();
  if (!(asymmetry <= tolerance)) {
    return fmt::format("not Hermitian: max |rho - rho^dagger| = {:.3g} exceeds the tolerance {:g}", asymmetry,
                       tolerance);
  }
  const std::complex<double> trace = m.trace();
  if (!(std::abs(trace - 1.0) <= tolerance)) {
    return fmt::format("trace {:.10g}{:+.3g}i differs from 1 by {:.3g}, more than the tolerance {:g}",
                       trace.real(), trace.imag(), std::abs(trace - 1.0), tolerance);
  }
  const std::vector<double> eigenvalues = hermitian_eigenvalues(matrix);
  if (!(eigenvalues.front() >= -tolerance)) {
    return fmt::format("not positive semidefinite: eigenvalue {:.3g} is below -{:g}", eigenvalues.front(),
                       tolerance);
  }
  return {};
}

torch::Tensor project_to_density_matrix(const torch::Tensor& matrix) {
  const Eigen::SelfAdjointEigenSolver<Matrix> solver(hermitian_part(to_eigen(matrix)));
  const Eigen::VectorXd clipped = solver.eigenvalues().cwiseMax(0.0);
  const double total = clipped.sum();
  if (!(total > 0.0)) {
    throw std::invalid_argument("cannot project to a density matrix: no eigenvalue of the Hermitian part is positive");
  }
  const Matrix& vectors = solver.eigenvectors();
  const Matrix projected = vectors * (clipped / total).cast<std::complex<double>>().asDiagonal() * vectors.adjoint();
  return to_tensor(hermitian_part(projected));  // exactly Hermitian despite rounding
}

StateDataset load_state_csv(const std::string& path, const StateCheck& check) {
  const NumericTable table = read_numeric_csv(path);
  const int64_t d = dimension_for(table.cols - 1);
  if (d == 0) {
    throw_at_line(path, table.line_numbers.front(),
                  fmt::format("{} fields; a state row is a label then 2*d*d numbers with d a power of two >= 2 "
                              "(9 fields for d=2, 33 for d=4, 129 for d=8)",
                              table.cols));
  }
  const int64_t n = table.rows();
  StateDataset dataset{torch::empty({n, d, d}, torch::kComplexDouble), torch::empty({n}, torch::kInt64)};
  auto* entries = dataset.states.data_ptr<c10::complex<double>>();
  auto labels = dataset.labels.accessor<int64_t, 1>();
  for (int64_t i = 0; i < n; ++i) {
    labels[i] = label_at(table, i, 0);
    for (int64_t k = 0; k < d * d; ++k) {
      entries[i * d * d + k] = {table.at(i, 1 + 2 * k), table.at(i, 2 + 2 * k)};
    }
  }
  for (int64_t i = 0; i < n; ++i) {
    const int64_t line = table.line_numbers[static_cast<size_t>(i)];
    const torch::Tensor state = dataset.states[i];
    const std::string problem = density_matrix_problem(state, check.tolerance);
    if (problem.empty()) continue;
    if (!check.project) throw_at_line(path, line, problem);
    try {
      state.copy_(project_to_density_matrix(state));
    } catch (const std::invalid_argument& error) {
      throw_at_line(path, line, error.what());
    }
  }
  return dataset;
}

void save_state_csv(const std::string& path, const StateDataset& dataset) {
  const torch::Tensor& states = dataset.states;
  if (states.dim() != 3 || states.size(1) != states.size(2) || !is_power_of_two_dimension(states.size(1))) {
    throw std::invalid_argument(
        fmt::format("save_state_csv: states must be [N, d, d] with d a power of two >= 2, got [{}]",
                    fmt::join(states.sizes(), ", ")));
  }
  if (dataset.labels.dim() != 1 || dataset.labels.size(0) != states.size(0)) {
    throw std::invalid_argument(fmt::format("save_state_csv: labels must be [N] with N = {}, got [{}]", states.size(0),
                                            fmt::join(dataset.labels.sizes(), ", ")));
  }
  const torch::Tensor values = torch::view_as_real(states.to(torch::kCPU, torch::kComplexDouble).contiguous());
  const torch::Tensor labels = dataset.labels.to(torch::kCPU, torch::kInt64).contiguous();
  const int64_t n = states.size(0);
  const int64_t row_values = 2 * states.size(1) * states.size(2);
  const double* value = values.data_ptr<double>();
  const int64_t* label = labels.data_ptr<int64_t>();

  fmt::memory_buffer text;
  for (int64_t i = 0; i < n; ++i) {
    fmt::format_to(std::back_inserter(text), "{}", label[i]);
    for (int64_t k = 0; k < row_values; ++k) fmt::format_to(std::back_inserter(text), ",{:.17g}", *value++);
    text.push_back('\n');
  }
  write_file_atomically(path, fmt::to_string(text));
}

}  // namespace hqrn::data
