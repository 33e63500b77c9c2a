// Section 6: the state-vector step (vector_step) against the warm copy of
// the same [B, r, 2^n] tensor, its memory floor. Every benchmark reports the
// counter `steps` (steps per iteration), as bench_step.cpp does.
#include <fmt/format.h>

#include <algorithm>

#include "bench/bench.h"
#include "torch_ext/ops.h"

namespace hqrn::bench {

namespace {

// 2^22 amplitudes per component over the batch (64 MiB in complex128, far
// beyond the caches), so that every n is timed against the memory floor:
// B = 1024 at n = 12, 64 at n = 16, 4 at n = 20.
int64_t batch_of(int64_t n) { return std::max<int64_t>(4, int64_t{1} << (22 - n)); }

torch::Tensor random_components(int64_t rank, int64_t n, torch::ScalarType dtype) {
  return torch::randn({batch_of(n), rank, int64_t{1} << n}, torch::TensorOptions().dtype(dtype));
}

// Shared angle tables of target j, [2^(n-1)] in the real dtype.
std::vector<torch::Tensor> tables(int64_t n, torch::ScalarType dtype) {
  std::vector<torch::Tensor> out;
  for (int64_t j = 0; j < n; ++j) out.push_back(torch::rand({int64_t{1} << (n - 1)}, c10::toRealValueType(dtype)) * 6);
  return out;
}

// vector_step forward, or forward + backward (gradients of psi, theta and
// phi for a fixed random upstream gradient), over every target.
void bm_vector_step(benchmark::State& state, int64_t n, int64_t rank, torch::ScalarType dtype, bool backward) {
  auto psi = random_components(rank, n, dtype);
  auto theta = tables(n, dtype), phi = tables(n, dtype);
  torch::Tensor grad_out;
  if (backward) {
    psi.requires_grad_(true);
    for (int64_t j = 0; j < n; ++j) {
      theta[j].requires_grad_(true);
      phi[j].requires_grad_(true);
    }
    grad_out = torch::randn_like(psi);
  }
  const auto sweep = [&] {
    for (int64_t j = 0; j < n; ++j) {
      auto out = hqrn::vector_step(psi, theta[j], phi[j], j);
      if (backward) {
        auto grads = torch::autograd::grad({out}, {psi, theta[j], phi[j]}, {grad_out});
        benchmark::DoNotOptimize(grads);
      }
      benchmark::DoNotOptimize(out);
    }
  };
  sweep();  // steady state: output buffers reused, as in training
  for (auto _ : state) sweep();
  state.counters["steps"] = static_cast<double>(n);
}

// The floor: one read and one write of the same tensor into touched memory.
void bm_vector_copy(benchmark::State& state, int64_t n, int64_t rank, torch::ScalarType dtype) {
  const auto psi = random_components(rank, n, dtype);
  auto dst = psi.clone();
  for (auto _ : state) {
    dst.copy_(psi);
    benchmark::DoNotOptimize(dst);
    benchmark::ClobberMemory();
  }
  state.counters["steps"] = 1;
}

}  // namespace

void register_vector_benchmarks() {
  for (const auto dtype : {torch::kComplexFloat, torch::kComplexDouble}) {
    const auto t = dtype_name(dtype);
    for (const int64_t n : {12, 16, 20}) {
      for (const int64_t rank : {1, 4}) {
        // Copy first: each ratio compares runs made close together.
        const auto k = fmt::format("{}/n:{}/r:{}", t, n, rank);
        for (auto* b : {benchmark::RegisterBenchmark(("vcopy/" + k).c_str(), bm_vector_copy, n, rank, dtype),
                        benchmark::RegisterBenchmark(("vector_fwd/" + k).c_str(), bm_vector_step, n, rank, dtype, false),
                        benchmark::RegisterBenchmark(("vector_fwdbwd/" + k).c_str(), bm_vector_step, n, rank, dtype,
                                                     true)}) {
          b->UseRealTime()->Unit(benchmark::kMillisecond)->Repetitions(5)->ReportAggregatesOnly(true);
          if (n >= 20) b->Iterations(2);
        }
      }
    }
  }
}

}  // namespace hqrn::bench
