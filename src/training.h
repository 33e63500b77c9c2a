// Mini-batch training and evaluation for any classifier given as a logits
// function plus its parameters: the classical analog, the HQRN in either
// mode, or the tomography baseline. Epoch order comes from the seed and the
// epoch number only, so a resumed run sees the same batches.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

#include "src/checkpoint.h"

namespace hqrn::distributed {
class Group;
// A named pointer type: TORCH_ARG spells `const T&`, which must not bind the const to the Group.
using GroupHandle = Group*;
}  // namespace hqrn::distributed

namespace hqrn {

struct TrainOptions {
  TORCH_ARG(int64_t, epochs) = 10;
  TORCH_ARG(int64_t, batch_size) = 64;
  TORCH_ARG(double, learning_rate) = 0.01;
  // Cosine decay of the learning rate over the epochs, down to 5% of it;
  // false keeps it constant.
  TORCH_ARG(bool, cosine_schedule) = true;
  TORCH_ARG(uint64_t, seed) = 0;
  TORCH_ARG(std::string, label) = "train";  // names the run in progress lines
  TORCH_ARG(bool, show_progress) = true;
  // Data parallel: each rank takes its shard of every global batch and the
  // gradients are summed before each step (nullptr: one process).
  TORCH_ARG(distributed::GroupHandle, group) = nullptr;
};

struct EpochRecord {
  int64_t epoch = 0;  // 1-based
  double loss = 0, train_accuracy = 0;
  double test_accuracy = -1;  // -1 when no test set was given
  double seconds = 0;
};

// Where a run stands: completed epochs and their records (saved in checkpoints).
struct TrainProgress {
  int64_t epochs_done = 0;
  std::vector<EpochRecord> history;
  std::string to_json() const;
  static TrainProgress from_json(const std::string& text);
};

struct Trainable {
  std::function<torch::Tensor(const torch::Tensor&)> logits;
  std::vector<torch::Tensor> parameters;  // what the optimizer updates
  // Mean loss of a batch's logits; empty: cross-entropy.
  std::function<torch::Tensor(const torch::Tensor& logits, const torch::Tensor& labels)> loss;
  // Called after each completed epoch to persist the run; may be empty.
  std::function<void(const TrainingState&)> save;
  // Called once on the fresh optimizer when resuming; may be empty.
  std::function<void(torch::optim::Optimizer&)> restore;
};

struct TrainResult {
  TrainProgress progress;
  bool finished = true;  // false when stopped by a non-finite loss
  std::string message;
};

// Adam on the trainable's loss (cross-entropy unless given). Stops with finished = false (and the
// last good epoch saved) when the loss becomes NaN or Inf.
TrainResult train(Trainable& trainable, const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& x_test,
                  const torch::Tensor& y_test, const TrainOptions& options, TrainProgress start = {});

struct Evaluation {
  int64_t n = 0;
  double accuracy = 0, loss = 0;
  torch::Tensor probabilities;  // [N, C]
  torch::Tensor predictions;    // [N]
};

Evaluation evaluate(const std::function<torch::Tensor(const torch::Tensor&)>& logits, const torch::Tensor& x,
                    const torch::Tensor& y, int64_t batch_size = 256);

// Accuracy of predictions from random logits (finite-shot estimates) over
// independent samples, one generator per seed first_seed + s, s < seeds.
struct SampledAccuracy {
  std::vector<double> accuracies;
  double mean = 0;
  double std = 0;  // sample standard deviation; 0 for one seed
};
SampledAccuracy sampled_accuracy(const std::function<torch::Tensor(const torch::Tensor&, torch::Generator&)>& logits,
                                 const torch::Tensor& x, const torch::Tensor& y, int64_t seeds, uint64_t first_seed);

}  // namespace hqrn
