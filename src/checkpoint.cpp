#include "src/checkpoint.h"

#include <fmt/format.h>
#include <fmt/ranges.h>  // fmt::join (fmt 11 moved it here)

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

#include "src/data/csv.h"
#include "src/legacy_checkpoint.h"
#include "src/optimizer_state_key.h"
#include "src/safetensors.h"

namespace hqrn {

namespace {

namespace st = safetensors;

constexpr const char* kFormat = "hqrn";
constexpr const char* kOptimizerPrefix = "optimizer.";
// The Adam state kept per trained parameter, as tensors named
// optimizer.<parameter>.<field>; the step count is an I64 scalar.
constexpr const char* kAdamFields[] = {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"};

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
  throw CheckpointError(fmt::format("{}: {}", path, problem));
}

static_assert(sizeof(double) == 8 && sizeof(float) == 4, "safetensors stores IEEE binary64 and binary32");

bool host_is_little_endian() {
  const uint16_t probe = 1;
  unsigned char first = 0;
  std::memcpy(&first, &probe, 1);
  return first == 1;
}

const char* dtype_name(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat64: return "F64";
    case torch::kFloat32: return "F32";
    case torch::kInt64: return "I64";
    default: throw std::invalid_argument(fmt::format("checkpoint: cannot store tensors of dtype {}", c10::toString(t)));
  }
}

st::TensorBytes tensor_bytes(const std::string& name, const torch::Tensor& t) {
  const auto c = t.detach().to(torch::kCPU).contiguous();
  std::vector<int64_t> shape(c.sizes().begin(), c.sizes().end());
  return {name, dtype_name(c.scalar_type()), shape,
          std::string(static_cast<const char*>(c.data_ptr()), static_cast<size_t>(c.numel() * c.element_size()))};
}

// Copies a stored tensor into `target` after checking its dtype and shape.
void copy_into(const st::File& file, const st::TensorInfo& info, torch::Tensor target, const std::string& what) {
  const auto expected_dtype = dtype_name(target.scalar_type());
  if (info.dtype != expected_dtype) {
    fail(file.source, fmt::format("{} '{}' is {}, expected {}", what, info.name, info.dtype, expected_dtype));
  }
  if (!target.sizes().equals(info.shape)) {
    fail(file.source, fmt::format("{} '{}' has shape [{}], expected [{}]", what, info.name, fmt::join(info.shape, ", "),
                                  fmt::join(target.sizes(), ", ")));
  }
  const auto bytes = file.bytes(info);
  torch::NoGradGuard no_grad;
  auto staged = torch::empty(target.sizes(), target.options().requires_grad(false));
  if (!bytes.empty()) std::memcpy(staged.data_ptr(), bytes.data(), bytes.size());
  target.copy_(staged);
}

std::shared_ptr<ResidualNetworkImpl> make_network(ModelKind kind, const NetworkConfig& config) {
  if (kind == ModelKind::hqrn) return HQRN(config).ptr();
  return ClassicalResNet(config).ptr();
}

const std::string& required_metadata(const st::File& file, const std::string& key) {
  const auto found = file.metadata.find(key);
  if (found == file.metadata.end()) fail(file.source, fmt::format("not an HQRN checkpoint (no '{}' in __metadata__)", key));
  return found->second;
}

// The parameter name of each tensor the optimizer trains, from the model.
std::string name_of(const ResidualNetworkImpl& model, const torch::Tensor& parameter) {
  for (const auto& item : model.named_parameters()) {
    if (item.value().is_same(parameter)) return item.key();
  }
  throw std::invalid_argument("checkpoint: the optimizer trains a tensor that is not a parameter of the model");
}

st::File read_checkpoint_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, fmt::format("cannot open checkpoint ({})", std::strerror(errno)));
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) fail(path, "cannot read checkpoint");
  if (is_legacy_checkpoint(bytes)) {
    fail(path, "checkpoint in the old LibTorch-archive format, which is unsafe to read from others; if you trust "
               "the file, convert it: hqrn convert-checkpoint --from FILE --out NEW");
  }
  st::File file;
  try {
    file = st::parse(bytes, path);
  } catch (const st::FormatError& e) {
    throw CheckpointError(e.what());
  }
  if (required_metadata(file, "format") != kFormat) {
    fail(path, fmt::format("not an HQRN checkpoint (format '{}')", file.metadata.at("format")));
  }
  const auto& version = required_metadata(file, "format_version");
  if (version != std::to_string(kCheckpointFormatVersion)) {
    fail(path, fmt::format("checkpoint format version {} is not supported (this build reads {})", version,
                           kCheckpointFormatVersion));
  }
  if (st::sha256_hex(file.data) != required_metadata(file, "data_sha256")) {
    fail(path, "checkpoint is corrupt (the data's SHA-256 differs from data_sha256)");
  }
  return file;
}

}  // namespace

