// Noise models and finite shots (docs/model.md, "Noise"): every channel
// against its Kraus operators written out here; noisy networks against a
// dense reference that applies the channels literally where they act
// (Delta_j(N(U rho U^dagger))); the coherence-aware execution equal to the
// dense one under noise; the noisy exactness theorem against an independent
// noisy Markov chain; zero noise equal to no noise bit for bit; gradients
// against finite differences; the readout error against its formula; shots
// converging to the exact distributions; parsing and configuration.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <complex>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "models/errors.h"
#include "models/network.h"
#include "models/noise.h"
#include "models/pauli_measurements.h"
#include "src/circuit_export.h"
#include "src/data/entanglement.h"
#include "tests/dense_reference.h"
#include "tests/gradcheck.h"
#include "tests/model_test_util.h"
#include "tests/op_test_util.h"

namespace hqrn {
namespace {

using test::all_close;
using test::throws_with;
using cd = std::complex<double>;

constexpr auto kC = torch::kComplexDouble;
constexpr auto kR = torch::kDouble;

// ---------------------------------------------------------------- references written from the definitions

torch::Tensor matrix_list(const std::vector<std::vector<cd>>& ms) {
  auto out = torch::empty({static_cast<int64_t>(ms.size()), 2, 2}, kC);
  for (size_t m = 0; m < ms.size(); ++m) {
    for (int64_t e = 0; e < 4; ++e) {
      out.index_put_({static_cast<int64_t>(m), e / 2, e % 2}, c10::complex<double>(ms[m][e].real(), ms[m][e].imag()));
    }
  }
  return out;
}

// Kraus operators of each channel as the definitions state them (PennyLane).
torch::Tensor reference_kraus(const NoiseChannel& c) {
  const double p = c.strength;
  const cd i(0, 1);
  switch (c.kind) {
    case ChannelKind::depolarizing: {
      const double s = std::sqrt(1 - p), t = std::sqrt(p / 3);
      return matrix_list({{s, 0, 0, s}, {0, t, t, 0}, {0, -i * t, i * t, 0}, {t, 0, 0, -t}});
    }
    case ChannelKind::amplitude_damping:
      return matrix_list({{1, 0, 0, std::sqrt(1 - p)}, {0, std::sqrt(p), 0, 0}});
    case ChannelKind::phase_damping:
      return matrix_list({{1, 0, 0, std::sqrt(1 - p)}, {0, 0, 0, std::sqrt(p)}});
    case ChannelKind::bit_flip:
      return matrix_list({{std::sqrt(1 - p), 0, 0, std::sqrt(1 - p)}, {0, std::sqrt(p), std::sqrt(p), 0}});
  }
  return {};
}

// Bit transition matrix T[x', x] of each channel on a measured qubit, as
// stated in the definitions: depolarizing flips with 2p/3, bit_flip with p,
// amplitude damping moves 1 to 0 with g, phase damping does nothing.
torch::Tensor reference_bit_channel(const NoiseChannel& c) {
  const double p = c.strength;
  switch (c.kind) {
    case ChannelKind::depolarizing: return torch::tensor({1 - 2 * p / 3, 2 * p / 3, 2 * p / 3, 1 - 2 * p / 3}, kR).reshape({2, 2});
    case ChannelKind::bit_flip: return torch::tensor({1 - p, p, p, 1 - p}, kR).reshape({2, 2});
    case ChannelKind::amplitude_damping: return torch::tensor({1.0, p, 0.0, 1 - p}, kR).reshape({2, 2});
    case ChannelKind::phase_damping: return torch::eye(2, kR);
  }
  return {};
}

// p'(x) = sum_y T[x_q, y_q] p(y with bit q = y_q) for the bit of qubit q.
torch::Tensor apply_bit_channel(const torch::Tensor& p, const torch::Tensor& T, int64_t n, int64_t q) {
  auto out = torch::zeros_like(p);
  const auto t = T.accessor<double, 2>();
  for (int64_t x = 0; x < (int64_t{1} << n); ++x) {
    const int64_t bit = dense::qubit_bit(x, n, q);
    const int64_t mask = int64_t{1} << (n - 1 - q);
    for (int64_t b = 0; b < 2; ++b) {
      const int64_t y = b ? (x | mask) : (x & ~mask);
      out.select(1, x).add_(p.select(1, y) * t[bit][b]);
    }
  }
  return out;
}

// p'(x) = sum_y prod_k r^[x_k != y_k] (1-r)^[x_k == y_k] p(y), over the last axis.
torch::Tensor reference_readout_error(const torch::Tensor& p, double r) {
  const int64_t outcomes = p.size(-1);
  auto M = torch::zeros({outcomes, outcomes}, kR);
  for (int64_t x = 0; x < outcomes; ++x) {
    for (int64_t y = 0; y < outcomes; ++y) {
      double w = 1;
      for (int64_t k = 0; (int64_t{1} << k) < outcomes; ++k) w *= (((x ^ y) >> k) & 1) ? r : 1 - r;
      M.index_put_({x, y}, w);
    }
  }
  return torch::matmul(p.to(kR), M.t());
}

// One branch on dense states with the channels where the definitions put
// them: rotation, then every channel on every qubit (qubit 0 first), then
// the measurement of the target.
torch::Tensor reference_noisy_branch(ResidualStackImpl& branch, torch::Tensor rho, const NoiseModel& noise) {
  rho = rho.to(kC);
  const int64_t n = dense::qubits_of_dim(rho.size(1));
  for (auto& block : branch.blocks) {
    for (const auto j : block->targets()) {
      const auto phi = block->has_quantum_weights() ? dense::angle_table(block->V, block->a, j)
                                                    : torch::zeros({int64_t{1} << (n - 1)}, kR);
      rho = dense::qrb_step(rho, dense::angle_table(block->W, block->b, j), phi, j, /*dephase=*/false);
      for (int64_t q = 0; q < n; ++q) {
        for (const auto& c : noise.channels) rho = dense::apply_kraus(rho, reference_kraus(c), {q});
      }
      rho = dense::dephase(rho, j);
    }
  }
  return rho;
}

torch::Tensor reference_noisy_quantum_readout(ResidualNetworkImpl& model, const torch::Tensor& input) {
  const auto& config = model.config();
  const auto start = model.initial_state(input, Representation::dense).values();
  std::vector<torch::Tensor> outs;
  for (auto& branch : model.branches) {
    const auto rho = reference_noisy_branch(*branch, start, config.noise());
    outs.push_back(test::reference_marginal_last(dense::probs(rho), config.readout_width()));
  }
  return reference_readout_error(torch::stack(outs, 1), config.noise().readout);
}

// The noisy classical analog from dense Markov matrices and the bit channels.
torch::Tensor reference_noisy_classical_readout(ResidualNetworkImpl& model, const torch::Tensor& input) {
  const auto& config = model.config();
  const int64_t n = config.qubits();
  const auto start = test::reference_initial_distribution(model, input);
  std::vector<torch::Tensor> outs;
  for (auto& branch : model.branches) {
    auto p = start;
    for (auto& block : branch->blocks) {
      for (const auto j : block->targets()) {
        p = dense::markov_step(p, dense::angle_table(block->W, block->b, j), j);
        for (int64_t q = 0; q < n; ++q) {
          for (const auto& c : config.noise().channels) p = apply_bit_channel(p, reference_bit_channel(c), n, q);
        }
      }
    }
    outs.push_back(test::reference_marginal_last(p, config.readout_width()));
  }
  return reference_readout_error(torch::stack(outs, 1), config.noise().readout);
}

NoiseModel random_noise(std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0.0, 0.4);
  NoiseModel noise;
  const ChannelKind kinds[] = {ChannelKind::depolarizing, ChannelKind::amplitude_damping, ChannelKind::phase_damping,
                               ChannelKind::bit_flip};
  const int64_t count = test::pick(rng, 1, 3);
  for (int64_t k = 0; k < count; ++k) noise.channels.push_back({kinds[test::pick(rng, 0, 3)], u(rng)});
  noise.readout = test::pick(rng, 0, 1) ? u(rng) / 2 : 0.0;
  return noise;
}

// Random noisy HQRNs with random weights: `rounds` of each readout, on at
// most `max_qubits` qubits, seeded from `seed`.
void for_each_random_noisy_network(uint64_t seed, int rounds, int64_t max_qubits, bool allow_features,
                                   const std::function<void(HQRN&, const NetworkConfig&)>& check) {
  torch::manual_seed(seed);
  std::mt19937_64 rng(seed);
  for (int round = 0; round < rounds; ++round) {
    for (const auto readout : {Readout::born, Readout::linear, Readout::mlp}) {
      auto config = test::random_config(rng, readout, max_qubits, allow_features);
      config.noise(random_noise(rng));
      HQRN model(config);
      test::randomize_weights(*model);
      check(model, config);
    }
  }
}

// ---------------------------------------------------------------- channels

TEST(NoiseChannels, KrausOperatorsAreTheDefinitionsAndComplete) {
  for (const auto kind : {ChannelKind::depolarizing, ChannelKind::amplitude_damping, ChannelKind::phase_damping,
                          ChannelKind::bit_flip}) {
    for (const double p : {0.0, 0.013, 0.37, 1.0}) {
      const NoiseChannel c{kind, p};
      SCOPED_TRACE(to_string(kind) + " " + std::to_string(p));
      const auto k = kraus_operators(c, kC);
      EXPECT_TRUE(all_close(k, reference_kraus(c), 1e-15));
      // sum_m K^dagger K = I (trace preserving)
      EXPECT_TRUE(all_close(torch::matmul(k.conj().transpose(1, 2), k).sum(0), torch::eye(2, kC), 1e-15));
      EXPECT_EQ(kraus_operators(c, torch::kComplexFloat).scalar_type(), torch::kComplexFloat);
    }
  }
}

TEST(NoiseChannels, StepChannelIsTheChannelsInOrder) {
  torch::manual_seed(301);
  const NoiseModel noise{{{ChannelKind::amplitude_damping, 0.3}, {ChannelKind::depolarizing, 0.2},
                          {ChannelKind::phase_damping, 0.1}},
                         0.0};
  const auto rho = dense::random_density(2, 2, kC);
  auto expected = rho;
  for (const auto& c : noise.channels) expected = dense::apply_kraus(expected, reference_kraus(c), {1});
  EXPECT_TRUE(all_close(dense::apply_kraus(rho, step_kraus(noise, kC), {1}), expected, 1e-14));
  EXPECT_FALSE(step_kraus(NoiseModel{}, kC).defined());
}

// Each channel through every representation of the register against the
// dense reference, including its classical image on probability vectors.
TEST(NoiseChannels, EveryRepresentationAppliesEachChannel) {
  torch::manual_seed(302);
  const int64_t n = 3;
  for (const auto kind : {ChannelKind::depolarizing, ChannelKind::amplitude_damping, ChannelKind::phase_damping,
                          ChannelKind::bit_flip}) {
    const NoiseChannel c{kind, 0.29};
    SCOPED_TRACE(to_string(kind));
    const auto k = kraus_operators(c, kC);
    const auto rho = dense::random_density(2, n, kC);
    for (int64_t q = 0; q < n; ++q) {
      const auto expected = dense::apply_kraus(rho, reference_kraus(c), {q});
      const auto dense_state = RegisterState::from_data_state(rho, 0, Representation::dense);
      EXPECT_TRUE(all_close(dense_state.apply_channel(k, {q}).values(), expected, 1e-14));
      // Aware: q diagonal or coherent.
      for (const std::vector<int64_t>& diagonal : {std::vector<int64_t>{q}, std::vector<int64_t>{(q + 1) % n}}) {
        const auto aware = RegisterState::aware_from_dense(dense::dephase(rho, diagonal[0]), diagonal);
        EXPECT_TRUE(all_close(aware.apply_channel(k, {q}).to_dense(),
                              dense::apply_kraus(dense::dephase(rho, diagonal[0]), reference_kraus(c), {q}), 1e-14));
      }
      const auto p = dense::random_probabilities(2, n, kR);
      const auto classical = RegisterState::from_distribution(p, 0, Representation::probabilities);
      EXPECT_TRUE(all_close(classical.apply_channel(k, {q}).values(),
                            apply_bit_channel(p, reference_bit_channel(c), n, q), 1e-14));
    }
  }
}

TEST(ReadoutError, MatchesItsFormulaAndKeepsGradients) {
  torch::manual_seed(303);
  for (const int64_t bits : {1, 2, 3}) {
    const auto p = torch::softmax(torch::randn({4, 3, int64_t{1} << bits}, kR), -1);
    for (const double r : {0.0, 0.05, 0.5, 1.0}) {
      EXPECT_TRUE(all_close(apply_readout_error(p, r), reference_readout_error(p, r), 1e-15)) << bits << " " << r;
    }
  }
  const auto x = torch::softmax(torch::randn({2, 4}, kR), -1).requires_grad_(true);
  const auto w = torch::randn({2, 4}, kR);
  (apply_readout_error(x, 0.1) * w).sum().backward();
  // d/dp of sum_x w(x) p'(x) = M^T w
  EXPECT_TRUE(all_close(x.grad(), reference_readout_error(w, 0.1), 1e-15));
  EXPECT_TRUE(throws_with<InvalidInput>([&] { apply_readout_error(x.detach(), 1.5); }, {"readout", "1.5", "[0, 1]"}));
  EXPECT_TRUE(throws_with<InvalidInput>([&] { apply_readout_error(torch::ones({2, 3}, kR), 0.1); },
                                        {"3 outcomes", "power of two"}));
}

// ---------------------------------------------------------------- noisy networks

TEST(NoisyNetwork, QuantumModeMatchesDenseReferenceWithChannelsWhereTheyAct) {
  for_each_random_noisy_network(304, 3, 4, /*allow_features=*/false, [](HQRN& model, const NetworkConfig& config) {
    const auto rho = dense::random_density(3, config.data_qubits(), kC);
    const auto expected = reference_noisy_quantum_readout(*model, rho);
    test::for_each_execution([&](Execution execution, const std::string& how) {
      EXPECT_TRUE(all_close(model->readout_distributions(rho, Mode::quantum, execution), expected, 1e-12))
          << test::describe(config) << how;
    });
    EXPECT_TRUE(all_close(model->forward(rho, Mode::quantum), test::reference_head(*model, expected), 1e-10, 1e-10))
        << test::describe(config);
  });
}

TEST(NoisyNetwork, AwareEqualsDenseInOutputsAndGradients) {
  for_each_random_noisy_network(305, 3, 5, /*allow_features=*/false, [](HQRN& model, const NetworkConfig& config) {
    const auto rho = dense::random_density(3, config.data_qubits(), kC);
    const auto labels = torch::randint(0, config.classes(), {3}, torch::kLong);
    const auto dense_run = test::logits_and_gradients(*model, rho, labels, Execution::dense);
    const auto aware_run = test::logits_and_gradients(*model, rho, labels, Execution::aware);
    EXPECT_TRUE(all_close(aware_run[0], dense_run[0], 1e-12, 1e-12)) << test::describe(config);
    for (size_t i = 1; i < dense_run.size(); ++i) {
      EXPECT_TRUE(all_close(aware_run[i], dense_run[i], 1e-12, 1e-12)) << test::describe(config) << " gradient " << i;
    }
  });
}

// The noisy exactness theorem: on diagonal inputs a noisy HQRN is its noisy
// classical analog (Markov steps followed by the channels' bit images), for
// every parameter value, in both executions.
TEST(NoisyNetwork, ExactnessTheoremOnDiagonalInputs) {
  for_each_random_noisy_network(306, 4, 5, /*allow_features=*/true, [](HQRN& model, const NetworkConfig& config) {
    for (const auto& input : test::classical_inputs(config, 3, kR)) {
      const auto expected = reference_noisy_classical_readout(*model, input);
      const auto classical = model->readout_distributions(input, Mode::classical);
      EXPECT_TRUE(all_close(classical, expected, 1e-12)) << test::describe(config);
      test::for_each_execution([&](Execution execution, const std::string& how) {
        EXPECT_TRUE(all_close(model->readout_distributions(input, Mode::quantum, execution), expected, 1e-12))
            << test::describe(config) << how;
        EXPECT_TRUE(all_close(model->forward(input, Mode::quantum, execution), model->forward(input, Mode::classical),
                              1e-12, 1e-12))
            << test::describe(config) << how;
      });
    }
  });
}

TEST(NoisyNetwork, ZeroNoiseIsTheNoiselessNetworkBitForBit) {
  torch::manual_seed(307);
  std::mt19937_64 rng(307);
  for (int round = 0; round < 3; ++round) {
    for (const auto readout : {Readout::born, Readout::linear, Readout::mlp}) {
      const auto config = test::random_config(rng, readout, 4);
      HQRN model(config);
      test::randomize_weights(*model);
      auto zero_noise = NoiseModel::parse("depolarizing=0,amplitude_damping=0,phase_damping=0,bit_flip=0,readout=0");
      std::vector<torch::Tensor> inputs = test::classical_inputs(config, 3, kR);
      if (config.features() == 0) inputs.push_back(dense::random_density(3, config.data_qubits(), kC));
      for (const auto& input : inputs) {
        for (const auto mode : {Mode::quantum, Mode::classical}) {
          for (const auto execution : {Execution::dense, Execution::aware}) {
            model->set_noise(NoiseModel{});
            const auto clean = model->forward(input, mode, execution);
            model->set_noise(zero_noise);
            EXPECT_TRUE(torch::equal(model->forward(input, mode, execution), clean))
                << test::describe(config) << " " << to_string(mode) << " " << to_string(execution);
          }
        }
      }
    }
  }
}

// Noise-aware training differentiates through the channels: every parameter's
// gradient against central finite differences, and against autograd through
// the dense reference, in both executions.
TEST(NoisyNetwork, GradientsMatchFiniteDifferencesAndTheDenseReference) {
  torch::manual_seed(308);
  auto config = NetworkConfig().data_qubits(2).ancillas(1).blocks(2).branches(2).classes(2).readout(Readout::linear);
  config.noise(NoiseModel::parse("amplitude_damping=0.2,depolarizing=0.1,readout=0.05"));
  HQRN model(config);
  test::randomize_weights(*model);
  const auto rho = dense::random_density(2, 2, kC);
  const auto named = model->named_parameters();
  std::vector<std::string> names;
  std::vector<torch::Tensor> params;
  for (const auto& item : named) {
    names.push_back(item.key());
    params.push_back(item.value().detach().clone());
  }
  // The readout distributions as a function of all the parameters.
  const auto readout_with = [&](const std::vector<torch::Tensor>& values, Execution execution) {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < values.size(); ++i) named[names[i]].copy_(values[i]);
    return model->readout_distributions(rho, Mode::quantum, execution);
  };
  std::vector<size_t> wrt;
  for (size_t i = 0; i < params.size(); ++i) {
    if (names[i].rfind("head.", 0) != 0) wrt.push_back(i);  // the head is ordinary LibTorch
  }
  const auto weight = torch::randn({2, 2, 2}, kR);
  // A parameter the execution never reads has no gradient: LibTorch 2's
  // zero_grad frees gradients (1.13's zeroes them), and the aware execution
  // never reads the last block's V once every qubit is diagonal.
  const auto grad_of = [](const torch::Tensor& p) { return p.grad().defined() ? p.grad() : torch::zeros_like(p); };
  for (const auto execution : {Execution::dense, Execution::aware}) {
    SCOPED_TRACE(to_string(execution));
    const auto fd = test::finite_difference_gradients(
        [&](const std::vector<torch::Tensor>& v) { return readout_with(v, execution); }, params, wrt, weight);
    readout_with(params, execution);
    model->zero_grad();
    test::real_loss(model->readout_distributions(rho, Mode::quantum, execution), weight).backward();
    for (size_t k = 0; k < wrt.size(); ++k) {
      EXPECT_TRUE(all_close(grad_of(named[names[wrt[k]]]), fd[k], 1e-6, 1e-6)) << names[wrt[k]];
    }
  }
  // Autograd through the dense reference (plain LibTorch algebra) gives the
  // same gradient for the block weights.
  model->zero_grad();
  test::real_loss(model->readout_distributions(rho, Mode::quantum, Execution::aware), weight).backward();
  auto& block = model->branches[0]->blocks[1];
  const auto W = block->W.detach().clone().requires_grad_(true);
  const auto V = block->V.detach().clone().requires_grad_(true);
  // Branch 0's readout from the reference with differentiable tables.
  auto state = dense::embed_ancillas(rho, 1);
  for (size_t l = 0; l < 2; ++l) {
    auto& blk = model->branches[0]->blocks[l];
    for (const auto j : blk->targets()) {
      const auto Wl = l == 1 ? W : blk->W.detach();
      const auto Vl = l == 1 ? V : blk->V.detach();
      // theta_j(c) = b_j + sum_i W_ji c_i through autograd.
      const auto bits = [&](int64_t n) {
        auto controls = torch::zeros({int64_t{1} << (n - 1), n}, kR);
        for (int64_t x = 0; x < (int64_t{1} << n); ++x) {
          if (dense::qubit_bit(x, n, j)) continue;
          for (int64_t i = 0; i < n; ++i) {
            if (i != j) controls.index_put_({dense::other_qubits_index(x, n, j), i}, double(dense::qubit_bit(x, n, i)));
          }
        }
        return controls;
      }(3);
      const auto theta = torch::matmul(bits, Wl[j]) + blk->b.detach()[j];
      const auto phi = torch::matmul(bits, Vl[j]) + blk->a.detach()[j];
      state = dense::qrb_step(state, theta, phi, j, false);
      for (int64_t q = 0; q < 3; ++q) {
        for (const auto& c : config.noise().channels) state = dense::apply_kraus(state, reference_kraus(c), {q});
      }
      state = dense::dephase(state, j);
    }
  }
  const auto readout0 = reference_readout_error(test::reference_marginal_last(dense::probs(state), 1), 0.05);
  (readout0 * weight.select(1, 0)).sum().backward();
  EXPECT_TRUE(all_close(grad_of(block->W), grad_of(W), 1e-10, 1e-10));
  EXPECT_TRUE(all_close(grad_of(block->V), grad_of(V), 1e-10, 1e-10));
}

