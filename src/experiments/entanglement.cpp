// Two-qubit entanglement classification: generated families (random mixed
// states, and adversarial separable twins with the same measurement
// statistics) or state CSV files; label 1 = entangled.
#include <fmt/format.h>

#include <stdexcept>

#include "src/data/entanglement.h"
#include "src/experiments/experiment.h"
#include "torch_ext/qubit_index.h"

namespace hqrn {

namespace {

// Train and test sets from state files; the test file is optional.
TaskData state_file_data(const DataRequest& request) {
  const auto train = data::load_state_csv(request.data, request.check);
  TaskData out{train.states, train.labels, {}, {}, 2};
  if (!request.test_data.empty()) {
    const auto test = data::load_state_csv(request.test_data, request.check);
    if (test.states.size(1) != train.states.size(1)) {
      throw std::runtime_error(request.test_data + ": states have dimension " + std::to_string(test.states.size(1)) +
                               " but the training states have " + std::to_string(train.states.size(1)));
    }
    out.x_test = test.states;
    out.y_test = test.labels;
  }
  out.classes = class_count({out.y_train, out.y_test});
  return out;
}

// The fraction of entangled states (label 1) recognised as entangled.
double entangled_recall(const torch::Tensor& probabilities, const torch::Tensor& labels) {
  const auto entangled = labels.eq(1);
  if (entangled.sum().item<int64_t>() == 0) return 0.0;
  return probabilities.argmax(1).masked_select(entangled).eq(1).to(torch::kFloat64).mean().item<double>();
}

}  // namespace

Experiment entanglement_experiment() {
  Experiment e;
  e.name = "entanglement";
  e.description = "two-qubit entanglement (generated families, or state CSV files)";
  e.load = [](const DataRequest& request) {
    if (!request.data.empty()) return state_file_data(request);
    // Train and test sets of one family from independent seeds (seed, seed + 1).
    const auto family = data::parse_family(request.family);
    const auto train = data::generate_states(family, request.n_train, request.seed);
    const auto test = data::generate_states(family, request.n_test, request.seed + 1);
    return TaskData{train.states, train.labels, test.states, test.labels, 2};
  };
  // Every branch is one learned two-qubit measurement (the first sweep
  // decides what is read from a quantum input), so several branches and
  // widely spread initial angles give diverse settings from the start.
  e.network = [](const TaskData& task) {
    return NetworkConfig()
        .data_qubits(2)
        .ancillas(0)
        .blocks(1)
        .branches(10)
        .classes(task.classes)
        .readout(Readout::mlp)
        .readout_qubits(2)
        .hidden(128)
        .hidden_layers(2)
        .init_std(1.5);
  };
  e.serves = [](const NetworkConfig& config) { return config.features() == 0; };
  e.read = read_state_inputs;
  e.loss = cross_entropy_loss;
  e.metrics = {{"balanced_accuracy", balanced_accuracy}, {"entangled_recall", entangled_recall}};
  return e;
}

}  // namespace hqrn
