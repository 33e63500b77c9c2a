#include "src/training.h"

#include "src/distributed/group.h"

#include <fmt/format.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <stdexcept>

#include "src/clock.h"
#include "src/fused_adam.h"
#include "src/data/random.h"

namespace hqrn {

namespace {

std::string format_duration(double seconds) {
  const auto s = static_cast<int64_t>(std::max(0.0, seconds) + 0.5);
  return s >= 60 ? fmt::format("{}m{:02d}s", s / 60, s % 60) : fmt::format("{}s", s);
}

// One progress line on stderr: redrawn in place on a terminal, printed once
// per epoch otherwise (logs stay readable).
class ProgressLine {
 public:
  explicit ProgressLine(bool enabled) : enabled_(enabled), tty_(::isatty(2) != 0) {}

  void update(const std::string& label, int64_t epoch, int64_t epochs, double fraction, double loss, double accuracy,
              double eta) {
    if (!enabled_ || !tty_ || seconds_since(last_) < 0.1) return;
    last_ = Clock::now();
    const int width = 24;
    const int filled = static_cast<int>(fraction * width);
    std::fprintf(stderr, "\r%s epoch %lld/%lld [%s%s] %3.0f%% loss %.4f acc %5.1f%% ETA %s   ", label.c_str(),
                 static_cast<long long>(epoch), static_cast<long long>(epochs), std::string(filled, '#').c_str(),
                 std::string(width - filled, '.').c_str(), 100 * fraction, loss, 100 * accuracy,
                 format_duration(eta).c_str());
    std::fflush(stderr);
  }

  void epoch_done(const std::string& label, int64_t epochs, const EpochRecord& r, double eta) {
    if (!enabled_) return;
    const std::string test = r.test_accuracy >= 0 ? fmt::format(" test acc {:.2f}%", 100 * r.test_accuracy) : "";
    std::fprintf(stderr, "%s%s epoch %lld/%lld loss %.4f train acc %.2f%%%s (%.1f s, ETA %s)\n", tty_ ? "\r" : "",
                 label.c_str(), static_cast<long long>(r.epoch), static_cast<long long>(epochs), r.loss,
                 100 * r.train_accuracy, test.c_str(), r.seconds, format_duration(eta).c_str());
  }

