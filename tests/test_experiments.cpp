// The experiment registry: lookup, each experiment's loader and default
// network, the eval-side reader, and the metrics against hand counts.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "models/errors.h"
#include "src/experiments/experiment.h"
#include "tests/assertions.h"

namespace hqrn {
namespace {

TEST(Experiments, RegistryFindsEveryExperimentByNameAndRefusesOthers) {
  ASSERT_GE(experiments().size(), 2u);
  for (const auto& e : experiments()) {
    EXPECT_EQ(&find_experiment(e.name), &e);
    EXPECT_TRUE(e.load && e.network && e.serves && e.read && e.loss) << e.name;
  }
  EXPECT_TRUE(test::throws_with<InvalidInput>([] { find_experiment("bogus"); }, {"bogus", "digits", "entanglement"}));
}

TEST(Experiments, EvalPicksTheExperimentByInputKind) {
  EXPECT_EQ(experiment_for(NetworkConfig().features(64).data_qubits(8)).name, "digits");
  EXPECT_EQ(experiment_for(NetworkConfig().data_qubits(2)).name, "entanglement");
}

TEST(Experiments, DefaultNetworksFitTheirData) {
  DataRequest request;
  request.n_train = 40;
  request.n_test = 20;
  for (const auto& e : experiments()) {
    // phases generates ground states of its own grids, not n_train states (tests/test_phases.cpp).
    if (e.name == "phases") continue;
    const auto task = e.load(request);
    const auto config = e.network(task);
    EXPECT_NO_THROW(config.validate()) << e.name;
    EXPECT_EQ(config.classes(), task.classes) << e.name;
    EXPECT_TRUE(e.serves(config)) << e.name;
    if (config.features() > 0) {
      EXPECT_EQ(config.features(), task.x_train.size(1)) << e.name;
    } else {
      EXPECT_EQ(task.x_train.size(1), int64_t{1} << config.data_qubits()) << e.name;
      EXPECT_EQ(task.x_train.size(0), 40) << e.name;
      EXPECT_EQ(task.x_test.size(0), 20) << e.name;
    }
  }
  // The digits: 10 classes, 64 pixels, the fixed 25% test split of 1797 images.
  const auto digits = find_experiment("digits").load(request);
  EXPECT_EQ(digits.classes, 10);
  EXPECT_EQ(digits.x_train.size(1), 64);
  EXPECT_EQ(digits.x_train.size(0) + digits.x_test.size(0), 1797);
}

TEST(Experiments, ReaderRefusesDataOfAnotherShape) {
  const auto path = (std::filesystem::temp_directory_path() / "hqrn_experiments_test.csv").string();
  {
    std::ofstream out(path);
    out << "1,2,3,0\n4,5,6,1\n";
  }
  const auto& digits = find_experiment("digits");
  const auto ok = digits.read(path, NetworkConfig().features(3).data_qubits(3), {});
  EXPECT_EQ(ok.x.sizes(), (std::vector<int64_t>{2, 3}));
  EXPECT_TRUE(test::throws_with<std::runtime_error>(
      [&] { digits.read(path, NetworkConfig().features(64).data_qubits(8), {}); },
      {path, "3 features", "expects 64"}));
  std::remove(path.c_str());
}

TEST(Experiments, MetricsMatchHandCounts) {
  // Predictions 0, 1, 1, 1, 0 for labels 0, 0, 1, 1, 1: accuracy 3/5,
  // recall of class 0 = 1/2, of class 1 = 2/3.
  const auto probabilities = torch::tensor({{0.9, 0.1}, {0.2, 0.8}, {0.4, 0.6}, {0.3, 0.7}, {0.6, 0.4}});
  const auto labels = torch::tensor({0, 0, 1, 1, 1}, torch::kLong);
  EXPECT_DOUBLE_EQ(accuracy(probabilities, labels), 3.0 / 5);
  EXPECT_DOUBLE_EQ(balanced_accuracy(probabilities, labels), (1.0 / 2 + 2.0 / 3) / 2);
  const auto& entanglement = find_experiment("entanglement");
  bool found = false;
  for (const auto& m : entanglement.metrics) {
    if (m.name != "entangled_recall") continue;
    found = true;
    EXPECT_DOUBLE_EQ(m.value(probabilities, labels), 2.0 / 3);
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(class_count({labels, torch::tensor({4}, torch::kLong)}), 5);
  EXPECT_EQ(class_count({torch::zeros({3}, torch::kLong)}), 2);
}

}  // namespace
}  // namespace hqrn
