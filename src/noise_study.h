// `hqrn study noise`: does the HQRN's advantage on the entanglement tasks
// survive noise and finite shots? For the three state families, the test
// accuracy of
//   (a) the HQRN trained without noise, evaluated with noise,
//   (b) the HQRN trained with the same noise,
//   (c) the full-tomography MLP on Pauli expectations measured through the
//       same noisy measurement channel (measured_pauli_settings), and
//   (d) the classical analog trained with the noise's classical image,
// against depolarizing strength, and against shots (noiseless; (a) and (b)
// coincide there). Writes noise_study.csv, noise_study.json and a plot.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>

#include "models/network.h"

namespace hqrn {

struct NoiseStudyOptions {
  std::string out = "out/noise-study";
  bool quick = false;  // tiny settings, for tests (seconds)
  uint64_t seed = 0;
  bool plots = true;   // runs scripts/plot_noise_study.py when python3 with matplotlib is there
  Execution execution = Execution::automatic;
  int64_t shot_seeds = 5;  // independent shot samples per point, for the spread
};

int run_noise_study(const NoiseStudyOptions& options);

}  // namespace hqrn
