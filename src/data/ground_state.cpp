#include "src/data/ground_state.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <tuple>
#include <utility>

#include <Spectra/SymEigsSolver.h>
#include <fmt/format.h>

namespace hqrn::data {
namespace {

// H + shift |deflated><deflated| as Spectra's matrix operation (shift 0: H).
class HamiltonianOperator {
 public:
  using Scalar = double;

  HamiltonianOperator(const ClusterIsing& model, const Eigen::VectorXd* deflated, double shift)
      : model_(model), deflated_(deflated), shift_(shift), in_(model.dimension()) {}

  Eigen::Index rows() const { return model_.dimension(); }
  Eigen::Index cols() const { return model_.dimension(); }

  void perform_op(const double* x_in, double* y_out) const {
    in_ = Eigen::Map<const Eigen::VectorXd>(x_in, rows());
    apply_hamiltonian(model_, in_, out_);
    if (deflated_ != nullptr) out_ += (shift_ * deflated_->dot(in_)) * *deflated_;
    Eigen::Map<Eigen::VectorXd>(y_out, rows()) = out_;
  }

 private:
  const ClusterIsing& model_;
  const Eigen::VectorXd* deflated_;
  double shift_;
  mutable Eigen::VectorXd in_, out_;  // apply_hamiltonian works on whole vectors
};

std::string describe(const ClusterIsing& m) {
  return fmt::format("cluster-Ising ring (N = {}, J = {}, h1 = {}, h2 = {})", m.spins, m.J, m.h1, m.h2);
}

// The lowest eigenpair of `op` by Lanczos from Spectra's fixed-seed start vector.
std::pair<double, Eigen::VectorXd> lowest_eigenpair(HamiltonianOperator& op, const ClusterIsing& model,
                                                   const GroundStateOptions& options, const char* what) {
  // A wider Krylov space restarts less; ncv <= dimension is Spectra's rule.
  const Eigen::Index ncv = std::min<Eigen::Index>(op.rows(), 30);
  Spectra::SymEigsSolver<HamiltonianOperator> solver(op, 1, ncv);
  solver.init();
  try {
    solver.compute(Spectra::SortRule::SmallestAlge, options.max_restarts, options.tolerance,
                   Spectra::SortRule::SmallestAlge);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(fmt::format("{}: Lanczos failed for the {}: {}", describe(model), what, e.what()));
  }
  if (solver.info() != Spectra::CompInfo::Successful) {
    throw std::runtime_error(fmt::format(
        "{}: Lanczos did not converge to the {} within {} restarts (a nearly degenerate ground state?)",
        describe(model), what, options.max_restarts));
  }
  return {solver.eigenvalues()[0], solver.eigenvectors().col(0)};
}

}  // namespace

void fix_global_sign(Eigen::VectorXd& state) {
  const double largest = state.cwiseAbs().maxCoeff();
  for (Eigen::Index x = 0; x < state.size(); ++x) {
    if (std::abs(state[x]) >= 0.5 * largest) {
      if (state[x] < 0) state = -state;
      return;
    }
  }
}

GroundState ground_state(const ClusterIsing& model, const GroundStateOptions& options) {
  model.validate();
  if (!(options.min_gap >= 0) || !std::isfinite(options.min_gap)) {
    throw std::invalid_argument(fmt::format("ground_state: min_gap must be finite and >= 0, got {}", options.min_gap));
  }
  if (model.norm_bound() == 0.0) {
    throw DegenerateGroundState(fmt::format("{}: H = 0, every state is a ground state", describe(model)));
  }
  GroundState result;
  HamiltonianOperator hamiltonian(model, nullptr, 0.0);
  std::tie(result.energy, result.amplitudes) = lowest_eigenpair(hamiltonian, model, options, "ground state");
  result.amplitudes.normalize();
  fix_global_sign(result.amplitudes);

  Eigen::VectorXd h_psi;
  apply_hamiltonian(model, result.amplitudes, h_psi);
  result.residual = (h_psi - result.energy * result.amplitudes).norm();
  // Spectra's test is on its own residual estimate; this one is measured.
  if (!(result.residual <= 1e-8 * std::max(1.0, std::abs(result.energy)))) {
    throw std::runtime_error(fmt::format("{}: ground state residual |H psi - E psi| = {:.3g} is too large",
                                         describe(model), result.residual));
  }

  // The shift lifts psi above every eigenvalue: E0 + shift > -bound + shift > bound.
  const double shift = 2.0 * model.norm_bound() + 1.0;
  HamiltonianOperator deflated(model, &result.amplitudes, shift);
  result.gap = lowest_eigenpair(deflated, model, options, "first excited state").first - result.energy;

  if (result.gap < options.min_gap) {
    throw DegenerateGroundState(fmt::format(
        "{}: gap E1 - E0 = {:.3g} is below {:.3g}; the ground state is (nearly) degenerate there and not defined",
        describe(model), result.gap, options.min_gap));
  }
  return result;
}

}  // namespace hqrn::data
