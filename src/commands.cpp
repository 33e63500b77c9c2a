#include "src/commands.h"

#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <sstream>
#include <stdexcept>

#include "models/noise.h"
#include "src/checkpoint.h"
#include "src/clock.h"
#include "src/distributed/group.h"
#include "src/safetensors.h"
#include "src/legacy_checkpoint.h"
#include "src/circuit_export.h"
#include "src/data/csv.h"
#include "src/data/entanglement.h"
#include "src/data/state_csv.h"
#include "src/data/state_vectors_file.h"

namespace hqrn {

namespace {

// The loader's default tolerance; invalid states are projected when asked.
data::StateCheck state_check(bool project) {
  data::StateCheck check;
  check.project = project;
  return check;
}

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

void check_labels(const torch::Tensor& labels, int64_t classes, const std::string& path) {
  const int64_t max_label = labels.max().item<int64_t>();
  if (max_label >= classes) {
    throw std::runtime_error(fmt::format("{}: label {} is out of range for a model with {} classes", path, max_label,
                                         classes));
  }
}

// Training that cannot move the loss is refused before it starts, with the
// same answer in every execution: the quantum-only weights V, a act only
// through coherences, and a network fed diagonal states has none.
void check_trainable(const ResidualNetworkImpl& model, const TrainCommand& cmd, Mode mode, const TaskData& task) {
  if (!cmd.freeze_classical) return;
  if (model.quantum_parameters().empty()) {
    throw std::invalid_argument(
        "train: --freeze-classical leaves nothing to train: the network has no residual blocks, so no "
        "quantum-only weights V, a");
  }
  if (mode == Mode::classical) {
    throw std::invalid_argument(
        "train: --freeze-classical with --mode classical trains nothing: classical mode runs on probability "
        "vectors, where the quantum-only weights V, a never act; use --mode quantum");
  }
  std::string why;
  if (model.config().features() > 0) {
    why = "its input is classical features, which the angle encoder prepares as diagonal (computational-basis) "
          "states";
  } else {
    const auto& x = task.x_train;
    const bool diagonal =
        x.dim() == 2 || (x - torch::diag_embed(x.diagonal(0, 1, 2))).abs().max().item<double>() == 0;
    if (diagonal) why = "every training state is diagonal (a classical distribution)";
  }
  if (!why.empty()) {
    throw std::invalid_argument(fmt::format(
        "train: --freeze-classical trains only the quantum-only weights V, a, but no quantum input reaches this "
        "network: {}. On diagonal inputs the HQRN equals its classical analog exactly for every value of V and a "
        "(the exactness theorem, docs/model.md), so they have no effect and their gradient is zero. Train the "
        "classical weights instead (drop --freeze-classical), or fine-tune on quantum states (--task "
        "entanglement, or --data with a state CSV)",
        why));
  }
}

// The exact readout distributions [B, K, 2^r] (the head's input, readout
// error included), one row per sample and branch: outcome o is the readout
// register's basis index, its first qubit the most significant bit.
void write_readout_csv(const std::string& path, ResidualNetworkImpl& model, const torch::Tensor& x, Mode mode,
                       Execution execution) {
  torch::NoGradGuard no_grad;
  const int64_t outcomes = int64_t{1} << model.config().readout_width();
  std::ostringstream csv;
  csv << "sample,branch";
  for (int64_t o = 0; o < outcomes; ++o) csv << ",p" << o;
  csv << "\n";
  constexpr int64_t batch = 256;
  for (int64_t start = 0; start < x.size(0); start += batch) {
    const int64_t count = std::min(batch, x.size(0) - start);
    const auto d =
        model.readout_distributions(x.narrow(0, start, count), mode, execution).to(torch::kFloat64).contiguous();
    const auto acc = d.accessor<double, 3>();
    for (int64_t i = 0; i < count; ++i) {
      for (int64_t k = 0; k < d.size(1); ++k) {
        csv << start + i << "," << k;
        for (int64_t o = 0; o < outcomes; ++o) csv << fmt::format(",{:.17g}", acc[i][k][o]);
        csv << "\n";
      }
    }
  }
  data::write_file_atomically(path, csv.str());
}

}  // namespace

NetworkConfig ConfigOverrides::apply(NetworkConfig config) const {
  for (const auto& [field, text] : values) config.set(field, text);
  config.validate();
  return config;
}

std::string ConfigOverrides::last(const std::string& field) const {
  std::string out;
  for (const auto& [name, text] : values) {
    if (name == field) out = text;
  }
  return out;
}

void write_history_csv(const std::string& path, const TrainProgress& progress) {
  std::string text = "epoch,loss,train_accuracy,test_accuracy,seconds\n";
  for (const auto& r : progress.history) {
    text += fmt::format("{},{:.17g},{:.17g},{},{:.3f}\n", r.epoch, r.loss, r.train_accuracy,
                        r.test_accuracy >= 0 ? fmt::format("{:.17g}", r.test_accuracy) : "", r.seconds);
  }
  data::write_file_atomically(path, text);
}

namespace {
// SHA-256 of a tensor's values, for the ranks' same-data check.
std::string tensor_digest(const torch::Tensor& t) {
  const auto c = t.contiguous();
  return safetensors::sha256_hex(
      std::string_view(static_cast<const char*>(c.data_ptr()), static_cast<size_t>(c.numel() * c.element_size())));
}
}  // namespace

int run_train(const TrainCommand& cmd) {
  if (cmd.out.empty()) throw std::invalid_argument("train: --out is required");
  if (cmd.model != "hqrn" && cmd.model != "classical") {
    throw std::invalid_argument("train: --model must be hqrn or classical, got '" + cmd.model + "'");
  }
  const bool is_hqrn = cmd.model == "hqrn";
  if (cmd.freeze_classical && !is_hqrn) throw std::invalid_argument("train: --freeze-classical needs --model hqrn");

  const Experiment& experiment = find_experiment(cmd.task);
  const TaskData task = experiment.load(cmd.data);

  // Model: resumed, initialised from a checkpoint, or fresh.
  std::shared_ptr<ResidualNetworkImpl> model;
  TrainProgress start;
  const bool resuming = cmd.resume && file_exists(cmd.out);
  if (resuming) {
    auto loaded = load_checkpoint(cmd.out);
    if ((loaded.kind == ModelKind::hqrn) != is_hqrn) {
      throw std::runtime_error(fmt::format("{}: cannot resume a {} run as --model {}", cmd.out,
                                           to_string(loaded.kind), cmd.model));
    }
    model = loaded.model;
    if (!loaded.training_json.empty()) start = TrainProgress::from_json(loaded.training_json);
    fmt::print(stderr, "resuming {} from epoch {}\n", cmd.out, start.epochs_done);
  } else if (!cmd.init.empty()) {
    auto loaded = load_checkpoint(cmd.init);
    if (is_hqrn && loaded.kind == ModelKind::classical) {
      model = translate_classical(*loaded.model).ptr();
    } else if ((loaded.kind == ModelKind::hqrn) == is_hqrn) {
      model = loaded.model;
    } else {
      throw std::runtime_error(fmt::format("{}: an HQRN checkpoint cannot initialise a classical analog", cmd.init));
    }
  } else {
    const NetworkConfig config = cmd.shape.apply(experiment.network(task));
    torch::manual_seed(cmd.options.seed());
    model = is_hqrn ? std::shared_ptr<ResidualNetworkImpl>(HQRN(config).ptr()) : ClassicalResNet(config).ptr();
  }
  // The noise model of a loaded network can be changed (noise-aware
  // fine-tuning); a resumed run keeps its own.
  if (const auto noise_text = cmd.shape.last("noise"); !noise_text.empty() && (resuming || !cmd.init.empty())) {
    const auto noise = NoiseModel::parse(noise_text);
    if (resuming && noise != model->config().noise()) {
      throw std::invalid_argument(fmt::format("train: {} was trained with noise {}; --resume cannot change it to {}",
                                              cmd.out, model->config().noise().to_string(), noise.to_string()));
    }
    model->set_noise(noise);
  }
  check_labels(task.y_train, model->config().classes(), cmd.data.data.empty() ? "training data" : cmd.data.data);

  const Mode mode = is_hqrn ? cmd.mode : Mode::classical;
  check_trainable(*model, cmd, mode, task);
  Trainable trainable;
  trainable.logits = [&](const torch::Tensor& x) { return model->forward(x, mode, cmd.execution); };
  trainable.loss = experiment.loss;
  if (cmd.freeze_classical) {
    model->set_classical_trainable(false);
    trainable.parameters = model->quantum_parameters();
  } else {
    trainable.parameters = model->parameters();
  }
  // Data parallel when a launcher started this process (torchrun, the Slurm wrapper).
  std::unique_ptr<distributed::Group> group;
  TrainOptions options = cmd.options;
  if (const auto env = distributed::read_launch_environment([](const char* name) { return std::getenv(name); })) {
    group = std::make_unique<distributed::Group>(*env, std::chrono::milliseconds(cmd.distributed_timeout_ms));
    // Every rank must train the same network on the same data with the same options.
    // The parameters' digest covers the initialisation and, when resuming, the checkpoint each rank read.
    std::string parameters_digest;
    for (const auto& p : model->parameters()) parameters_digest += tensor_digest(p.detach());
    group->require_same(
        "configuration, data and starting point",
        fmt::format("{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}", model->config().to_json(), cmd.model, to_string(mode),
                    tensor_digest(task.x_train), tensor_digest(task.y_train),
                    task.x_test.defined() ? tensor_digest(task.x_test) + tensor_digest(task.y_test) : "-",
                    safetensors::sha256_hex(parameters_digest), start.epochs_done, options.seed(),
                    options.batch_size(), options.epochs(), options.learning_rate(), options.cosine_schedule(),
                    cmd.freeze_classical));
    options.group(group.get()).show_progress(options.show_progress() && env->rank == 0);
    fmt::print(stderr, "rank {} of {}: data parallel, {} intra-op threads\n", env->rank, env->world_size,
               at::get_num_threads());
  }
  const bool writes_checkpoints = !group || group->rank() == 0;
  trainable.save = [&](const TrainingState& state) {
    if (!writes_checkpoints) return;
    // The history beside the checkpoint after every epoch: an interrupted run keeps both.
    save_checkpoint(*model, cmd.out, state);
    write_history_csv(cmd.out + ".history.csv", TrainProgress::from_json(state.json));
  };
  if (resuming) trainable.restore = [&](torch::optim::Optimizer& opt) { restore_optimizer(cmd.out, *model, opt); };

  if (writes_checkpoints) {
    fmt::print(stderr, "training {} ({} mode) on {} samples: {}\n", cmd.model, to_string(mode),
               task.x_train.size(0), model->config().summary());
  }
  const auto train_start = Clock::now();
  const double collectives_before = group ? group->collective_seconds() : 0;
  const auto result = train(trainable, task.x_train, task.y_train, task.x_test, task.y_test, options, start);
  if (group) {
    // Time in collectives includes waiting for the slowest rank.
    const double seconds = seconds_since(train_start);
    const double in_collectives = group->collective_seconds() - collectives_before;
    fmt::print(stderr, "rank {}: {:.3f} s of {:.3f} s of training in collectives ({:.1f}%)\n", group->rank(),
               in_collectives, seconds, 100 * in_collectives / std::max(seconds, 1e-9));
  }
  if (!result.finished) {
    fmt::print(stderr, "error: {}\n", result.message);
    return 3;
  }
  if (!writes_checkpoints) return 0;
  if (result.progress.history.empty()) trainable.save(TrainingState{result.progress.to_json()});
  const auto& last = result.progress.history.empty() ? EpochRecord{} : result.progress.history.back();
  fmt::print("saved {} (train accuracy {:.2f}%{})\n", cmd.out, 100 * last.train_accuracy,
             last.test_accuracy >= 0 ? fmt::format(", test accuracy {:.2f}%", 100 * last.test_accuracy) : "");
  return 0;
}

int run_convert_checkpoint(const std::string& from, const std::string& out) {
  fmt::print(stderr, "warning: {} is read with LibTorch's archive reader, which is not safe on files from others; "
                     "convert only files you trust\n", from);
  // The training progress travels; the old optimizer state does not (a
  // resumed run restarts Adam's moments).
  const auto kind = convert_legacy_checkpoint(from, out);
  fmt::print("converted {} ({} checkpoint) into {}\n", from, to_string(kind), out);
  return 0;
}

int run_translate(const std::string& from, const std::string& out) {
  const auto loaded = load_checkpoint(from);
  if (loaded.kind != ModelKind::classical) {
    throw std::runtime_error(fmt::format("{}: holds an HQRN already; translate reads a classical-analog checkpoint", from));
  }
  auto model = translate_classical(*loaded.model);
  save_checkpoint(*model, out);
  fmt::print("translated {} into the HQRN {} (quantum-only weights zero)\n", from, out);
  return 0;
}

int run_eval(const EvalCommand& cmd) {
  if (cmd.model.empty() || cmd.data.empty()) throw std::invalid_argument("eval: --model and --data are required");
  const auto loaded = load_checkpoint(cmd.model);
  Mode mode = loaded.kind == ModelKind::hqrn ? Mode::quantum : Mode::classical;
  if (!cmd.mode.empty()) mode = parse_mode(cmd.mode);
  if (mode == Mode::quantum && loaded.kind == ModelKind::classical) {
    throw std::invalid_argument(fmt::format("{}: a classical analog runs in classical mode only", cmd.model));
  }
  const Experiment& experiment = experiment_for(loaded.config);
  const auto [x, y] = experiment.read(cmd.data, loaded.config, state_check(cmd.project_states));
  check_labels(y, loaded.config.classes(), cmd.data);
  if (cmd.shots < 0) throw std::invalid_argument(fmt::format("eval: --shots must be >= 1, got {}", cmd.shots));
  if (cmd.shot_seeds < 1) {
    throw std::invalid_argument(fmt::format("eval: --shot-seeds must be >= 1, got {}", cmd.shot_seeds));
  }
  auto model = loaded.model;
  if (!cmd.noise.empty()) model->set_noise(NoiseModel::parse(cmd.noise));
  model->eval();
  std::string conversion_line;
  nlohmann::json j_conversion;
  if (x.dim() == 3 && x.size(1) == x.size(2) && x.is_complex() &&
      model->representation_for(x, mode, cmd.execution) == Representation::vectors) {
    // The network converts each density matrix again when it runs; this
    // pass only measures what the conversion drops.
    const auto converted = to_state_vectors(x);
    const auto dropped = converted.dropped_weight.abs();
    j_conversion = {{"eigenvalue_tolerance", kEigenvalueTolerance},
                    {"rank", converted.vectors.size(1)},
                    {"dropped_weight_max", dropped.max().item<double>()},
                    {"dropped_weight_mean", dropped.mean().item<double>()}};
    conversion_line = fmt::format("; density matrices as rank-{} vectors (eigenvalues <= {:g} dropped, weight dropped "
                                  "at most {:.3g})",
                                  converted.vectors.size(1), kEigenvalueTolerance, dropped.max().item<double>());
  }
  const auto e = evaluate([&](const torch::Tensor& in) { return model->forward(in, mode, cmd.execution); }, x, y);
  nlohmann::json j = {{"accuracy", e.accuracy}, {"n", e.n},          {"loss", e.loss},
                      {"mode", to_string(mode)}, {"model", cmd.model}, {"data", cmd.data},
                      {"model_kind", to_string(loaded.kind)}, {"task", experiment.name},
                      {"noise", model->config().noise().to_string()}};
  for (const auto& metric : experiment.metrics) j[metric.name] = metric.value(e.probabilities, y);
  j["execution"] = to_string(model->representation_for(x, mode, cmd.execution));
  if (!j_conversion.is_null()) j["vectors_conversion"] = j_conversion;
  std::string shots_line;
  if (cmd.shots > 0) {
    // One independent sample of every readout distribution per seed.
    const auto a = sampled_accuracy([&](const torch::Tensor& in, torch::Generator& generator) {
      return model->forward_sampled(in, cmd.shots, generator, mode, cmd.execution);
    }, x, y, cmd.shot_seeds, cmd.seed);
    j["shots"] = {{"shots", cmd.shots}, {"seeds", cmd.shot_seeds}, {"first_seed", cmd.seed},
                  {"accuracies", a.accuracies}, {"accuracy_mean", a.mean}, {"accuracy_std", a.std}};
    shots_line = fmt::format("; with {} shots per branch {:.4f} +- {:.4f} (mean and std over {} seeds)", cmd.shots,
                             a.mean, a.std, cmd.shot_seeds);
  }
  if (!cmd.json.empty()) data::write_file_atomically(cmd.json, j.dump(2) + "\n");
  if (!cmd.predictions.empty()) {
    std::ostringstream csv;
    csv << "label,predicted";
    for (int64_t c = 0; c < e.probabilities.size(1); ++c) csv << ",p" << c;
    csv << "\n";
    const auto probs = e.probabilities.to(torch::kFloat64).contiguous();
    for (int64_t i = 0; i < e.n; ++i) {
      csv << y[i].item<int64_t>() << "," << e.predictions[i].item<int64_t>();
      for (int64_t c = 0; c < probs.size(1); ++c) csv << fmt::format(",{:.17g}", probs[i][c].item<double>());
      csv << "\n";
    }
    data::write_file_atomically(cmd.predictions, csv.str());
  }
  if (!cmd.readout.empty()) write_readout_csv(cmd.readout, *model, x, mode, cmd.execution);
  fmt::print("{}: accuracy {:.4f} on {} samples ({} mode{}){}{}\n", cmd.model, e.accuracy, e.n, to_string(mode),
             model->config().noise().is_noiseless() ? "" : ", noise " + model->config().noise().to_string(),
             shots_line, conversion_line);
  return 0;
}

int run_gen_states(const std::string& family, int64_t n, uint64_t seed, const std::string& out) {
  const auto states = data::generate_states(data::parse_family(family), n, seed);
  data::save_state_csv(out, states);
  fmt::print("wrote {} {} states to {}\n", n, family, out);
  return 0;
}

int run_gen_phases(const data::PhaseRequest& request, const std::string& out) {
  const auto start = Clock::now();
  const auto dataset = data::generate_phase_dataset(request);
  data::save_state_vectors(out, data::to_state_vectors(dataset));
  double smallest_gap = dataset.samples.front().ground.gap;
  for (const auto& s : dataset.samples) smallest_gap = std::min(smallest_gap, s.ground.gap);
  fmt::print("wrote {} {} states of the cluster-Ising ring (N = {}) to {} in {:.1f} s; S_c = {:.6f}, smallest gap {:.3g}\n",
             dataset.samples.size(), data::phase_set_name(dataset.set), dataset.spins, out, seconds_since(start),
             dataset.critical_string_order, smallest_gap);
  for (const auto& m : dataset.skipped) {
    fmt::print("skipped the degenerate point h1 = {}, h2 = {} (gap below {:.3g})\n", m.h1, m.h2, request.ground.min_gap);
  }
  return 0;
}

int run_export_qasm(const std::string& model_path, const std::string& prefix) {
  auto loaded = load_checkpoint(model_path);
  for (const auto& file : export_openqasm(*loaded.model, prefix)) fmt::print("wrote {}\n", file);
  return 0;
}

}  // namespace hqrn
