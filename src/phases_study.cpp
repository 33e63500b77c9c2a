#include "src/phases_study.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <vector>

#include "models/few_body_paulis.h"
#include "models/noise.h"
#include "models/tomography_mlp.h"
#include "src/checkpoint.h"
#include "src/clock.h"
#include "src/commands.h"
#include "src/data/csv.h"
#include "src/data/phases.h"
#include "src/data/state_vectors_file.h"
#include "src/experiments/phases.h"
#include "src/plot_script.h"
#include "src/safetensors.h"
#include "src/training.h"

namespace hqrn {

namespace {

namespace fs = std::filesystem;

struct Settings {
  std::vector<int> spins;
  int64_t line_points, plane_points, twin_pairs;
  int64_t epochs, batch_size;
  double learning_rate;
  std::vector<int64_t> shots;
};

Settings settings_for(const PhasesStudyOptions& o) {
  Settings s = o.quick ? Settings{{8}, 9, 5, 4, 2, 8, 0.02, {64}} : Settings{{8, 10, 12}, 33, 17, 16, 40, 8, 0.02,
                                                                            {64, 256, 1024, 4096}};
  if (!o.spins.empty()) s.spins = o.spins;
  if (!o.shots.empty()) s.shots = o.shots;
  if (o.line_points > 0) s.line_points = o.line_points;
  if (o.plane_points > 0) s.plane_points = o.plane_points;
  if (o.twin_pairs > 0) s.twin_pairs = o.twin_pairs;
  if (o.epochs > 0) s.epochs = o.epochs;
  for (const int n : s.spins) {
    if (n < kPhasesMinSpins || n > data::kMaxClusterIsingSpins) {
      throw std::invalid_argument(fmt::format("study phases: ring sizes must be in {}..{}, got {}", kPhasesMinSpins,
                                              data::kMaxClusterIsingSpins, n));
    }
  }
  for (const int64_t shots : s.shots) {
    if (shots < 1) throw std::invalid_argument(fmt::format("study phases: shots must be >= 1, got {}", shots));
  }
  if (o.shot_seeds < 1) throw std::invalid_argument(fmt::format("study phases: --shot-seeds must be >= 1, got {}", o.shot_seeds));
  return s;
}

bool exists(const std::string& path) { return fs::exists(fs::path(path)); }

// One set of the experiment as the models read it, with its points.
struct PhaseSet {
  std::string name;
  int64_t grid_points = 0;  // states the grid asks for (twins: 2 per pair); more than x holds when points were left out
  torch::Tensor x, y;  // component vectors [M, 1, 2^N] complex128, labels [M]
  torch::Tensor h1, h2, string_order, af_order;  // [M] float64
  double critical = 0;
  bool cached = false;
  double seconds = 0;
};

torch::Tensor column(const data::StateVectorDataset& d, const std::string& name, const std::string& path) {
  const auto it = std::find(d.parameter_names.begin(), d.parameter_names.end(), name);
  if (it == d.parameter_names.end()) throw std::runtime_error(fmt::format("{}: no parameter '{}'", path, name));
  return d.parameters.select(1, it - d.parameter_names.begin()).clone();
}

// The set from its cache file (written by an earlier run), or generated and
// cached. The file name holds the grid, so a cached file of another grid is
// never taken; one that does not read back (or is of another ring or set)
// is generated again.
PhaseSet load_or_generate(const std::string& folder, int spins, data::PhaseSet set, int64_t points,
                          const std::string& label) {
  const auto name = data::phase_set_name(set);
  const auto path = fmt::format("{}/data/N{}_{}{}.safetensors", folder, spins, name, points);
  const auto start = Clock::now();
  data::StateVectorDataset d;
  bool cached = false;
  if (exists(path)) {
    try {
      d = data::load_state_vectors(path);
      const auto set_entry = d.extra_metadata.find("set");
      cached = d.amplitudes.size(2) == (int64_t{1} << spins) && set_entry != d.extra_metadata.end() &&
               set_entry->second == name && d.extra_metadata.count("string_order_critical") == 1 &&
               d.parameters.defined();
      if (!cached) fmt::print("{}: {} is not a {} set of N = {}; generating it again\n", label, path, name, spins);
    } catch (const std::exception& e) {
      fmt::print("{}: cannot reuse {} ({}); generating it again\n", label, path, e.what());
    }
  }
  if (!cached) {
    data::PhaseRequest request;
    request.spins = spins;
    request.set = set;
    request.points = points;
    // Degenerate points of the plane (the antiferromagnetic corner on rings
    // with N = 2 mod 4; none at N = 8, 12, 16) are left out and listed
    // rather than stopping the study.
    request.skip_degenerate = set == data::PhaseSet::plane;
    fmt::print("{}: N = {}: generating the {} set ({} ground states)\n", label, spins, name,
               data::phase_points(request).size() * (set == data::PhaseSet::twins ? 2 : 1));
    std::fflush(stdout);
    const auto dataset = data::generate_phase_dataset(request);
    for (const auto& m : dataset.skipped) {
      fmt::print("{}: N = {}: left out the degenerate point h1 = {}, h2 = {}\n", label, spins, m.h1, m.h2);
    }
    d = data::to_state_vectors(dataset);
    fs::create_directories(fs::path(path).parent_path());
    data::save_state_vectors(path, d);
  }
  PhaseSet out;
  out.name = name;
  {
    data::PhaseRequest request;
    request.spins = spins;
    request.set = set;
    request.points = points;
    out.grid_points = static_cast<int64_t>(data::phase_points(request).size()) * (set == data::PhaseSet::twins ? 2 : 1);
  }
  out.x = d.amplitudes;
  out.y = d.labels;
  out.h1 = column(d, "h1", path);
  out.h2 = column(d, "h2", path);
  out.string_order = column(d, "string_order", path);
  out.af_order = column(d, "antiferromagnetic_order", path);
  out.critical = std::stod(d.extra_metadata.at("string_order_critical"));
  out.cached = cached;
  out.seconds = seconds_since(start);
  fmt::print("{}: N = {}: {} set, {} states{} ({} in {:.1f} s)\n", label, spins, name, out.x.size(0),
             out.grid_points > out.x.size(0) ? fmt::format(" ({} degenerate points left out)", out.grid_points - out.x.size(0)) : "",
             cached ? "read from " + path : "generated", out.seconds);
  return out;
}

// A trained model as the study scores it: the exact inputs of its head,
// computed once per set (readout distributions of the networks' branches,
// or the Pauli expectations), the head, and finite-shot estimates of those
// inputs.
struct Scored {
  std::string name;
  std::function<torch::Tensor(const torch::Tensor& states)> head_inputs;
  std::function<torch::Tensor(const torch::Tensor& inputs)> head;
  std::function<torch::Tensor(const torch::Tensor& inputs, int64_t shots, torch::Generator& g)> sample;
  std::string shots_meaning;
};

// Rows of phases_study.csv, rewritten (atomically) after every measurement.
struct Row {
  int spins;
  std::string model, set;
  int64_t shots;  // 0: exact
  double accuracy, accuracy_std;
  int64_t seeds;
};

class Table {
 public:
  explicit Table(std::string path) : path_(std::move(path)) {}
  void add(Row row) {
    rows_.push_back(std::move(row));
    std::string text = "spins,model,set,shots,accuracy,accuracy_std,seeds\n";
    for (const auto& r : rows_) {
      text += fmt::format("{},{},{},{},{:.6f},{:.6f},{}\n", r.spins, r.model, r.set, r.shots == 0 ? "exact" : std::to_string(r.shots),
                          r.accuracy, r.accuracy_std, r.seeds);
    }
    data::write_file_atomically(path_, text);
  }

