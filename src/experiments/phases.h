// The phases experiment (issue 33, spec section 9): ground states of the
// cluster-Ising ring, label 1 = SPT. Trained on the line h2 = 0 (exact
// labels), tested on the (h1, h2) plane against the string-order reference
// and on the dual twins. Shared by the experiment (src/experiments/phases.cpp)
// and the study (src/phases_study.h).
#pragma once

#include <cstdint>

#include "models/config.h"
#include "models/network.h"
#include "src/data/phases.h"
#include "src/experiments/experiment.h"

namespace hqrn {

// Grids of the experiment's generated data (`hqrn train --task phases`):
// the line h1 = 0, 0.05, ..., 1.6 without the critical h1 = 1 (32 states),
// and a 9 x 17 plane (h1 step 0.2, h2 step 0.2) as the test set.
inline constexpr int64_t kPhasesLinePoints = 33;
inline constexpr int64_t kPhasesPlanePoints = 9;

// The smallest ring: the string order parameter needs b = 2 floor(N/4) >= 2.
inline constexpr int kPhasesMinSpins = 4;

// The default network for rings of `spins` spins: the state on all the
// qubits, no ancillas; see phases.cpp for the choices.
NetworkConfig phases_network(int64_t spins);

// One set as the network's input: component vectors [N, 1, 2^n] complex128
// and labels.
LabelledInputs phases_inputs(const data::PhaseDataset& dataset);

// An HQRN whose single sweep measures the string order parameter, weights
// set by hand (one branch, one block, the last qubit read out, linear head
// left at its initial values): by translation invariance of the ring's
// ground state S = <Z_{n-b} X_{n-b+1} X_{n-b+3} ... X_{n-1} Z_0>, so the
// qubits n-b+1, n-b+3, ..., n-3 are measured in X (theta = pi/2), 0 and n-b
// in Z (theta = 0), and the last qubit in X with its outcome flipped by the
// parity of theirs (theta = pi/2 + pi * sum of their bits). Its readout
// distribution then has p(0) - p(1) = string_order_readout_sign(n) * S
// exactly. What it shows: the architecture can express the reference's
// order parameter; trained from random weights on the line it need not find it.
HQRN string_order_hqrn(int64_t spins);
// (-1)^(b/2), b = 2 floor(N/4): the sign of S in that readout.
int string_order_readout_sign(int64_t spins);

}  // namespace hqrn
