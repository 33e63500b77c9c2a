#include "models/config.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <stdexcept>

namespace hqrn {

namespace {
// Dense density matrices of this many qubits already need gigabytes.
constexpr int64_t kMaxQubits = 14;
}  // namespace

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
  throw std::invalid_argument("unknown readout '" + name + "' (expected born, linear or mlp)");
}

int64_t NetworkConfig::readout_width() const {
  if (readout_qubits_ > 0) return readout_qubits_;
  int64_t r = 0;
  while ((int64_t{1} << r) < classes_) ++r;
  return std::max<int64_t>(r, 1);
}

void NetworkConfig::validate() const {
  const auto fail = [](const std::string& what) { throw std::invalid_argument("network config: " + what); };
  if (data_qubits_ < 0 || ancillas_ < 0) fail("data_qubits and ancillas must be >= 0");
  if (qubits() < 1 || qubits() > kMaxQubits)
    fail("data_qubits + ancillas = " + std::to_string(qubits()) + " must be in 1.." + std::to_string(kMaxQubits));
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
}

std::string NetworkConfig::to_json() const {
  nlohmann::json j = {{"data_qubits", data_qubits_}, {"ancillas", ancillas_},   {"features", features_},
                      {"feature_scale", feature_scale_},
                      {"blocks", blocks_},           {"branches", branches_},   {"classes", classes_},
                      {"readout", to_string(readout_)}, {"readout_qubits", readout_qubits_},
                      {"hidden", hidden_},           {"hidden_layers", hidden_layers_}, {"init_std", init_std_},           {"log_readout", log_readout_}};
  return j.dump();
}

NetworkConfig NetworkConfig::from_json(const std::string& text) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("network config is not valid JSON: ") + e.what());
  }
  NetworkConfig c;
  try {
    c.data_qubits(j.at("data_qubits").get<int64_t>())
        .ancillas(j.at("ancillas").get<int64_t>())
        .features(j.at("features").get<int64_t>())
        .feature_scale(j.at("feature_scale").get<double>())
        .blocks(j.at("blocks").get<int64_t>())
        .branches(j.at("branches").get<int64_t>())
        .classes(j.at("classes").get<int64_t>())
        .readout(parse_readout(j.at("readout").get<std::string>()))
        .readout_qubits(j.at("readout_qubits").get<int64_t>())
        .hidden(j.at("hidden").get<int64_t>())
        .hidden_layers(j.at("hidden_layers").get<int64_t>())
        .init_std(j.at("init_std").get<double>())
        .log_readout(j.at("log_readout").get<bool>());
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("network config is missing a field or has a wrong type: ") + e.what());
  }
  c.validate();
  return c;
}

}  // namespace hqrn