TEST(NoisyNetwork, NoiseBreaksTheBellMeasurementGradually) {
  // The Bell measurement of docs/model.md reads |Phi+> with certainty; under
  // depolarizing noise of strength p after each of its two steps the certain
  // outcome's probability falls continuously from 1 towards 1/2.
  auto config = NetworkConfig().data_qubits(2).blocks(1).classes(2).readout(Readout::born).readout_qubits(1);
  double last = 1.0 + 1e-12;
  for (const double p : {0.0, 0.01, 0.1, 0.3}) {
    config.noise(NoiseModel{{{ChannelKind::depolarizing, p}}, 0.0});
    HQRN model(config);
    {
      torch::NoGradGuard no_grad;
      auto& block = model->branches[0]->blocks[0];
      block->W.zero_();
      block->b.zero_();
      block->V.zero_();
      block->a.zero_();
      block->W.index_put_({0, 1}, M_PI);
      block->b.index_put_({1}, M_PI / 2);
    }
    const auto p1 = model->readout_distributions(test::phi_plus_state(), Mode::quantum);
    const double certain = p1.max().item<double>();
    EXPECT_LT(certain, last) << p;
    EXPECT_GT(certain, 0.5) << p;
    last = certain;
  }
}

// ---------------------------------------------------------------- export

