#include "src/noise_study.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <vector>

#include "models/noise.h"
#include "models/pauli_measurements.h"
#include "models/tomography_mlp.h"
#include "src/clock.h"
#include "src/data/csv.h"
#include "src/data/entanglement.h"
#include "src/experiments/experiment.h"
#include "src/plot_script.h"
#include "src/training.h"

namespace hqrn {

namespace {

struct FamilySettings {
  int64_t n_train, n_test, epochs;
};

struct StudySettings {
  FamilySettings dephased, marginal, random;
  std::vector<double> strengths;
  std::vector<int64_t> shots;  // 0: exact
  const FamilySettings& of(data::Family f) const {
    return f == data::Family::random ? random : f == data::Family::adversarial_dephased ? dephased : marginal;
  }
};

StudySettings study_settings(bool quick) {
  if (quick) return {{200, 100, 1}, {200, 100, 1}, {200, 100, 1}, {0, 0.1}, {16, 0}};
  return {{6000, 2000, 6},
          {6000, 2000, 6},
          {12000, 2000, 6},
          {0, 0.001, 0.003, 0.01, 0.03, 0.1},
          {16, 64, 256, 1024, 4096, 0}};
}

struct Row {
  std::string axis, family, value, model;
  double accuracy = 0, accuracy_std = 0;
  int64_t seeds = 1;
};

// The rows so far, rewritten (atomically) after every measurement so an
// interrupted study keeps what it measured.
class StudyTable {
 public:
  explicit StudyTable(std::string path) : path_(std::move(path)) {}
  void add(Row row) {
    fmt::print("  {} {} = {}: {} {:.4f}{}\n", row.family, row.axis, row.value, row.model, row.accuracy,
               row.seeds > 1 ? fmt::format(" +- {:.4f}", row.accuracy_std) : "");
    rows_.push_back(std::move(row));
    std::string text = "axis,family,value,model,accuracy,accuracy_std,seeds\n";
    for (const auto& r : rows_) {
      text += fmt::format("{},{},{},{},{:.6f},{:.6f},{}\n", r.axis, r.family, r.value, r.model, r.accuracy,
                          r.accuracy_std, r.seeds);
    }
    data::write_file_atomically(path_, text);
  }
  nlohmann::json to_json() const {
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& r : rows_) {
      rows.push_back({{"axis", r.axis}, {"family", r.family}, {"value", r.value}, {"model", r.model},
                      {"accuracy", r.accuracy}, {"accuracy_std", r.accuracy_std}, {"seeds", r.seeds}});
    }
    return rows;
  }

 private:
  std::string path_;
  std::vector<Row> rows_;
};

NoiseModel depolarizing(double p) {
  NoiseModel noise;
  if (p > 0) noise.channels.push_back({ChannelKind::depolarizing, p});
  return noise;
}

class FamilyStudy {
 public:
  FamilyStudy(const NoiseStudyOptions& o, const StudySettings& s, data::Family family, StudyTable& table)
      : o_(o), s_(s), name_(data::family_name(family)), table_(table) {
    const auto& fs = s.of(family);
    const auto& entanglement = find_experiment("entanglement");
    DataRequest request;
    request.family = name_;
    request.n_train = fs.n_train;
    request.n_test = fs.n_test;
    request.seed = o.seed + 10;
    task_ = entanglement.load(request);
    config_ = entanglement.network(task_);
    options_ = TrainOptions().epochs(fs.epochs).batch_size(128).learning_rate(0.01).seed(o.seed);
  }

  void run() {
    const auto hqrn_noiseless = train_network(true, NoiseModel{});
    const auto classical_noiseless = train_network(false, NoiseModel{});
    auto tomography_noiseless = train_tomography(NoiseModel{});
    // The noiseless models' exact accuracies, measured once: they are the
    // p = 0 points (where (a) and (b) coincide) and the "exact" shots points.
    const double hqrn_exact = accuracy(hqrn_noiseless);
    const double tomography_exact = tomography_accuracy(tomography_noiseless, NoiseModel{});
    const double classical_exact = accuracy(classical_noiseless);
    for (const double p : s_.strengths) {
      const auto value = fmt::format("{}", p);
      if (p == 0) {
        for (const char* model : {"hqrn_trained_noiseless", "hqrn_trained_noisy"}) add("depolarizing", value, model, hqrn_exact);
        add("depolarizing", value, "tomography", tomography_exact);
        add("depolarizing", value, "classical", classical_exact);
        continue;
      }
      const auto noise = depolarizing(p);
      hqrn_noiseless->set_noise(noise);
      add("depolarizing", value, "hqrn_trained_noiseless", accuracy(hqrn_noiseless));
      hqrn_noiseless->set_noise(NoiseModel{});
      add("depolarizing", value, "hqrn_trained_noisy", accuracy(train_network(true, noise)));
      add("depolarizing", value, "tomography", tomography_accuracy(train_tomography(noise), noise));
      add("depolarizing", value, "classical", accuracy(train_network(false, noise)));
    }
    // Shots, noiseless: (a) and (b) coincide, so the HQRN appears once.
    for (const int64_t shots : s_.shots) {
      if (shots == 0) {
        add("shots", "exact", "hqrn_trained_noiseless", hqrn_exact);
        add("shots", "exact", "tomography", tomography_exact);
        add("shots", "exact", "classical", classical_exact);
        continue;
      }
      const auto value = std::to_string(shots);
      add_shots(value, "hqrn_trained_noiseless", [&](const torch::Tensor& x, torch::Generator& g) {
        return hqrn_noiseless->forward_sampled(x, shots, g, Mode::quantum, o_.execution);
      });
      add_shots(value, "tomography", [&](const torch::Tensor& x, torch::Generator& g) {
        // `shots` outcomes for each of the nine settings.
        const auto counts = sample_shots(measured_pauli_settings(x, NoiseModel{}), shots, g);
        return tomography_noiseless->forward(pauli_features_from_settings(counts));
      });
      add_shots(value, "classical", [&](const torch::Tensor& x, torch::Generator& g) {
        return classical_noiseless->forward_sampled(x, shots, g, Mode::classical);
      });
    }
  }

