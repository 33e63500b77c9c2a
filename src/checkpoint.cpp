#include "src/checkpoint.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <sstream>
#include <stdexcept>

#include "src/data/csv.h"

namespace hqrn {

namespace {

constexpr const char* kFormatKey = "hqrn_format_version";
constexpr const char* kKindKey = "hqrn_model_kind";
constexpr const char* kConfigKey = "hqrn_config";
constexpr const char* kTrainingKey = "hqrn_training";
constexpr const char* kOptimizerKey = "hqrn_optimizer";
constexpr const char* kDtypeKey = "hqrn_real_dtype";

ModelKind parse_kind(const std::string& name, const std::string& path) {
  if (name == "hqrn") return ModelKind::hqrn;
  if (name == "classical") return ModelKind::classical;
  throw std::runtime_error(fmt::format("{}: unknown model kind '{}' in checkpoint", path, name));
}

std::string read_string(torch::serialize::InputArchive& archive, const char* key, const std::string& path) {
  c10::IValue value;
  if (!archive.try_read(key, value) || !value.isString()) {
    throw std::runtime_error(fmt::format("{}: not an HQRN checkpoint (no '{}' entry)", path, key));
  }
  return value.toStringRef();
}

std::shared_ptr<ResidualNetworkImpl> make_network(ModelKind kind, const NetworkConfig& config) {
  if (kind == ModelKind::hqrn) return HQRN(config).ptr();
  return ClassicalResNet(config).ptr();
}

}  // namespace

std::string to_string(ModelKind kind) { return kind == ModelKind::hqrn ? "hqrn" : "classical"; }

void save_checkpoint(const ResidualNetworkImpl& model, const std::string& path, const TrainingState& training) {
  torch::serialize::OutputArchive archive;
  model.save(archive);
  archive.write(kFormatKey, c10::IValue(kCheckpointFormatVersion));
  archive.write(kKindKey, c10::IValue(to_string(model.has_quantum_weights() ? ModelKind::hqrn : ModelKind::classical)));
  archive.write(kConfigKey, c10::IValue(model.config().to_json()));
  archive.write(kDtypeKey, c10::IValue(std::string(model.real_dtype() == torch::kFloat32 ? "float32" : "float64")));
  if (!training.json.empty()) archive.write(kTrainingKey, c10::IValue(training.json));
  if (training.optimizer != nullptr) {
    torch::serialize::OutputArchive optimizer_archive;
    training.optimizer->save(optimizer_archive);
    archive.write(kOptimizerKey, optimizer_archive);
  }
  std::ostringstream bytes;
  archive.save_to(bytes);
  data::write_file_atomically(path, bytes.str());
}

namespace {
torch::serialize::InputArchive open_archive(const std::string& path) {
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path);
  } catch (const c10::Error& e) {
    throw std::runtime_error(fmt::format("{}: cannot read checkpoint (missing, truncated or corrupt): {}", path,
                                         e.what_without_backtrace()));
  }
  return archive;
}
}  // namespace

LoadedCheckpoint load_checkpoint(const std::string& path) {
  auto archive = open_archive(path);
  c10::IValue version;
  if (!archive.try_read(kFormatKey, version) || !version.isInt()) {
    throw std::runtime_error(fmt::format("{}: not an HQRN checkpoint (no format version)", path));
  }
  if (version.toInt() != kCheckpointFormatVersion) {
    throw std::runtime_error(fmt::format("{}: checkpoint format version {} is not supported (this build reads {})",
                                         path, version.toInt(), kCheckpointFormatVersion));
  }
  LoadedCheckpoint loaded{parse_kind(read_string(archive, kKindKey, path), path), NetworkConfig{}, nullptr, ""};
  try {
    loaded.config = NetworkConfig::from_json(read_string(archive, kConfigKey, path));
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(fmt::format("{}: {}", path, e.what()));
  }
  loaded.model = make_network(loaded.kind, loaded.config);
  // LibTorch's archive keeps the model's dtype over the stored tensors, so the
  // model must already have the saved precision.
  const auto dtype = read_string(archive, kDtypeKey, path);
  if (dtype == "float32") {
    loaded.model->to(torch::kFloat32);
  } else if (dtype != "float64") {
    throw std::runtime_error(fmt::format("{}: unknown parameter dtype '{}' in checkpoint", path, dtype));
  }
  try {
    loaded.model->load(archive);
    c10::IValue training;
    if (archive.try_read(kTrainingKey, training) && training.isString()) loaded.training_json = training.toStringRef();
  } catch (const c10::Error& e) {
    throw std::runtime_error(fmt::format("{}: checkpoint does not match its configuration: {}", path,
                                         e.what_without_backtrace()));
  }
  // A model's parameters must be finite; a corrupt file can decode to NaN.
  for (const auto& item : loaded.model->named_parameters()) {
    if (!torch::isfinite(item.value()).all().item<bool>()) {
      throw std::runtime_error(fmt::format("{}: parameter '{}' holds NaN or Inf", path, item.key()));
    }
  }
  return loaded;
}

