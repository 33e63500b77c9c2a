// The paper's experiments as ready-to-train data (spec section 4): the 8x8
// digits with their fixed split, and two-qubit entanglement classification
// on generated or user-supplied state files; plus each task's default network.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>

#include "models/config.h"
#include "src/data/entanglement.h"

namespace hqrn {

enum class Task { digits, entanglement };
Task parse_task(const std::string& name);
std::string to_string(Task task);

struct TaskData {
  torch::Tensor x_train, y_train, x_test, y_test;  // x: features [N, F] or states [N, d, d]
  int64_t classes = 2;
};

// <source tree>/data/digits.csv.gz, or $HQRN_DATA_DIR/digits.csv.gz when set.
std::string default_digits_path();

// Pixels 0..16 as features, label 0..9; split of data/README.md (25% test, seed 0).
TaskData digits_data(const std::string& path);

// Train and test sets of one family from independent seeds (seed, seed + 1).
TaskData entanglement_data(data::Family family, int64_t n_train, int64_t n_test, uint64_t seed);

// States from state CSV files; the test file is optional (empty path: none).
TaskData state_file_data(const std::string& train_path, const std::string& test_path,
                         const data::StateCheck& check = {});

// A task's default network shape (the demo's choices).
NetworkConfig default_network(Task task);

}  // namespace hqrn