TEST(NoisyNetwork, ExportedCircuitWithChannelsBeforeMeasurementsReproducesTheReadout) {
  torch::manual_seed(309);
  auto config = NetworkConfig().data_qubits(2).ancillas(1).blocks(2).branches(2).classes(2);
  config.noise(NoiseModel::parse("bit_flip=0.05,phase_damping=0.2,readout=0.03"));
  HQRN model(config);
  test::randomize_weights(*model);
  test::TempDir dir;
  export_openqasm(*model, dir.file("net"));
  const auto data_state = dense::random_density(2, 2, kC);
  const auto rho = dense::embed_ancillas(data_state, 1);
  const auto side = nlohmann::json::parse(test::read_bytes(dir.file("net_classical.json")));
  const auto noise = NetworkConfig::from_json(side["config"].dump()).noise();
  EXPECT_EQ(noise, config.noise());
  std::vector<torch::Tensor> outs;
  for (int k = 0; k < 2; ++k) {
    const auto text = test::read_bytes(dir.file("net_branch" + std::to_string(k) + ".qasm"));
    EXPECT_NE(text.find("// noise: bit_flip=0.05,phase_damping=0.2 on every qubit"), std::string::npos) << text;
    const auto out = simulate_circuit(rho, parse_openqasm3(text), step_kraus(noise, kC));
    outs.push_back(test::reference_marginal_last(dense::probs(out), 1));
  }
  const auto expected = reference_readout_error(torch::stack(outs, 1), noise.readout);
  EXPECT_TRUE(all_close(model->readout_distributions(data_state, Mode::quantum), expected, 1e-12));
}

