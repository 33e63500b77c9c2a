#include "models/config.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

#include "models/errors.h"
#include "models/parse_number.h"
#include "torch_ext/limits.h"

namespace hqrn {

std::string to_string(Readout readout) {
  switch (readout) {
    case Readout::born: return "born";
    case Readout::linear: return "linear";
    case Readout::mlp: return "mlp";
  }
  return "?";
}

Readout parse_readout(const std::string& name) {
  if (name == "born") return Readout::born;
  if (name == "linear") return Readout::linear;
  if (name == "mlp") return Readout::mlp;
  throw InvalidInput("unknown readout '" + name + "' (expected born, linear or mlp)");
}

namespace {

// The field types' JSON and text forms, one overload set per type.
nlohmann::json json_value(int64_t v) { return v; }
nlohmann::json json_value(double v) { return v; }
nlohmann::json json_value(bool v) { return v; }
nlohmann::json json_value(Readout v) { return to_string(v); }
nlohmann::json json_value(const NoiseModel& v) {
  nlohmann::json channels = nlohmann::json::array();
  for (const auto& c : v.channels) channels.push_back({{"channel", to_string(c.kind)}, {"parameter", c.strength}});
  return {{"channels", channels}, {"readout", v.readout}};
}

void read_json(const nlohmann::json& j, int64_t& v) { v = j.get<int64_t>(); }
void read_json(const nlohmann::json& j, double& v) { v = j.get<double>(); }
void read_json(const nlohmann::json& j, bool& v) { v = j.get<bool>(); }
void read_json(const nlohmann::json& j, Readout& v) { v = parse_readout(j.get<std::string>()); }
// {"channels": [{"channel": name, "parameter": value}, ...], "readout": r}; nothing else.
void read_json(const nlohmann::json& j, NoiseModel& v) {
  const auto only_keys = [](const nlohmann::json& o, std::initializer_list<const char*> keys, const char* what) {
    require(o.is_object() && o.size() == keys.size(), "network config: ", what, " must be an object with exactly ",
            keys.size(), " keys, got ", o.dump());
    for (const auto* key : keys) require(o.contains(key), "network config: ", what, " lacks '", key, "'");
  };
  only_keys(j, {"channels", "readout"}, "noise");
  require(j.at("channels").is_array(), "network config: noise.channels must be a list");
  NoiseModel noise;
  for (const auto& c : j.at("channels")) {
    only_keys(c, {"channel", "parameter"}, "a noise channel");
    noise.channels.push_back({parse_channel_kind(c.at("channel").get<std::string>()), c.at("parameter").get<double>()});
  }
  noise.readout = j.at("readout").get<double>();
  v = noise;
}

std::string text_value(int64_t v) { return std::to_string(v); }
std::string text_value(double v) { return fmt::format("{}", v); }  // shortest exact form
std::string text_value(bool v) { return v ? "true" : "false"; }
std::string text_value(Readout v) { return to_string(v); }
std::string text_value(const NoiseModel& v) { return v.to_string(); }

bool read_text(const std::string& t, int64_t& v) {
  const auto parsed = parse_int64(t);
  if (parsed) v = *parsed;
  return parsed.has_value();
}
bool read_text(const std::string& t, double& v) {
  const auto parsed = parse_double(t);
  if (parsed) v = *parsed;
  return parsed.has_value();
}
bool read_text(const std::string& t, bool& v) {
  if (t == "true" || t == "1") return v = true, true;
  if (t == "false" || t == "0") return v = false, true;
  return false;
}
const char* kind_of(int64_t) { return "an integer"; }
const char* kind_of(double) { return "a number"; }
const char* kind_of(bool) { return "true or false"; }
const char* kind_of(Readout) { return "a readout"; }
const char* kind_of(const NoiseModel&) { return "a noise model"; }

bool read_text(const std::string& t, Readout& v) {
  v = parse_readout(t);
  return true;
}
bool read_text(const std::string& t, NoiseModel& v) {
  v = NoiseModel::parse(t);
  return true;
}

// Fields newer than the first checkpoints: absent from a config's JSON means
// their default (an old checkpoint is a noiseless network). Every other field
// is required.
constexpr const char* kFieldsWithDefaultInJson[] = {"noise"};
bool has_default_in_json(const char* name) {
  for (const auto* field : kFieldsWithDefaultInJson) {
    if (std::string(field) == name) return true;
  }
  return false;
}

}  // namespace

const std::vector<ConfigField>& NetworkConfig::fields() {
#define HQRN_FIELD_INFO(type, name, init, help, flag) ConfigField{#name, help, flag},
  static const std::vector<ConfigField> list{HQRN_NETWORK_CONFIG_FIELDS(HQRN_FIELD_INFO)};
#undef HQRN_FIELD_INFO
  return list;
}

NetworkConfig& NetworkConfig::set(const std::string& field, const std::string& text) {
#define HQRN_SET_FIELD(type, name, init, help, flag)                                                       \
  if (field == #name) {                                                                                    \
    if (!read_text(text, name##_))                                                                         \
      throw InvalidInput("network config: " #name " = '" + text + "' is not " + kind_of(name##_));       \
    return *this;                                                                                          \
  }
  HQRN_NETWORK_CONFIG_FIELDS(HQRN_SET_FIELD)
#undef HQRN_SET_FIELD
  throw InvalidInput("network config: unknown field '" + field + "'");
}

bool NetworkConfig::operator==(const NetworkConfig& other) const {
#define HQRN_FIELD_EQUAL(type, name, init, help, flag) \
  if (!(name##_ == other.name##_)) return false;
  HQRN_NETWORK_CONFIG_FIELDS(HQRN_FIELD_EQUAL)
#undef HQRN_FIELD_EQUAL
  return true;
}

std::string NetworkConfig::to_json() const {
  nlohmann::json j = nlohmann::json::object();
#define HQRN_FIELD_TO_JSON(type, name, init, help, flag) j[#name] = json_value(name##_);
  HQRN_NETWORK_CONFIG_FIELDS(HQRN_FIELD_TO_JSON)
#undef HQRN_FIELD_TO_JSON
  return j.dump();
}

std::string NetworkConfig::summary() const {
  std::string out;
#define HQRN_FIELD_SUMMARY(type, name, init, help, flag) \
  out += (out.empty() ? "" : " ") + std::string(#name "=") + text_value(name##_);
  HQRN_NETWORK_CONFIG_FIELDS(HQRN_FIELD_SUMMARY)
#undef HQRN_FIELD_SUMMARY
  return out;
}

NetworkConfig NetworkConfig::from_json(const std::string& text) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw InvalidInput(std::string("network config is not valid JSON: ") + e.what());
  }
  if (!j.is_object()) throw InvalidInput("network config is not a JSON object");
  NetworkConfig c;
  try {
#define HQRN_FIELD_FROM_JSON(type, name, init, help, flag) \
  if (j.contains(#name) || !has_default_in_json(#name)) read_json(j.at(#name), c.name##_);
    HQRN_NETWORK_CONFIG_FIELDS(HQRN_FIELD_FROM_JSON)
#undef HQRN_FIELD_FROM_JSON
  } catch (const nlohmann::json::exception& e) {
    throw InvalidInput(std::string("network config is missing a field or has a wrong type: ") + e.what());
  }
  c.validate();
  return c;
}

int64_t NetworkConfig::readout_width() const {
  if (readout_qubits_ > 0) return readout_qubits_;
  int64_t r = 0;
  while (r < 62 && (int64_t{1} << r) < classes_) ++r;  // bounded for any classes_
  return std::max<int64_t>(r, 1);
}

int64_t NetworkConfig::parameter_count(bool quantum_weights) const {
  // In double: the fields are bounded by validate(), but this must not overflow before it runs.
  const double n = static_cast<double>(qubits());
  const double width = static_cast<double>(branches_) * std::ldexp(1.0, static_cast<int>(std::min<int64_t>(readout_width(), 1000)));
  double count = static_cast<double>(branches_) * static_cast<double>(blocks_) * (quantum_weights ? 2 : 1) * (n * n + n);
  if (features_ > 0) count += static_cast<double>(features_ + 1) * static_cast<double>(data_qubits_);
  const double h = static_cast<double>(hidden_), c = static_cast<double>(classes_);
  if (readout_ == Readout::linear) count += (width + 1) * c;
  if (readout_ == Readout::mlp)
    count += (width + 1) * h + static_cast<double>(hidden_layers_ - 1) * (h + 1) * h + (h + 1) * c;
  return count > static_cast<double>(kMaxParameters) ? kMaxParameters + 1 : static_cast<int64_t>(count);
}

void NetworkConfig::validate() const {
  const auto fail = [](const std::string& what) { throw InvalidInput("network config: " + what); };
  // Field bounds first: a configuration from a file must not make the checks
  // below loop or the constructors allocate without bound.
  const auto bound = [&](int64_t value, int64_t limit, const char* name) {
    if (value > limit) fail(fmt::format("{} = {} is over the limit of {}", name, value, limit));
  };
  bound(classes_, kMaxClasses, "classes");
  bound(features_, kMaxFeatures, "features");
  bound(blocks_, kMaxBlocks, "blocks");
  bound(branches_, kMaxBranches, "branches");
  bound(hidden_, kMaxHidden, "hidden");
  bound(hidden_layers_, kMaxHiddenLayers, "hidden_layers");
  if (data_qubits_ < 0 || ancillas_ < 0) fail("data_qubits and ancillas must be >= 0");
  // Up to the vectors execution's limit; the density-matrix executions refuse
  // registers above kMaxQubits when a state is prepared.
  if (qubits() < 1 || qubits() > kMaxVectorQubits)
    fail("data_qubits + ancillas = " + std::to_string(qubits()) + " must be in 1.." + std::to_string(kMaxVectorQubits));
  if (features_ < 0) fail("features must be >= 0");
  if (!std::isfinite(feature_scale_) || feature_scale_ == 0) fail("feature_scale must be finite and non-zero");
  if (features_ > 0 && data_qubits_ < 1) fail("encoding features needs at least one data qubit");
  if (features_ == 0 && data_qubits_ < 1) fail("a state input needs at least one data qubit");
  if (blocks_ < 0) fail("blocks must be >= 0");
  if (branches_ < 1) fail("branches must be >= 1");
  if (classes_ < 2) fail("classes must be >= 2");
  if (readout_qubits_ < 0 || readout_width() > qubits())
    fail("readout_qubits = " + std::to_string(readout_width()) + " must be in 1.." + std::to_string(qubits()));
  if (readout_ == Readout::born && (int64_t{1} << readout_width()) < classes_)
    fail("the born readout needs 2^readout_qubits >= classes");
  if (readout_ == Readout::mlp && (hidden_ < 1 || hidden_layers_ < 1))
    fail("hidden and hidden_layers must be >= 1 for the mlp readout");
  if (!std::isfinite(init_std_) || init_std_ < 0) fail("init_std must be finite and >= 0");
  if (parameter_count() > kMaxParameters)
    fail(fmt::format("the network would have more than {} parameters", kMaxParameters));
  noise_.validate();
}

}  // namespace hqrn
