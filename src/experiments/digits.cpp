// Digit recognition: the 8x8 digits (pixels 0..16 as features, label 0..9)
// with the fixed split of data/README.md; the network angle-encodes the pixels.
#include <fmt/format.h>

#include <cstdlib>
#include <stdexcept>

#include "src/data/digits.h"
#include "src/experiments/experiment.h"
#include "src/source_dir.h"

namespace hqrn {

std::string default_digits_path() {
  const char* dir = std::getenv("HQRN_DATA_DIR");
  return std::string(dir != nullptr && *dir != '\0' ? dir : std::string(kSourceDir) + "/data") + "/digits.csv.gz";
}

Experiment digits_experiment() {
  Experiment e;
  e.name = "digits";
  e.description = "8x8 digits (classical CSV; default: the shipped data/digits.csv.gz)";
  e.load = [](const DataRequest& request) {
    const auto path = request.data.empty() ? default_digits_path() : request.data;
    const auto split =
        data::split_dataset(data::load_classical_csv(path), data::kDigitsTestFraction, data::kDigitsSplitSeed);
    return TaskData{split.train.features, split.train.labels, split.test.features, split.test.labels,
                    class_count({split.train.labels})};
  };
  e.network = [](const TaskData& task) {
    return NetworkConfig()
        .data_qubits(8)
        .features(task.x_train.size(1))
        .feature_scale(1.0 / 16)
        .blocks(2)
        .branches(1)
        .classes(task.classes)
        .readout(Readout::linear)
        .readout_qubits(8);
  };
  e.serves = [](const NetworkConfig& config) { return config.features() > 0; };
  e.read = [](const std::string& path, const NetworkConfig& config, const data::StateCheck&) {
    const auto d = data::load_classical_csv(path);
    if (d.features.size(1) != config.features()) {
      throw std::runtime_error(fmt::format("{}: rows have {} features but the model expects {}", path,
                                           d.features.size(1), config.features()));
    }
    return LabelledInputs{d.features, d.labels};
  };
  e.loss = cross_entropy_loss;
  e.metrics = {{"balanced_accuracy", balanced_accuracy}};
  return e;
}

}  // namespace hqrn
