// Shared pieces of the hqrn_bench harness: inputs, thread control and the
// registration functions of each report section (bench/report.py parses the
// benchmark names: <kind>/<dtype>/n:<n>, model/<execution>/anc:<A>, ...).
#pragma once

#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <cstdint>
#include <string>

#include "models/network.h"

namespace hqrn::bench {

// Batch of every qrb_step benchmark (issue: batch 8).
inline constexpr int64_t kStepBatch = 8;

// "c64" / "c128", as used in benchmark names.
std::string dtype_name(torch::ScalarType complex_dtype);

// Random Hermitian [B, 2^n, 2^n] matrices: the kernels are linear and never
// look at positivity, so this is as good as a density matrix and much cheaper
// at n = 11 than G G^dagger.
torch::Tensor random_hermitian(int64_t batch, int64_t n, torch::ScalarType complex_dtype);

// Random density matrices G G^dagger / tr G G^dagger, [B, d, d] complex128.
torch::Tensor random_density_matrices(int64_t batch, int64_t d);

// The thread count chosen on the command line (applied at start-up).
int default_threads();
void set_default_threads(int threads);

// Runs a scope with `threads` LibTorch threads (0: keep the default) and
// restores the default afterwards.
class ThreadScope {
 public:
  explicit ThreadScope(int threads);
  ~ThreadScope();
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;
};

// The entanglement model of sections 2 and 3: 2 data qubits, `ancillas`
// ancillas, 2 classes, linear readout.
hqrn::HQRN state_model(int64_t ancillas, int64_t branches, int64_t blocks);

// One training step's work: forward in Mode::quantum, cross-entropy, backward.
void forward_backward(hqrn::ResidualNetworkImpl& net, const torch::Tensor& x, const torch::Tensor& y,
                      hqrn::Execution execution);

// Each section registers its benchmarks; main() calls them in report order.
void register_step_benchmarks();
void register_thread_benchmarks();
void register_model_benchmarks();
void register_memory_benchmarks();
void register_train_benchmarks();
void register_vector_benchmarks();

// The child process of a memory benchmark (hqrn_bench --memory-probe=BLOCKS):
// prepare_memory_probe() must run before anything is allocated; memory_probe()
// returns the peak bytes of one forward + backward above the resident set before it.
void prepare_memory_probe();
double memory_probe(int64_t blocks);

}  // namespace hqrn::bench
