#include "models/network.h"
#include "models/errors.h"

#include "models/mlp.h"
#include "models/noise.h"
#include "torch_ext/ops.h"

#include <stdexcept>

namespace hqrn {

namespace {
// Floor for probabilities under a logarithm; far below any probability a
// trained network reports, and representable in float32.
constexpr double kTinyProbability = 1e-30;
// Branches run side by side (K times fewer operator calls, K times the
// memory at once) while K dense copies of the batch stay within this many
// entries: small registers, where per-call overhead dominates a step.
constexpr int64_t kSideBySideMaxEntries = int64_t{1} << 22;
// Z distributions of whole registers [R, 2^n], marginalised onto the last
// r qubits: [R, 2^r]. Without a marginal (r = n) it is a view: a sum over a
// dimension of one on the strided probability view costs tens of
// microseconds, more than the rest of the readout.
torch::Tensor readout_marginal(const torch::Tensor& probabilities, int64_t outcomes) {
  const int64_t rows = probabilities.size(0);
  if (probabilities.size(1) == outcomes) return probabilities;
  return probabilities.reshape({rows, -1, outcomes}).sum(1);
}

}  // namespace

std::string to_string(Mode mode) { return mode == Mode::quantum ? "quantum" : "classical"; }

Mode parse_mode(const std::string& name) {
  if (name == "quantum") return Mode::quantum;
  if (name == "classical") return Mode::classical;
  throw InvalidInput("unknown mode '" + name + "' (expected quantum or classical)");
}

std::string to_string(Execution execution) {
  switch (execution) {
    case Execution::aware: return "aware";
    case Execution::dense: return "dense";
    case Execution::vectors: return "vectors";
    case Execution::automatic: return "auto";
  }
  return "?";
}

Execution parse_execution(const std::string& name) {
  for (const auto e : {Execution::aware, Execution::dense, Execution::vectors, Execution::automatic}) {
    if (name == to_string(e)) return e;
  }
  throw InvalidInput("unknown execution '" + name + "' (expected auto, aware, dense or vectors)");
}

Representation representation_of(Mode mode, Execution execution, bool vector_input, bool noisy) {
  if (mode == Mode::classical) return Representation::probabilities;
  switch (execution) {
    case Execution::dense: return Representation::dense;
    case Execution::vectors:
      require(!noisy, "the vectors execution takes no noise model (a channel on a coherent qubit raises the rank at "
                      "every step); use --exec aware or dense for noisy networks");
      return Representation::vectors;
    case Execution::automatic:
      return vector_input && !noisy ? Representation::vectors : Representation::aware;
    case Execution::aware: break;
  }
  return Representation::aware;
}

AngleEncoderImpl::AngleEncoderImpl(int64_t features, int64_t qubits)
    : linear(register_module("linear", torch::nn::Linear(features, qubits))) {}

torch::Tensor AngleEncoderImpl::forward(const torch::Tensor& features) {
  const auto s = torch::sin(linear(features) / 2);
  return s * s;
}

torch::Tensor product_distribution(const torch::Tensor& q) {
  auto p = torch::ones({q.size(0), 1}, q.options());
  for (int64_t j = 0; j < q.size(1); ++j) {
    const auto qj = q.select(1, j).unsqueeze(1);
    p = torch::stack({p * (1 - qj), p * qj}, 2).reshape({q.size(0), -1});
  }
  return p;
}

ResidualStackImpl::ResidualStackImpl(int64_t qubits, int64_t blocks_count, bool quantum_weights, double init_std) {
  for (int64_t l = 0; l < blocks_count; ++l) {
    blocks.push_back(register_module(
        "block" + std::to_string(l),
        QuantumResidualBlock(ResidualBlockOptions(qubits).quantum_weights(quantum_weights).init_std(init_std))));
  }
}

RegisterState ResidualStackImpl::forward(RegisterState state, const torch::Tensor& step_channel) {
  for (auto& block : blocks) state = block->forward(state, step_channel);
  return state;
}

ReadoutHeadImpl::ReadoutHeadImpl(const NetworkConfig& config) : config_(config) {
  const int64_t width = config.branches() * (int64_t{1} << config.readout_width());
  if (config.readout() != Readout::born) {
    const int64_t layers = config.readout() == Readout::mlp ? config.hidden_layers() : 0;
    mlp = register_module("mlp", make_mlp(width, config.hidden(), layers, config.classes()));
  }
}

torch::Tensor ReadoutHeadImpl::forward(const torch::Tensor& distributions) {
  if (config_.readout() == Readout::born) {
    // Class c is readout outcome c; the outcomes >= C are discarded and the
    // rest renormalised, averaged over the branches' measurement settings.
    const auto p = distributions.mean(1).narrow(1, 0, config_.classes()).clamp_min(kTinyProbability);
    return torch::log(p) - torch::log(p.sum(1, true));
  }
  // Centred features, 2^r p - 1 (or log(2^r p)): zero for a uniform readout
  // and of order one, so the head trains at the same pace whatever r is.
  const double outcomes = static_cast<double>(distributions.size(2));
  auto x = distributions.reshape({distributions.size(0), -1});
  x = config_.log_readout() ? torch::log(x.clamp_min(kTinyProbability) * outcomes) : x * outcomes - 1;
  return mlp->forward(x);
}

// Dense execution keeps one branch at a time: qrb_sweep saves one state per
// block only with shared tables, and it is the reference path for large
// registers.
bool ResidualNetworkImpl::run_side_by_side(const RegisterState& start) const {
  if (config_.branches() < 2 || start.representation() == Representation::dense) return false;
  // Entries of K dense copies bound what any aware intermediate can hold; K
  // copies of the components (r of 2^n each) what vectors hold, unless a
  // step on a measured qubit doubles r.
  const int64_t d = int64_t{1} << config_.qubits();
  const bool vectors = start.representation() == Representation::vectors && !start.is_distribution();
  const int64_t per_state = vectors ? start.values().size(1) * d : d * d;
  return config_.branches() * start.values().size(0) * per_state <= kSideBySideMaxEntries;
}

ResidualNetworkImpl::ResidualNetworkImpl(const NetworkConfig& config, bool quantum_weights)
    : config_(config), quantum_weights_(quantum_weights) {
  config_.validate();
  if (config_.features() > 0) {
    encoder = register_module("encoder", AngleEncoder(config_.features(), config_.data_qubits()));
  }
  for (int64_t k = 0; k < config_.branches(); ++k) {
    branches.push_back(register_module("branch" + std::to_string(k),
                                       ResidualStack(config_.qubits(), config_.blocks(), quantum_weights,
                                                     config_.init_std())));
  }
  head = register_module("head", ReadoutHead(config_));
  to(torch::kFloat64);
}

torch::ScalarType ResidualNetworkImpl::real_dtype() const {
  for (const auto& p : parameters()) return p.scalar_type();
  return torch::kFloat64;
}

torch::Tensor ResidualNetworkImpl::check_input(const torch::Tensor& input) const {
  require(input.defined(), "network input is undefined");
  const int64_t dd = int64_t{1} << config_.data_qubits();
  if (config_.features() > 0) {
    require(input.dim() == 2 && input.size(1) == config_.features() && !input.is_complex(),
                "network input: expected real features [B, ", config_.features(), "], got ", input.sizes(), " ",
                input.scalar_type());
  } else {
    const bool state = input.dim() == 3 && input.size(1) == dd && input.size(2) == dd && input.is_complex();
    const bool distribution = input.dim() == 2 && input.size(1) == dd && !input.is_complex();
    require(state || distribution || is_vector_input(input), "network input: expected ", config_.data_qubits(),
            "-qubit density matrices [B, ", dd, ", ", dd, "] (complex), probability vectors [B, ", dd,
            "] (real), pure state vectors [B, ", dd, "] (complex) or rank-r component vectors [B, r, ", dd,
            "] (complex, r != ", dd, "), got ", input.sizes(), " ", input.scalar_type());
  }
  require(input.size(0) >= 1, "network input: empty batch");
  return input;
}

RegisterState ResidualNetworkImpl::initial_state(const torch::Tensor& input, Representation representation) {
  check_input(input);
  const auto real = real_dtype();
  if (config_.features() > 0) {
    const auto p_data = product_distribution(encoder->forward(input.to(real) * config_.feature_scale()));
    return RegisterState::from_distribution(p_data, config_.ancillas(), representation);
  }
  if (is_vector_input(input)) {
    const auto components = input.dim() == 2 ? input.unsqueeze(1) : input;
    return RegisterState::from_vectors(components.to(c10::toComplexType(real)), config_.ancillas(), representation);
  }
  if (input.dim() == 3) {
    return RegisterState::from_data_state(input.to(c10::toComplexType(real)), config_.ancillas(), representation);
  }
  return RegisterState::from_distribution(input.to(real), config_.ancillas(), representation);
}

bool ResidualNetworkImpl::is_vector_input(const torch::Tensor& input) const {
  const int64_t dd = int64_t{1} << config_.data_qubits();
  if (config_.features() > 0 || !input.defined() || !input.is_complex()) return false;
  return (input.dim() == 2 && input.size(1) == dd) ||
         (input.dim() == 3 && input.size(2) == dd && input.size(1) != dd && input.size(1) >= 1);
}

Representation ResidualNetworkImpl::representation_for(const torch::Tensor& input, Mode mode,
                                                       Execution execution) const {
  return representation_of(mode, execution, is_vector_input(input), !config_.noise().channels.empty());
}

torch::Tensor ResidualNetworkImpl::readout_distributions(const torch::Tensor& input, Mode mode, Execution execution) {
  const int64_t r = config_.readout_width();
  const auto start = initial_state(input, representation_for(input, mode, execution));
  // One Kraus set for all the channels of a step, built once per forward.
  const auto step_channel = step_kraus(config_.noise(), c10::toComplexType(real_dtype()));
  const int64_t batch = start.values().size(0), outcomes = int64_t{1} << r;
  torch::Tensor distributions;  // [B, K, 2^r]
  if (run_side_by_side(start)) {
    auto state = start.repeated(config_.branches());
    for (size_t l = 0; l < static_cast<size_t>(config_.blocks()); ++l) {
      std::vector<const QuantumResidualBlockImpl*> blocks;
      for (const auto& branch : branches) blocks.push_back(branch->blocks[l].get());
      state = QuantumResidualBlockImpl::forward_side_by_side(blocks, state, step_channel);
    }
    distributions = readout_marginal(state.probabilities(), outcomes).reshape({config_.branches(), batch, outcomes})
                        .transpose(0, 1);
  } else {
    std::vector<torch::Tensor> outs;
    for (auto& branch : branches) {
      outs.push_back(readout_marginal(branch->forward(start, step_channel).probabilities(), outcomes));
    }
    distributions = torch::stack(outs, 1);
  }
  return apply_readout_error(distributions, config_.noise().readout);
}

torch::Tensor ResidualNetworkImpl::forward(const torch::Tensor& input, Mode mode, Execution execution) {
  return head->forward(readout_distributions(input, mode, execution));
}

torch::Tensor ResidualNetworkImpl::forward_sampled(const torch::Tensor& input, int64_t shots,
                                                   torch::Generator& generator, Mode mode, Execution execution) {
  return head->forward(sample_shots(readout_distributions(input, mode, execution), shots, generator));
}

torch::Tensor ResidualNetworkImpl::predict_proba(const torch::Tensor& input, Mode mode, Execution execution) {
  return torch::softmax(forward(input, mode, execution), 1);
}

std::vector<torch::Tensor> ResidualNetworkImpl::classical_parameters() const {
  const auto quantum = quantum_parameters();
  std::vector<torch::Tensor> out;
  for (const auto& p : parameters()) {
    bool is_quantum = false;
    for (const auto& q : quantum) is_quantum = is_quantum || p.is_same(q);
    if (!is_quantum) out.push_back(p);
  }
  return out;
}

std::vector<torch::Tensor> ResidualNetworkImpl::quantum_parameters() const {
  std::vector<torch::Tensor> out;
  for (const auto& branch : branches) {
    for (const auto& block : branch->blocks) {
      if (block->has_quantum_weights()) {
        out.push_back(block->V);
        out.push_back(block->a);
      }
    }
  }
  return out;
}

void ResidualNetworkImpl::set_noise(const NoiseModel& noise) {
  noise.validate();
  config_.noise(noise);
}

void ResidualNetworkImpl::set_classical_trainable(bool trainable) {
  for (auto& p : classical_parameters()) p.set_requires_grad(trainable);
}

}  // namespace hqrn