std::string to_string(ModelKind kind) { return kind == ModelKind::hqrn ? "hqrn" : "classical"; }

void save_checkpoint(const ResidualNetworkImpl& model, const std::string& path, const TrainingState& training) {
  if (!host_is_little_endian()) throw std::runtime_error("checkpoint: writing needs a little-endian host");
  std::vector<st::TensorBytes> tensors;
  for (const auto& item : model.named_parameters()) tensors.push_back(tensor_bytes(item.key(), item.value()));
  for (const auto& item : model.named_buffers()) tensors.push_back(tensor_bytes(item.key(), item.value()));
  if (training.optimizer != nullptr) {
    auto* adam = dynamic_cast<torch::optim::Adam*>(training.optimizer);
    if (adam == nullptr) throw std::invalid_argument("checkpoint: only Adam's state can be saved");
    for (const auto& group : adam->param_groups()) {
      for (const auto& p : group.params()) {
        const auto found = adam->state().find(optimizer_state_key(p));
        if (found == adam->state().end()) continue;  // not stepped yet
        const auto& s = static_cast<const torch::optim::AdamParamState&>(*found->second);
        const auto prefix = kOptimizerPrefix + name_of(model, p) + ".";
        tensors.push_back(tensor_bytes(prefix + "step", torch::tensor(s.step(), torch::kInt64)));
        const torch::Tensor fields[] = {s.exp_avg(), s.exp_avg_sq(), s.max_exp_avg_sq()};
        for (size_t k = 0; k < 3; ++k) {
          if (fields[k].defined()) tensors.push_back(tensor_bytes(prefix + kAdamFields[k], fields[k]));
        }
      }
    }
  }
  std::string data_bytes;
  for (const auto& t : tensors) data_bytes += t.bytes;
  std::map<std::string, std::string> metadata = {
      {"format", kFormat},
      {"format_version", std::to_string(kCheckpointFormatVersion)},
      {"kind", to_string(model.has_quantum_weights() ? ModelKind::hqrn : ModelKind::classical)},
      {"config", model.config().to_json()},
      {"dtype", model.real_dtype() == torch::kFloat32 ? "float32" : "float64"},
      {"data_sha256", st::sha256_hex(data_bytes)}};
  if (!training.json.empty()) metadata["training"] = training.json;
  data::write_file_atomically(path, st::serialize(metadata, tensors));
}

