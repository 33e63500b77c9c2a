// Model-level tests of the HQRN and its classical analog (docs/model.md):
// blocks and networks against independent dense references, the
// exactness theorem for whole networks in float64 and float32, translation of
// classical weights, quantum-only fine-tuning, the Bell-measurement example,
// training smoke tests, and input/config validation.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <functional>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "models/config.h"
#include "models/errors.h"
#include "models/network.h"
#include "models/residual_block.h"
#include "src/checkpoint.h"
#include "tests/dense_reference.h"
#include "tests/gradcheck.h"
#include "tests/model_test_util.h"
#include "tests/op_test_util.h"
#include "torch_ext/ops.h"

namespace hqrn {
namespace {

using test::all_close;
using test::throws_with;

constexpr auto kC = torch::kComplexDouble;
constexpr auto kR = torch::kDouble;

using test::classical_inputs;
using test::describe;
using test::for_each_execution;
using test::pick;
using test::random_config;

// Exactness theorem on one network: quantum mode equals the classical analog
// on diagonal inputs, and every branch's final density matrix is diagonal.
void expect_exact(ResidualNetworkImpl& model, const torch::Tensor& input, double tol, const std::string& label) {
  const auto c = model.forward(input, Mode::classical);
  const auto c_readout = model.readout_distributions(input, Mode::classical);
  for_each_execution([&](Execution execution, const std::string& how) {
    EXPECT_TRUE(all_close(model.forward(input, Mode::quantum, execution), c, tol, tol)) << label << how << " logits";
    EXPECT_TRUE(all_close(model.readout_distributions(input, Mode::quantum, execution), c_readout, tol))
        << label << how << " readout distributions";
  });
  const auto rho0 = model.initial_state(input, Representation::dense).values();
  const auto p0 = model.initial_state(input, Representation::probabilities).values();
  for (size_t k = 0; k < model.branches.size(); ++k) {
    const auto rho = test::dense_forward(*model.branches[k], rho0);
    EXPECT_LE(test::max_off_diagonal(rho), tol) << label << " branch " << k << " final state not diagonal";
    EXPECT_TRUE(all_close(hqrn::probs(rho), test::markov_forward(*model.branches[k], p0), tol))
        << label << " branch " << k << " diagonal vs Markov chain";
  }
}

// ---------------------------------------------------------------- blocks

TEST(ResidualBlock, MatchesDenseChannelsAndMarkovMatrices) {
  torch::manual_seed(101);
  std::mt19937_64 rng(101);
  for (int64_t n = 1; n <= 4; ++n) {
    for (int trial = 0; trial < 3; ++trial) {
      // Default order, then random orders that may repeat or skip qubits.
      std::vector<int64_t> targets;
      if (trial > 0) {
        for (int64_t t = 0; t < pick(rng, 1, n + 1); ++t) targets.push_back(pick(rng, 0, n - 1));
      }
      QuantumResidualBlock block(ResidualBlockOptions(n).targets(targets).init_std(2.0));
      const std::string label = "n " + std::to_string(n) + " targets " + test::list_string(block->targets());
      for (int64_t j = 0; j < n; ++j) {
        EXPECT_TRUE(all_close(block->theta_tables()[j], dense::angle_table(block->W, block->b, j), 1e-14)) << label;
        EXPECT_TRUE(all_close(block->phi_tables()[j], dense::angle_table(block->V, block->a, j), 1e-14)) << label;
      }
      auto rho = dense::random_density(2, n, kC);
      auto expected_rho = rho;
      auto p = dense::random_probabilities(2, n, kR);
      auto expected_p = p;
      for (const auto j : block->targets()) {
        expected_rho = dense::qrb_step(expected_rho, dense::angle_table(block->W, block->b, j),
                                       dense::angle_table(block->V, block->a, j), j, true);
        expected_p = dense::markov_step(expected_p, dense::angle_table(block->W, block->b, j), j);
      }
      EXPECT_TRUE(all_close(test::dense_forward(*block, rho), expected_rho, 1e-12)) << label;
      EXPECT_TRUE(all_close(test::markov_forward(*block, p), expected_p, 1e-12)) << label;
    }
  }
}

TEST(ResidualBlock, DiagonalWeightsAreUnusedAndZeroInitIsTheSkipConnection) {
  torch::manual_seed(102);
  QuantumResidualBlock block(ResidualBlockOptions(3).init_std(1.0));
  const auto theta = block->theta_tables().clone();
  const auto phi = block->phi_tables().clone();
  {
    torch::NoGradGuard no_grad;
    block->W.diagonal().add_(5.0);
    block->V.diagonal().add_(-3.0);
  }
  EXPECT_TRUE(torch::equal(block->theta_tables(), theta));
  EXPECT_TRUE(torch::equal(block->phi_tables(), phi));

  // init_std 0: theta = 0 everywhere, every basis state stays put.
  QuantumResidualBlock identity(ResidualBlockOptions(3).init_std(0.0));
  const auto p = dense::random_probabilities(2, 3, kR);
  EXPECT_TRUE(torch::equal(test::markov_forward(*identity, p), p));
  EXPECT_TRUE(all_close(test::dense_forward(*identity, torch::diag_embed(p).to(kC)), torch::diag_embed(p).to(kC), 0.0));

  // Classical-only blocks register no V, a and have zero phi tables.
  QuantumResidualBlock classical(ResidualBlockOptions(3).quantum_weights(false));
  EXPECT_FALSE(classical->has_quantum_weights());
  EXPECT_EQ(classical->named_parameters().size(), 2u);
  EXPECT_TRUE(torch::equal(classical->phi_tables(), torch::zeros({3, 4}, kR)));
}

TEST(ResidualBlock, RejectsBadOptions) {
  EXPECT_THROW(QuantumResidualBlock{ResidualBlockOptions(0)}, std::invalid_argument);
  EXPECT_TRUE(throws_with<std::invalid_argument>([] { QuantumResidualBlock{ResidualBlockOptions(2).targets({0, 2})}; },
                                                 {"target 2"}));
  EXPECT_THROW(QuantumResidualBlock{ResidualBlockOptions(2).targets({-1})}, std::invalid_argument);
}

// The example of docs/model.md, "What the quantum weights see". With R(theta, phi) = [[c, -e^{i phi} s], [e^{-i phi} s, c]]:
// the step on qubit 0 (theta = pi iff qubit 1 is 1, phi0 = a0 + V01 there)
// leaves |00> and sends |11> to -e^{i phi0}|01>, so |Phi+> becomes
// |0>(|0> - e^{i phi0}|1>)/sqrt2 and the measurement of qubit 0 is certain.
// The step on qubit 1 (theta = pi/2, phi1 = a1 since qubit 0 is 0) then gives
// qubit 1 = 0 with probability cos^2((phi0 + phi1)/2). One outcome is certain
// iff phi0 + phi1 = 0 mod pi: the derived choice is phi = 0 (a = V = 0), which
// also sends Phi-, Psi+, Psi- to 01, 11, 10: a full Bell measurement
// (qubit 0 = Z0Z1 parity, qubit 1 = 1 iff Y0Y1 = +1).
// phi0 = phi_0(qubit 1 = 1) = a0 + V01, phi1 = phi_1(qubit 0 = 0) = a1; v10
// only acts when qubit 0 is 1, which |Phi+> never reaches.
void set_bell_weights(QuantumResidualBlock& block, double phi0, double phi1, double v10 = 0.0) {
  torch::NoGradGuard no_grad;
  // Diagonal entries are arbitrary: they must not enter.
  block->W.copy_(torch::tensor({0.7, M_PI, 0.0, -1.3}, kR).reshape({2, 2}));
  block->b.copy_(torch::tensor({0.0, M_PI / 2}, kR));
  block->V.copy_(torch::tensor({0.4, phi0 / 2, v10, 0.9}, kR).reshape({2, 2}));
  block->a.copy_(torch::tensor({phi0 / 2, phi1}, kR));
}

torch::Tensor bell_state(int which) {
  // Phi+, Phi-, Psi+, Psi- as density matrices [1, 4, 4].
  auto psi = torch::zeros({4}, kC);
  const double h = 1 / std::sqrt(2.0);
  if (which < 2) {
    psi[0] = h;
    psi[3] = which == 0 ? h : -h;
  } else {
    psi[1] = h;
    psi[2] = which == 2 ? h : -h;
  }
  return torch::outer(psi, psi.conj()).unsqueeze(0);
}

TEST(BellMeasurement, SpecExampleSeparatesPhiPlusFromItsDephasedTwin) {
  QuantumResidualBlock block(ResidualBlockOptions(2));
  set_bell_weights(block, 0.0, 0.0);
  // theta on qubit 0 is pi exactly when qubit 1 is 1; on qubit 1 it is pi/2.
  EXPECT_TRUE(all_close(block->theta_tables(), torch::tensor({0.0, M_PI, M_PI / 2, M_PI / 2}, kR).reshape({2, 2}), 0));

  const auto phi_plus = test::phi_plus_state();
  const auto twin = test::dephased_twin(phi_plus);
  EXPECT_TRUE(all_close(hqrn::probs(test::dense_forward(*block, phi_plus)), torch::tensor({{1.0, 0.0, 0.0, 0.0}}, kR), 1e-12));
  EXPECT_TRUE(all_close(hqrn::probs(test::dense_forward(*block, twin)), torch::tensor({{0.5, 0.5, 0.0, 0.0}}, kR), 1e-12));
  // The classical analog sees only the diagonal, identical for the pair.
  EXPECT_TRUE(torch::equal(test::markov_forward(*block, hqrn::probs(phi_plus)), test::markov_forward(*block, hqrn::probs(twin))));

  // All four Bell states land on distinct certain outcomes.
  const std::vector<int64_t> outcome{0, 1, 3, 2};
  for (int which = 0; which < 4; ++which) {
    const auto expected = torch::zeros({1, 4}, kR);
    expected[0][outcome[which]] = 1.0;
    EXPECT_TRUE(all_close(hqrn::probs(test::dense_forward(*block, bell_state(which))), expected, 1e-12))
        << "Bell state " << which;
  }
}

TEST(BellMeasurement, OutcomeDependsOnPhiAsDerived) {
  torch::manual_seed(103);
  QuantumResidualBlock block(ResidualBlockOptions(2));
  const auto phi_plus = test::phi_plus_state();
  const auto twin = test::dephased_twin(phi_plus);
  for (int trial = 0; trial < 12; ++trial) {
    const double phi0 = dense::random_angles(1, kR).item<double>();
    const double phi1 = dense::random_angles(1, kR).item<double>();
    set_bell_weights(block, phi0, phi1, /*v10=*/dense::random_angles(1, kR).item<double>());
    const double p00 = std::pow(std::cos((phi0 + phi1) / 2), 2);
    const auto expected = torch::tensor({{p00, 1 - p00, 0.0, 0.0}}, kR);
    EXPECT_TRUE(all_close(hqrn::probs(test::dense_forward(*block, phi_plus)), expected, 1e-12))
        << "phi0 " << phi0 << " phi1 " << phi1;
    // The twin is diagonal: phi cannot matter.
    EXPECT_TRUE(all_close(hqrn::probs(test::dense_forward(*block, twin)), torch::tensor({{0.5, 0.5, 0.0, 0.0}}, kR), 1e-12));
  }
}

TEST(BellMeasurement, NetworkWithBornReadoutSeesWhatItsClassicalAnalogCannot) {
  HQRN model(NetworkConfig().data_qubits(2).blocks(1).branches(1).classes(4).readout(Readout::born));
  set_bell_weights(model->branches[0]->blocks[0], 0.0, 0.0);
  const auto phi_plus = test::phi_plus_state();
  const auto twin = test::dephased_twin(phi_plus);
  const auto both = torch::cat({phi_plus, twin});
  const auto quantum = model->predict_proba(both, Mode::quantum);
  EXPECT_TRUE(all_close(quantum[0], torch::tensor({1.0, 0.0, 0.0, 0.0}, kR), 1e-12));
  EXPECT_TRUE(all_close(quantum[1], torch::tensor({0.5, 0.5, 0.0, 0.0}, kR), 1e-12));
  const auto classical = model->predict_proba(both, Mode::classical);
  EXPECT_TRUE(torch::equal(classical[0], classical[1]));
  EXPECT_TRUE(all_close(classical[0], quantum[1], 1e-12));
}

// ---------------------------------------------------------------- network vs references

TEST(NetworkReference, ClassicalModeMatchesIndependentMarkovChainAndHeads) {
  torch::manual_seed(104);
  std::mt19937_64 rng(104);
  for (int round = 0; round < 3; ++round) {
    for (const auto readout : {Readout::born, Readout::linear, Readout::mlp}) {
      const auto config = random_config(rng, readout, 6);
      HQRN model(config);
      test::randomize_weights(*model);
      for (const auto& input : classical_inputs(config, 3, kR)) {
        const auto label = describe(config) + " input " + std::to_string(input.dim()) + "-d";
        const auto expected = test::reference_classical_readout(*model, input);
        const auto got = model->readout_distributions(input, Mode::classical);
        EXPECT_TRUE(all_close(got, expected, 1e-12)) << label;
        EXPECT_TRUE(all_close(model->forward(input, Mode::classical), test::reference_head(*model, expected), 1e-10,
                              1e-10))
            << label;
        // Probabilities stay normalised along the way.
        EXPECT_TRUE(all_close(got.sum(-1), torch::ones({3, config.branches()}, kR), 1e-12)) << label;
        EXPECT_TRUE(all_close(model->predict_proba(input, Mode::classical).sum(-1), torch::ones({3}, kR), 1e-12));
      }
    }
  }
}

TEST(NetworkReference, QuantumModeMatchesDenseChannelsOnCoherentStates) {
  torch::manual_seed(105);
  std::mt19937_64 rng(105);
  for (int round = 0; round < 2; ++round) {
    for (const auto readout : {Readout::born, Readout::linear, Readout::mlp}) {
      const auto config = random_config(rng, readout, 4, /*allow_features=*/false);
      HQRN model(config);
      test::randomize_weights(*model);
      const auto rho = dense::random_density(3, config.data_qubits(), kC);
      const auto start = dense::embed_ancillas(rho, config.ancillas());
      EXPECT_TRUE(all_close(model->initial_state(rho, Representation::dense).values(), start, 0)) << describe(config);
      std::vector<torch::Tensor> readouts;
      for (auto& branch : model->branches) {
        const auto expected = test::reference_branch_quantum(*branch, start);
        EXPECT_TRUE(all_close(test::dense_forward(*branch, start), expected, 1e-12)) << describe(config);
        readouts.push_back(test::reference_marginal_last(dense::probs(expected), config.readout_width()));
      }
      const auto expected_readout = torch::stack(readouts, 1);
      EXPECT_TRUE(all_close(model->readout_distributions(rho, Mode::quantum), expected_readout, 1e-12))
          << describe(config);
      EXPECT_TRUE(all_close(model->forward(rho, Mode::quantum), test::reference_head(*model, expected_readout), 1e-10,
                            1e-10))
          << describe(config);
    }
  }
}

// ---------------------------------------------------------------- exactness theorem

TEST(NetworkExactness, QuantumModeEqualsClassicalAnalogOnDiagonalInputs) {
  torch::manual_seed(106);
  std::mt19937_64 rng(106);
  for (int round = 0; round < 4; ++round) {
    for (const auto readout : {Readout::born, Readout::linear, Readout::mlp}) {
      const auto config = random_config(rng, readout, 6);
      HQRN model(config);
      // Uniform angles in [-pi, pi], or the constructor's weights scaled up.
      if (round % 2 == 0) {
        test::randomize_weights(*model);
      } else {
        test::scale_parameters(*model, 3.0);
      }
      for (const auto& input : classical_inputs(config, 3, kR)) {
        expect_exact(*model, input, 1e-12, describe(config) + " input " + std::to_string(input.dim()) + "-d");
      }
    }
  }
}

TEST(NetworkExactness, HoldsOnEightQubits) {
  torch::manual_seed(107);
  for (const int64_t features : {0, 5}) {
    const auto config = NetworkConfig().data_qubits(4).ancillas(4).features(features).blocks(2).branches(2).classes(3);
    HQRN model(config);
    test::randomize_weights(*model);
    for (const auto& input : classical_inputs(config, 2, kR)) {
      expect_exact(*model, input, 1e-12, describe(config) + " input " + std::to_string(input.dim()) + "-d");
    }
  }
}

TEST(NetworkExactness, GradientsAgreeAndQuantumWeightsGetNone) {
  // On diagonal inputs the two modes are the same function of W, b, encoder
  // and head, and V, a do not enter at all.
  torch::manual_seed(108);
  std::mt19937_64 rng(108);
  for (const auto readout : {Readout::born, Readout::linear, Readout::mlp}) {
    const auto config = random_config(rng, readout, 5);
    HQRN model(config);
    test::randomize_weights(*model);
    const auto input = classical_inputs(config, 3, kR).back();
    const auto labels = torch::randint(0, config.classes(), {3}, torch::kLong);
    std::vector<std::vector<torch::Tensor>> grads;
    const auto gradients = [&](Mode mode, Execution execution) {
      model->zero_grad();
      torch::nn::functional::cross_entropy(model->forward(input, mode, execution), labels).backward();
      std::vector<torch::Tensor> g;
      for (const auto& p : model->classical_parameters()) g.push_back(p.grad().clone());
      grads.push_back(g);
    };
    gradients(Mode::classical, Execution::aware);
    for_each_execution([&](Execution execution, const std::string& how) {
      gradients(Mode::quantum, execution);
      for (const auto& q : model->quantum_parameters()) {
        EXPECT_TRUE(!q.grad().defined() || q.grad().abs().max().item<double>() < 1e-13) << describe(config) << how;
      }
    });
    for (size_t k = 1; k < grads.size(); ++k) {
      for (size_t i = 0; i < grads[0].size(); ++i) {
        EXPECT_TRUE(all_close(grads[k][i], grads[0][i], 1e-10, 1e-10))
            << describe(config) << " parameter " << i << " execution " << k;
      }
    }
  }
}

TEST(NetworkExactness, HoldsInSinglePrecision) {
  torch::manual_seed(109);
  std::mt19937_64 rng(109);
  for (int round = 0; round < 2; ++round) {
    for (const auto readout : {Readout::born, Readout::linear, Readout::mlp}) {
      const auto config = random_config(rng, readout, 6);
      HQRN model(config);
      test::randomize_weights(*model);
      model->to(torch::kFloat32);
      ASSERT_EQ(model->real_dtype(), torch::kFloat32);
      for (const auto& input : classical_inputs(config, 3, torch::kFloat32)) {
        const auto label = describe(config) + " float32 input " + std::to_string(input.dim()) + "-d";
        const auto q = model->forward(input, Mode::quantum);
        EXPECT_EQ(q.scalar_type(), torch::kFloat32) << label;
        expect_exact(*model, input, 1e-5, label);
        // And the single-precision network computes the right thing.
        const auto expected = test::reference_head(*model, test::reference_classical_readout(*model, input));
        EXPECT_TRUE(all_close(q, expected, 1e-4, 1e-4)) << label;
      }
    }
  }
}

// ---------------------------------------------------------------- coherence-aware execution

using test::logits_and_gradients;

void expect_same_in_both_executions(ResidualNetworkImpl& model, const torch::Tensor& input, const std::string& label) {
  const auto labels = torch::randint(0, model.config().classes(), {input.size(0)}, torch::kLong);
  const auto dense_run = logits_and_gradients(model, input, labels, Execution::dense);
  const auto aware_run = logits_and_gradients(model, input, labels, Execution::aware);
  EXPECT_TRUE(all_close(aware_run[0], dense_run[0], 1e-12, 1e-12)) << label << " logits";
  for (size_t i = 1; i < dense_run.size(); ++i) {
    EXPECT_TRUE(all_close(aware_run[i], dense_run[i], 1e-10, 1e-10)) << label << " gradient " << i;
  }
}

TEST(AwareExecution, SameOutputsAndGradientsAsDenseOnQuantumInputs) {
  torch::manual_seed(120);
  std::mt19937_64 rng(120);
  for (int round = 0; round < 3; ++round) {
    for (const auto readout : {Readout::born, Readout::linear, Readout::mlp}) {
      const auto config = random_config(rng, readout, 6, /*allow_features=*/false);
      HQRN model(config);
      test::randomize_weights(*model);
      expect_same_in_both_executions(*model, dense::random_density(3, config.data_qubits(), kC), describe(config));
    }
  }
}

TEST(AwareExecution, EntanglementModelWithEightAncillas) {
  // The issue's model: 2 data qubits and 8 ancillas (dense: 4^10 entries per state).
  torch::manual_seed(121);
  const auto config = NetworkConfig().data_qubits(2).ancillas(8).blocks(2).branches(2).classes(2).readout_qubits(3);
  HQRN model(config);
  test::randomize_weights(*model);
  expect_same_in_both_executions(*model, dense::random_density(2, 2, kC), describe(config));
}

TEST(AwareExecution, SameOutputsOnClassicalInputs) {
  torch::manual_seed(122);
  std::mt19937_64 rng(122);
  for (const auto readout : {Readout::born, Readout::linear, Readout::mlp}) {
    const auto config = random_config(rng, readout, 6);
    HQRN model(config);
    test::randomize_weights(*model);
    for (const auto& input : classical_inputs(config, 3, kR)) {
      if (input.is_complex()) continue;  // complex inputs have no gradient to compare with a real one
      expect_same_in_both_executions(*model, input, describe(config) + " input " + std::to_string(input.dim()) + "-d");
    }
  }
}

TEST(AwareExecution, BlocksWithAnyTargetOrderFromAnyDiagonalSet) {
  // Repeated and skipped targets, and targets already diagonal while others
  // are not: the paths the default order never takes.
  torch::manual_seed(123);
  std::mt19937_64 rng(123);
  for (int64_t n = 1; n <= 4; ++n) {
    for (int trial = 0; trial < 4; ++trial) {
      std::vector<int64_t> targets, diagonal;
      for (int64_t t = 0; t < pick(rng, 1, 2 * n); ++t) targets.push_back(pick(rng, 0, n - 1));
      for (int64_t q = 0; q < n; ++q) {
        if (pick(rng, 0, 1) == 1) diagonal.push_back(q);
      }
      QuantumResidualBlock block(ResidualBlockOptions(n).targets(targets).init_std(1.0));
      auto rho = dense::random_density(2, n, kC);
      for (const auto q : diagonal) rho = dense::dephase(rho, q);
      const auto expected = test::dense_forward(*block, rho);
      const auto aware = block->forward(RegisterState::aware_from_dense(rho, diagonal));
      const auto label = "n " + std::to_string(n) + " targets " + test::list_string(targets) + " D " +
                         test::list_string(diagonal);
      EXPECT_TRUE(all_close(aware.to_dense(), expected, 1e-12)) << label;
      EXPECT_TRUE(all_close(aware.probabilities(), dense::probs(expected), 1e-12)) << label;
    }
  }
}

TEST(AwareExecution, StateLayoutRoundTrips) {
  torch::manual_seed(124);
  const int64_t n = 4;
  auto rho = dense::random_density(2, n, kC);
  rho = dense::dephase(dense::dephase(rho, 1), 3);
  const auto state = RegisterState::aware_from_dense(rho, {3, 1});
  EXPECT_EQ(state.diagonal(), (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(state.values().sizes(), (std::vector<int64_t>{2, 4, 4, 4}));
  EXPECT_TRUE(all_close(state.to_dense(), rho, 0));
  EXPECT_TRUE(all_close(state.probabilities(), dense::probs(rho), 0));
  const auto p = dense::random_probabilities(2, n, kR);
  const auto classical = RegisterState::from_distribution(p, 0, Representation::aware);
  EXPECT_TRUE(classical.is_distribution());
  EXPECT_TRUE(all_close(classical.to_dense(), torch::diag_embed(p).to(kC), 0));
  const auto data = dense::random_density(2, 2, kC);
  const auto embedded = RegisterState::from_data_state(data, 2, Representation::aware);
  EXPECT_EQ(embedded.diagonal(), (std::vector<int64_t>{2, 3}));
  EXPECT_TRUE(all_close(embedded.to_dense(), dense::embed_ancillas(data, 2), 0));
  for (const auto& e : {Execution::aware, Execution::dense}) EXPECT_EQ(parse_execution(to_string(e)), e);
  EXPECT_TRUE(test::throws_with<std::invalid_argument>([] { parse_execution("sparse"); }, {"sparse"}));
}

// ---------------------------------------------------------------- register state

// Single-qubit Kraus sets [m, 2, 2] (complex128) from real matrices.
torch::Tensor kraus_of(const std::vector<std::vector<double>>& matrices) {
  std::vector<torch::Tensor> ops;
  for (const auto& m : matrices) ops.push_back(torch::tensor(m, kR).reshape({2, 2}));
  return torch::stack(ops).to(kC);
}

TEST(RegisterStateChannels, EveryRepresentationAppliesTheSameChannel) {
  torch::manual_seed(125);
  const double g = 0.37;
  const auto damping = kraus_of({{1, 0, 0, std::sqrt(1 - g)}, {0, std::sqrt(g), 0, 0}});
  const int64_t n = 3;
  for (int64_t target = 0; target < n; ++target) {
    const auto label = "target " + std::to_string(target);
    // A coherent data register of 2 qubits and one ancilla (diagonal): the
    // channel on a coherent qubit, and on the ancilla.
    const auto rho = dense::random_density(2, 2, kC);
    const auto dense_out = RegisterState::from_data_state(rho, 1, Representation::dense).apply_channel(damping, {target});
    const auto aware_out = RegisterState::from_data_state(rho, 1, Representation::aware).apply_channel(damping, {target});
    EXPECT_TRUE(all_close(aware_out.to_dense(), dense_out.values(), 1e-12)) << label;
    EXPECT_TRUE(all_close(aware_out.probabilities(), dense_out.probabilities(), 1e-12)) << label;
    // Diagonal states: the probability vector gets the channel's classical image.
    const auto p = dense::random_probabilities(2, n, kR);
    const auto on_dense = RegisterState::from_distribution(p, 0, Representation::dense).apply_channel(damping, {target});
    for (const auto r : {Representation::aware, Representation::probabilities}) {
      const auto out = RegisterState::from_distribution(p, 0, r).apply_channel(damping, {target});
      EXPECT_TRUE(out.is_distribution()) << label << " " << to_string(r);
      EXPECT_TRUE(all_close(out.probabilities(), on_dense.probabilities(), 1e-12)) << label << " " << to_string(r);
    }
    EXPECT_LE(test::max_off_diagonal(on_dense.values()), 1e-15) << label;
  }
}

TEST(RegisterStateChannels, CoherenceOnADiagonalQubitIsRefusedAlikeInAwareAndProbabilities) {
  const double s = 1 / std::sqrt(2.0);
  const auto hadamard = kraus_of({{s, s, s, -s}});
  const auto p = dense::random_probabilities(1, 2, kR);
  // Dense states hold the coherence; the diagonal representations cannot.
  const auto dense_out = RegisterState::from_distribution(p, 0, Representation::dense).apply_channel(hadamard, {1});
  EXPECT_GT(test::max_off_diagonal(dense_out.values()), 1e-3);
  for (const auto r : {Representation::aware, Representation::probabilities}) {
    const auto state = RegisterState::from_distribution(p, 0, r);
    EXPECT_TRUE(test::throws_with<c10::Error>([&] { state.apply_channel(hadamard, {1}); },
                                              {"coherence on diagonal qubit 1"}))
        << to_string(r);
  }
}

TEST(RegisterStateChannels, StepsInEveryRepresentationAgree) {
  // One step of a block on a diagonal input: dense, aware and the Markov step give one distribution.
  torch::manual_seed(126);
  QuantumResidualBlock block(ResidualBlockOptions(3).init_std(1.0));
  const auto p = dense::random_probabilities(2, 3, kR);
  const auto reference = RegisterState::from_distribution(p, 0, Representation::dense);
  for (const auto r : {Representation::aware, Representation::probabilities}) {
    const auto state = RegisterState::from_distribution(p, 0, r);
    EXPECT_EQ(state.representation(), r);
    EXPECT_TRUE(all_close(block->forward(state).probabilities(), block->forward(reference).probabilities(), 1e-12))
        << to_string(r);
  }
  EXPECT_TRUE(test::throws_with<InvalidInput>(
      [&] { RegisterState::from_distribution(torch::rand({2, 3}, kR), 0, Representation::aware); },
      {"not a power of two"}));
  EXPECT_TRUE(test::throws_with<InvalidInput>(
      [&] { RegisterState::from_data_state(torch::rand({2, 4}, kR), 0, Representation::dense); },
      {"expected complex states"}));
}

// ---------------------------------------------------------------- classical analog

TEST(ClassicalAnalog, TranslatedHqrnMatchesClassicalResNet) {
  torch::manual_seed(110);
  std::mt19937_64 rng(110);
  for (int round = 0; round < 2; ++round) {
    for (const auto readout : {Readout::born, Readout::linear, Readout::mlp}) {
      const auto config = random_config(rng, readout, 6);
      ClassicalResNet classical(config);
      test::randomize_weights(*classical);
      EXPECT_FALSE(classical->has_quantum_weights());
      EXPECT_TRUE(classical->quantum_parameters().empty());
      for (const auto& item : classical->named_parameters()) {
        EXPECT_EQ(item.key().find(".V"), std::string::npos) << item.key();
        EXPECT_EQ(item.key().find(".a"), std::string::npos) << item.key();
      }

      auto translated = translate_classical(*classical);
      EXPECT_TRUE(translated->has_quantum_weights());
      for (const auto& q : translated->quantum_parameters()) EXPECT_TRUE(torch::equal(q, torch::zeros_like(q)));

      // load_classical (in memory) keeps random quantum-only weights: they
      // must not matter on classical inputs either.
      HQRN kept(config);
      test::randomize_weights(*kept);
      load_classical(*kept, *classical);

      for (const auto& input : classical_inputs(config, 3, kR)) {
        const auto label = describe(config) + " input " + std::to_string(input.dim()) + "-d";
        const auto expected = classical->forward(input);
        EXPECT_TRUE(torch::equal(translated->forward(input, Mode::classical), expected)) << label;
        for (auto* model : {translated.get(), kept.get()}) {
          for_each_execution([&](Execution execution, const std::string& how) {
            EXPECT_TRUE(all_close(model->forward(input, Mode::quantum, execution), expected, 1e-12, 1e-12))
                << label << how;
          });
        }
      }
    }
  }
}

TEST(ClassicalAnalog, ParameterGroupsPartitionTheParameters) {
  HQRN model(NetworkConfig().data_qubits(2).ancillas(1).features(3).blocks(2).branches(2).readout(Readout::mlp));
  const auto classical = model->classical_parameters();
  const auto quantum = model->quantum_parameters();
  EXPECT_EQ(quantum.size(), 2u * 2u * 2u);  // V and a per block per branch
  EXPECT_EQ(classical.size() + quantum.size(), model->parameters().size());
  std::vector<std::string> quantum_names;
  for (const auto& item : model->named_parameters()) {
    bool is_quantum = false;
    for (const auto& q : quantum) is_quantum = is_quantum || item.value().is_same(q);
    const auto& key = item.key();
    const bool named_quantum = key.size() > 2 && (key.substr(key.size() - 2) == ".V" || key.substr(key.size() - 2) == ".a");
    EXPECT_EQ(is_quantum, named_quantum) << key;
  }
  model->set_classical_trainable(false);
  for (const auto& p : model->classical_parameters()) EXPECT_FALSE(p.requires_grad());
  for (const auto& q : model->quantum_parameters()) EXPECT_TRUE(q.requires_grad());
  model->set_classical_trainable(true);
  for (const auto& p : model->classical_parameters()) EXPECT_TRUE(p.requires_grad());
}

// ---------------------------------------------------------------- fine-tuning

TEST(QuantumFineTuning, KeepsClassicalPredictionsBitForBit) {
  torch::manual_seed(111);
  // Read qubits 1 and 2 (data qubit 1 and the ancilla).
  const auto config = NetworkConfig().data_qubits(2).ancillas(1).blocks(1).branches(2).classes(2).readout_qubits(2);
  HQRN model(config);
  test::randomize_weights(*model);
  {
    // Branch 0 starts as the Bell circuit of BellMeasurement with
    // phi0 + phi1 = pi/2: |Phi+> then reads exactly like its twin, so the
    // classically trained part cannot separate them and the phases must learn
    // it (P(qubit 1 = 0 | Phi+) = cos^2((phi0 + phi1)/2)). Branch 1 stays
    // random; the head is sharpened so that the readout matters.
    torch::NoGradGuard no_grad;
    auto& block = model->branches[0]->blocks[0];
    block->W.zero_();
    block->W[0][1] = M_PI;
    block->b.copy_(torch::tensor({0.0, M_PI / 2, 0.0}, kR));
    block->V.zero_();
    block->a.copy_(torch::tensor({0.0, M_PI / 2, 0.0}, kR));
    for (auto& h : model->head->parameters()) h.mul_(4);
  }

  const auto phi_plus = test::phi_plus_state();
  const auto train_states = torch::cat({phi_plus, test::dephased_twin(phi_plus)});
  const auto train_labels = torch::tensor({1, 0}, torch::kLong);

  const auto p = dense::random_probabilities(4, 2, kR);
  const std::vector<torch::Tensor> classical_data{p, torch::diag_embed(p).to(kC), test::dephased_twin(phi_plus)};
  std::vector<torch::Tensor> before;
  std::vector<torch::Tensor> classical_values;
  {
    torch::NoGradGuard no_grad;
    for (const auto& x : classical_data) {
      for_each_execution(
          [&](Execution execution, const std::string&) { before.push_back(model->forward(x, Mode::quantum, execution)); });
      before.push_back(model->forward(x, Mode::classical));
    }
    for (const auto& t : model->classical_parameters()) classical_values.push_back(t.clone());
  }
  const auto phi_plus_before = model->forward(phi_plus, Mode::quantum).detach();

  model->set_classical_trainable(false);
  torch::optim::Adam optimizer(model->quantum_parameters(), torch::optim::AdamOptions(0.1));
  double first_loss = 0, last_loss = 0;
  for (int step = 0; step < 25; ++step) {
    optimizer.zero_grad();
    const auto loss = torch::nn::functional::cross_entropy(model->forward(train_states, Mode::quantum), train_labels);
    loss.backward();
    optimizer.step();
    (step == 0 ? first_loss : last_loss) = loss.item<double>();
  }
  // The frozen head bounds how far the loss can fall (the twin's loss is
  // fixed); what the phases can do is make branch 0's reading of |Phi+>
  // certain while the twin's stays 1/2 (readout index 0 = qubits 1, 2 at 0).
  EXPECT_LT(last_loss, first_loss - 0.03) << "quantum-only training did not lower the loss";
  {
    torch::NoGradGuard no_grad;
    const auto readout = model->readout_distributions(train_states, Mode::quantum);
    const double phi_plus_p0 = (readout[0][0][0] + readout[0][0][1]).item<double>();
    EXPECT_GT(std::abs(phi_plus_p0 - 0.5), 0.4) << "branch 0 did not learn the Bell phase: " << readout;
    EXPECT_NEAR((readout[1][0][0] + readout[1][0][1]).item<double>(), 0.5, 1e-12);
  }

  const auto classical_after = model->classical_parameters();
  ASSERT_EQ(classical_after.size(), classical_values.size());
  for (size_t i = 0; i < classical_values.size(); ++i) {
    EXPECT_TRUE(torch::equal(classical_after[i], classical_values[i])) << "classical parameter " << i << " moved";
    EXPECT_FALSE(classical_after[i].grad().defined()) << "frozen parameter " << i << " got a gradient";
  }
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < classical_data.size(); ++i) {
    size_t k = 3 * i;
    for_each_execution([&](Execution execution, const std::string& how) {
      EXPECT_TRUE(torch::equal(model->forward(classical_data[i], Mode::quantum, execution), before[k++]))
          << "input " << i << how;
    });
    EXPECT_TRUE(torch::equal(model->forward(classical_data[i], Mode::classical), before[k])) << "input " << i;
  }
  EXPECT_GT((model->forward(phi_plus, Mode::quantum) - phi_plus_before).abs().max().item<double>(), 1e-3);
}

// ---------------------------------------------------------------- training

// A tiny separable task on features in [-1, 1]: label = (u0 > u1).
std::pair<torch::Tensor, torch::Tensor> tiny_task() {
  const auto x = torch::rand({48, 3}, kR) * 2 - 1;
  const auto y = (x.select(1, 0) > x.select(1, 1)).to(torch::kLong);
  return {x, y};
}

double loss_of(ResidualNetworkImpl& model, const torch::Tensor& x, const torch::Tensor& y, Mode mode) {
  torch::NoGradGuard no_grad;
  return torch::nn::functional::cross_entropy(model.forward(x, mode), y).item<double>();
}

TEST(Training, OneAdamOverAllParametersLearnsInBothModes) {
  torch::manual_seed(112);
  const auto [x, y] = tiny_task();
  HQRN model(NetworkConfig().data_qubits(2).ancillas(1).features(3).blocks(2).branches(2).classes(2));
  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(0.05));
  const double before_q = loss_of(*model, x, y, Mode::quantum);
  const double before_c = loss_of(*model, x, y, Mode::classical);
  EXPECT_NEAR(before_q, before_c, 1e-12);
  for (int step = 0; step < 30; ++step) {
    optimizer.zero_grad();
    const auto mode = step % 2 == 0 ? Mode::classical : Mode::quantum;
    torch::nn::functional::cross_entropy(model->forward(x, mode), y).backward();
    optimizer.step();
  }
  const double after_q = loss_of(*model, x, y, Mode::quantum);
  const double after_c = loss_of(*model, x, y, Mode::classical);
  EXPECT_LT(after_q, before_q - 0.1) << "quantum-mode loss " << before_q << " -> " << after_q;
  EXPECT_LT(after_c, before_c - 0.1) << "classical-mode loss " << before_c << " -> " << after_c;
  EXPECT_NEAR(after_q, after_c, 1e-12);
}

TEST(Training, ClassicalResNetTrainsWithAdam) {
  torch::manual_seed(113);
  const auto [x, y] = tiny_task();
  ClassicalResNet model(NetworkConfig().data_qubits(2).ancillas(1).features(3).blocks(2).branches(2).classes(2));
  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(0.05));
  const double before = loss_of(*model, x, y, Mode::classical);
  for (int step = 0; step < 30; ++step) {
    optimizer.zero_grad();
    torch::nn::functional::cross_entropy(model->forward(x), y).backward();
    optimizer.step();
  }
  const double after = loss_of(*model, x, y, Mode::classical);
  EXPECT_LT(after, before - 0.1) << "loss " << before << " -> " << after;
}

// ---------------------------------------------------------------- validation

TEST(NetworkInputs, BadInputsNameTheExpectedShape) {
  HQRN features(NetworkConfig().data_qubits(2).features(3));
  const auto fails = [](ResidualNetworkImpl& model, const torch::Tensor& input, const std::string& part) {
    for (const auto mode : {Mode::quantum, Mode::classical}) {
      EXPECT_TRUE(throws_with<InvalidInput>([&] { model.forward(input, mode); }, {part}))
          << "input " << input.sizes() << " " << input.scalar_type() << " mode " << to_string(mode);
    }
  };
  fails(*features, torch::rand({2, 4}, kR), "[B, 3]");
  fails(*features, torch::rand({2, 3}, kC), "[B, 3]");
  fails(*features, torch::rand({2, 3, 3}, kR), "[B, 3]");
  fails(*features, torch::rand({0, 3}, kR), "empty batch");

  HQRN states(NetworkConfig().data_qubits(2).ancillas(1));
  fails(*states, dense::random_density(2, 3, kC), "[B, 4, 4]");
  fails(*states, torch::rand({2, 8}, kR), "[B, 4]");
  fails(*states, torch::rand({2, 4, 5}, kC), "[B, 4, 4]");
  fails(*states, torch::rand({4}, kR), "[B, 4]");

  ClassicalResNet classical(NetworkConfig().data_qubits(3).features(2));
  EXPECT_TRUE(throws_with<InvalidInput>([&] { classical->forward(torch::rand({2, 5}, kR)); }, {"[B, 2]"}));
}

TEST(NetworkConfigValidation, RejectsInconsistentConfigs) {
  const std::vector<std::pair<NetworkConfig, std::string>> bad{
      {NetworkConfig().data_qubits(0).ancillas(0), "data_qubits + ancillas"},
      {NetworkConfig().data_qubits(20).ancillas(5), "data_qubits + ancillas = 25"},
      {NetworkConfig().ancillas(-1), "ancillas"},
      {NetworkConfig().data_qubits(0).ancillas(2), "data qubit"},
      {NetworkConfig().data_qubits(0).ancillas(2).features(3), "data qubit"},
      {NetworkConfig().features(-1), "features"},
      {NetworkConfig().blocks(-1), "blocks"},
      {NetworkConfig().branches(0), "branches"},
      {NetworkConfig().classes(1), "classes"},
      {NetworkConfig().readout_qubits(3), "readout_qubits"},
      {NetworkConfig().readout_qubits(-1), "readout_qubits"},
      {NetworkConfig().data_qubits(3).classes(5).readout(Readout::born).readout_qubits(2), "born"},
      {NetworkConfig().data_qubits(2).classes(5), "readout_qubits"},  // needs 3 readout qubits of 2
      {NetworkConfig().readout(Readout::mlp).hidden(0), "hidden"},
      {NetworkConfig().readout(Readout::mlp).hidden_layers(0), "hidden_layers"},
      {NetworkConfig().features(2).feature_scale(0), "feature_scale"},
      {NetworkConfig().features(2).feature_scale(std::nan("")), "feature_scale"},
      {NetworkConfig().init_std(-0.1), "init_std"},
      {NetworkConfig().init_std(INFINITY), "init_std"},
      // Sizes from a hostile file: refused before anything loops or allocates.
      {NetworkConfig().classes((int64_t{1} << 62) + 1), "classes"},
      {NetworkConfig().classes(kMaxClasses + 1), "classes"},
      {NetworkConfig().features(kMaxFeatures + 1), "features"},
      {NetworkConfig().blocks(kMaxBlocks + 1), "blocks"},
      {NetworkConfig().branches(kMaxBranches + 1), "branches"},
      {NetworkConfig().readout(Readout::mlp).hidden(kMaxHidden + 1), "hidden"},
      {NetworkConfig().readout(Readout::mlp).hidden_layers(kMaxHiddenLayers + 1), "hidden_layers"},
      {NetworkConfig().readout(Readout::mlp).hidden(1000000), "hidden"},
      {NetworkConfig().readout(Readout::mlp).hidden(kMaxHidden).hidden_layers(20), "parameters"},
      {NetworkConfig().data_qubits(14).blocks(kMaxBlocks).branches(kMaxBranches), "parameters"},
  };
  for (const auto& [config, part] : bad) {
    EXPECT_TRUE(throws_with<std::invalid_argument>([&] { config.validate(); }, {part})) << config.to_json();
    EXPECT_THROW(HQRN{config}, std::invalid_argument) << config.to_json();
    EXPECT_THROW(ClassicalResNet{config}, std::invalid_argument) << config.to_json();
  }
  // Boundaries that are fine.
  EXPECT_NO_THROW(NetworkConfig().data_qubits(1).classes(2).validate());
  EXPECT_NO_THROW(NetworkConfig().classes(kMaxClasses).readout_qubits(1).validate());
  EXPECT_EQ(NetworkConfig().parameter_count(), 2 * 2 * 2 + 2 * 2 + (2 + 1) * 2);  // W, V; b, a; head
  EXPECT_EQ(NetworkConfig().parameter_count(false), 2 * 2 + 2 + (2 + 1) * 2);     // the classical analog's
  for (const auto& config : {NetworkConfig(), NetworkConfig().features(5).readout(Readout::mlp).hidden_layers(2).ancillas(1)}) {
    int64_t hqrn_values = 0, classical_values = 0;
    for (const auto& p : HQRN(config)->parameters()) hqrn_values += p.numel();
    for (const auto& p : ClassicalResNet(config)->parameters()) classical_values += p.numel();
    EXPECT_EQ(config.parameter_count(), hqrn_values) << config.to_json();
    EXPECT_EQ(config.parameter_count(false), classical_values) << config.to_json();
  }
  EXPECT_NO_THROW(NetworkConfig().data_qubits(2).classes(4).readout(Readout::born).validate());
  EXPECT_NO_THROW(NetworkConfig().data_qubits(1).blocks(0).validate());
}

TEST(NetworkConfigValidation, JsonRoundTripAndParsing) {
  const auto config = NetworkConfig()
                          .data_qubits(3)
                          .ancillas(2)
                          .features(7)
                          .blocks(4)
                          .branches(3)
                          .classes(5)
                          .readout(Readout::mlp)
                          .readout_qubits(3)
                          .hidden(11)
                          .hidden_layers(2)
                          .feature_scale(0.0625)
                          .init_std(0.3)
                          .log_readout(true);
  const auto back = NetworkConfig::from_json(config.to_json());
  EXPECT_TRUE(back == config);
  EXPECT_EQ(back.hidden(), 11);
  EXPECT_EQ(back.hidden_layers(), 2);
  EXPECT_EQ(back.feature_scale(), 0.0625);
  EXPECT_EQ(back.init_std(), 0.3);
  EXPECT_TRUE(back.log_readout());
  EXPECT_EQ(back.readout(), Readout::mlp);
  EXPECT_FALSE(NetworkConfig() == config);
  EXPECT_EQ(NetworkConfig().classes(5).readout_width(), 3);
  EXPECT_EQ(NetworkConfig().classes(2).readout_width(), 1);

  EXPECT_THROW(NetworkConfig::from_json("{"), std::invalid_argument);
  EXPECT_THROW(NetworkConfig::from_json(R"({"data_qubits": 2})"), std::invalid_argument);
  auto wrong = nlohmann::json::parse(config.to_json());
  wrong["readout"] = "softmax";
  EXPECT_THROW(NetworkConfig::from_json(wrong.dump()), std::invalid_argument);
  wrong = nlohmann::json::parse(config.to_json());
  wrong["branches"] = 0;  // well-formed but invalid
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { NetworkConfig::from_json(wrong.dump()); }, {"branches"}));

  for (const auto r : {Readout::born, Readout::linear, Readout::mlp}) EXPECT_EQ(parse_readout(to_string(r)), r);
  EXPECT_THROW(parse_readout("Born"), std::invalid_argument);
  for (const auto m : {Mode::quantum, Mode::classical}) EXPECT_EQ(parse_mode(to_string(m)), m);
  EXPECT_THROW(parse_mode("dense"), std::invalid_argument);
}

