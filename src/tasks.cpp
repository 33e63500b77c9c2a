#include "src/tasks.h"

#include <cstdlib>
#include <stdexcept>

#include "src/data/digits.h"
#include "src/data/state_csv.h"
#include "src/source_dir.h"


namespace hqrn {

Task parse_task(const std::string& name) {
  if (name == "digits") return Task::digits;
  if (name == "entanglement") return Task::entanglement;
  throw std::invalid_argument("unknown task '" + name + "' (expected digits or entanglement)");
}

std::string to_string(Task task) { return task == Task::digits ? "digits" : "entanglement"; }

std::string default_digits_path() {
  const char* dir = std::getenv("HQRN_DATA_DIR");
  return std::string(dir != nullptr && *dir != '\0' ? dir : std::string(kSourceDir) + "/data") + "/digits.csv.gz";
}

TaskData digits_data(const std::string& path) {
  const auto split = data::split_dataset(data::load_classical_csv(path), data::kDigitsTestFraction,
                                         data::kDigitsSplitSeed);
  const int64_t classes = split.train.labels.max().item<int64_t>() + 1;
  return {split.train.features, split.train.labels, split.test.features, split.test.labels, std::max<int64_t>(classes, 2)};
}

TaskData entanglement_data(data::Family family, int64_t n_train, int64_t n_test, uint64_t seed) {
  const auto train = data::generate_states(family, n_train, seed);
  const auto test = data::generate_states(family, n_test, seed + 1);
  return {train.states, train.labels, test.states, test.labels, 2};
}

TaskData state_file_data(const std::string& train_path, const std::string& test_path,
                         const data::StateCheck& check) {
  const auto train = data::load_state_csv(train_path, check);
  TaskData out{train.states, train.labels, {}, {}, 2};
  if (!test_path.empty()) {
    const auto test = data::load_state_csv(test_path, check);
    if (test.states.size(1) != train.states.size(1)) {
      throw std::runtime_error(test_path + ": states have dimension " + std::to_string(test.states.size(1)) +
                               " but the training states have " + std::to_string(train.states.size(1)));
    }
    out.x_test = test.states;
    out.y_test = test.labels;
  }
  int64_t max_label = train.labels.max().item<int64_t>();
  if (out.y_test.defined()) max_label = std::max(max_label, out.y_test.max().item<int64_t>());
  out.classes = std::max<int64_t>(2, max_label + 1);
  return out;
}

NetworkConfig default_network(Task task) {
  if (task == Task::digits) {
    return NetworkConfig()
        .data_qubits(8)
        .features(64)
        .feature_scale(1.0 / 16)
        .blocks(2)
        .branches(1)
        .classes(10)
        .readout(Readout::linear)
        .readout_qubits(8);
  }
  // Entanglement: every branch is one learned two-qubit measurement (the first
  // sweep decides what is read from a quantum input), so several branches and
  // widely spread initial angles give diverse settings from the start.
  return NetworkConfig()
      .data_qubits(2)
      .ancillas(0)
      .blocks(1)
      .branches(10)
      .classes(2)
      .readout(Readout::mlp)
      .readout_qubits(2)
      .hidden(128)
      .hidden_layers(2)
      .init_std(1.5);
}

}  // namespace hqrn