// ---------------------------------------------------------------- shots

// With a fixed seed, the standardised errors z = (p_hat - p) / sqrt(p (1 - p) / N)
// of a multinomial estimate have mean square 1 (up to 1 - 1/K correlations
// handled by testing each outcome's marginal, a binomial) and shrink as N grows.
TEST(Shots, EstimatesConvergeToTheExactDistributionAtTheMultinomialRate) {
  torch::manual_seed(310);
  const int64_t rows = 4000;
  const auto p = torch::softmax(torch::randn({rows, 4}, kR) * 0.7, -1);
  auto generator = at::detail::createCPUGenerator(1234);
  double last_rms = 1.0;
  for (const int64_t shots : {16, 256, 4096, 65536}) {
    const auto estimate = sample_shots(p, shots, generator);
    EXPECT_TRUE(all_close(estimate.sum(-1), torch::ones({rows}, kR), 1e-12)) << shots;
    EXPECT_TRUE(torch::equal(estimate * shots, torch::round(estimate * shots))) << "counts / shots";
    const auto z = (estimate - p) / torch::sqrt(p * (1 - p) / static_cast<double>(shots));
    // Mean of z^2 over 16000 entries: 1 within 6 standard errors (each z^2 has
    // variance about 2, plus the binomial's excess kurtosis at small N).
    const double mean_square = z.square().mean().item<double>();
    EXPECT_NEAR(mean_square, 1.0, 6 * std::sqrt(3.0 / (rows * 4.0))) << shots;
    const double rms = (estimate - p).square().mean().sqrt().item<double>();
    EXPECT_LT(rms, last_rms) << shots;
    // RMS error falls as 1/sqrt(N): within 5% of the exact multinomial value.
    const double expected_rms = (p * (1 - p)).mean().sqrt().item<double>() / std::sqrt(static_cast<double>(shots));
    EXPECT_NEAR(rms / expected_rms, 1.0, 0.05) << shots;
    last_rms = rms;
  }
}

