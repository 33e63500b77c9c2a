// The ground state of the cluster-Ising ring and its gap, by Lanczos
// (Spectra's implicitly restarted SymEigsSolver) on the matrix-free H.
#pragma once

#include <stdexcept>

#include <Eigen/Core>

#include "src/data/cluster_ising.h"

namespace hqrn::data {

// A point whose gap E1 - E0 is below this is refused: there "the" ground
// state is an arbitrary vector of a (nearly) degenerate space, and the
// eigensolver's vector error grows as residual / gap. With the residuals
// reached here (~1e-12) a gap of 1e-6 still leaves amplitudes good to ~1e-6.
inline constexpr double kDefaultMinGap = 1e-6;

struct GroundStateOptions {
  double min_gap = kDefaultMinGap;
  // Spectra's convergence test: Ritz residual < tolerance * max(eps^(2/3), |E|).
  double tolerance = 1e-13;
  int max_restarts = 2000;
};

struct GroundState {
  Eigen::VectorXd amplitudes;  // 2^N, unit norm, global sign fixed (see ground_state)
  double energy = 0.0;         // E0
  double gap = 0.0;            // E1 - E0 (E1 the next eigenvalue counted with multiplicity)
  double residual = 0.0;       // |H psi - E0 psi|, computed afresh
};

// Refusal of a (nearly) degenerate point: an std::invalid_argument, so the
// CLI reports it as bad input.
class DegenerateGroundState : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// The ground state of `model`. E0 and psi from Lanczos on H, then E1 as the
// lowest eigenvalue of H + c |psi><psi| with c above the spectral width: a
// Krylov space started from one vector holds only one direction of a
// degenerate eigenspace, so asking Lanczos for two eigenvalues of H could
// miss the partner of a degenerate ground state and report a large gap;
// after the deflation that partner is the lowest eigenvector.
//
// Global sign: the first amplitude (lowest basis index) whose magnitude is at
// least half the largest is made positive. (Not the largest itself: symmetric
// states have many equal largest magnitudes, and rounding would pick among
// them; half the largest is away from such ties.)
//
// Throws std::invalid_argument for a bad model (ClusterIsing::validate),
// DegenerateGroundState when gap < options.min_gap, std::runtime_error when
// Lanczos does not converge.
GroundState ground_state(const ClusterIsing& model, const GroundStateOptions& options = {});

// Multiplies `state` by +-1 so that the amplitude chosen as in ground_state is positive.
void fix_global_sign(Eigen::VectorXd& state);

}  // namespace hqrn::data
