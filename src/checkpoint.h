// Checkpoints of HQRN and classical-analog networks: LibTorch archives that
// also carry a format version, the model kind and the network configuration,
// so loading needs no flags. Written atomically (temporary file, then rename).
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>

#include "models/network.h"

namespace hqrn {

// 2: the archive inside a checksummed envelope (see checkpoint.cpp).
constexpr int64_t kCheckpointFormatVersion = 2;

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

// Reads a checkpoint of either kind. Throws std::runtime_error naming the
// file and the problem: missing, truncated or corrupt, not an HQRN
// checkpoint, unknown format version, inconsistent configuration.
LoadedCheckpoint load_checkpoint(const std::string& path);

// Restores the optimizer state saved with a checkpoint (for resuming); the
// optimizer must be built over the loaded model's parameters.
void restore_optimizer(const std::string& path, torch::optim::Optimizer& optimizer);

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