TEST(Shots, SeededAndShapedAndValidated) {
  const auto p = torch::softmax(torch::randn({3, 2, 4}, kR), -1);
  auto g1 = at::detail::createCPUGenerator(7);
  auto g2 = at::detail::createCPUGenerator(7);
  const auto a = sample_shots(p, 100, g1);
  EXPECT_TRUE(torch::equal(a, sample_shots(p, 100, g2)));
  EXPECT_EQ(a.sizes(), p.sizes());
  EXPECT_FALSE(torch::equal(a, sample_shots(p, 100, g1)));
  // A certain outcome stays certain.
  const auto certain = torch::tensor({0.0, 1.0, 0.0, 0.0}, kR).reshape({1, 4});
  EXPECT_TRUE(torch::equal(sample_shots(certain, 16, g1), certain));
  EXPECT_TRUE(throws_with<InvalidInput>([&] { sample_shots(p, 0, g1); }, {"shots", "0"}));
  // Through the network: one shot per branch is a one-hot estimate.
  HQRN model(NetworkConfig().data_qubits(2).branches(3).classes(2));
  const auto rho = dense::random_density(5, 2, kC);
  const auto one = sample_shots(model->readout_distributions(rho, Mode::quantum), 1, g1);
  EXPECT_TRUE(torch::equal(std::get<0>(one.max(-1)), torch::ones({5, 3}, kR)));
  EXPECT_EQ(model->forward_sampled(rho, 64, g1, Mode::quantum).sizes(), (std::vector<int64_t>{5, 2}));
}

