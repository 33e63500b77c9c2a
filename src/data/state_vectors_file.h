// State files for pure and low-rank states (spec section 9): safetensors with
//   amplitudes  F64 [N, r, 2^n, 2]  real and imaginary parts of the r
//                                   components of each state
//   labels      I64 [N]
//   parameters  F64 [N, P]          optional, with parameter_names
// and __metadata__ format = hqrn-states, format_version = 1, qubits = n,
// parameter_names = comma-separated names when parameters is present.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <torch/types.h>

namespace hqrn::data {

inline constexpr const char* kStateVectorsFormat = "hqrn-states";
inline constexpr int kStateVectorsFormatVersion = 1;

struct StateVectorDataset {
  torch::Tensor amplitudes;  // [N, r, 2^n] complex128 (components v_k, sum_k |v_k|^2 = 1)
  torch::Tensor labels;      // [N] int64
  torch::Tensor parameters;  // [N, P] float64, or undefined
  std::vector<std::string> parameter_names;  // P names (no commas) when parameters is defined
  std::map<std::string, std::string> extra_metadata;  // more __metadata__ entries (not the four above)
};

// Checks shapes, dtypes and names (std::invalid_argument), then writes the file
// atomically (a temporary file renamed over path).
void save_state_vectors(const std::string& path, const StateVectorDataset& dataset);

// Components whose squared norms add up to 1 within this are accepted.
inline constexpr double kStateNormTolerance = 1e-8;

// Reads a state file strictly (std::invalid_argument "PATH: problem"): the
// safetensors checks, then format and version, qubits matching the
// amplitudes, dtypes and shapes, no unknown tensors, finite amplitudes,
// non-negative labels, and every state of unit trace (sum_k |v_k|^2 = 1
// within kStateNormTolerance).
StateVectorDataset load_state_vectors(const std::string& path);

// Whether the file at path starts like a safetensors file of this format
// (so `hqrn eval` can tell it from a CSV); false for unreadable files.
bool is_state_vectors_file(const std::string& path);

}  // namespace hqrn::data