 private:
  std::string path_;
  std::vector<Row> rows_;
};

// The Pauli MLP's parameters as a safetensors file (the networks have checkpoint.h).
void save_module(const torch::nn::Module& module, const std::string& path, const std::string& settings) {
  std::vector<safetensors::TensorBytes> tensors;
  for (const auto& p : module.named_parameters()) {
    const auto t = p.value().detach().to(torch::kFloat64).contiguous();
    std::vector<int64_t> shape(t.sizes().begin(), t.sizes().end());
    tensors.push_back({p.key(), "F64", shape,
                       std::string(static_cast<const char*>(t.data_ptr()), static_cast<size_t>(t.numel() * 8))});
  }
  data::write_file_atomically(path, safetensors::serialize({{"format", "hqrn-pauli-mlp"}, {"settings", settings}}, tensors));
}

// Loads what save_module wrote for the same settings; false (module
// untouched) for anything else.
bool load_module(torch::nn::Module& module, const std::string& path, const std::string& settings) {
  if (!exists(path)) return false;
  try {
    const auto file = safetensors::read_file(path);
    const auto it = file.metadata.find("settings");
    if (it == file.metadata.end() || it->second != settings) return false;
    torch::NoGradGuard no_grad;
    for (auto& p : module.named_parameters()) {
      const auto& info = file.tensor(p.key());
      if (info.dtype != "F64" || info.shape != std::vector<int64_t>(p.value().sizes().begin(), p.value().sizes().end())) {
        return false;
      }
      const auto bytes = file.bytes(info);
      auto values = torch::empty(p.value().sizes(), torch::kFloat64);
      std::memcpy(values.data_ptr(), bytes.data(), bytes.size());
      p.value().copy_(values);
    }
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

// Applies f to x in chunks without gradients and concatenates (states can be
// large: one N = 16 state is 1 MiB).
torch::Tensor chunked(const std::function<torch::Tensor(const torch::Tensor&)>& f, const torch::Tensor& x,
                      int64_t chunk) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> parts;
  for (int64_t start = 0; start < x.size(0); start += chunk) parts.push_back(f(x.narrow(0, start, std::min(chunk, x.size(0) - start))));
  return torch::cat(parts, 0);
}

class SpinsStudy {
 public:
  SpinsStudy(const PhasesStudyOptions& o, const Settings& s, int spins, Table& table, nlohmann::json& results,
             const std::function<void()>& write_results)
      : o_(o), s_(s), spins_(spins), table_(table), results_(results), write_results_(write_results),
        prefix_(fmt::format("{}/N{}", o.out, spins)), label_(fmt::format("{}: N = {}", o.label, spins)) {}

  void run() {
    const auto start = Clock::now();
    line_ = load_or_generate(o_.out, spins_, data::PhaseSet::line, s_.line_points, o_.label);
    plane_ = load_or_generate(o_.out, spins_, data::PhaseSet::plane, s_.plane_points, o_.label);
    twins_ = load_or_generate(o_.out, spins_, data::PhaseSet::twins, s_.twin_pairs, o_.label);
    auto& r = entry();
    r["spins"] = spins_;
    r["critical_string_order"] = plane_.critical;
    r["execution"] = to_string(o_.execution);
    for (const auto* set : {&line_, &plane_, &twins_}) {
      // left_out: degenerate points of the plane (at N = 10 the whole antiferromagnetic corner).
      r["sets"][set->name] = {{"states", set->x.size(0)}, {"spt", set->y.sum().item<int64_t>()},
                              {"left_out", set->grid_points - set->x.size(0)}, {"cached", set->cached},
                              {"seconds", set->seconds}};
    }
    const TaskData task{line_.x, line_.y, {}, {}, 2};
    config_ = find_experiment("phases").network(task);
    r["network"] = nlohmann::json::parse(config_.to_json());
    write_results_();

    score(hqrn_model());
    score(classical_model());
    score(pauli_model());
    score(string_model());
    r["seconds"] = seconds_since(start);
    write_results_();
  }

 private:
  nlohmann::json& entry() { return results_["runs"][std::to_string(spins_)]; }

  TrainOptions train_options(const std::string& model, int64_t epochs, int64_t batch_size, double lr) const {
    return TrainOptions()
        .epochs(epochs)
        .batch_size(batch_size)
        .learning_rate(lr)
        .seed(o_.seed)
        .show_progress(false)
        .label(fmt::format("{} {}", label_, model));
  }

  // What must match for a saved model to be reused.
  std::string settings_key(const std::string& model, const std::string& shape) const {
    return fmt::format("model={} shape={} line_points={} epochs={} batch={} lr={} seed={}", model, shape,
                       s_.line_points, s_.epochs, s_.batch_size, s_.learning_rate, o_.seed);
  }

  // Trains on the line, with a progress line about every fifth of the
  // epochs (no test set: the sets are scored once, after training).
  void fit(Trainable& t, const torch::Tensor& x_train, const std::string& model, nlohmann::json& record,
           int64_t epochs = 0, int64_t batch_size = 0, double lr = 0) {
    if (lr == 0) lr = s_.learning_rate;
    if (epochs == 0) epochs = s_.epochs;
    if (batch_size == 0) batch_size = s_.batch_size;
    const auto start = Clock::now();
    const int64_t every = std::max<int64_t>(1, epochs / 5);
    t.save = [&](const TrainingState& state) {
      const auto progress = TrainProgress::from_json(state.json);
      const auto& last = progress.history.back();
      if (last.epoch % every == 0 || last.epoch == epochs) {
        fmt::print("{} {}: epoch {}/{} loss {:.4f} line accuracy {:.2f}% ({:.0f} s)\n", label_, model, last.epoch,
                   epochs, last.loss, 100 * last.train_accuracy, seconds_since(start));
        std::fflush(stdout);
      }
    };
    fmt::print("{} {}: training on the line ({} states, {} epochs)\n", label_, model, x_train.size(0), epochs);
    std::fflush(stdout);
    const auto result = train(t, x_train, line_.y, {}, {}, train_options(model, epochs, batch_size, lr));
    if (!result.finished) throw std::runtime_error(result.message);
    write_history_csv(fmt::format("{}_{}_history.csv", prefix_, model), result.progress);
    record["train_seconds"] = seconds_since(start);
    record["epochs"] = epochs;
    record["final_loss"] = result.progress.history.empty() ? 0.0 : result.progress.history.back().loss;
  }

  // The record of a finished model (its settings and training time), or null.
  nlohmann::json saved_record(const std::string& model, const std::string& settings) const {
    const auto path = fmt::format("{}_{}.json", prefix_, model);
    if (!exists(path)) return nullptr;
    try {
      std::ifstream in(path);
      auto j = nlohmann::json::parse(in);
      if (j.at("settings").get<std::string>() == settings) return j;
    } catch (const std::exception&) {
    }
    return nullptr;
  }

  std::shared_ptr<ResidualNetworkImpl> network(bool quantum, nlohmann::json& record) {
    const std::string model = quantum ? "hqrn" : "classical";
    const auto ckpt = fmt::format("{}_{}.safetensors", prefix_, model);
    const auto settings = settings_key(model, config_.to_json());
    if (auto saved = saved_record(model, settings); !saved.is_null() && exists(ckpt)) {
      try {
        auto loaded = load_checkpoint(ckpt);
        if (loaded.config == config_ && (loaded.kind == ModelKind::hqrn) == quantum) {
          fmt::print("{} {}: reusing {} (trained by an earlier run)\n", label_, model, ckpt);
          record = saved;
          record["reused"] = true;
          return loaded.model;
        }
      } catch (const std::exception& e) {
        fmt::print("{} {}: cannot reuse {} ({}); training again\n", label_, model, ckpt, e.what());
      }
    }
    torch::manual_seed(o_.seed);
    std::shared_ptr<ResidualNetworkImpl> net =
        quantum ? std::shared_ptr<ResidualNetworkImpl>(HQRN(config_).ptr()) : ClassicalResNet(config_).ptr();
    const Mode mode = quantum ? Mode::quantum : Mode::classical;
    Trainable t;
    t.logits = [net, mode, this](const torch::Tensor& x) { return net->forward(x, mode, o_.execution); };
    t.parameters = net->parameters();
    fit(t, line_.x, model, record);
    save_checkpoint(*net, ckpt);
    record["settings"] = settings;
    record["checkpoint"] = ckpt;
    record["reused"] = false;
    data::write_file_atomically(fmt::format("{}_{}.json", prefix_, model), record.dump(2) + "\n");
    return net;
  }

  // Readout distributions [M, K, 2^r] of a network, in chunks sized so that a
  // chunk's branch copies stay within about 2^24 amplitudes.
  static torch::Tensor distributions(const std::shared_ptr<ResidualNetworkImpl>& net, const torch::Tensor& states,
                                     Mode mode, Execution execution) {
    const int64_t per_state = states.size(-1) * states.size(1) * net->config().branches();
    const int64_t chunk = std::max<int64_t>(1, (int64_t{1} << 24) / per_state);
    return chunked([&](const torch::Tensor& x) { return net->readout_distributions(x, mode, execution); }, states,
                   std::min<int64_t>(chunk, 256));
  }

  Scored scored_network(const std::shared_ptr<ResidualNetworkImpl>& net, bool quantum, const std::string& name) const {
    const Mode mode = quantum ? Mode::quantum : Mode::classical;
    const Execution execution = o_.execution;
    Scored m;
    m.name = name;
    m.head_inputs = [net, mode, execution](const torch::Tensor& x) { return distributions(net, x, mode, execution); };
    m.head = [net](const torch::Tensor& d) { return net->head->forward(d); };
    m.sample = [](const torch::Tensor& d, int64_t shots, torch::Generator& g) { return sample_shots(d, shots, g); };
    m.shots_meaning = "outcomes per branch and state";
    return m;
  }

  Scored hqrn_model() {
    auto& record = entry()["models"]["hqrn"];
    hqrn_ = network(true, record);
    record["representation"] = to_string(hqrn_->representation_for(line_.x, Mode::quantum, o_.execution));
    return scored_network(hqrn_, true, "hqrn");
  }

  Scored classical_model() {
    auto& record = entry()["models"]["classical"];
    classical_ = network(false, record);
    return scored_network(classical_, false, "classical");
  }

  Scored pauli_model() {
    const std::string model = "pauli_mlp";
    auto& record = entry()["models"][model];
    const int64_t features = few_body_pauli_count(spins_);
    const auto features_of = [](const torch::Tensor& x) {
      return chunked([](const torch::Tensor& part) { return few_body_pauli_expectations(part); }, x, 64);
    };
    torch::manual_seed(o_.seed);
    // The HQRN's head shape, on the Pauli expectations instead of readout distributions.
    pauli_ = TomographyMLP(features, config_.hidden(), config_.hidden_layers(), 2);
    const auto path = fmt::format("{}_{}.safetensors", prefix_, model);
    const auto settings = settings_key(model, fmt::format("features={} hidden={} layers={}", features,
                                                           config_.hidden(), config_.hidden_layers()));
    auto saved = saved_record(model, settings);
    if (!saved.is_null() && load_module(*pauli_, path, settings)) {
      fmt::print("{} {}: reusing {} (trained by an earlier run)\n", label_, model, path);
      record = saved;
      record["reused"] = true;
    } else {
      const auto start = Clock::now();
      const auto train_features = features_of(line_.x);
      const double feature_seconds = seconds_since(start);
      auto mlp = pauli_;
      Trainable t;
      t.logits = [mlp](const torch::Tensor& x) mutable { return mlp->forward(x); };
      t.parameters = pauli_->parameters();
      fit(t, train_features, model, record);
      record["feature_seconds_line"] = feature_seconds;
      save_module(*pauli_, path, settings);
      record["settings"] = settings;
      record["checkpoint"] = path;
      record["reused"] = false;
      data::write_file_atomically(fmt::format("{}_{}.json", prefix_, model), record.dump(2) + "\n");
    }
    record["features"] = features;
    auto mlp = pauli_;
    Scored m;
    m.name = model;
    m.head_inputs = features_of;
    m.head = [mlp](const torch::Tensor& f) mutable { return mlp->forward(f); };
    m.sample = [](const torch::Tensor& f, int64_t shots, torch::Generator& g) {
      return sample_pauli_expectations(f, shots, g);
    };
    m.shots_meaning = "outcomes per Pauli expectation and state";
    return m;
  }

  // The HQRN whose sweep measures the string order parameter (weights set
  // by hand, string_order_hqrn); only its linear head is trained on the line,
  // which places the threshold on S.
  Scored string_model() {
    const std::string model = "hqrn_string";
    auto& record = entry()["models"][model];
    torch::manual_seed(o_.seed);
    std::shared_ptr<ResidualNetworkImpl> net = string_order_hqrn(spins_).ptr();
    const auto ckpt = fmt::format("{}_{}.safetensors", prefix_, model);
    const auto settings = settings_key(model, net->config().to_json());
    auto saved = saved_record(model, settings);
    bool reused = false;
    if (!saved.is_null() && exists(ckpt)) {
      try {
        auto loaded = load_checkpoint(ckpt);
        if (loaded.config == net->config() && loaded.kind == ModelKind::hqrn) {
          fmt::print("{} {}: reusing {} (trained by an earlier run)\n", label_, model, ckpt);
          net = loaded.model;
          record = saved;
          record["reused"] = true;
          reused = true;
        }
      } catch (const std::exception& e) {
        fmt::print("{} {}: cannot reuse {} ({}); training again\n", label_, model, ckpt, e.what());
      }
    }
    if (!reused) {
      // The blocks are fixed, so the head trains on the line's readout
      // distributions, computed once; being cheap, on the whole line at once,
      // for ten times the epochs at five times the learning rate.
      const auto line_distributions = distributions(net, line_.x, Mode::quantum, o_.execution);
      Trainable t;
      t.logits = [net](const torch::Tensor& d) { return net->head->forward(d); };
      t.parameters = net->head->parameters();
      fit(t, line_distributions, model, record, 10 * s_.epochs, line_distributions.size(0), 5 * s_.learning_rate);
      save_checkpoint(*net, ckpt);
      record["settings"] = settings;
      record["checkpoint"] = ckpt;
      record["reused"] = false;
      record["trained"] = "head only; the block's weights are set by hand to measure the string order parameter";
      data::write_file_atomically(fmt::format("{}_{}.json", prefix_, model), record.dump(2) + "\n");
    }
    return scored_network(net, true, model);
  }

  // P(SPT) per point of each set, by model, for the CSVs.
  void write_points(const PhaseSet& set) {
    std::string text = "h1,h2,string_order,antiferromagnetic_order,label";
    for (const auto& [model, p] : p_spt_[set.name]) text += ",p_spt_" + model;
    text += "\n";
    const auto h1 = set.h1.accessor<double, 1>(), h2 = set.h2.accessor<double, 1>();
    const auto so = set.string_order.accessor<double, 1>(), af = set.af_order.accessor<double, 1>();
    const auto y = set.y.accessor<int64_t, 1>();
    for (int64_t i = 0; i < set.x.size(0); ++i) {
      text += fmt::format("{:.6f},{:.6f},{:.10f},{:.10f},{}", h1[i], h2[i], so[i], af[i], y[i]);
      for (const auto& [model, p] : p_spt_[set.name]) text += fmt::format(",{:.10f}", p[i].item<double>());
      text += "\n";
    }
    data::write_file_atomically(fmt::format("{}_{}.csv", prefix_, set.name), text);
  }

  void score(const Scored& m) {
    const auto start = Clock::now();
    auto& record = entry()["models"][m.name];
    for (const auto* set : {&line_, &plane_, &twins_}) {
      const auto inputs = m.head_inputs(set->x);
      torch::Tensor probabilities;
      {
        torch::NoGradGuard no_grad;
        probabilities = torch::softmax(m.head(inputs), 1);
      }
      p_spt_[set->name][m.name] = probabilities.select(1, 1).contiguous();
      const double acc = accuracy(probabilities, set->y);
      record[set->name + "_accuracy"] = acc;
      record[set->name + "_balanced_accuracy"] = balanced_accuracy(probabilities, set->y);
      table_.add({spins_, m.name, set->name, 0, acc, 0, 1});
      if (set == &twins_) {
        // Rows 2k and 2k + 1 are a dual pair: how many pairs get the same output.
        const auto pairs = probabilities.reshape({-1, 2, 2});
        const auto difference = (pairs.select(1, 0) - pairs.select(1, 1)).abs().amax(1);
        record["twins_identical_pairs"] = difference.eq(0).sum().item<int64_t>();
        record["twins_pairs"] = pairs.size(0);
        record["twins_max_pair_difference"] = difference.max().item<double>();
      }
      if (set == &line_) continue;
      // Finite shots: one estimate of the head's inputs per seed, from the same exact inputs.
      for (const int64_t shots : s_.shots) {
        const auto a = sampled_accuracy(
            [&](const torch::Tensor& in, torch::Generator& g) { return m.head(m.sample(in, shots, g)); }, inputs,
            set->y, o_.shot_seeds, o_.seed);
        record["shots"][set->name].push_back(
            {{"shots", shots}, {"accuracy_mean", a.mean}, {"accuracy_std", a.std}, {"accuracies", a.accuracies}});
        table_.add({spins_, m.name, set->name, shots, a.mean, a.std, o_.shot_seeds});
      }
    }
    record["shots_meaning"] = m.shots_meaning;
    record["eval_seconds"] = seconds_since(start);
    for (const auto* set : {&line_, &plane_, &twins_}) write_points(*set);
    fmt::print("{} {}: line {:.2f}%, plane {:.2f}% (balanced {:.2f}%), twins {:.2f}% ({} of {} pairs identical); "
               "scored in {:.1f} s\n",
               label_, m.name, 100 * record["line_accuracy"].get<double>(), 100 * record["plane_accuracy"].get<double>(),
               100 * record["plane_balanced_accuracy"].get<double>(), 100 * record["twins_accuracy"].get<double>(),
               record["twins_identical_pairs"].get<int64_t>(), record["twins_pairs"].get<int64_t>(),
               record["eval_seconds"].get<double>());
    std::fflush(stdout);
    write_results_();
  }

  const PhasesStudyOptions& o_;
  const Settings& s_;
  int spins_;
  Table& table_;
  nlohmann::json& results_;
  std::function<void()> write_results_;
  std::string prefix_, label_;
  PhaseSet line_, plane_, twins_;
  NetworkConfig config_;
  std::shared_ptr<ResidualNetworkImpl> hqrn_, classical_;
  TomographyMLP pauli_{nullptr};
  std::map<std::string, std::map<std::string, torch::Tensor>> p_spt_;  // set -> model -> [M]
};

}  // namespace

nlohmann::json phases_study(const PhasesStudyOptions& o) {
  const auto s = settings_for(o);
  const auto start = Clock::now();
  fs::create_directories(o.out);
  nlohmann::json results;
  results["spins"] = s.spins;
  results["settings"] = {{"line_points", s.line_points}, {"plane_points", s.plane_points},
                         {"plane_h2_points", 2 * s.plane_points - 1}, {"twin_pairs", s.twin_pairs},
                         {"epochs", s.epochs}, {"batch_size", s.batch_size}, {"learning_rate", s.learning_rate},
                         {"shots", s.shots}, {"shot_seeds", o.shot_seeds}, {"seed", o.seed}, {"quick", o.quick},
                         {"execution", to_string(o.execution)}, {"threads", at::get_num_threads()}};
  const auto write = [&] {
    results["seconds"] = seconds_since(start);
    data::write_file_atomically(o.out + "/results.json", results.dump(2) + "\n");
  };
  Table table(o.out + "/phases_study.csv");
  for (const int spins : s.spins) SpinsStudy(o, s, spins, table, results, write).run();
  write();
  return results;
}

int run_phases_study(const PhasesStudyOptions& o) {
  const auto results = phases_study(o);
  fmt::print("\nphases: accuracy against the reference labels (exact readouts)\n");
  fmt::print("{:>3} {:<10} {:>8} {:>8} {:>8} {:>10}\n", "N", "model", "line", "plane", "twins", "train s");
  for (const auto& [n, run] : results["runs"].items()) {
    for (const auto& [model, r] : run["models"].items()) {
      fmt::print("{:>3} {:<10} {:>7.2f}% {:>7.2f}% {:>7.2f}% {:>10.1f}\n", n, model,
                 100 * r["line_accuracy"].get<double>(), 100 * r["plane_accuracy"].get<double>(),
                 100 * r["twins_accuracy"].get<double>(), r.value("train_seconds", 0.0));
    }
  }
  fmt::print("wrote {0}/results.json and {0}/phases_study.csv ({1:.0f} s)\n", o.out, results["seconds"].get<double>());
  if (o.plots) run_plot_script("plot_phases.py", o.out);
  return 0;
}

}  // namespace hqrn