// ---------------------------------------------------------------- the tomography reference's noisy measurements

// Number of non-identity factors of pauli_expectations' column 4a + b - 1.
torch::Tensor pauli_weights() {
  std::vector<double> w;
  for (int a = 0; a < 4; ++a) {
    for (int b = 0; b < 4; ++b) {
      if (a != 0 || b != 0) w.push_back((a != 0) + (b != 0));
    }
  }
  return torch::tensor(w, kR);
}

TEST(PauliMeasurements, NoiselessSettingsGiveTheExactExpectations) {
  const auto states = data::generate_states(data::Family::random, 12, 5).states;
  const auto settings = measured_pauli_settings(states, NoiseModel{});
  EXPECT_EQ(settings.sizes(), (std::vector<int64_t>{12, 9, 4}));
  EXPECT_TRUE(all_close(settings.sum(-1), torch::ones({12, 9}, kR), 1e-12));
  EXPECT_TRUE(all_close(pauli_features_from_settings(settings), data::pauli_expectations(states), 1e-12));
}

// Depolarizing shrinks every Pauli on its qubit by 1 - 4p/3 and the readout
// error every Z outcome sign by 1 - 2r, so a weight-w expectation shrinks by
// ((1 - 4p/3)(1 - 2r))^w; the other channels are checked against the dense
// Kraus sum on the rotated states.
TEST(PauliMeasurements, ChannelsShrinkTheExpectationsAsTheyShould) {
  const auto states = data::generate_states(data::Family::adversarial_marginal, 10, 6).states;
  const auto exact = data::pauli_expectations(states);
  const double p = 0.07, r = 0.03;
  const auto noise = NoiseModel::parse(fmt::format("depolarizing={},readout={}", p, r));
  const auto shrink = torch::pow(torch::tensor((1 - 4 * p / 3) * (1 - 2 * r), kR), pauli_weights());
  EXPECT_TRUE(all_close(pauli_features_from_settings(measured_pauli_settings(states, noise)), exact * shrink, 1e-12));
  // Amplitude damping on the ZZ setting (index 8, no basis change), by hand.
  const double g = 0.2;
  const auto k = reference_kraus({ChannelKind::amplitude_damping, g});
  auto rho = states.clone();
  for (int64_t q = 0; q < 2; ++q) {
    const auto eye = torch::eye(2, kC);
    torch::Tensor sum = torch::zeros_like(rho);
    for (int64_t m = 0; m < k.size(0); ++m) {
      const auto km = q == 0 ? torch::kron(k[m], eye) : torch::kron(eye, k[m]);
      sum = sum + torch::matmul(torch::matmul(km, rho), km.conj().transpose(0, 1));
    }
    rho = sum;
  }
  const auto zz = measured_pauli_settings(states, NoiseModel{{{ChannelKind::amplitude_damping, g}}, 0}).select(1, 8);
  EXPECT_TRUE(all_close(zz, torch::real(torch::diagonal(rho, 0, 1, 2)), 1e-12));
}

