#include "src/experiments/experiment.h"

#include <fmt/format.h>

#include "models/errors.h"
#include "models/register_state.h"
#include "src/data/state_vectors_file.h"
#include "torch_ext/qubit_index.h"

namespace hqrn {

// One function per experiment file.
Experiment digits_experiment();
Experiment entanglement_experiment();
Experiment phases_experiment();

const std::vector<Experiment>& experiments() {
  // phases before entanglement: experiment_for takes the first that serves a
  // config, and phases serves the state networks of 4 or more data qubits.
  static const std::vector<Experiment> list{digits_experiment(), phases_experiment(), entanglement_experiment()};
  return list;
}

const Experiment& find_experiment(const std::string& name) {
  std::string names;
  for (const auto& e : experiments()) {
    if (e.name == name) return e;
    names += (names.empty() ? "" : ", ") + e.name;
  }
  throw InvalidInput(fmt::format("unknown task '{}' (expected one of: {})", name, names));
}

const Experiment& experiment_for(const NetworkConfig& config) {
  for (const auto& e : experiments()) {
    if (e.serves(config)) return e;
  }
  throw InvalidInput("no experiment serves a network with config " + config.summary());
}

torch::Tensor cross_entropy_loss(const torch::Tensor& logits, const torch::Tensor& labels) {
  return torch::nn::functional::cross_entropy(logits, labels);
}

double accuracy(const torch::Tensor& probabilities, const torch::Tensor& labels) {
  return probabilities.argmax(1).eq(labels).to(torch::kFloat64).mean().item<double>();
}

double balanced_accuracy(const torch::Tensor& probabilities, const torch::Tensor& labels) {
  const auto right = probabilities.argmax(1).eq(labels).to(torch::kFloat64);
  double sum = 0;
  int64_t present = 0;
  for (int64_t c = 0; c < probabilities.size(1); ++c) {
    const auto in_class = labels.eq(c);
    const int64_t count = in_class.sum().item<int64_t>();
    if (count == 0) continue;
    sum += right.masked_select(in_class).mean().item<double>();
    ++present;
  }
  return present > 0 ? sum / static_cast<double>(present) : 0.0;
}

LabelledInputs read_state_file(const std::string& path, const data::StateCheck& check) {
  if (data::is_state_vectors_file(path)) {
    const auto file = data::load_state_vectors(path);
    LabelledInputs out{file.amplitudes, file.labels};
    if (out.x.size(1) == out.x.size(2)) out.x = density_of_components(out.x);
    return out;
  }
  const auto s = data::load_state_csv(path, check);
  return {s.states, s.labels};
}

LabelledInputs read_state_inputs(const std::string& path, const NetworkConfig& config, const data::StateCheck& check) {
  const auto out = read_state_file(path, check);
  const int64_t dim = int64_t{1} << config.data_qubits();
  if (out.x.size(2) != dim) {
    throw std::runtime_error(fmt::format(
        "{}: states have dimension {} ({} qubits) but the model's data register has {} qubits (dimension {})", path,
        out.x.size(2), index::qubits_of_dimension(out.x.size(2)), config.data_qubits(), dim));
  }
  return out;
}

int64_t class_count(const std::vector<torch::Tensor>& labels) {
  int64_t max_label = 1;
  for (const auto& y : labels) {
    if (y.defined() && y.numel() > 0) max_label = std::max(max_label, y.max().item<int64_t>());
  }
  return max_label + 1;
}

}  // namespace hqrn
