// An HQRN as an ordinary circuit (docs/model.md, "As a circuit"): each residual step is
// RZ/CRZ, RY/CRY, RZ/CRZ gates on its target followed by a mid-circuit
// measurement. Exported as OpenQASM 3, one program per branch; the classical
// encoder and head go to a JSON side file. The parser reads back exactly the
// subset written here, so exports can be checked by simulating them.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "models/network.h"

namespace hqrn {

struct Gate {
  std::string name;             // ry, rz, cry, crz or measure
  double angle = 0;             // unused for measure
  std::vector<int64_t> qubits;  // control first for cry/crz
};

// The gates of one branch, in time order. Gates with angle exactly 0 are left out.
std::vector<Gate> branch_circuit(const ResidualStackImpl& branch);

// `before_measure`, when not empty, is written as a comment line before every
// measurement (where a noise model's channels act: OpenQASM 3 has no
// standard instruction for a channel).
std::string to_openqasm3(const std::vector<Gate>& gates, int64_t qubits, const std::string& comment,
                         const std::string& before_measure = "");

// Parses the OpenQASM 3 subset written by to_openqasm3. Throws
// std::runtime_error naming the line of anything else.
std::vector<Gate> parse_openqasm3(const std::string& text, int64_t* qubits = nullptr);

// Runs gates on density matrices [B, d, d]: apply_unitary for rotations,
// dephase for measurements (outcomes kept in the qubits, not recorded). A
// defined step channel (hqrn::step_kraus) acts on every qubit before every
// measurement, as a noise model places it.
torch::Tensor simulate_circuit(torch::Tensor rho, const std::vector<Gate>& gates,
                               const torch::Tensor& step_channel = {});

// Writes <prefix>_branch<k>.qasm for every branch and <prefix>_classical.json
// with the configuration (its noise model included), encoder and head weights. Returns the files written.
std::vector<std::string> export_openqasm(ResidualNetworkImpl& model, const std::string& prefix);

}  // namespace hqrn