TEST(PauliMeasurements, BadInputNamesTheProblem) {
  EXPECT_TRUE(throws_with<InvalidInput>([] { measured_pauli_settings(torch::zeros({2, 8, 8}, kC), NoiseModel{}); },
                                        {"measured_pauli_settings", "[B, 4, 4]"}));
  EXPECT_TRUE(throws_with<InvalidInput>([] { measured_pauli_settings(torch::zeros({2, 4, 4}, kR), NoiseModel{}); },
                                        {"complex"}));
  EXPECT_TRUE(throws_with<InvalidInput>(
      [] { measured_pauli_settings(torch::zeros({2, 4, 4}, kC), NoiseModel{{{ChannelKind::bit_flip, 1.5}}, 0}); },
      {"bit_flip"}));
  EXPECT_TRUE(throws_with<InvalidInput>([] { pauli_features_from_settings(torch::zeros({2, 3, 4}, kR)); },
                                        {"pauli_features_from_settings", "[B, 9, 4]"}));
}

// ---------------------------------------------------------------- the noise model as text and configuration

TEST(NoiseModelText, ParsesPrintsAndRoundTrips) {
  const auto noise = NoiseModel::parse(" depolarizing=0.01, amplitude_damping = 0.2,readout=0.02 ");
  ASSERT_EQ(noise.channels.size(), 2u);
  EXPECT_EQ(noise.channels[0], (NoiseChannel{ChannelKind::depolarizing, 0.01}));
  EXPECT_EQ(noise.channels[1], (NoiseChannel{ChannelKind::amplitude_damping, 0.2}));
  EXPECT_EQ(noise.readout, 0.02);
  EXPECT_EQ(noise.to_string(), "depolarizing=0.01,amplitude_damping=0.2,readout=0.02");
  EXPECT_EQ(NoiseModel::parse(noise.to_string()), noise);
  EXPECT_TRUE(NoiseModel::parse("none").is_noiseless());
  EXPECT_TRUE(NoiseModel::parse("").is_noiseless());
  EXPECT_EQ(NoiseModel{}.to_string(), "none");
  EXPECT_EQ(NoiseModel::parse("bit_flip=1,phase_damping=0").to_string(), "bit_flip=1,phase_damping=0");
}