 private:
  using SampledLogits = std::function<torch::Tensor(const torch::Tensor&, torch::Generator&)>;

  std::shared_ptr<ResidualNetworkImpl> train_network(bool quantum, const NoiseModel& noise) {
    const NetworkConfig config = NetworkConfig(config_).noise(noise);
    torch::manual_seed(o_.seed);
    std::shared_ptr<ResidualNetworkImpl> model =
        quantum ? std::shared_ptr<ResidualNetworkImpl>(HQRN(config).ptr()) : ClassicalResNet(config).ptr();
    const Mode mode = quantum ? Mode::quantum : Mode::classical;
    Trainable t;
    t.logits = [model, mode, this](const torch::Tensor& x) { return model->forward(x, mode, o_.execution); };
    t.parameters = model->parameters();
    run_training(t, task_.x_train, fmt::format("{} {} {}", name_, quantum ? "hqrn" : "classical", noise.to_string()));
    return model;
  }

  TomographyMLP train_tomography(const NoiseModel& noise) {
    torch::manual_seed(o_.seed);
    // The same head as the HQRN's, on the 15 Pauli expectations instead of measurement outcomes.
    TomographyMLP model(15, config_.hidden(), config_.hidden_layers(), 2);
    Trainable t;
    t.logits = [model](const torch::Tensor& x) mutable { return model->forward(x); };
    t.parameters = model->parameters();
    run_training(t, features(task_.x_train, noise), fmt::format("{} tomography {}", name_, noise.to_string()));
    return model;
  }

  void run_training(Trainable& t, const torch::Tensor& x, const std::string& label) {
    const auto result = train(t, x, task_.y_train, {}, {}, TrainOptions(options_).label(label));
    if (!result.finished) throw std::runtime_error(label + ": " + result.message);
  }

  static torch::Tensor features(const torch::Tensor& states, const NoiseModel& noise) {
    torch::NoGradGuard no_grad;
    return pauli_features_from_settings(measured_pauli_settings(states, noise));
  }

  double accuracy(const std::shared_ptr<ResidualNetworkImpl>& model) const {
    const Mode mode = model->has_quantum_weights() ? Mode::quantum : Mode::classical;
    return evaluate([&](const torch::Tensor& x) { return model->forward(x, mode, o_.execution); }, task_.x_test,
                    task_.y_test).accuracy;
  }

  double tomography_accuracy(TomographyMLP model, const NoiseModel& noise) const {
    return evaluate([&](const torch::Tensor& x) { return model->forward(x); }, features(task_.x_test, noise),
                    task_.y_test).accuracy;
  }

  void add(const std::string& axis, const std::string& value, const std::string& model, double accuracy) {
    table_.add({axis, name_, value, model, accuracy, 0.0, 1});
  }

  void add_shots(const std::string& value, const std::string& model, const SampledLogits& logits) {
    const auto a = sampled_accuracy(logits, task_.x_test, task_.y_test, o_.shot_seeds, o_.seed);
    table_.add({"shots", name_, value, model, a.mean, a.std, o_.shot_seeds});
  }

  const NoiseStudyOptions& o_;
  const StudySettings& s_;
  std::string name_;
  StudyTable& table_;
  TaskData task_;
  NetworkConfig config_;
  TrainOptions options_;
};

}  // namespace

int run_noise_study(const NoiseStudyOptions& o) {
  if (o.shot_seeds < 1) throw std::invalid_argument(fmt::format("study noise: --shot-seeds must be >= 1, got {}", o.shot_seeds));
  const auto start = std::chrono::steady_clock::now();
  std::filesystem::create_directories(o.out);
  const auto s = study_settings(o.quick);
  StudyTable table(o.out + "/noise_study.csv");
  for (const auto family : {data::Family::random, data::Family::adversarial_dephased, data::Family::adversarial_marginal}) {
    fmt::print("noise study: {}\n", data::family_name(family));
    FamilyStudy(o, s, family, table).run();
  }
  nlohmann::json j;
  j["rows"] = table.to_json();
  j["depolarizing"] = s.strengths;
  j["shots"] = s.shots;
  j["shot_seeds"] = o.shot_seeds;
  j["seed"] = o.seed;
  j["quick"] = o.quick;
  j["execution"] = to_string(o.execution);
  for (const auto family : {data::Family::random, data::Family::adversarial_dephased, data::Family::adversarial_marginal}) {
    const auto& fs = s.of(family);
    j["families"][data::family_name(family)] = {{"n_train", fs.n_train}, {"n_test", fs.n_test}, {"epochs", fs.epochs}};
  }
  j["seconds"] = seconds_since(start);
  data::write_file_atomically(o.out + "/noise_study.json", j.dump(2) + "\n");
  fmt::print("wrote {0}/noise_study.csv and {0}/noise_study.json ({1:.0f} s)\n", o.out, j["seconds"].get<double>());
  if (o.plots) run_plot_script("plot_noise_study.py", o.out);
  return 0;
}

}  // namespace hqrn
