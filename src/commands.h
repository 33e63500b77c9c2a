// The hqrn command-line tool's commands as library functions (the CLI in
// cli/main.cpp only parses flags). Each returns a process exit code and
// throws std::exception with a clear message on bad input.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "models/network.h"
#include "src/data/phases.h"
#include "src/experiments/experiment.h"
#include "src/training.h"

namespace hqrn {

// Network fields given on the command line (`hqrn train --blocks 3`), as
// (field name, text) in the order given; fields not listed keep the task's default.
struct ConfigOverrides {
  std::vector<std::pair<std::string, std::string>> values;
  NetworkConfig apply(NetworkConfig config) const;  // sets each field, then validates
  // The text of the last override of `field`, or empty when none was given.
  std::string last(const std::string& field) const;
};

struct TrainCommand {
  std::string task = "digits";  // an experiment's name (src/experiments/)
  std::string model = "hqrn";  // hqrn | classical
  DataRequest data;  // files (empty: the experiment's own data), generated-state settings
  std::string init;
  bool freeze_classical = false;
  Mode mode = Mode::quantum;
  Execution execution = Execution::automatic;
  std::string out;
  bool resume = false;
  // Data parallel: how long a collective waits for the other ranks before
  // this rank stops with a message.
  int64_t distributed_timeout_ms = 60000;
  ConfigOverrides shape;
  TrainOptions options;
};
int run_train(const TrainCommand& command);

int run_translate(const std::string& from, const std::string& out);
// Rewrites an old-format (LibTorch archive) checkpoint in the current format.
int run_convert_checkpoint(const std::string& from, const std::string& out);

struct EvalCommand {
  std::string model, data, json, predictions;
  std::string readout;  // CSV of every branch's exact readout distribution per sample (no shots)
  std::string mode;  // empty: quantum for an HQRN, classical for a classical analog
  Execution execution = Execution::automatic;
  bool project_states = false;
  std::string noise;  // replaces the checkpoint's noise model when set ("none": noiseless)
  int64_t shots = 0;  // > 0: readout distributions estimated from this many outcomes per branch
  int64_t shot_seeds = 5;  // independent shot samples (seeds seed, seed + 1, ...) for the spread
  uint64_t seed = 0;
};
int run_eval(const EvalCommand& command);

int run_gen_states(const std::string& family, int64_t n, uint64_t seed, const std::string& out);

// Ground states of the cluster-Ising ring (the phases experiment's data) as a
// state-vector file (spec section 9); prints S_c, the smallest gap and the time.
int run_gen_phases(const data::PhaseRequest& request, const std::string& out);

int run_export_qasm(const std::string& model, const std::string& prefix);

// Writes the per-epoch records as CSV (epoch, loss, train/test accuracy, seconds).
void write_history_csv(const std::string& path, const TrainProgress& progress);

}  // namespace hqrn