TEST(NoiseModelText, BadValuesNameTheProblem) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"depolarizing=-0.1", {"depolarizing", "-0.1", "[0, 1]"}},
      {"depolarizing=1.5", {"depolarizing", "1.5", "[0, 1]"}},
      {"amplitude_damping=2", {"amplitude_damping", "[0, 1]"}},
      {"phase_damping=nan", {"phase_damping", "[0, 1]"}},
      {"bit_flip=inf", {"bit_flip", "[0, 1]"}},
      {"readout=1.01", {"readout", "[0, 1]"}},
      {"depolarising=0.1", {"unknown channel", "depolarising"}},
      {"depolarizing", {"'depolarizing' is not name=value"}},
      {"depolarizing=0.1,", {"is not name=value"}},
      {"depolarizing=abc", {"depolarizing", "'abc' is not a number"}},
      {"depolarizing=0.1x", {"'0.1x' is not a number"}},
      {"readout=0.1,readout=0.2", {"readout is given twice"}},
  };
  for (const auto& [text, parts] : cases) {
    EXPECT_TRUE(throws_with<InvalidInput>([&] { NoiseModel::parse(text); }, parts)) << text;
  }
  EXPECT_TRUE(throws_with<InvalidInput>([] { NetworkConfig().set("noise", "bit_flip=3"); }, {"bit_flip", "[0, 1]"}));
  EXPECT_TRUE(throws_with<InvalidInput>([] { NetworkConfig().noise(NoiseModel{{}, -1}).validate(); }, {"readout"}));
  HQRN model{NetworkConfig()};
  EXPECT_TRUE(throws_with<InvalidInput>([&] { model->set_noise(NoiseModel{{{ChannelKind::bit_flip, 2}}, 0}); },
                                        {"bit_flip", "2"}));
}

TEST(NoiseModelConfig, SavedInJsonAndAbsentMeansNoiseless) {
  auto config = NetworkConfig().data_qubits(3);
  config.noise(NoiseModel::parse("phase_damping=0.125,readout=0.25"));
  const auto json = nlohmann::json::parse(config.to_json());
  EXPECT_EQ(json["noise"]["channels"][0]["channel"], "phase_damping");
  EXPECT_EQ(json["noise"]["channels"][0]["parameter"], 0.125);
  EXPECT_EQ(json["noise"]["readout"], 0.25);
  EXPECT_EQ(NetworkConfig::from_json(config.to_json()), config);
  EXPECT_NE(config.summary().find("noise=phase_damping=0.125,readout=0.25"), std::string::npos) << config.summary();
  // A config written before noise existed loads as a noiseless network.
  auto old = json;
  old.erase("noise");
  EXPECT_TRUE(NetworkConfig::from_json(old.dump()).noise().is_noiseless());
  // Malformed noise entries are refused with the field named.
  const std::vector<std::pair<nlohmann::json, std::string>> bad = {
      {"depolarizing=0.1", "noise"},
      {{{"channels", nlohmann::json::array()}}, "noise"},
      {{{"channels", {{{"channel", "dephasing"}, {"parameter", 0.1}}}}, {"readout", 0}}, "dephasing"},
      {{{"channels", {{{"channel", "bit_flip"}, {"parameter", "0.1"}}}}, {"readout", 0}}, "type"},
      {{{"channels", {{{"channel", "bit_flip"}, {"parameter", 7}}}}, {"readout", 0}}, "bit_flip"},
      {{{"channels", {{{"channel", "bit_flip"}}}}, {"readout", 0}}, "noise channel"},
      {{{"channels", 3}, {"readout", 0}}, "channels"},
  };
  for (const auto& [value, part] : bad) {
    auto j = json;
    j["noise"] = value;
    EXPECT_TRUE(throws_with<InvalidInput>([&] { NetworkConfig::from_json(j.dump()); }, {part})) << value.dump();
  }
}

}  // namespace
}  // namespace hqrn
