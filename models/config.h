// Shape of a residual network, shared by the HQRN and its classical analog
// and saved with every checkpoint so that loading needs no flags.
#pragma once

#include <torch/arg.h>

#include <cstdint>
#include <string>
#include <vector>

#include "models/noise_model.h"

namespace hqrn {

// Bounds on the fields, so that a configuration read from a file cannot make
// validation loop or construction allocate without bound: far above any
// network these simulations can train (kMaxParameters doubles is 512 MiB).
constexpr int64_t kMaxClasses = int64_t{1} << 16;
constexpr int64_t kMaxFeatures = int64_t{1} << 20;
constexpr int64_t kMaxBlocks = 1024;
constexpr int64_t kMaxBranches = 1024;
constexpr int64_t kMaxHidden = int64_t{1} << 16;
constexpr int64_t kMaxHiddenLayers = 64;
constexpr int64_t kMaxParameters = int64_t{1} << 26;

// Class read-out from the readout register's Z distribution.
enum class Readout {
  born,    // first C outcomes, renormalised: purely quantum
  linear,  // Linear over the branches' readout distributions (hybrid)
  mlp,     // one hidden layer instead of Linear (hybrid)
};

std::string to_string(Readout readout);
Readout parse_readout(const std::string& name);

// The fields of NetworkConfig, declared once: (type, name, default, help,
// exposed as a `hqrn train --name-with-dashes` flag). This list alone drives
// the members, the JSON of checkpoints, equality, the printed summary and
// the CLI flags, so a new field is one line here (plus its validation).
// Fields added after the first checkpoints were written may be absent from
// a config's JSON (they take their default): see kFieldsWithDefaultInJson.
#define HQRN_NETWORK_CONFIG_FIELDS(X)                                                                        \
  X(int64_t, data_qubits, 2, "Data qubits: the input state's register, or the encoded neurons", true)       \
  X(int64_t, ancillas, 0, "Ancilla neurons, starting in |0>, after the data qubits", true)                 \
  X(int64_t, features, 0, "Classical input features (0: the input is a state)", false)                     \
  X(double, feature_scale, 1.0, "Features are multiplied by this before the encoder", false)               \
  X(int64_t, blocks, 1, "Residual blocks per branch", true)                                                \
  X(int64_t, branches, 1, "Branches (measurement settings)", true)                                         \
  X(int64_t, classes, 2, "Classes", false)                                                                 \
  X(Readout, readout, Readout::linear, "Readout head: born | linear | mlp", true)                           \
  X(int64_t, readout_qubits, 0, "Qubits read out, the last ones (0: ceil(log2(classes)))", true)           \
  X(int64_t, hidden, 32, "Hidden units of the mlp readout", true)                                          \
  X(int64_t, hidden_layers, 1, "Hidden layers of the mlp readout", true)                                   \
  X(double, init_std, 0.1, "Standard deviation of the initial block weights (small: near the identity)", true) \
  X(bool, log_readout, false, "Feed log-probabilities instead of probabilities to the hybrid heads", false)     \
  X(NoiseModel, noise, NoiseModel{},                                                                         \
    "Noise model, e.g. depolarizing=0.01,readout=0.02 (channels: depolarizing, amplitude_damping, "           \
    "phase_damping, bit_flip; none: noiseless)",                                                            \
    true)

// One field's description, for generic code (CLI flags, summaries).
struct ConfigField {
  std::string name;  // JSON key; the CLI flag is --name with '_' as '-'
  std::string help;
  bool flag = false;
};

// Registers: `data_qubits` receive the input (a state, or classical features
// through the angle encoder when `features` > 0), followed by `ancillas`
// neurons starting in |0>.
struct NetworkConfig {
#define HQRN_DECLARE_CONFIG_FIELD(type, name, init, help, flag) TORCH_ARG(type, name) = init;
  HQRN_NETWORK_CONFIG_FIELDS(HQRN_DECLARE_CONFIG_FIELD)
#undef HQRN_DECLARE_CONFIG_FIELD

 public:
  int64_t qubits() const { return data_qubits_ + ancillas_; }
  int64_t readout_width() const;  // readout_qubits with the default resolved
  // Parameters of a network of this shape, with or without the HQRN's V and
  // a; more than kMaxParameters reads as kMaxParameters + 1.
  int64_t parameter_count(bool quantum_weights = true) const;
  // Raises InvalidInput naming the first inconsistent field.
  void validate() const;

  static const std::vector<ConfigField>& fields();
  // Sets one field from its text form (CLI); raises InvalidInput naming the
  // field when the name is unknown or the text is not a value of its type.
  NetworkConfig& set(const std::string& name, const std::string& text);

  std::string to_json() const;
  static NetworkConfig from_json(const std::string& text);
  // "data_qubits=2 ancillas=0 ...", every field in declaration order.
  std::string summary() const;
  bool operator==(const NetworkConfig& other) const;
  bool operator!=(const NetworkConfig& other) const { return !(*this == other); }
};

}  // namespace hqrn
