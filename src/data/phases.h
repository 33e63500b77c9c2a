// Data of the phases experiment (spec section 9): ground states of the
// cluster-Ising ring with labels 1 = SPT, 0 = not SPT, in three sets:
//
// - line:  h2 = 0, h1 on a uniform grid over [0, 1.6] (h1 = J left out); the
//          labels are exact there (SPT iff h1 < J, by self-duality).
// - plane: a grid over h1 in [0, 1.6], h2 in [-1.6, 1.6]; reference labels
//          from the string order parameter: SPT iff S > S_c(N), S_c the value
//          at the critical point (h1 = J, h2 = 0) on the same ring.
// - twins: dual pairs at h2 = 0, row 2k the ground state at h1 = g_k (SPT,
//          label 1) and row 2k+1 its image under the cluster entangler, the
//          ground state at h1 = 1/g_k (paramagnet, label 0), with
//          g_k = 0.2 + 0.8 k / K. The two have the same Z-basis distribution
//          bit for bit, so a classical analog sees one input for both.
//
// J = 1 throughout.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "src/data/cluster_ising.h"
#include "src/data/ground_state.h"
#include "src/data/state_vectors_file.h"

namespace hqrn::data {

enum class PhaseSet { line, plane, twins };

// Accepts "line", "plane", "twins"; throws std::invalid_argument listing them.
PhaseSet parse_phase_set(const std::string& name);
std::string phase_set_name(PhaseSet set);

// The plane of the experiment (the QCNN paper's): h1 in [0, kPlaneH1Max],
// h2 in [-kPlaneH2Max, kPlaneH2Max]; the twins' g from kTwinMinG up to (not
// including) 1, so that 1/g stays at most 5.
inline constexpr double kPlaneH1Max = 1.6;
inline constexpr double kPlaneH2Max = 1.6;
inline constexpr double kTwinMinG = 0.2;

// Points within this of h1 = J on the line are the critical point, which the
// line leaves out (its label is neither).
inline constexpr double kCriticalTolerance = 1e-9;

// The exact label on the line h2 = 0: 1 (SPT) iff h1 < J. Throws
// std::invalid_argument off the line, for J <= 0, h1 < 0 (outside the phase
// diagram the rule is stated for) or |h1 - J| <= kCriticalTolerance * J.
int64_t exact_line_label(const ClusterIsing& model);

// S_c(N): the string order parameter of the ground state at J = h1 = 1, h2 = 0.
double critical_string_order(int spins, const GroundStateOptions& options = {});

// The reference label in the plane: 1 iff string_order > critical.
inline int64_t reference_label(double string_order, double critical) { return string_order > critical ? 1 : 0; }

struct PhaseSample {
  ClusterIsing model;
  int64_t label = 0;
  GroundState ground;  // for a twin row: the entangler's image, energy and gap rescaled (see phases.cpp)
  double string_order = 0.0;
  double antiferromagnetic_order = 0.0;
};

struct PhaseDataset {
  int spins = 0;
  PhaseSet set = PhaseSet::line;
  double critical_string_order = 0.0;
  std::vector<PhaseSample> samples;
  std::vector<ClusterIsing> skipped;  // degenerate points left out (plane, when asked to skip them)
};

struct PhaseRequest {
  int spins = 8;
  PhaseSet set = PhaseSet::line;
  int64_t points = 16;     // line: h1 grid points; plane: h1 grid points; twins: pairs
  int64_t h2_points = 0;   // plane only: h2 grid points (0: 2 * points - 1, the h1 spacing)
  bool skip_degenerate = false;  // plane only: leave out points ground_state refuses, instead of failing
  GroundStateOptions ground;
};

// The parameter points of a set, in row order (twins: the SPT member of each pair).
std::vector<ClusterIsing> phase_points(const PhaseRequest& request);

// Generates the set: one ground state per point (the twins' partners by the
// entangler). Throws std::invalid_argument for bad requests and for a
// degenerate point (unless skip_degenerate on the plane).
PhaseDataset generate_phase_dataset(const PhaseRequest& request);

// The dataset in the state-file layout: amplitudes [N, 1, 2^n] (imaginary
// parts 0), labels, parameters with names J,h1,h2,energy,gap,string_order,
// antiferromagnetic_order, and metadata model = cluster-ising-ring, set,
// string_order_critical.
StateVectorDataset to_state_vectors(const PhaseDataset& dataset);

}  // namespace hqrn::data