 private:
  bool enabled_, tty_;
  Clock::time_point last_ = Clock::now() - std::chrono::seconds(1);
};

void check_dataset(const torch::Tensor& x, const torch::Tensor& y, const char* what) {
  TORCH_CHECK(x.defined() && y.defined(), what, ": missing inputs or labels");
  TORCH_CHECK(y.dim() == 1 && x.size(0) == y.size(0), what, ": ", x.size(0), " inputs but labels of shape ",
              y.sizes());
  TORCH_CHECK(x.size(0) > 0, what, ": no samples");
}

// Learning rate of an epoch (1-based): a function of the epoch only, so a
// resumed run continues the same schedule.
double epoch_learning_rate(const TrainOptions& o, int64_t epoch) {
  if (!o.cosine_schedule() || o.epochs() <= 1) return o.learning_rate();
  const double t = static_cast<double>(epoch - 1) / static_cast<double>(o.epochs());
  return o.learning_rate() * (0.05 + 0.95 * 0.5 * (1 + std::cos(M_PI * t)));
}

// Under a group each rank evaluates its shard of the test set and the correct
// counts are summed: every rank gets the single-process accuracy.
double test_accuracy(const Trainable& trainable, const torch::Tensor& x, const torch::Tensor& y,
                     distributed::Group* group) {
  if (!group) return evaluate(trainable.logits, x, y).accuracy;
  const auto [begin, end] = distributed::shard_of_batch(x.size(0), group->rank(), group->world_size());
  double correct = 0;
  if (end > begin) {
    const auto shard_y = y.narrow(0, begin, end - begin);
    correct = static_cast<double>(
        evaluate(trainable.logits, x.narrow(0, begin, end - begin), shard_y).predictions.eq(shard_y).sum().item<int64_t>());
  }
  std::vector<torch::Tensor> total{torch::tensor({correct}, torch::kFloat64)};
  group->all_reduce_sum(total);
  return total[0].item<double>() / static_cast<double>(x.size(0));
}

}  // namespace

std::string TrainProgress::to_json() const {
  nlohmann::json j;
  j["epochs_done"] = epochs_done;
  j["history"] = nlohmann::json::array();
  for (const auto& r : history) {
    j["history"].push_back({{"epoch", r.epoch},
                            {"loss", r.loss},
                            {"train_accuracy", r.train_accuracy},
                            {"test_accuracy", r.test_accuracy},
                            {"seconds", r.seconds}});
  }
  return j.dump();
}

TrainProgress TrainProgress::from_json(const std::string& text) {
  TrainProgress p;
  try {
    const auto j = nlohmann::json::parse(text);
    p.epochs_done = j.at("epochs_done").get<int64_t>();
    for (const auto& r : j.at("history")) {
      p.history.push_back({r.at("epoch").get<int64_t>(), r.at("loss").get<double>(),
                           r.at("train_accuracy").get<double>(), r.at("test_accuracy").get<double>(),
                           r.at("seconds").get<double>()});
    }
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(std::string("training progress in checkpoint is malformed: ") + e.what());
  }
  return p;
}

TrainResult train(Trainable& trainable, const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& x_test,
                  const torch::Tensor& y_test, const TrainOptions& options, TrainProgress start) {
  check_dataset(x, y, "training set");
  if (x_test.defined()) check_dataset(x_test, y_test, "test set");
  TORCH_CHECK(options.epochs() >= 0 && options.batch_size() >= 1 && options.learning_rate() > 0,
              "training options: epochs >= 0, batch_size >= 1 and learning_rate > 0 are required");
  TORCH_CHECK(!trainable.parameters.empty(), "training: nothing to train (no parameters selected)");

  FusedAdam optimizer(trainable.parameters, torch::optim::AdamOptions(options.learning_rate()));
  if (trainable.restore) trainable.restore(optimizer);

  TrainResult result{std::move(start), true, ""};
  ProgressLine progress(options.show_progress());
  const int64_t n = x.size(0);
  const int64_t batches = (n + options.batch_size() - 1) / options.batch_size();
  const auto run_start = Clock::now();
  const int64_t first_epoch = result.progress.epochs_done;

  for (int64_t epoch = first_epoch + 1; epoch <= options.epochs(); ++epoch) {
    const auto epoch_start = Clock::now();
    for (auto& group : optimizer.param_groups()) {
      static_cast<torch::optim::AdamOptions&>(group.options()).lr(epoch_learning_rate(options, epoch));
    }
    // The epoch's order depends only on (seed, epoch): resuming replays it.
    std::mt19937_64 rng(options.seed() * 1000003ULL + static_cast<uint64_t>(epoch));
    const auto order = torch::tensor(data::random_permutation(n, rng), torch::kLong);
    double loss_sum = 0;
    int64_t correct = 0, seen = 0;
    for (int64_t batch = 0; batch < batches; ++batch) {
      const auto global_idx = order.narrow(0, batch * options.batch_size(),
                                           std::min(options.batch_size(), n - batch * options.batch_size()));
      distributed::Group* group = options.group();
      const auto rows = global_idx.size(0);
      const auto [shard_begin, shard_end] =
          group ? distributed::shard_of_batch(rows, group->rank(), group->world_size()) : std::pair<int64_t, int64_t>{0, rows};
      const auto idx = global_idx.narrow(0, shard_begin, shard_end - shard_begin);
      // Freed, not zeroed: within a run every parameter that gets a gradient
      // gets one at every step, so Adam's update is the same either way.
      optimizer.zero_grad(/*set_to_none=*/true);
      // Each rank's loss is its shard's share of the global batch's mean, so the
      // summed gradients are the single-process ones (up to summation order).
      torch::Tensor logits, loss;
      double shard_mean = 0;
      int64_t shard_correct = 0;
      if (idx.size(0) > 0) {
        const auto xb = x.index_select(0, idx);
        const auto yb = y.index_select(0, idx);
        logits = trainable.logits(xb);
        loss = trainable.loss ? trainable.loss(logits, yb) : torch::nn::functional::cross_entropy(logits, yb);
        shard_mean = loss.item<double>();
        shard_correct = logits.argmax(1).eq(yb).sum().item<int64_t>();
      }
      if (loss.defined() && !loss.requires_grad()) {
        // Only reached when no trainable parameter enters the forward pass.
        throw std::invalid_argument(options.label() + ": none of the trainable parameters affects the loss "
                                    "(nothing to train)");
      }
      if (loss.defined()) (loss * (static_cast<double>(idx.size(0)) / static_cast<double>(rows))).backward();
      double loss_value = shard_mean;
      int64_t batch_correct = shard_correct;
      if (group) {
        auto totals = torch::tensor({shard_mean * static_cast<double>(idx.size(0)), static_cast<double>(shard_correct)}, torch::kFloat64);
        group->sum_gradients(trainable.parameters, {totals});
        loss_value = totals[0].item<double>() / static_cast<double>(rows);
        batch_correct = static_cast<int64_t>(totals[1].item<double>());
      }
      // Checked before the step (on every rank alike): the parameters stay those of the last good batch.
      if (!std::isfinite(loss_value)) {
        result.finished = false;
        result.message = fmt::format("{}: loss became {} in epoch {} (batch {}); stopped, keeping the checkpoint of "
                                     "epoch {}",
                                     options.label(), loss_value, epoch, batch + 1, epoch - 1);
        if (options.show_progress()) std::fprintf(stderr, "\n");
        return result;
      }
      optimizer.step();
      loss_sum += loss_value * static_cast<double>(rows);
      correct += batch_correct;
      seen += rows;
      const double done = static_cast<double>(epoch - 1 - first_epoch) + static_cast<double>(batch + 1) / batches;
      const double eta = seconds_since(run_start) / done * static_cast<double>(options.epochs() - first_epoch) -
                         seconds_since(run_start);
      progress.update(options.label(), epoch, options.epochs(), static_cast<double>(batch + 1) / batches,
                      loss_sum / seen, static_cast<double>(correct) / seen, eta);
    }
    EpochRecord record{epoch, loss_sum / n, static_cast<double>(correct) / n, -1, 0};
    if (x_test.defined()) record.test_accuracy = test_accuracy(trainable, x_test, y_test, options.group());
    record.seconds = seconds_since(epoch_start);
    result.progress.history.push_back(record);
    result.progress.epochs_done = epoch;
    if (trainable.save) trainable.save(TrainingState{result.progress.to_json(), &optimizer});
    const double per_epoch = seconds_since(run_start) / static_cast<double>(epoch - first_epoch);
    progress.epoch_done(options.label(), options.epochs(), record,
                        per_epoch * static_cast<double>(options.epochs() - epoch));
  }
  return result;
}

Evaluation evaluate(const std::function<torch::Tensor(const torch::Tensor&)>& logits, const torch::Tensor& x,
                    const torch::Tensor& y, int64_t batch_size) {
  check_dataset(x, y, "evaluation set");
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> probabilities;
  double loss_sum = 0;
  for (int64_t start = 0; start < x.size(0); start += batch_size) {
    const int64_t count = std::min(batch_size, x.size(0) - start);
    const auto l = logits(x.narrow(0, start, count));
    loss_sum += torch::nn::functional::cross_entropy(
                    l, y.narrow(0, start, count), torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                    .item<double>();
    probabilities.push_back(torch::softmax(l, 1));
  }
  Evaluation e;
  e.n = x.size(0);
  e.probabilities = torch::cat(probabilities, 0);
  e.predictions = e.probabilities.argmax(1);
  e.accuracy = e.predictions.eq(y).to(torch::kFloat64).mean().item<double>();
  e.loss = loss_sum / static_cast<double>(e.n);
  return e;
}

SampledAccuracy sampled_accuracy(const std::function<torch::Tensor(const torch::Tensor&, torch::Generator&)>& logits,
                                 const torch::Tensor& x, const torch::Tensor& y, int64_t seeds, uint64_t first_seed) {
  if (seeds < 1) throw std::invalid_argument(fmt::format("sampled_accuracy: seeds must be >= 1, got {}", seeds));
  SampledAccuracy out;
  for (int64_t s = 0; s < seeds; ++s) {
    auto generator = at::detail::createCPUGenerator(first_seed + static_cast<uint64_t>(s));
    out.accuracies.push_back(evaluate([&](const torch::Tensor& in) { return logits(in, generator); }, x, y).accuracy);
  }
  const auto a = torch::tensor(out.accuracies, torch::kFloat64);
  out.mean = a.mean().item<double>();
  out.std = seeds > 1 ? a.std().item<double>() : 0.0;
  return out;
}

}  // namespace hqrn
