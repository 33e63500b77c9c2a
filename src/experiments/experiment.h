// The paper's experiments as a registry. An experiment names its data
// loader, its default network, its loss and its metrics; `hqrn train`,
// `hqrn eval` and the demo look experiments up here, so a new task is one
// file in src/experiments/ (plus one line in registry.cpp) and its tests.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "models/config.h"
#include "src/data/state_csv.h"

namespace hqrn {

struct TaskData {
  torch::Tensor x_train, y_train, x_test, y_test;  // x: features [N, F] or states [N, d, d]; x_test may be undefined
  int64_t classes = 2;
};

// <source tree>/data/digits.csv.gz, or $HQRN_DATA_DIR/digits.csv.gz when set.
std::string default_digits_path();

// What `hqrn train` (or the demo) asks of an experiment's loader.
struct DataRequest {
  std::string data, test_data;  // files; empty: the experiment's own data
  std::string family = "random";  // generated entanglement states
  int spins = 8;                   // generated phases states: the ring's size
  int64_t n_train = 20000, n_test = 4000;
  uint64_t seed = 1;
  data::StateCheck check;
};

// Labelled inputs read from one file for a given model.
struct LabelledInputs {
  torch::Tensor x, y;
};

// A score of a model's predictions: probabilities [N, C], labels [N].
struct Metric {
  std::string name;
  std::function<double(const torch::Tensor& probabilities, const torch::Tensor& labels)> value;
};

using Loss = std::function<torch::Tensor(const torch::Tensor& logits, const torch::Tensor& labels)>;

struct Experiment {
  std::string name, description;
  // Train and test data for a run.
  std::function<TaskData(const DataRequest&)> load;
  // The default network for the loaded data (the demo's choices).
  std::function<NetworkConfig(const TaskData&)> network;
  // Whether a model of this config is one of this experiment's (eval picks
  // a checkpoint's experiment by its input kind).
  std::function<bool(const NetworkConfig&)> serves;
  // Reads a data file in the experiment's format for a model of `config`.
  std::function<LabelledInputs(const std::string& path, const NetworkConfig& config, const data::StateCheck&)> read;
  Loss loss;
  std::vector<Metric> metrics;  // reported by eval, after accuracy and loss
};

// Every registered experiment, in registration order.
const std::vector<Experiment>& experiments();
// The experiment called `name`; InvalidInput listing the names otherwise.
const Experiment& find_experiment(const std::string& name);
// The first experiment that serves `config`.
const Experiment& experiment_for(const NetworkConfig& config);

// Shared pieces of the experiments.
torch::Tensor cross_entropy_loss(const torch::Tensor& logits, const torch::Tensor& labels);
double accuracy(const torch::Tensor& probabilities, const torch::Tensor& labels);
// Mean over the classes present of the fraction of that class predicted right.
double balanced_accuracy(const torch::Tensor& probabilities, const torch::Tensor& labels);
// Labelled data-register states for a model of `config` from a state CSV
// (density matrices [N, d, d]) or a state-vector file (spec section 9;
// component vectors [N, r, d], or their density matrices when r = d, which
// the network would otherwise read as density matrices); the number of
// qubits must be the model's data register's.
LabelledInputs read_state_inputs(const std::string& path, const NetworkConfig& config, const data::StateCheck& check);
// The same for any number of qubits (no model to match).
LabelledInputs read_state_file(const std::string& path, const data::StateCheck& check);
// Largest label + 1, at least 2, over the given label tensors (undefined ones skipped).
int64_t class_count(const std::vector<torch::Tensor>& labels);

}  // namespace hqrn
