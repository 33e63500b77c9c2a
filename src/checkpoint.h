// Checkpoints of HQRN and classical-analog networks: safetensors files whose
// tensors are the modules' parameters (by name) and, for resuming, Adam's
// state (optimizer.<parameter>.<field>); the header's __metadata__ carries
// format = hqrn, format_version, kind, config (JSON), dtype, data_sha256 and
// the training progress, so loading needs no flags. Python's safetensors
// opens them too. Read by the project's strict parser (src/safetensors.h);
// written atomically (temporary file, then rename).
#pragma once

#include <torch/torch.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "models/network.h"

namespace hqrn {

// 3: safetensors (2 was a LibTorch archive in an envelope: src/legacy_checkpoint.h).
constexpr int64_t kCheckpointFormatVersion = 3;

// A checkpoint file that cannot be read: one message naming the file and the
// problem (the CLI prints it and exits with code 2).
class CheckpointError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class ModelKind { hqrn, classical };
std::string to_string(ModelKind kind);

// Optional training state stored beside the model (for resuming).
struct TrainingState {
  std::string json;                              // progress, seed, history
  torch::optim::Optimizer* optimizer = nullptr;  // saved / restored when set
};

void save_checkpoint(const ResidualNetworkImpl& model, const std::string& path,
                     const TrainingState& training = {});

struct LoadedCheckpoint {
  ModelKind kind;
  NetworkConfig config;
  std::shared_ptr<ResidualNetworkImpl> model;
  std::string training_json;  // empty when none was saved
};

// Reads a checkpoint of either kind. Throws CheckpointError naming the file
// and the problem: missing, malformed, truncated or corrupt, not an HQRN
// checkpoint, unknown format version, tensors that do not fit the stated
// configuration, the old (unsafe) format.
LoadedCheckpoint load_checkpoint(const std::string& path);

// Restores the Adam state saved with a checkpoint (for resuming); the
// optimizer must be built over parameters of `model` (the loaded network),
// which names them.
void restore_optimizer(const std::string& path, const ResidualNetworkImpl& model, torch::optim::Optimizer& optimizer);

HQRN load_hqrn(const std::string& path);
ClassicalResNet load_classical_resnet(const std::string& path);

// Copies a trained classical analog into an HQRN of the same shape, by
// parameter name. Quantum-only weights are zeroed (zero_quantum) or kept.
// Throws std::runtime_error listing every missing, extra or mis-shaped name.
void load_classical(ResidualNetworkImpl& hqrn_model, const ResidualNetworkImpl& classical);
void load_classical(ResidualNetworkImpl& hqrn_model, const std::string& classical_path, bool zero_quantum = true);

// The HQRN that a classical checkpoint translates into.
HQRN translate_classical(const ResidualNetworkImpl& classical);

}  // namespace hqrn
