// The HQRN and its classical analog (docs/model.md): an angle encoder for
// classical features, K branches of residual blocks, and a readout head.
// Both share one implementation and one set of parameter names, so a
// classical checkpoint loads into an HQRN by name.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "models/config.h"
#include "models/register_state.h"
#include "models/residual_block.h"

namespace hqrn {

// How the network is simulated: on density matrices (quantum), or on
// probability vectors (classical, the network's exact action on diagonal
// inputs; a state input is read through its diagonal).
enum class Mode { quantum, classical };
std::string to_string(Mode mode);
Mode parse_mode(const std::string& name);

// How Mode::quantum is simulated: in the aware, the dense or the vectors
// representation (register_state.h); all give the same numbers. automatic
// ("auto") picks vectors for state-vector inputs to a noiseless network (r 2^n
// numbers per state, never more than aware's 4^n_d 2^n_a since r <= 2^n_d)
// and aware otherwise (a density-matrix input would need an
// eigendecomposition, 8^n_d, to become vectors; noise needs density matrices).
enum class Execution { aware, dense, vectors, automatic };
std::string to_string(Execution execution);
Execution parse_execution(const std::string& name);

// The register representation a forward pass runs in: Mode::classical is the
// probability-vector representation of the same code; automatic is resolved
// by the rule above.
Representation representation_of(Mode mode, Execution execution, bool vector_input = false, bool noisy = false);

// theta_enc = A u + beta per data qubit; the qubit is prepared with
// RY(theta_enc)|0> and measured, so it is 1 with probability sin^2(theta_enc/2).
class AngleEncoderImpl : public torch::nn::Module {
 public:
  AngleEncoderImpl(int64_t features, int64_t qubits);
  torch::Tensor forward(const torch::Tensor& features);  // [B, F] -> [B, qubits]
  torch::nn::Linear linear{nullptr};
};
TORCH_MODULE(AngleEncoder);

// Joint distribution [B, 2^k] of k independent bits with P(bit j = 1) = q[:, j],
// bit 0 the most significant.
torch::Tensor product_distribution(const torch::Tensor& q);

// Blocks applied in sequence to one copy of the input.
class ResidualStackImpl : public torch::nn::Module {
 public:
  ResidualStackImpl(int64_t qubits, int64_t blocks, bool quantum_weights, double init_std);
  RegisterState forward(RegisterState state, const torch::Tensor& step_channel = {});
  std::vector<QuantumResidualBlock> blocks;
};
TORCH_MODULE(ResidualStack);

class ReadoutHeadImpl : public torch::nn::Module {
 public:
  explicit ReadoutHeadImpl(const NetworkConfig& config);
  // Readout distributions [B, K, 2^r] -> class logits [B, C].
  torch::Tensor forward(const torch::Tensor& distributions);

 private:
  NetworkConfig config_;
  torch::nn::Sequential mlp{nullptr};  // linear and mlp readouts
};
TORCH_MODULE(ReadoutHead);

class ResidualNetworkImpl : public torch::nn::Module {
 public:
  ResidualNetworkImpl(const NetworkConfig& config, bool quantum_weights);

  // Class logits [B, C] (softmax gives the class probabilities). `input` is
  // features [B, F] when the config has features, else data-register states:
  // density matrices [B, d, d] (complex), probability vectors [B, d] (real),
  // pure state vectors [B, d] (complex) or rank-r component vectors
  // [B, r, d] (complex, r != d; a rank-d state is passed as its density
  // matrix). `execution` chooses how Mode::quantum is simulated (the numbers
  // do not depend on it).
  torch::Tensor forward(const torch::Tensor& input, Mode mode, Execution execution = Execution::automatic);
  // Class logits from finite-shot estimates of the readout distributions:
  // `shots` outcomes per branch and input, sampled with `generator`.
  torch::Tensor forward_sampled(const torch::Tensor& input, int64_t shots, torch::Generator& generator, Mode mode,
                                Execution execution = Execution::automatic);
  // Softmax of forward.
  torch::Tensor predict_proba(const torch::Tensor& input, Mode mode, Execution execution = Execution::automatic);
  // Z distributions of the readout register per branch, [B, K, 2^r], with
  // the noise model's readout error when it has one.
  torch::Tensor readout_distributions(const torch::Tensor& input, Mode mode, Execution execution = Execution::automatic);

  // The full register's starting state in a representation: encoded features
  // and probability vectors are diagonal states; a data state gets the
  // ancillas in |0> (in the probability representation, its diagonal).
  RegisterState initial_state(const torch::Tensor& input, Representation representation);
  // The representation `execution` runs this input in (representation_of).
  Representation representation_for(const torch::Tensor& input, Mode mode, Execution execution) const;
  // Whether `input` is state vectors ([B, d] or [B, r, d] complex, r != d).
  bool is_vector_input(const torch::Tensor& input) const;

  // W, b, encoder and head (everything a classical analog has) / V and a.
  std::vector<torch::Tensor> classical_parameters() const;
  std::vector<torch::Tensor> quantum_parameters() const;
  // Freezes or unfreezes the classical parameters (quantum-only fine-tuning).
  void set_classical_trainable(bool trainable);

  const NetworkConfig& config() const { return config_; }
  // Replaces the noise model (validated), e.g. to evaluate a network trained
  // without noise on a noisy device; the parameters are untouched.
  void set_noise(const NoiseModel& noise);
  bool has_quantum_weights() const { return quantum_weights_; }
  torch::ScalarType real_dtype() const;

  AngleEncoder encoder{nullptr};
  std::vector<ResidualStack> branches;
  ReadoutHead head{nullptr};

 private:
  torch::Tensor check_input(const torch::Tensor& input) const;
  // Whether the branches run side by side as one batch (forward_side_by_side).
  bool run_side_by_side(const RegisterState& start) const;
  NetworkConfig config_;
  bool quantum_weights_;
};

// The Hybrid Quantum Residual Network.
class HQRNImpl : public ResidualNetworkImpl {
 public:
  explicit HQRNImpl(const NetworkConfig& config) : ResidualNetworkImpl(config, true) {}
  torch::Tensor forward(const torch::Tensor& input, Mode mode = Mode::quantum,
                        Execution execution = Execution::automatic) {
    return ResidualNetworkImpl::forward(input, mode, execution);
  }
};
TORCH_MODULE(HQRN);

// The classical analog: Markov steps on probability vectors, classical weights only.
class ClassicalResNetImpl : public ResidualNetworkImpl {
 public:
  explicit ClassicalResNetImpl(const NetworkConfig& config) : ResidualNetworkImpl(config, false) {}
  using ResidualNetworkImpl::forward;
  torch::Tensor forward(const torch::Tensor& input) { return ResidualNetworkImpl::forward(input, Mode::classical); }
};
TORCH_MODULE(ClassicalResNet);

}  // namespace hqrn
