// How the tomography reference measures a two-qubit state on a device: nine
// Pauli settings, each read out in the Z basis through the same noise model
// as the HQRN's measurements, and the 15 Pauli expectations estimated from
// the outcome distributions (exact or from shots).
#pragma once

#include <torch/torch.h>

#include "models/noise_model.h"

namespace hqrn {

// The tomography reference's measurements of two-qubit states [B, 4, 4]: for
// each of the 9 settings (P_a, P_b), a, b in X, Y, Z (setting index 3a + b),
// the basis change U_a (x) U_b (U P U^dagger = Z), then the noise model's
// channels once on each qubit, then the Z measurement of both qubits with the
// readout error: joint outcome distributions [B, 9, 4].
torch::Tensor measured_pauli_settings(const torch::Tensor& states, const NoiseModel& noise);

// The 15 Pauli expectations (data::pauli_expectations' order) estimated from
// the settings' outcome distributions [B, 9, 4]: <P_a P_b> from setting (a, b),
// <P_a I> and <I P_b> averaged over the three settings that measure them.
// Exact distributions of noiseless settings give data::pauli_expectations.
torch::Tensor pauli_features_from_settings(const torch::Tensor& settings);

}  // namespace hqrn
