// Shared helpers of the model-level tests (network, checkpoints, circuit
// export): random weights, independent references for the network built from
// the formulas of docs/model.md with the dense op references, temp
// directories and exception checks.
#pragma once

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/network.h"
#include "tests/assertions.h"
#include "tests/dense_reference.h"

namespace hqrn::test {

// Puts every block weight (W, b and, when present, V, a) uniform in
// [-range, range]; encoder and head keep the constructor's values, scaled.
// A block's or a branch's forward on density matrices [B, d, d] (dense
// representation) and on probability vectors [B, d] (the Markov chain).
template <typename Module>
torch::Tensor dense_forward(Module& module, const torch::Tensor& rho) {
  return module.forward(RegisterState::from_data_state(rho, 0, Representation::dense)).values();
}
template <typename Module>
torch::Tensor markov_forward(Module& module, const torch::Tensor& p) {
  return module.forward(RegisterState::from_distribution(p, 0, Representation::probabilities)).values();
}

inline void randomize_weights(ResidualNetworkImpl& model, double range = M_PI) {
  torch::NoGradGuard no_grad;
  for (auto& branch : model.branches) {
    for (auto& block : branch->blocks) {
      block->W.uniform_(-range, range);
      block->b.uniform_(-range, range);
      if (block->has_quantum_weights()) {
        block->V.uniform_(-range, range);
        block->a.uniform_(-range, range);
      }
    }
  }
  if (!model.encoder.is_empty()) {
    for (auto& p : model.encoder->parameters()) p.mul_(3);
  }
}

// Multiplies every parameter by `factor` (larger angles than the constructor's).
inline void scale_parameters(ResidualNetworkImpl& model, double factor) {
  torch::NoGradGuard no_grad;
  for (auto& p : model.parameters()) p.mul_(factor);
}

// Joint distribution of independent bits, bit 0 most significant, by direct
// products over the basis indices: [B, 2^k].
inline torch::Tensor reference_product_distribution(const torch::Tensor& q) {
  const auto qd = q.detach().to(torch::kFloat64);
  const int64_t k = qd.size(1);
  std::vector<torch::Tensor> columns;
  for (int64_t x = 0; x < (int64_t{1} << k); ++x) {
    auto column = torch::ones({qd.size(0)}, torch::kFloat64);
    for (int64_t j = 0; j < k; ++j) {
      column = column * (dense::qubit_bit(x, k, j) ? qd.select(1, j) : 1 - qd.select(1, j));
    }
    columns.push_back(column);
  }
  return torch::stack(columns, 1);
}

// The full register's starting distribution [B, 2^n] in float64: encoded
// features (sin^2 of (A u + beta)/2 per data qubit), a state's diagonal, or a
// probability vector, with the ancillas (low bits) at 0.
inline torch::Tensor reference_initial_distribution(ResidualNetworkImpl& model, const torch::Tensor& input) {
  const auto& config = model.config();
  torch::Tensor p_data;
  if (config.features() > 0) {
    const auto A = model.encoder->linear->weight.detach().to(torch::kFloat64);
    const auto beta = model.encoder->linear->bias.detach().to(torch::kFloat64);
    const auto u = input.to(torch::kFloat64) * config.feature_scale();
    const auto angle = torch::matmul(u, A.t()) + beta;
    p_data = reference_product_distribution(torch::sin(angle / 2).pow(2));
  } else if (input.dim() == 3) {
    p_data = torch::real(torch::diagonal(input.to(torch::kComplexDouble), 0, -2, -1));
  } else {
    p_data = input.to(torch::kFloat64);
  }
  const int64_t batch = p_data.size(0);
  const int64_t aux = int64_t{1} << config.ancillas();
  auto p = torch::zeros({batch, p_data.size(1) * aux}, torch::kFloat64);
  for (int64_t x = 0; x < p_data.size(1); ++x) p.select(1, x * aux).copy_(p_data.select(1, x));
  return p;
}

// Z distribution of the last r qubits of [B, 2^n], by summing over the rest.
inline torch::Tensor reference_marginal_last(const torch::Tensor& p, int64_t r) {
  const int64_t mask = (int64_t{1} << r) - 1;
  auto index = torch::empty({p.size(1)}, torch::kLong);
  for (int64_t x = 0; x < p.size(1); ++x) index[x] = x & mask;
  return torch::zeros({p.size(0), mask + 1}, p.options()).index_add_(1, index, p);
}

// Readout distributions [B, K, 2^r] of the classical analog: dense Markov
// matrices (tests/dense_reference) with tables from dense::angle_table.
inline torch::Tensor reference_classical_readout(ResidualNetworkImpl& model, const torch::Tensor& input) {
  const auto start = reference_initial_distribution(model, input);
  std::vector<torch::Tensor> outs;
  for (auto& branch : model.branches) {
    auto p = start;
    for (auto& block : branch->blocks) {
      for (const auto j : block->targets()) p = dense::markov_step(p, dense::angle_table(block->W, block->b, j), j);
    }
    outs.push_back(reference_marginal_last(p, model.config().readout_width()));
  }
  return torch::stack(outs, 1);
}

// One branch on density matrices with dense channels: Delta_j(U_j rho U_j^dag).
inline torch::Tensor reference_branch_quantum(ResidualStackImpl& branch, torch::Tensor rho) {
  rho = rho.to(torch::kComplexDouble);
  for (auto& block : branch.blocks) {
    for (const auto j : block->targets()) {
      const auto n = block->b.size(0);
      const auto phi = block->has_quantum_weights() ? dense::angle_table(block->V, block->a, j)
                                                    : torch::zeros({int64_t{1} << (n - 1)}, torch::kFloat64);
      rho = dense::qrb_step(rho, dense::angle_table(block->W, block->b, j), phi, j, true);
    }
  }
  return rho;
}

// Class logits from readout distributions [B, K, 2^r], from docs/model.md's
// readout definitions and the head's parameters looked up by name: the
// linear readout is one affine map "head.mlp.0", the mlp readout has
// hidden_layers ReLU layers "head.mlp.0", "head.mlp.2", ... before the output.
inline torch::Tensor reference_head(ResidualNetworkImpl& model, const torch::Tensor& distributions) {
  const auto& config = model.config();
  const auto dist = distributions.to(torch::kFloat64);
  if (config.readout() == Readout::born) {
    const auto p = dist.mean(1).narrow(1, 0, config.classes());
    return torch::log(p / p.sum(1, true));
  }
  std::vector<torch::Tensor> parts;
  for (int64_t k = 0; k < dist.size(1); ++k) parts.push_back(dist.select(1, k));
  // Centred features: 2^r p - 1, or log(2^r p) with log_readout.
  const double outcomes = static_cast<double>(dist.size(2));
  auto x = torch::cat(parts, 1);
  x = config.log_readout() ? torch::log(x * outcomes) : x * outcomes - 1;
  const auto params = model.named_parameters();
  const auto affine = [&](const torch::Tensor& in, const std::string& name) {
    return torch::matmul(in, params[name + ".weight"].detach().to(torch::kFloat64).t()) +
           params[name + ".bias"].detach().to(torch::kFloat64);
  };
  const int64_t layers = config.readout() == Readout::mlp ? config.hidden_layers() : 0;
  for (int64_t l = 0; l < layers; ++l) x = torch::relu(affine(x, "head.mlp." + std::to_string(2 * l)));
  return affine(x, "head.mlp." + std::to_string(2 * layers));
}

// ---------------------------------------------------------------- random networks and inputs

inline int64_t pick(std::mt19937_64& rng, int64_t lo, int64_t hi) {
  return lo + static_cast<int64_t>(rng() % static_cast<uint64_t>(hi - lo + 1));
}

// A random valid configuration with at most max_qubits qubits.
inline NetworkConfig random_config(std::mt19937_64& rng, Readout readout, int64_t max_qubits, bool allow_features = true) {
  const int64_t n = pick(rng, 2, max_qubits);
  const int64_t data = pick(rng, 1, std::min<int64_t>(n, 4));
  NetworkConfig c;
  c.data_qubits(data).ancillas(n - data).blocks(pick(rng, 1, 3)).branches(pick(rng, 1, 3)).readout(readout);
  c.features(allow_features && pick(rng, 0, 1) == 1 ? pick(rng, 1, 5) : 0);
  c.classes(pick(rng, 2, std::min<int64_t>(4, int64_t{1} << n)));
  int64_t min_width = 1;
  while ((int64_t{1} << min_width) < c.classes()) ++min_width;
  // Default width (0) or an explicit one, at least wide enough for born.
  c.readout_qubits(pick(rng, 0, 1) == 1 ? pick(rng, readout == Readout::born ? min_width : 1, n) : 0);
  c.hidden(pick(rng, 2, 6)).hidden_layers(pick(rng, 1, 2)).log_readout(pick(rng, 0, 1) == 1);
  c.feature_scale(pick(rng, 0, 1) == 1 ? 1.0 : 0.25 * static_cast<double>(pick(rng, 1, 8)));
  c.validate();
  return c;
}

inline std::string describe(const NetworkConfig& c) { return c.to_json(); }

// Classical inputs of a network: encoded features, or probability vectors and
// the same distributions as diagonal complex density matrices.
inline std::vector<torch::Tensor> classical_inputs(const NetworkConfig& c, int64_t batch, torch::ScalarType real) {
  if (c.features() > 0) {
    return {(torch::rand({batch, c.features()}, torch::kDouble) * 4 - 2).to(real)};
  }
  const auto p = dense::random_probabilities(batch, c.data_qubits(), torch::kDouble);
  return {p.to(real), torch::diag_embed(p).to(c10::toComplexType(real))};
}

// Runs `check` with each execution of Mode::quantum (dense first) and its label.
inline void for_each_execution(const std::function<void(Execution, const std::string&)>& check) {
  for (const auto execution : {Execution::dense, Execution::aware}) {
    check(execution, " (" + to_string(execution) + " execution)");
  }
}

// Logits and every gradient (parameters and input) of a cross-entropy loss,
// under the given execution.
inline std::vector<torch::Tensor> logits_and_gradients(ResidualNetworkImpl& model, const torch::Tensor& input,
                                                const torch::Tensor& labels, Execution execution) {
  model.zero_grad();
  const auto x = input.detach().clone().requires_grad_(true);
  const auto logits = model.forward(x, Mode::quantum, execution);
  torch::nn::functional::cross_entropy(logits, labels).backward();
  std::vector<torch::Tensor> out{logits.detach(), x.grad()};
  for (const auto& p : model.parameters()) out.push_back(p.grad().defined() ? p.grad() : torch::zeros_like(p));
  return out;
}

// A fresh directory under the system temp directory, removed with its contents.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "hqrn_model_test_XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(path_)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

 private:
  std::filesystem::path path_;
};

inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Largest |entry| off the diagonal of a batch of square matrices.
inline double max_off_diagonal(const torch::Tensor& rho) {
  const auto off = rho - torch::diag_embed(torch::diagonal(rho, 0, -2, -1));
  return off.abs().max().item<double>();
}

// A 2-qubit |Phi+><Phi+| and its dephased twin (|00><00| + |11><11|)/2, [1, 4, 4].
inline torch::Tensor phi_plus_state() {
  auto rho = torch::zeros({1, 4, 4}, torch::kComplexDouble);
  for (int64_t x : {0, 3}) {
    for (int64_t y : {0, 3}) rho.index_put_({0, x, y}, 0.5);
  }
  return rho;
}
inline torch::Tensor dephased_twin(const torch::Tensor& rho) {
  return torch::diag_embed(torch::diagonal(rho, 0, -2, -1));
}

}  // namespace hqrn::test
