// Shared helpers of the op test files: dtype loops, tolerances, labels.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

namespace hqrn::test {

inline const std::vector<torch::ScalarType>& complex_dtypes() {
  static const std::vector<torch::ScalarType> types{torch::kComplexFloat, torch::kComplexDouble};
  return types;
}

inline const std::vector<torch::ScalarType>& real_dtypes() {
  static const std::vector<torch::ScalarType> types{torch::kFloat, torch::kDouble};
  return types;
}

// Forward tolerance (absolute and relative) for a dtype: single ~1e-5, double ~1e-10.
inline double forward_tolerance(torch::ScalarType type) {
  return (type == torch::kComplexFloat || type == torch::kFloat) ? 1e-5 : 1e-10;
}

// The wide dtype the dense references compute in.
inline torch::ScalarType wide(torch::ScalarType type) {
  return (type == torch::kComplexFloat || type == torch::kComplexDouble) ? torch::kComplexDouble : torch::kDouble;
}

inline std::string list_string(const std::vector<int64_t>& values) {
  std::ostringstream out;
  out << "[";
  for (size_t i = 0; i < values.size(); ++i) out << (i ? "," : "") << values[i];
  out << "]";
  return out.str();
}

// Every ordered selection of k distinct qubits out of n.
inline void ordered_selections(int64_t n, int64_t k, std::vector<int64_t>& prefix,
                               std::vector<std::vector<int64_t>>& out) {
  if (static_cast<int64_t>(prefix.size()) == k) {
    out.push_back(prefix);
    return;
  }
  for (int64_t q = 0; q < n; ++q) {
    bool used = false;
    for (int64_t p : prefix) used = used || p == q;
    if (used) continue;
    prefix.push_back(q);
    ordered_selections(n, k, prefix, out);
    prefix.pop_back();
  }
}

inline std::vector<std::vector<int64_t>> ordered_selections(int64_t n, int64_t k) {
  std::vector<std::vector<int64_t>> out;
  std::vector<int64_t> prefix;
  ordered_selections(n, k, prefix, out);
  return out;
}

// A random ordered selection of k distinct qubits out of n (torch's generator).
inline std::vector<int64_t> random_selection(int64_t n, int64_t k) {
  const auto perm = torch::randperm(n, torch::kLong);
  std::vector<int64_t> out;
  for (int64_t i = 0; i < k; ++i) out.push_back(perm[i].item<int64_t>());
  return out;
}

}  // namespace hqrn::test
