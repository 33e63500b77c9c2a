// Shape of a residual network, shared by the HQRN and its classical analog
// and saved with every checkpoint so that loading needs no flags.
#pragma once

#include <torch/arg.h>

#include <cstdint>
#include <string>

namespace hqrn {

// Class read-out from the readout register's Z distribution.
enum class Readout {
  born,    // first C outcomes, renormalised: purely quantum
  linear,  // Linear over the branches' readout distributions (hybrid)
  mlp,     // one hidden layer instead of Linear (hybrid)
};

std::string to_string(Readout readout);
Readout parse_readout(const std::string& name);

// Registers: `data_qubits` receive the input (a state, or classical features
// through the angle encoder when `features` > 0), followed by `ancillas`
// neurons starting in |0>.
struct NetworkConfig {
  TORCH_ARG(int64_t, data_qubits) = 2;
  TORCH_ARG(int64_t, ancillas) = 0;
  // Number of classical input features (0: the input is a state).
  TORCH_ARG(int64_t, features) = 0;
  // Features are multiplied by this before the encoder (e.g. 1/16 for 0..16 pixels).
  TORCH_ARG(double, feature_scale) = 1.0;
  TORCH_ARG(int64_t, blocks) = 1;
  TORCH_ARG(int64_t, branches) = 1;
  TORCH_ARG(int64_t, classes) = 2;
  TORCH_ARG(Readout, readout) = Readout::linear;
  // Qubits read out at the end (the last ones); 0 means ceil(log2(classes)).
  TORCH_ARG(int64_t, readout_qubits) = 0;
  TORCH_ARG(int64_t, hidden) = 32;
  // Hidden layers of the mlp readout.
  TORCH_ARG(int64_t, hidden_layers) = 1;
  // Standard deviation of the initial block weights W, b, V, a; small values
  // start every block near the identity (the skip connection).
  TORCH_ARG(double, init_std) = 0.1;
  // Feed log-probabilities instead of probabilities to the hybrid heads.
  TORCH_ARG(bool, log_readout) = false;

 public:
  int64_t qubits() const { return data_qubits_ + ancillas_; }
  int64_t readout_width() const;  // readout_qubits with the default resolved
  // Raises std::invalid_argument naming the first inconsistent field.
  void validate() const;

  std::string to_json() const;
  static NetworkConfig from_json(const std::string& text);
  bool operator==(const NetworkConfig& other) const { return to_json() == other.to_json(); }
};

}  // namespace hqrn
