// The phases experiment: the registry entry (loader, default network,
// which checkpoints it serves), a few training steps, the classical analog
// on the dual twins (one output per pair, so exactly 50%), the few-body
// Pauli features against tr(rho P) with explicit Kronecker products, the
// hand-set string-order HQRN against the generator's S, and the study's
// quick run (its files, and an interrupted run's models reused).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <complex>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "models/errors.h"
#include "models/few_body_paulis.h"
#include "models/network.h"
#include "src/data/phases.h"
#include "src/data/state_vectors_file.h"
#include "src/experiments/experiment.h"
#include "src/experiments/phases.h"
#include "src/phases_study.h"
#include "src/training.h"
#include "tests/assertions.h"

namespace hqrn {
namespace {

namespace fs = std::filesystem;

fs::path scratch(const std::string& name) {
  const auto dir = fs::temp_directory_path() / ("hqrn_phases_test_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

data::PhaseDataset phase_set(int spins, data::PhaseSet set, int64_t points) {
  data::PhaseRequest r;
  r.spins = spins;
  r.set = set;
  r.points = points;
  r.skip_degenerate = set == data::PhaseSet::plane;
  return data::generate_phase_dataset(r);
}

// ---- The registry entry. ----

TEST(Phases, RegisteredAndServesStateNetworksOfFourOrMoreQubits) {
  const auto& e = find_experiment("phases");
  EXPECT_EQ(e.name, "phases");
  EXPECT_EQ(experiment_for(NetworkConfig().data_qubits(8)).name, "phases");
  EXPECT_EQ(experiment_for(NetworkConfig().data_qubits(4)).name, "phases");
  // Two-qubit state networks (the entanglement experiment's) stay there, with or without ancillas.
  EXPECT_EQ(experiment_for(NetworkConfig().data_qubits(2)).name, "entanglement");
  EXPECT_EQ(experiment_for(NetworkConfig().data_qubits(2).ancillas(3)).name, "entanglement");
  EXPECT_EQ(experiment_for(NetworkConfig().features(64).data_qubits(8)).name, "digits");
}

TEST(Phases, GeneratedDataAndDefaultNetwork) {
  const auto& e = find_experiment("phases");
  DataRequest request;
  request.spins = 8;
  const auto task = e.load(request);
  // The line without h1 = 1, and the 9 x 17 plane (no degenerate point at N = 8).
  EXPECT_EQ(task.x_train.sizes(), (std::vector<int64_t>{kPhasesLinePoints - 1, 1, 256}));
  EXPECT_TRUE(task.x_train.is_complex());
  EXPECT_EQ(task.y_train.sum().item<int64_t>(), 20);  // h1 = 0, 0.05, ..., 0.95
  EXPECT_EQ(task.x_test.sizes(), (std::vector<int64_t>{kPhasesPlanePoints * (2 * kPhasesPlanePoints - 1), 1, 256}));
  const auto config = e.network(task);
  EXPECT_NO_THROW(config.validate());
  EXPECT_EQ(config.data_qubits(), 8);
  EXPECT_EQ(config.ancillas(), 0);
  EXPECT_TRUE(e.serves(config));
  EXPECT_TRUE(test::throws_with<std::invalid_argument>(
      [&] {
        DataRequest small;
        small.spins = 3;
        e.load(small);
      },
      {"--spins", ">= 4"}));
}

std::vector<int64_t> values(const torch::Tensor& t) {
  const auto c = t.to(torch::kLong).contiguous();
  return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
}

TEST(Phases, LoadsStateVectorFilesAndTheReaderChecksTheRegister) {
  const auto dir = scratch("files");
  const auto line = (dir / "line.safetensors").string(), twins = (dir / "twins.safetensors").string();
  data::save_state_vectors(line, data::to_state_vectors(phase_set(6, data::PhaseSet::line, 5)));
  data::save_state_vectors(twins, data::to_state_vectors(phase_set(6, data::PhaseSet::twins, 2)));
  const auto& e = find_experiment("phases");
  DataRequest request;
  request.data = line;
  request.test_data = twins;
  const auto task = e.load(request);
  EXPECT_EQ(task.x_train.sizes(), (std::vector<int64_t>{5, 1, 64}));
  EXPECT_EQ(values(task.y_train), (std::vector<int64_t>{1, 1, 1, 0, 0}));  // h1 = 0, 0.4, 0.8, 1.2, 1.6
  EXPECT_EQ(task.x_test.sizes(), (std::vector<int64_t>{4, 1, 64}));
  EXPECT_EQ(values(task.y_test), (std::vector<int64_t>{1, 0, 1, 0}));
  // eval's reader: the same vectors for a model of the file's register, a message for another.
  const auto read = e.read(twins, phases_network(6), {});
  EXPECT_TRUE(torch::equal(read.x, task.x_test));
  EXPECT_TRUE(test::throws_with<std::runtime_error>([&] { e.read(twins, phases_network(8), {}); },
                                                    {twins, "6 qubits", "8 qubits"}));
  fs::remove_all(dir);
}

// ---- Training and the classical analog on the twins. ----

TEST(Phases, TinyNetworkTrainsAFewSteps) {
  const auto line = phases_inputs(phase_set(6, data::PhaseSet::line, 9));
  torch::manual_seed(0);
  HQRN model(phases_network(6).branches(2).hidden(8));
  Trainable t;
  t.logits = [&](const torch::Tensor& x) { return model->forward(x, Mode::quantum); };
  t.parameters = model->parameters();
  const auto before = evaluate(t.logits, line.x, line.y).loss;
  const auto result = train(t, line.x, line.y, {}, {}, TrainOptions().epochs(5).batch_size(4).learning_rate(0.05).show_progress(false));
  ASSERT_TRUE(result.finished) << result.message;
  EXPECT_EQ(result.progress.epochs_done, 5);
  EXPECT_LT(evaluate(t.logits, line.x, line.y).loss, before);
  // State vectors run in the vectors execution by default.
  EXPECT_EQ(model->representation_for(line.x, Mode::quantum, Execution::automatic), Representation::vectors);
}

TEST(Phases, ClassicalAnalogGivesBothTwinsOfAPairOneOutput) {
  const auto twins = phases_inputs(phase_set(6, data::PhaseSet::twins, 6));
  const auto line = phases_inputs(phase_set(6, data::PhaseSet::line, 9));
  torch::manual_seed(3);
  ClassicalResNet classical(phases_network(6).init_std(1.5));
  Trainable t;
  t.logits = [&](const torch::Tensor& x) { return classical->forward(x, Mode::classical); };
  t.parameters = classical->parameters();
  ASSERT_TRUE(train(t, line.x, line.y, {}, {}, TrainOptions().epochs(3).batch_size(4).show_progress(false)).finished);
  torch::NoGradGuard no_grad;
  const auto out = classical->forward(twins.x, Mode::classical);
  for (int64_t k = 0; k < out.size(0) / 2; ++k) {
    // The pair's Z-basis distributions are equal bit for bit, and so is all that follows.
    EXPECT_TRUE(torch::equal(out[2 * k], out[2 * k + 1])) << "pair " << k;
    EXPECT_NE(twins.y[2 * k].item<int64_t>(), twins.y[2 * k + 1].item<int64_t>());
  }
  EXPECT_EQ(accuracy(torch::softmax(out, 1), twins.y), 0.5);
  // An HQRN of the same shape does see the pair apart.
  torch::manual_seed(3);
  HQRN quantum(phases_network(6).init_std(1.5));
  const auto q = quantum->forward(twins.x, Mode::quantum);
  EXPECT_FALSE(torch::equal(q[0], q[1]));
}

// ---- Few-body Pauli expectations against a dense reference. ----

using Complex = std::complex<double>;
using Matrix = std::vector<std::vector<Complex>>;

Matrix kron(const Matrix& a, const Matrix& b) {
  Matrix out(a.size() * b.size(), std::vector<Complex>(a.size() * b.size()));
  for (size_t i = 0; i < a.size(); ++i)
    for (size_t j = 0; j < a.size(); ++j)
      for (size_t k = 0; k < b.size(); ++k)
        for (size_t l = 0; l < b.size(); ++l) out[i * b.size() + k][j * b.size() + l] = a[i][j] * b[k][l];
  return out;
}

// P_0 (x) ... (x) P_{n-1} with letters "IXYZ", qubit 0 leftmost (the most significant bit).
Matrix pauli_string(const std::string& letters) {
  const Complex i(0, 1);
  const Matrix I{{1, 0}, {0, 1}}, X{{0, 1}, {1, 0}}, Y{{0, -i}, {i, 0}}, Z{{1, 0}, {0, -1}};
  Matrix out{{1}};
  for (const char c : letters) out = kron(out, c == 'X' ? X : c == 'Y' ? Y : c == 'Z' ? Z : I);
  return out;
}

TEST(Phases, FewBodyPauliExpectationsEqualTraceOfRhoP) {
  for (const int64_t n : {3, 4}) {
    const int64_t d = int64_t{1} << n, r = 2, batch = 3;
    torch::manual_seed(n);
    auto v = torch::complex(torch::randn({batch, r, d}, torch::kFloat64), torch::randn({batch, r, d}, torch::kFloat64));
    v = v / v.abs().square().sum({1, 2}, true).sqrt();
    const auto features = few_body_pauli_expectations(v);
    ASSERT_EQ(features.sizes(), (std::vector<int64_t>{batch, 3 * n + 9 * n * (n - 1) / 2}));
    ASSERT_EQ(few_body_pauli_count(n), features.size(1));
    // rho = sum_k v_k v_k^dagger, densely.
    const auto rho = torch::matmul(v.transpose(1, 2), v.conj());  // [B, d, d]
    for (int64_t column = 0; column < features.size(1); ++column) {
      // The column's name says which Pauli string it is: "Y2" or "X0Z3".
      const auto name = few_body_pauli_name(n, column);
      std::string letters(static_cast<size_t>(n), 'I');
      for (size_t p = 0; p < name.size();) {
        const char letter = name[p++];
        size_t end = p;
        while (end < name.size() && std::isdigit(static_cast<unsigned char>(name[end]))) ++end;
        letters[static_cast<size_t>(std::stoi(name.substr(p, end - p)))] = letter;
        p = end;
      }
      const auto P = pauli_string(letters);
      for (int64_t b = 0; b < batch; ++b) {
        Complex trace = 0;
        const auto rb = rho[b].contiguous();
        const auto* data = reinterpret_cast<const Complex*>(rb.data_ptr<c10::complex<double>>());
        for (int64_t x = 0; x < d; ++x)
          for (int64_t y = 0; y < d; ++y) trace += data[x * d + y] * P[static_cast<size_t>(y)][static_cast<size_t>(x)];
        EXPECT_NEAR(features[b][column].item<double>(), trace.real(), 1e-12) << "n = " << n << " " << letters;
        EXPECT_NEAR(trace.imag(), 0.0, 1e-12);
      }
    }
  }
  // The order: one-body per qubit X, Y, Z; then pairs (0,1), (0,2), ... with 3a + b.
  EXPECT_EQ(few_body_pauli_name(3, 0), "X0");
  EXPECT_EQ(few_body_pauli_name(3, 8), "Z2");
  EXPECT_EQ(few_body_pauli_name(3, 9), "X0X1");
  EXPECT_EQ(few_body_pauli_name(3, 9 + 5), "Y0Z1");
  EXPECT_EQ(few_body_pauli_name(3, 9 + 9), "X0X2");
  EXPECT_EQ(few_body_pauli_name(3, 9 + 26), "Z1Z2");
  // Pure states [B, d] are rank-1 component vectors.
  const auto pure = phases_inputs(phase_set(4, data::PhaseSet::line, 3)).x;
  EXPECT_TRUE(torch::allclose(few_body_pauli_expectations(pure.squeeze(1)), few_body_pauli_expectations(pure)));
}

TEST(Phases, SampledPauliExpectationsAreBinomialEstimates) {
  auto g = at::detail::createCPUGenerator(5);
  const auto e = torch::tensor({{1.0, -1.0, 0.0, 0.3}});
  const auto one = sample_pauli_expectations(e.expand({20000, 4}).contiguous(), 16, g);
  // +-1 eigenstates give their value at any number of shots; estimates lie on the 2k/16 - 1 grid.
  EXPECT_TRUE(torch::all(one.select(1, 0) == 1).item<bool>());
  EXPECT_TRUE(torch::all(one.select(1, 1) == -1).item<bool>());
  EXPECT_TRUE(torch::allclose((one + 1) * 8, ((one + 1) * 8).round()));
  // Unbiased, variance (1 - e^2) / shots.
  EXPECT_NEAR(one.select(1, 3).mean().item<double>(), 0.3, 0.01);
  EXPECT_NEAR(one.select(1, 3).var().item<double>(), (1 - 0.09) / 16, 0.003);
}

// ---- The hand-set HQRN that measures the string order parameter. ----

TEST(Phases, StringOrderHqrnReadsTheStringOrderParameter) {
  for (const int n : {6, 8, 10}) {
    auto set = phase_set(n, data::PhaseSet::line, 9);
    const auto plane = phase_set(n, data::PhaseSet::plane, 3);
    set.samples.insert(set.samples.end(), plane.samples.begin(), plane.samples.end());
    const auto inputs = phases_inputs(set);
    auto model = string_order_hqrn(n);
    torch::NoGradGuard no_grad;
    // The aware execution too where its 4^n entries per state stay small.
    for (const auto execution : {Execution::vectors, Execution::aware}) {
      if (execution == Execution::aware && n > 8) continue;
      const auto p = model->readout_distributions(inputs.x, Mode::quantum, execution);  // [M, 1, 2]
      for (size_t i = 0; i < set.samples.size(); ++i) {
        const double contrast = p[static_cast<int64_t>(i)][0][0].item<double>() - p[static_cast<int64_t>(i)][0][1].item<double>();
        EXPECT_NEAR(contrast * string_order_readout_sign(n), set.samples[i].string_order, 1e-10)
            << "N = " << n << ", h1 = " << set.samples[i].model.h1 << ", h2 = " << set.samples[i].model.h2;
      }
    }
  }
}

// ---- The study. ----

TEST(Phases, QuickStudyWritesItsFilesAndReusesFinishedModels) {
  const auto dir = scratch("study");
  PhasesStudyOptions o;
  o.out = dir.string();
  o.quick = true;
  o.plots = false;
  o.spins = {6};
  o.shot_seeds = 2;
  o.label = "test study";
  const auto results = phases_study(o);
  const std::vector<std::string> models{"hqrn", "classical", "pauli_mlp", "hqrn_string"};
  const auto& run = results.at("runs").at("6");
  for (const auto& model : models) {
    const auto& r = run.at("models").at(model);
    for (const char* key : {"line_accuracy", "plane_accuracy", "twins_accuracy", "train_seconds"}) {
      EXPECT_TRUE(r.at(key).is_number()) << model << " " << key;
    }
    EXPECT_FALSE(r.at("reused").get<bool>()) << model;
    EXPECT_EQ(r.at("shots").at("plane").size(), 1u) << model;
    EXPECT_TRUE(fs::exists(dir / ("N6_" + model + ".safetensors"))) << model;
    EXPECT_TRUE(fs::exists(dir / ("N6_" + model + "_history.csv"))) << model;
  }
  // The classical analog: both members of every pair get one output.
  EXPECT_EQ(run.at("models").at("classical").at("twins_accuracy").get<double>(), 0.5);
  EXPECT_EQ(run.at("models").at("classical").at("twins_identical_pairs"), run.at("models").at("classical").at("twins_pairs"));
  for (const char* file : {"results.json", "phases_study.csv", "N6_plane.csv", "N6_line.csv", "N6_twins.csv",
                           "data/N6_line9.safetensors", "data/N6_plane5.safetensors", "data/N6_twins4.safetensors"}) {
    EXPECT_TRUE(fs::exists(dir / file)) << file;
  }
  std::ifstream plane(dir / "N6_plane.csv");
  std::string header;
  std::getline(plane, header);
  EXPECT_EQ(header, "h1,h2,string_order,antiferromagnetic_order,label,p_spt_classical,p_spt_hqrn,p_spt_hqrn_string,"
                    "p_spt_pauli_mlp");
  // A second run reads the cached data and reuses every model, with the same scores.
  const auto again = phases_study(o);
  for (const auto& model : models) {
    const auto& r = again.at("runs").at("6").at("models").at(model);
    EXPECT_TRUE(r.at("reused").get<bool>()) << model;
    EXPECT_EQ(r.at("plane_accuracy"), run.at("models").at(model).at("plane_accuracy")) << model;
  }
  EXPECT_TRUE(again.at("runs").at("6").at("sets").at("plane").at("cached").get<bool>());
  fs::remove_all(dir);
}

}  // namespace
}  // namespace hqrn