void restore_optimizer(const std::string& path, torch::optim::Optimizer& optimizer) {
  auto archive = open_archive(path);
  torch::serialize::InputArchive optimizer_archive;
  if (!archive.try_read(kOptimizerKey, optimizer_archive)) {
    throw std::runtime_error(fmt::format("{}: checkpoint holds no optimizer state to resume from", path));
  }
  try {
    optimizer.load(optimizer_archive);
  } catch (const c10::Error& e) {
    throw std::runtime_error(fmt::format("{}: optimizer state does not fit the model: {}", path,
                                         e.what_without_backtrace()));
  }
}

namespace {
template <typename Holder>
Holder load_as(const std::string& path, ModelKind expected) {
  auto loaded = load_checkpoint(path);
  if (loaded.kind != expected) {
    throw std::runtime_error(fmt::format("{}: holds a {} model, expected {}", path, to_string(loaded.kind),
                                         to_string(expected)));
  }
  return Holder(std::dynamic_pointer_cast<typename Holder::ContainedType>(loaded.model));
}
}  // namespace

HQRN load_hqrn(const std::string& path) { return load_as<HQRN>(path, ModelKind::hqrn); }

ClassicalResNet load_classical_resnet(const std::string& path) {
  return load_as<ClassicalResNet>(path, ModelKind::classical);
}

void load_classical(ResidualNetworkImpl& hqrn_model, const ResidualNetworkImpl& classical) {
  const auto target = hqrn_model.named_parameters();
  const auto quantum = hqrn_model.quantum_parameters();
  std::vector<std::string> problems;
  // Same names and shapes are not enough: fields such as feature_scale or the
  // register split change what the weights compute.
  const auto mine = nlohmann::json::parse(hqrn_model.config().to_json());
  const auto theirs = nlohmann::json::parse(classical.config().to_json());
  for (const auto& [field, value] : mine.items()) {
    if (field != "init_std" && theirs.value(field, nlohmann::json()) != value) {
      problems.push_back(fmt::format("config field '{}' is {} in the checkpoint but {} in the HQRN", field,
                                     theirs.value(field, nlohmann::json()).dump(), value.dump()));
    }
  }
  for (const auto& item : classical.named_parameters()) {
    const auto* found = target.find(item.key());
    if (found == nullptr) {
      problems.push_back(fmt::format("'{}' is in the classical checkpoint but not in the HQRN", item.key()));
    } else if (!found->sizes().equals(item.value().sizes())) {
      problems.push_back(fmt::format("'{}' has shape {} in the checkpoint but {} in the HQRN", item.key(),
                                     fmt::join(item.value().sizes(), "x"), fmt::join(found->sizes(), "x")));
    }
  }
  const auto source = classical.named_parameters();
  for (const auto& item : target) {
    bool is_quantum = false;
    for (const auto& q : quantum) is_quantum = is_quantum || item.value().is_same(q);
    if (!is_quantum && source.find(item.key()) == nullptr) {
      problems.push_back(fmt::format("'{}' of the HQRN is missing from the classical checkpoint", item.key()));
    }
  }
  if (!problems.empty()) {
    throw std::runtime_error(fmt::format("classical checkpoint does not fit this HQRN:\n  {}", fmt::join(problems, "\n  ")));
  }
  torch::NoGradGuard no_grad;
  for (const auto& item : source) target[item.key()].copy_(item.value());
}

void load_classical(ResidualNetworkImpl& hqrn_model, const std::string& classical_path, bool zero_quantum) {
  const auto loaded = load_checkpoint(classical_path);
  try {
    load_classical(hqrn_model, *loaded.model);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(fmt::format("{}: {}", classical_path, e.what()));
  }
  if (zero_quantum) {
    torch::NoGradGuard no_grad;
    for (auto& q : hqrn_model.quantum_parameters()) q.zero_();
  }
}

HQRN translate_classical(const ResidualNetworkImpl& classical) {
  HQRN model(classical.config());
  model->to(classical.real_dtype());
  load_classical(*model, classical);
  torch::NoGradGuard no_grad;
  for (auto& q : model->quantum_parameters()) q.zero_();
  return model;
}

}  // namespace hqrn