// Equality, JSON and summary come from the one field list: every field, set
// to another valid value, must make the configs unequal and survive the
// JSON round trip. A field without an entry here fails the test.
TEST(NetworkConfigTest, EveryFieldTakesPartInEqualityJsonAndSummary) {
  const auto base = NetworkConfig()
                        .data_qubits(3).ancillas(1).features(4).feature_scale(0.5).blocks(2).branches(2).classes(3)
                        .readout(Readout::mlp).readout_qubits(2).hidden(8).hidden_layers(2).init_std(0.2);
  const std::map<std::string, std::string> other = {
      {"data_qubits", "4"}, {"ancillas", "2"},      {"features", "5"},     {"feature_scale", "0.25"},
      {"blocks", "3"},      {"branches", "3"},      {"classes", "4"},      {"readout", "linear"},
      {"readout_qubits", "1"}, {"hidden", "9"},     {"hidden_layers", "3"}, {"init_std", "0.3"},
      {"log_readout", "true"}, {"noise", "depolarizing=0.01,readout=0.02"}};
  EXPECT_EQ(NetworkConfig::fields().size(), other.size());
  for (const auto& field : NetworkConfig::fields()) {
    SCOPED_TRACE(field.name);
    ASSERT_EQ(other.count(field.name), 1u) << "no alternative value for field " << field.name;
    auto changed = base;
    changed.set(field.name, other.at(field.name));
    changed.validate();
    EXPECT_FALSE(changed == base);
    EXPECT_TRUE(NetworkConfig::from_json(changed.to_json()) == changed);
    EXPECT_NE(changed.summary(), base.summary());
    EXPECT_NE(changed.summary().find(field.name + "=" + other.at(field.name)), std::string::npos)
        << changed.summary();
    // The JSON holds exactly the listed fields.
    EXPECT_EQ(nlohmann::json::parse(changed.to_json()).size(), NetworkConfig::fields().size());
  }
  EXPECT_TRUE(throws_with<InvalidInput>([&] { NetworkConfig(base).set("blocks", "3x"); }, {"blocks", "3x"}));
  EXPECT_TRUE(throws_with<InvalidInput>([&] { NetworkConfig(base).set("blocks", ""); }, {"blocks"}));
  EXPECT_TRUE(throws_with<InvalidInput>([&] { NetworkConfig(base).set("log_readout", "yes"); }, {"log_readout"}));
  EXPECT_TRUE(throws_with<InvalidInput>([&] { NetworkConfig(base).set("depth", "3"); }, {"depth"}));
}

