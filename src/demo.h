// The end-to-end demo (the README's main job): digits with the classical
// analog translated into an HQRN, and the three entanglement tasks with the
// HQRN, the classical analog and the full-tomography reference, and the
// phases experiment on a 12-spin cluster-Ising ring (src/phases_study.h, in
// the folder's phases/). Writes summary.json, training histories,
// checkpoints and plots into one folder.
#pragma once

#include <cstdint>
#include <string>

#include "models/network.h"

namespace hqrn {

struct DemoOptions {
  std::string out = "out/demo";
  bool quick = false;  // tiny settings, for tests (seconds)
  uint64_t seed = 0;
  bool plots = true;   // runs scripts/plot_results.py when python3 with matplotlib is there
  Execution execution = Execution::automatic;  // how the HQRNs are simulated
};

int run_demo(const DemoOptions& options);

}  // namespace hqrn
