// `hqrn study phases`: the phases experiment (issue 33, spec section 9) per
// ring size N. For each N it generates (or reuses, cached in the output
// folder) the line, plane and twin sets of the cluster-Ising ring, trains on
// the line
//   (a) the HQRN (quantum mode; the vectors execution by default),
//   (b) its classical analog (the same config on the Z-basis distribution),
//   (c) an MLP on all one- and two-body Pauli expectations,
//   (d) the HQRN whose sweep measures the string order parameter (weights
//       set by hand, string_order_hqrn; only its head is trained),
// and scores each on the plane against the string-order reference labels,
// on the twins (dual pairs with identical Z statistics), exactly and under
// finite shots. Writes per N the plane's per-point predictions, the twins'
// predictions, checkpoints and training histories, and for the whole run
// phases_study.csv (one row per N, model, set and shots), results.json and
// the phase-diagram plots. Models already trained by an interrupted run with
// the same settings are reloaded, not retrained.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "models/network.h"

namespace hqrn {

struct PhasesStudyOptions {
  std::string out = "out/phases-study";
  std::vector<int> spins;  // empty: 8, 10, 12 (quick: 8)
  bool quick = false;      // tiny grids and epochs, for tests (seconds)
  uint64_t seed = 0;
  bool plots = true;  // runs scripts/plot_phases.py when python3 with matplotlib is there
  Execution execution = Execution::automatic;
  std::vector<int64_t> shots;  // empty: 64, 256, 1024, 4096 (quick: 64)
  int64_t shot_seeds = 5;      // independent shot samples per point, for the spread
  // Grids (0: the defaults, 33 line points, a 17 x 33 plane, 16 twin pairs;
  // quick: 9, 5 x 9, 4).
  int64_t line_points = 0, plane_points = 0, twin_pairs = 0;
  int64_t epochs = 0;  // 0: the default (quick: 2)
  std::string label = "phases study";  // prefix of progress lines
};

// Runs the study; returns results.json's content (also written to out).
nlohmann::json phases_study(const PhasesStudyOptions& options);
// The command: phases_study, a table on stdout, then the plots.
int run_phases_study(const PhasesStudyOptions& options);

}  // namespace hqrn