TEST(NetworkInit, InitStdSetsTheBlockWeightsAndZeroIsTheSkipConnection) {
  torch::manual_seed(115);
  HQRN identity(NetworkConfig().data_qubits(3).ancillas(1).blocks(2).branches(2).init_std(0.0));
  for (auto& branch : identity->branches) {
    for (auto& block : branch->blocks) {
      for (const auto& w : block->parameters()) EXPECT_TRUE(torch::equal(w, torch::zeros_like(w)));
    }
  }
  // Every block is the identity on classical inputs: the readout is the
  // input's marginal.
  const auto p = dense::random_probabilities(3, 3, kR);
  const auto readout = identity->readout_distributions(p, Mode::quantum);
  const auto marginal = test::reference_marginal_last(test::reference_initial_distribution(*identity, p), 1);
  EXPECT_TRUE(all_close(readout.select(1, 0), marginal, 1e-15));
  EXPECT_TRUE(all_close(readout.select(1, 1), marginal, 1e-15));

  // init_std is the spread of the initial block weights.
  const double std_wide = 0.7;
  HQRN wide(NetworkConfig().data_qubits(6).blocks(4).branches(2).init_std(std_wide));
  std::vector<torch::Tensor> weights;
  for (auto& branch : wide->branches) {
    for (auto& block : branch->blocks) weights.push_back(block->W.flatten());
  }
  const double measured = torch::cat(weights).std().item<double>();
  EXPECT_NEAR(measured, std_wide, 0.15 * std_wide);
}

TEST(ProductDistribution, MatchesDirectProducts) {
  torch::manual_seed(114);
  for (int64_t k = 1; k <= 5; ++k) {
    const auto q = torch::rand({3, k}, kR);
    EXPECT_TRUE(all_close(product_distribution(q), test::reference_product_distribution(q), 1e-15)) << "k " << k;
  }
}

}  // namespace
}  // namespace hqrn