LoadedCheckpoint load_checkpoint(const std::string& path) {
  const auto file = read_checkpoint_file(path);
  LoadedCheckpoint loaded{ModelKind::hqrn, NetworkConfig{}, nullptr, ""};
  const auto& kind = required_metadata(file, "kind");
  if (kind == "classical") {
    loaded.kind = ModelKind::classical;
  } else if (kind != "hqrn") {
    fail(path, fmt::format("unknown model kind '{}' in checkpoint", kind));
  }
  try {
    loaded.config = NetworkConfig::from_json(required_metadata(file, "config"));
  } catch (const std::invalid_argument& e) {
    fail(path, e.what());
  }
  const auto& dtype = required_metadata(file, "dtype");
  if (dtype != "float32" && dtype != "float64") fail(path, fmt::format("unknown parameter dtype '{}' in checkpoint", dtype));
  // data_sha256 covers the tensors, not the header: a configuration edited to
  // ask for more than the file holds is refused before the network is built.
  const int64_t values = loaded.config.parameter_count(loaded.kind == ModelKind::hqrn);
  if (static_cast<uint64_t>(values) > file.data.size() / (dtype == "float32" ? 4 : 8)) {
    fail(path, fmt::format("the configuration implies {} parameter values, more than the checkpoint's {} bytes of "
                           "data hold", values, file.data.size()));
  }
  loaded.model = make_network(loaded.kind, loaded.config);
  if (dtype == "float32") loaded.model->to(torch::kFloat32);
  // Every tensor the configuration implies, with its shape; nothing else
  // except optimizer state.
  std::set<std::string> expected;
  const auto load_named = [&](const torch::OrderedDict<std::string, torch::Tensor>& named, const char* what) {
    for (const auto& item : named) {
      expected.insert(item.key());
      bool found = false;
      for (const auto& info : file.tensors) {
        if (info.name == item.key()) {
          copy_into(file, info, item.value(), what);
          found = true;
        }
      }
      if (!found) fail(path, fmt::format("{} '{}' is missing from the checkpoint", what, item.key()));
    }
  };
  load_named(loaded.model->named_parameters(), "parameter");
  load_named(loaded.model->named_buffers(), "buffer");
  for (const auto& info : file.tensors) {
    if (expected.count(info.name) == 0 && info.name.rfind(kOptimizerPrefix, 0) != 0) {
      fail(path, fmt::format("tensor '{}' is not part of a {} network with this configuration", info.name, kind));
    }
  }
  // A model's parameters must be finite; a corrupt file can decode to NaN.
  for (const auto& item : loaded.model->named_parameters()) {
    if (!torch::isfinite(item.value()).all().item<bool>()) fail(path, fmt::format("parameter '{}' holds NaN or Inf", item.key()));
  }
  const auto training = file.metadata.find("training");
  if (training != file.metadata.end()) loaded.training_json = training->second;
  return loaded;
}

void restore_optimizer(const std::string& path, const ResidualNetworkImpl& model, torch::optim::Optimizer& optimizer) {
  const auto file = read_checkpoint_file(path);
  auto* adam = dynamic_cast<torch::optim::Adam*>(&optimizer);
  if (adam == nullptr) throw std::invalid_argument("checkpoint: only Adam's state can be restored");
  std::set<std::string> restored;
  for (const auto& group : adam->param_groups()) {
    for (const auto& p : group.params()) {
      const auto prefix = kOptimizerPrefix + name_of(model, p) + ".";
      const st::TensorInfo* step = nullptr;
      for (const auto& info : file.tensors) {
        if (info.name == prefix + "step") step = &info;
      }
      if (step == nullptr) continue;  // never stepped when saved
      auto state = std::make_unique<torch::optim::AdamParamState>();
      auto steps = torch::zeros({}, torch::kInt64);
      copy_into(file, *step, steps, "optimizer state");
      if (steps.item<int64_t>() < 0) fail(path, fmt::format("optimizer state '{}' is negative", step->name));
      state->step(steps.item<int64_t>());
      restored.insert(step->name);
      for (size_t k = 0; k < 3; ++k) {
        const auto name = prefix + kAdamFields[k];
        for (const auto& info : file.tensors) {
          if (info.name != name) continue;
          auto value = torch::zeros_like(p, p.options().requires_grad(false));
          copy_into(file, info, value, "optimizer state");
          if (k == 0) state->exp_avg(value);
          if (k == 1) state->exp_avg_sq(value);
          if (k == 2) state->max_exp_avg_sq(value);
          restored.insert(name);
        }
      }
      if (!state->exp_avg().defined() || !state->exp_avg_sq().defined()) {
        fail(path, fmt::format("optimizer state of '{}' is incomplete", prefix.substr(0, prefix.size() - 1)));
      }
      adam->state()[optimizer_state_key(p)] = std::move(state);
    }
  }
  bool any = false;
  for (const auto& info : file.tensors) {
    if (info.name.rfind(kOptimizerPrefix, 0) != 0) continue;
    any = true;
    if (restored.count(info.name) == 0) {
      fail(path, fmt::format("optimizer state '{}' belongs to no parameter this run trains", info.name));
    }
  }
  if (!any) fail(path, "checkpoint holds no optimizer state to resume from");
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
