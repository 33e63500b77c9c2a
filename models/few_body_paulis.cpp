#include "models/few_body_paulis.h"

#include <algorithm>
#include <vector>

#include "models/errors.h"

namespace hqrn {

namespace {

// Pauli images of a chunk of component vectors are 3n r 2^n numbers per
// state; chunks keep them near this many entries (a state larger than that
// is one chunk on its own).
constexpr int64_t kChunkEntries = int64_t{1} << 23;

// P_a v for every qubit i and a = X, Y, Z, as real and imaginary parts side
// by side: [b, 3n, 2 r d] float64, row 3i + a. With W_p these rows,
// Re <P v | Q v> = W_p . W_q, so one matrix product gives every
// <P_i Q_j> = <v| P_i Q_j |v> (real for i != j: P_i Q_j is Hermitian).
torch::Tensor pauli_images(const torch::Tensor& v, int64_t n) {
  const int64_t b = v.size(0), r = v.size(1), d = v.size(2);
  const auto options = v.options();
  const auto signs = torch::tensor({1.0, -1.0}, options.dtype(torch::kFloat64)).to(v.scalar_type());
  // Y = i X Z: (Y v)(x) = -i v(x ^ e) on bit 0, +i v(x ^ e) on bit 1.
  const auto y_phase = torch::tensor({c10::complex<double>(0, -1), c10::complex<double>(0, 1)},
                                     torch::TensorOptions().dtype(torch::kComplexDouble))
                           .to(v.scalar_type());
  std::vector<torch::Tensor> rows;
  rows.reserve(static_cast<size_t>(3 * n));
  for (int64_t i = 0; i < n; ++i) {
    // Qubit i is bit n-1-i of x: x = (high, bit, low) with 2^i high values.
    const auto view = v.reshape({b, r, int64_t{1} << i, 2, int64_t{1} << (n - 1 - i)});
    const auto flipped = view.flip(3);
    rows.push_back(flipped.reshape({b, 1, r * d}));
    rows.push_back((flipped * y_phase.view({1, 1, 1, 2, 1})).reshape({b, 1, r * d}));
    rows.push_back((view * signs.view({1, 1, 1, 2, 1})).reshape({b, 1, r * d}));
  }
  const auto w = torch::cat(rows, 1);  // [b, 3n, r d] complex
  return torch::cat({torch::real(w), torch::imag(w)}, 2).contiguous();
}

}  // namespace

int64_t few_body_pauli_count(int64_t qubits) { return 3 * qubits + 9 * qubits * (qubits - 1) / 2; }

torch::Tensor few_body_pauli_expectations(const torch::Tensor& vectors) {
  require(vectors.defined() && vectors.is_complex() && (vectors.dim() == 2 || vectors.dim() == 3),
          "few_body_pauli_expectations: expected complex state vectors [B, 2^n] or component vectors [B, r, 2^n]");
  torch::NoGradGuard no_grad;
  const auto v = (vectors.dim() == 2 ? vectors.unsqueeze(1) : vectors).to(torch::kComplexDouble).contiguous();
  const int64_t d = v.size(2);
  require(d >= 2 && (d & (d - 1)) == 0, "few_body_pauli_expectations: the last dimension must be 2^n, n >= 1, got ",
          d);
  int64_t n = 0;
  while ((int64_t{1} << n) < d) ++n;
  const int64_t batch = v.size(0), r = v.size(1);
  const int64_t features = few_body_pauli_count(n);
  auto out = torch::empty({batch, features}, torch::kFloat64);
  // Pair (i, j), i < j, and its column block.
  std::vector<int64_t> pair_i, pair_j;
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = i + 1; j < n; ++j) {
      pair_i.push_back(i);
      pair_j.push_back(j);
    }
  }
  // Gram rows 3i + a and columns 3j + b of every pair, in column order.
  std::vector<int64_t> rows_index, cols_index;
  for (size_t p = 0; p < pair_i.size(); ++p) {
    for (int64_t a = 0; a < 3; ++a) {
      for (int64_t b = 0; b < 3; ++b) {
        rows_index.push_back(3 * pair_i[p] + a);
        cols_index.push_back(3 * pair_j[p] + b);
      }
    }
  }
  const auto flat_index = torch::tensor(rows_index, torch::kLong) * (3 * n) + torch::tensor(cols_index, torch::kLong);
  const int64_t chunk = std::max<int64_t>(1, kChunkEntries / (3 * n * r * d));
  for (int64_t start = 0; start < batch; start += chunk) {
    const int64_t size = std::min(chunk, batch - start);
    const auto part = v.narrow(0, start, size);
    const auto w = pauli_images(part, n);                                                  // [b, 3n, 2rd]
    // v's real and imaginary parts in pauli_images' layout: all r d real parts, then the imaginary ones.
    const auto flat = part.reshape({size, r * d});
    const auto self = torch::cat({torch::real(flat), torch::imag(flat)}, 1).unsqueeze(2);
    const auto one_body = torch::matmul(w, self).squeeze(2);                                // [b, 3n]
    const auto gram = torch::matmul(w, w.transpose(1, 2)).reshape({size, 9 * n * n});      // [b, 3n * 3n]
    auto slice = out.narrow(0, start, size);
    slice.narrow(1, 0, 3 * n).copy_(one_body);
    if (n > 1) slice.narrow(1, 3 * n, features - 3 * n).copy_(gram.index_select(1, flat_index));
  }
  return out;
}

std::string few_body_pauli_name(int64_t qubits, int64_t column) {
  require(qubits >= 1 && column >= 0 && column < few_body_pauli_count(qubits), "few_body_pauli_name: column ",
          column, " of ", few_body_pauli_count(qubits), " for ", qubits, " qubits");
  static const char* const kNames[] = {"X", "Y", "Z"};
  if (column < 3 * qubits) return kNames[column % 3] + std::to_string(column / 3);
  int64_t rest = column - 3 * qubits;
  const int64_t pair = rest / 9, a = (rest % 9) / 3, b = rest % 3;
  int64_t p = 0;
  for (int64_t i = 0; i < qubits; ++i) {
    for (int64_t j = i + 1; j < qubits; ++j, ++p) {
      if (p == pair) return kNames[a] + std::to_string(i) + kNames[b] + std::to_string(j);
    }
  }
  return "?";
}

torch::Tensor sample_pauli_expectations(const torch::Tensor& expectations, int64_t shots, torch::Generator& generator) {
  require(shots >= 1, "shots must be >= 1, got ", shots);
  require(expectations.defined() && !expectations.is_complex(), "sample_pauli_expectations: expected real expectations");
  torch::NoGradGuard no_grad;
  const auto e = expectations.detach().to(torch::kFloat64);
  const auto p_plus = ((1 + e) / 2).clamp(0, 1);
  const auto counts = at::binomial(torch::full_like(p_plus, static_cast<double>(shots)), p_plus, generator);
  return (2 * counts / static_cast<double>(shots) - 1).to(expectations.scalar_type());
}

}  // namespace hqrn
