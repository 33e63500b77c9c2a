// The vectors execution (state vectors and the measured set, spec section 8)
// against the dense and coherence-aware executions: outputs and gradients of
// networks on pure and rank-r inputs, blocks with any target order (the
// rank-doubling path), density matrices converted by eigendecomposition, the
// automatic choice, the refusals, and a 16-qubit register against the
// classical analog (the exactness theorem).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <random>
#include <string>
#include <vector>

#include "models/errors.h"
#include "models/network.h"
#include "models/residual_block.h"
#include "models/noise.h"
#include "tests/assertions.h"
#include "tests/dense_reference.h"
#include "tests/gradcheck.h"
#include "tests/model_test_util.h"
#include "tests/op_test_util.h"

namespace hqrn {
namespace {

constexpr auto kC = torch::kComplexDouble;
constexpr auto kR = torch::kDouble;
using test::all_close;
using test::describe;
using test::pick;
using test::throws_with;

// r random components [B, r, 2^n] of unit total norm per state.
torch::Tensor random_vectors(int64_t batch, int64_t rank, int64_t n) {
  const auto v = torch::randn({batch, rank, int64_t{1} << n}, kC);
  return v / v.abs().square().sum({1, 2}, true).sqrt();
}

// sum_k |v_k><v_k| per state, written out entry by entry.
torch::Tensor density_of(const torch::Tensor& v) {
  const int64_t d = v.size(2);
  auto rho = torch::zeros({v.size(0), d, d}, kC);
  for (int64_t k = 0; k < v.size(1); ++k) {
    const auto col = v.select(1, k);
    rho += col.unsqueeze(2) * col.conj().unsqueeze(1);
  }
  return rho;
}

// Logits and the parameters' gradients (the input is data, not differentiated).
std::vector<torch::Tensor> run(ResidualNetworkImpl& model, const torch::Tensor& input, const torch::Tensor& labels,
                               Execution execution) {
  model.zero_grad();
  const auto logits = model.forward(input, Mode::quantum, execution);
  torch::nn::functional::cross_entropy(logits, labels).backward();
  std::vector<torch::Tensor> out{logits.detach()};
  for (const auto& p : model.parameters()) out.push_back(p.grad().defined() ? p.grad().clone() : torch::zeros_like(p));
  return out;
}

void expect_same_runs(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b, const std::string& label) {
  ASSERT_EQ(a.size(), b.size());
  EXPECT_TRUE(all_close(a[0], b[0], 1e-12, 1e-12)) << label << " logits";
  for (size_t i = 1; i < a.size(); ++i) EXPECT_TRUE(all_close(a[i], b[i], 1e-10, 1e-10)) << label << " gradient " << i;
}

TEST(VectorsExecution, SameOutputsAndGradientsAsDenseAndAware) {
  torch::manual_seed(330);
  std::mt19937_64 rng(330);
  for (int round = 0; round < 4; ++round) {
    for (const auto readout : {Readout::born, Readout::linear, Readout::mlp}) {
      const auto config = test::random_config(rng, readout, 6, /*allow_features=*/false);
      HQRN model(config);
      test::randomize_weights(*model);
      const int64_t dd = int64_t{1} << config.data_qubits();
      const int64_t rank = dd > 2 ? pick(rng, 1, std::min<int64_t>(3, dd - 1)) : 1;
      const auto v = random_vectors(3, rank, config.data_qubits());
      const auto labels = torch::randint(0, config.classes(), {3}, torch::kLong);
      const auto label = describe(config) + " rank " + std::to_string(rank);
      const auto vectors_run = run(*model, v, labels, Execution::vectors);
      // The same states as density matrices in the other executions.
      expect_same_runs(vectors_run, run(*model, density_of(v), labels, Execution::dense), label + " vs dense");
      expect_same_runs(vectors_run, run(*model, density_of(v), labels, Execution::aware), label + " vs aware");
      // Vector inputs in the density-matrix executions.
      expect_same_runs(vectors_run, run(*model, v, labels, Execution::aware), label + " vectors in aware");
      if (rank == 1) {
        expect_same_runs(vectors_run, run(*model, v.squeeze(1), labels, Execution::vectors), label + " [B, d] input");
      }
    }
  }
}

TEST(VectorsExecution, InputGradientsEqualDense) {
  torch::manual_seed(331);
  const auto config = NetworkConfig().data_qubits(3).ancillas(1).blocks(2).branches(2).classes(3);
  HQRN model(config);
  test::randomize_weights(*model);
  const auto v = random_vectors(2, 2, 3);
  const auto labels = torch::tensor({0, 2}, torch::kLong);
  std::vector<torch::Tensor> grads;
  for (const auto execution : {Execution::vectors, Execution::dense}) {
    const auto x = v.clone().requires_grad_(true);
    torch::nn::functional::cross_entropy(model->forward(x, Mode::quantum, execution), labels).backward();
    grads.push_back(x.grad());
  }
  EXPECT_TRUE(all_close(grads[0], grads[1], 1e-10, 1e-10));
  EXPECT_GT(grads[0].abs().max().item<double>(), 1e-6);
}

TEST(VectorsExecution, BlocksWithAnyTargetOrderMatchDense) {
  // Repeated and skipped targets: a step on a measured qubit while others
  // are unmeasured doubles the rank.
  torch::manual_seed(332);
  std::mt19937_64 rng(332);
  for (int64_t n = 1; n <= 4; ++n) {
    for (int trial = 0; trial < 5; ++trial) {
      std::vector<int64_t> targets;
      for (int64_t t = 0; t < pick(rng, 1, 2 * n); ++t) targets.push_back(pick(rng, 0, n - 1));
      QuantumResidualBlock block(ResidualBlockOptions(n).targets(targets).init_std(1.0));
      const auto v = random_vectors(2, pick(rng, 1, 2), n);
      const auto rho = density_of(v);
      const auto expected = test::dense_forward(*block, rho);
      const auto state = block->forward(RegisterState::from_vectors(v, 0, Representation::vectors));
      const auto label = "n " + std::to_string(n) + " targets " + test::list_string(targets);
      EXPECT_EQ(state.representation(), Representation::vectors) << label;
      EXPECT_TRUE(all_close(state.to_dense(), expected, 1e-12)) << label;
      EXPECT_TRUE(all_close(state.probabilities(), dense::probs(expected), 1e-12)) << label;
    }
  }
}

TEST(VectorsExecution, MeasuredSetAndRankFollowTheSteps) {
  torch::manual_seed(333);
  const auto theta = torch::rand({4}, kR), phi = torch::rand({4}, kR);
  auto state = RegisterState::from_vectors(random_vectors(2, 1, 2), 1, Representation::vectors);
  EXPECT_EQ(state.values().sizes(), (std::vector<int64_t>{2, 1, 8}));
  EXPECT_TRUE(state.diagonal().empty());  // the ancilla is part of the vectors
  state = state.step(theta, phi, 1);
  EXPECT_EQ(state.diagonal(), (std::vector<int64_t>{1}));
  state = state.step(theta, phi, 1);  // measured, others not: rank 1 -> 2
  EXPECT_EQ(state.values().size(1), 2);
  state = state.step(theta, phi, 0).step(theta, phi, 2);
  EXPECT_TRUE(state.is_distribution());
  EXPECT_EQ(state.values().sizes(), (std::vector<int64_t>{2, 8}));
  // Once a distribution, a channel acts as on the probability representation.
  const auto flip = torch::stack({torch::eye(2, kC) * std::sqrt(0.7),
                                  torch::tensor({0.0, 1.0, 1.0, 0.0}, kR).reshape({2, 2}).to(kC) * std::sqrt(0.3)});
  const auto as_probabilities = RegisterState::from_distribution(state.values(), 0, Representation::probabilities);
  EXPECT_TRUE(all_close(state.apply_channel(flip, {1}).values(), as_probabilities.apply_channel(flip, {1}).values(), 1e-15));
}

TEST(VectorsExecution, DensityMatricesConvertByEigendecomposition) {
  torch::manual_seed(334);
  for (const int64_t rank : {1, 2, 4}) {
    const auto rho = dense::random_density(3, 2, kC, rank);
    const auto sv = to_state_vectors(rho);
    EXPECT_EQ(sv.vectors.size(1), rank);
    EXPECT_TRUE(all_close(density_of(sv.vectors), rho, 1e-12)) << "rank " << rank;
    EXPECT_LT(sv.dropped_weight.abs().max().item<double>(), 1e-12);
  }
  // An eigenvalue at the tolerance is dropped and its weight reported.
  const auto u = std::get<0>(torch::linalg_qr(torch::randn({4, 4}, kC)));  // a unitary
  const auto eigen = torch::tensor({0.6, 0.4 - 1e-13, 1e-13, 0.0}, kR).to(kC);
  const auto rho = torch::matmul(u * eigen, u.conj().transpose(0, 1)).unsqueeze(0);
  const auto sv = to_state_vectors(rho);
  EXPECT_EQ(sv.vectors.size(1), 2);
  EXPECT_NEAR(sv.dropped_weight.item().toDouble(), 1e-13, 1e-15);
  // Networks give the same outputs from the matrices as from the vectors.
  HQRN model(NetworkConfig().data_qubits(2).ancillas(1).branches(3).classes(2));
  test::randomize_weights(*model);
  const auto mixed = dense::random_density(4, 2, kC, 2);
  EXPECT_TRUE(all_close(model->forward(mixed, Mode::quantum, Execution::vectors),
                        model->forward(mixed, Mode::quantum, Execution::aware), 1e-12, 1e-12));
  EXPECT_TRUE(throws_with<InvalidInput>([&] { to_state_vectors(mixed.clone().requires_grad_(true)); },
                                        {"require grad", "component vectors"}));
}

TEST(VectorsExecution, AutomaticChoiceAndNoiseRefusal) {
  torch::manual_seed(335);
  HQRN model(NetworkConfig().data_qubits(3).classes(2));
  const auto v = random_vectors(2, 1, 3);
  const auto rho = density_of(v);
  EXPECT_EQ(model->representation_for(v, Mode::quantum, Execution::automatic), Representation::vectors);
  EXPECT_EQ(model->representation_for(v.squeeze(1), Mode::quantum, Execution::automatic), Representation::vectors);
  EXPECT_EQ(model->representation_for(rho, Mode::quantum, Execution::automatic), Representation::aware);
  EXPECT_EQ(model->representation_for(v, Mode::classical, Execution::vectors), Representation::probabilities);
  model->set_noise(NoiseModel::parse("depolarizing=0.01"));
  EXPECT_EQ(model->representation_for(v, Mode::quantum, Execution::automatic), Representation::aware);
  EXPECT_TRUE(throws_with<InvalidInput>([&] { model->forward(v, Mode::quantum, Execution::vectors); },
                                        {"vectors execution", "noise"}));
  EXPECT_TRUE(all_close(model->forward(v, Mode::quantum, Execution::automatic),
                        model->forward(rho, Mode::quantum, Execution::aware), 0));
  // A readout error alone acts on the distribution: vectors stay allowed.
  model->set_noise(NoiseModel::parse("readout=0.05"));
  EXPECT_EQ(model->representation_for(v, Mode::quantum, Execution::automatic), Representation::vectors);
  EXPECT_TRUE(all_close(model->forward(v, Mode::quantum, Execution::vectors),
                        model->forward(rho, Mode::quantum, Execution::dense), 1e-12, 1e-12));
  for (const auto e : {Execution::aware, Execution::dense, Execution::vectors, Execution::automatic}) {
    EXPECT_EQ(parse_execution(to_string(e)), e);
  }
  // The channel itself is refused on coherent vectors.
  const auto state = RegisterState::from_vectors(v, 0, Representation::vectors);
  const auto identity = torch::eye(2, kC).unsqueeze(0);
  EXPECT_TRUE(throws_with<InvalidInput>([&] { state.apply_channel(identity, {0}); }, {"vectors", "aware or dense"}));
}

TEST(VectorsExecution, SixteenQubitsEqualTheClassicalAnalogOnBasisStates) {
  // The exactness theorem at a size no density matrix reaches: a basis state
  // |x> as a pure vector against the classical analog's Markov chain.
  torch::manual_seed(336);
  const int64_t n = 16;
  HQRN model(NetworkConfig().data_qubits(n).blocks(2).branches(2).classes(2).readout_qubits(3));
  test::randomize_weights(*model);
  const int64_t d = int64_t{1} << n;
  const auto x = torch::tensor({12345, 54321}, torch::kLong);
  auto basis = torch::zeros({2, d}, kC);
  basis.index_put_({torch::arange(2), x}, 1.0);
  const auto p = basis.abs().square().to(kR);
  const auto quantum = model->readout_distributions(basis, Mode::quantum, Execution::automatic);
  const auto classical = model->readout_distributions(p, Mode::classical);
  EXPECT_TRUE(all_close(quantum, classical, 1e-12, 1e-12));
  // A superposition reads what the diagonal cannot: the distributions move.
  const auto plus = (basis + torch::roll(basis, 1, 1)) / std::sqrt(2.0);
  const auto from_plus = model->readout_distributions(plus, Mode::quantum, Execution::vectors);
  const auto from_mixture = model->readout_distributions(plus.abs().square().to(kR), Mode::classical);
  EXPECT_GT((from_plus - from_mixture).abs().max().item<double>(), 1e-6);
  EXPECT_TRUE(all_close(from_plus.sum(2), torch::ones({2, 2}, kR), 1e-12));
}

TEST(VectorsExecution, LimitsAndBadInputsAreNamed) {
  EXPECT_TRUE(throws_with<InvalidInput>([] { NetworkConfig().data_qubits(20).ancillas(5).validate(); },
                                        {"data_qubits + ancillas = 25"}));
  // A 15-qubit register runs as vectors but not as density matrices.
  HQRN wide(NetworkConfig().data_qubits(15).blocks(0).classes(2).readout_qubits(1));
  const auto v = random_vectors(1, 1, 15);
  EXPECT_NO_THROW(wide->forward(v, Mode::quantum, Execution::vectors));
  EXPECT_TRUE(throws_with<InvalidInput>([&] { wide->forward(v, Mode::quantum, Execution::aware); },
                                        {"15 qubits", "limit of 14"}));
  HQRN model(NetworkConfig().data_qubits(2).classes(2));
  EXPECT_TRUE(throws_with<InvalidInput>([&] { model->forward(torch::randn({2, 3, 8}, kC)); }, {"[B, r, 4]"}));
  EXPECT_TRUE(throws_with<InvalidInput>(
      [] { RegisterState::from_vectors(torch::randn({2, 4}, kC), 0, Representation::vectors); }, {"[B, r, d]"}));
  EXPECT_TRUE(throws_with<InvalidInput>(
      [] { RegisterState::from_vectors(torch::randn({2, 1, 6}, kC), 0, Representation::vectors); },
      {"not a power of two"}));
}

}  // namespace
}  // namespace hqrn
