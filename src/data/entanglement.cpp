#include "src/data/entanglement.h"

#include <stdexcept>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "src/data/random.h"

namespace hqrn::data {
namespace {

constexpr const char* kPauliLetters = "IXYZ";

torch::Tensor two_qubit_states(const torch::Tensor& rho, const char* caller) {
  if (rho.dim() < 2 || rho.size(-1) != 4 || rho.size(-2) != 4) {
    throw std::invalid_argument(
        fmt::format("{}: expected two-qubit states [..., 4, 4], got [{}]", caller, fmt::join(rho.sizes(), ", ")));
  }
  return rho.to(torch::kComplexDouble);
}

// [..., 4, 4] -> [..., 2, 2, 2, 2] with dims (a, b, a', b').
torch::Tensor split_qubits(const torch::Tensor& rho) {
  std::vector<int64_t> shape(rho.sizes().begin(), rho.sizes().end() - 2);
  shape.insert(shape.end(), {2, 2, 2, 2});
  return rho.reshape(shape);
}

torch::Tensor real_matrix(std::initializer_list<double> values) {
  return torch::tensor(at::ArrayRef<double>(values), torch::kFloat64).reshape({2, 2});
}

// P_a (x) P_b for (a, b) != (I, I), in pauli_expectations' order: [15, 4, 4].
torch::Tensor two_qubit_paulis() {
  const torch::Tensor zero = torch::zeros({2, 2}, torch::kFloat64);
  const torch::Tensor paulis[4] = {
      torch::complex(real_matrix({1, 0, 0, 1}), zero),   // I
      torch::complex(real_matrix({0, 1, 1, 0}), zero),   // X
      torch::complex(zero, real_matrix({0, -1, 1, 0})),  // Y
      torch::complex(real_matrix({1, 0, 0, -1}), zero),  // Z
  };
  std::vector<torch::Tensor> products;
  for (int a = 0; a < 4; ++a) {
    for (int b = 0; b < 4; ++b) {
      if (a != 0 || b != 0) products.push_back(torch::kron(paulis[a], paulis[b]));
    }
  }
  return torch::stack(products);
}

torch::Tensor random_entangled_state(std::mt19937_64& rng) {
  torch::Tensor rho = random_mixed_state(rng);
  while (!is_entangled_ppt(rho)) rho = random_mixed_state(rng);
  return rho;
}

}  // namespace

Family parse_family(const std::string& name) {
  for (Family family : {Family::random, Family::adversarial_dephased, Family::adversarial_marginal}) {
    if (name == family_name(family)) return family;
  }
  throw std::invalid_argument(fmt::format(
      "unknown state family '{}' (expected random, adversarial-dephased or adversarial-marginal)", name));
}

std::string family_name(Family family) {
  switch (family) {
    case Family::random: return "random";
    case Family::adversarial_dephased: return "adversarial-dephased";
    case Family::adversarial_marginal: return "adversarial-marginal";
  }
  throw std::invalid_argument("family_name: invalid Family value");
}

torch::Tensor random_mixed_state(std::mt19937_64& rng) {
  const int64_t k = 1 + static_cast<int64_t>(uniform_below(rng, 4));
  std::vector<c10::complex<double>> entries;
  for (int64_t i = 0; i < 4 * k; ++i) {
    const std::complex<double> z = complex_gaussian(rng);
    entries.emplace_back(z.real(), z.imag());
  }
  const torch::Tensor g = torch::tensor(entries, torch::kComplexDouble).reshape({4, k});
  torch::Tensor rho = g.matmul(g.adjoint());
  rho = (rho + rho.adjoint()) / 2;  // exactly Hermitian, real diagonal
  return rho / rho.diagonal().sum();
}

torch::Tensor partial_transpose_b(const torch::Tensor& rho) {
  const torch::Tensor states = two_qubit_states(rho, "partial_transpose_b");
  return split_qubits(states).transpose(-3, -1).reshape(states.sizes());
}

torch::Tensor reduced_state_a(const torch::Tensor& rho) {
  // Sum over b = b' in (a, b, a', b').
  return split_qubits(two_qubit_states(rho, "reduced_state_a")).diagonal(0, -3, -1).sum(-1);
}

torch::Tensor reduced_state_b(const torch::Tensor& rho) {
  // Sum over a = a' in (a, b, a', b').
  return split_qubits(two_qubit_states(rho, "reduced_state_b")).diagonal(0, -4, -2).sum(-1);
}

torch::Tensor dephased_twin(const torch::Tensor& rho) {
  return torch::diag_embed(two_qubit_states(rho, "dephased_twin").diagonal(0, -2, -1));
}

torch::Tensor marginal_twin(const torch::Tensor& rho) {
  const torch::Tensor a = reduced_state_a(rho);  // (i, j)
  const torch::Tensor b = reduced_state_b(rho);  // (k, l)
  // kron(a, b)[2i + k, 2j + l] = a[i, j] b[k, l]: broadcast to (i, k, j, l).
  const torch::Tensor product = a.unsqueeze(-1).unsqueeze(-3) * b.unsqueeze(-2).unsqueeze(-4);
  std::vector<int64_t> shape(product.sizes().begin(), product.sizes().end() - 4);
  shape.insert(shape.end(), {4, 4});
  return product.reshape(shape);
}

bool is_entangled_ppt(const torch::Tensor& rho) {
  if (rho.dim() != 2) {
    throw std::invalid_argument(
        fmt::format("is_entangled_ppt: expected one state [4, 4], got [{}]", fmt::join(rho.sizes(), ", ")));
  }
  return hermitian_eigenvalues(partial_transpose_b(rho)).front() < kPptThreshold;
}

StateDataset generate_states(Family family, int64_t n, uint64_t seed) {
  if (n <= 0 || n % 2 != 0) {
    throw std::invalid_argument(fmt::format("generate_states: n = {} must be even and positive", n));
  }
  std::mt19937_64 rng(seed);
  const int64_t half = n / 2;
  std::vector<torch::Tensor> states;
  std::vector<int64_t> labels;
  if (family == Family::random) {
    std::vector<torch::Tensor> by_label[2];
    while (static_cast<int64_t>(by_label[0].size()) < half || static_cast<int64_t>(by_label[1].size()) < half) {
      torch::Tensor rho = random_mixed_state(rng);
      auto& members = by_label[is_entangled_ppt(rho) ? 1 : 0];
      if (static_cast<int64_t>(members.size()) < half) members.push_back(std::move(rho));
    }
    for (int64_t index : random_permutation(n, rng)) {
      const int64_t label = index < half ? 1 : 0;
      states.push_back(by_label[label][static_cast<size_t>(label == 1 ? index : index - half)]);
      labels.push_back(label);
    }
  } else {
    const auto twin = family == Family::adversarial_dephased ? dephased_twin : marginal_twin;
    for (int64_t i = 0; i < half; ++i) {
      const torch::Tensor rho = random_entangled_state(rng);
      states.insert(states.end(), {rho, twin(rho)});
      labels.insert(labels.end(), {1, 0});
    }
  }
  return {torch::stack(states), torch::tensor(labels, torch::kInt64)};
}

torch::Tensor pauli_expectations(const torch::Tensor& states) {
  const torch::Tensor rho = two_qubit_states(states, "pauli_expectations");
  if (rho.dim() != 3) {
    throw std::invalid_argument(
        fmt::format("pauli_expectations: expected states [N, 4, 4], got [{}]", fmt::join(rho.sizes(), ", ")));
  }
  static const torch::Tensor paulis = two_qubit_paulis();
  // tr(rho P) = sum_ij rho[i, j] P[j, i]
  return torch::real(torch::einsum("nij,pji->np", {rho, paulis})).contiguous();
}

std::string pauli_feature_name(int64_t index) {
  if (index < 0 || index >= 15) {
    throw std::out_of_range(fmt::format("pauli_feature_name: index {} not in [0, 15)", index));
  }
  return {kPauliLetters[(index + 1) / 4], kPauliLetters[(index + 1) % 4]};
}

}  // namespace hqrn::data
