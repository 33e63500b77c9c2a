// Section 1 (one residual step against its baselines) and section 4 (thread
// scaling of the same step). Every benchmark reports the counter `steps`: the
// residual steps per iteration, so time per step = real time / steps.
//
// qrb_* run every target j = 0..n-1 per iteration on the same input (the
// kernel's cost depends on the target's stride); the baselines use the middle
// target j = n/2 (their cost does not: the dense product never looks at j, and
// the circuit touches every qubit as a control whatever j is).
#include <ATen/Parallel.h>
#include <fmt/format.h>

#include <functional>

#include "bench/bench.h"
#include "bench/circuit.h"
#include "torch_ext/ops.h"

namespace hqrn::bench {

namespace {

struct StepInput {
  StepWeights weights;
  torch::Tensor rho;                      // [B, d, d]
  std::vector<torch::Tensor> theta, phi;  // per target, [2^(n-1)] in the real dtype
};

StepInput make_input(int64_t n, torch::ScalarType dtype) {
  StepInput s{random_weights(n), random_hermitian(kStepBatch, n, dtype), {}, {}};
  const auto real = c10::toRealValueType(dtype);
  for (int64_t j = 0; j < n; ++j) {
    s.theta.push_back(s.weights.theta[j].to(real).contiguous());
    s.phi.push_back(s.weights.phi[j].to(real).contiguous());
  }
  return s;
}

// qrb_step forward, or forward + backward (gradients of rho, theta and phi for
// a fixed random upstream gradient), over every target; `threads` 0 keeps the default.
void bm_qrb(benchmark::State& state, int64_t n, torch::ScalarType dtype, bool backward, int threads) {
  auto s = make_input(n, dtype);
  torch::Tensor grad_out;
  if (backward) {
    s.rho.requires_grad_(true);
    for (int64_t j = 0; j < n; ++j) {
      s.theta[j].requires_grad_(true);
      s.phi[j].requires_grad_(true);
    }
    grad_out = torch::randn_like(s.rho);
  }
  ThreadScope scope(threads);
  const auto sweep = [&] {
    for (int64_t j = 0; j < n; ++j) {
      auto out = hqrn::qrb_step(s.rho, s.theta[j], s.phi[j], j, true);
      if (backward) {
        auto grads = torch::autograd::grad({out}, {s.rho, s.theta[j], s.phi[j]}, {grad_out});
        benchmark::DoNotOptimize(grads);
      }
      benchmark::DoNotOptimize(out);
    }
  };
  // Steady state, as in training: the first sweep takes the ops' output
  // buffers from the system, later ones reuse them (torch_ext/memory.h).
  sweep();
  for (auto _ : state) sweep();
  state.counters["steps"] = static_cast<double>(n);
  state.counters["threads"] = at::get_num_threads();  // in effect during the loop
}

// The copy floors: one read and one write of the state, into preallocated
// memory already touched (`copy`), or into a fresh tensor as every out-of-place
// op must write (`clone`: adds the page faults of new memory; tensors of 32 MiB
// and more are always fresh mappings under glibc's malloc).
void bm_copy(benchmark::State& state, int64_t n, torch::ScalarType dtype, bool fresh) {
  const auto rho = random_hermitian(kStepBatch, n, dtype);
  auto dst = rho.clone();
  for (auto _ : state) {
    if (fresh) {
      auto out = rho.clone();
      benchmark::DoNotOptimize(out);
    } else {
      dst.copy_(rho);
      benchmark::DoNotOptimize(dst);
    }
    benchmark::ClobberMemory();
  }
  state.counters["steps"] = 1;
}

// The baselines, on the middle target: the dense product U rho U^dagger
// (U built once), or the step's circuit gate by gate; then the dephasing.
enum class Baseline { dense, gates };

void bm_baseline(benchmark::State& state, int64_t n, torch::ScalarType dtype, Baseline kind) {
  const auto s = make_input(n, dtype);
  const int64_t j = n / 2;
  const auto mask = dephasing_mask(n, j, dtype);
  std::function<torch::Tensor()> step;
  if (kind == Baseline::dense) {
    step = [&s, &mask, u = dense_rotation(s.weights, j, dtype)] { return dense_step(s.rho, u, mask); };
  } else {
    const auto gates = step_circuit(s.weights, j, dtype);
    state.counters["gates"] = static_cast<double>(gates.size());
    step = [&s, &mask, gates] { return circuit_step(s.rho, gates, mask); };
  }
  for (auto _ : state) {
    auto out = step();
    benchmark::DoNotOptimize(out);
  }
  state.counters["steps"] = 1;
}

// Real time (the kernels are multi-threaded), milliseconds; slow cases run a
// single iteration so that the whole harness stays within minutes on 2 cores.
// The others are repeated three times and reported as medians: on a shared
// 2-core machine a single sample of a multi-threaded run is easily off by 1.5x.
benchmark::internal::Benchmark* configure(benchmark::internal::Benchmark* b, bool single_iteration) {
  b->UseRealTime()->Unit(benchmark::kMillisecond);
  if (single_iteration) {
    b->Iterations(1);
  } else {
    b->Repetitions(3)->ReportAggregatesOnly(true);
  }
  return b;
}

constexpr torch::ScalarType kDtypes[] = {torch::kComplexFloat, torch::kComplexDouble};

}  // namespace

void register_step_benchmarks() {
  for (const auto dtype : kDtypes) {
    const auto t = dtype_name(dtype);
    for (int64_t n = 4; n <= 11; ++n) {
      // Grouped by (dtype, n) so that each ratio compares runs made close together.
      configure(benchmark::RegisterBenchmark(fmt::format("copy/{}/n:{}", t, n).c_str(), bm_copy, n, dtype, false),
                false);
      configure(benchmark::RegisterBenchmark(fmt::format("clone/{}/n:{}", t, n).c_str(), bm_copy, n, dtype, true),
                false);
      configure(benchmark::RegisterBenchmark(fmt::format("qrb_fwd/{}/n:{}", t, n).c_str(), bm_qrb, n, dtype,
                                             false, 0), false);
      configure(benchmark::RegisterBenchmark(fmt::format("qrb_fwdbwd/{}/n:{}", t, n).c_str(), bm_qrb, n, dtype,
                                             true, 0), false);
      // The baselines stop at n = 10 (about 20 s per call there on 2 cores, 4x
      // and 8x that at n = 11) to keep the whole run within minutes.
      if (n <= 10) {
        configure(benchmark::RegisterBenchmark(fmt::format("gates/{}/n:{}", t, n).c_str(), bm_baseline, n, dtype,
                                               Baseline::gates),
                  n >= 9);
        configure(benchmark::RegisterBenchmark(fmt::format("dense/{}/n:{}", t, n).c_str(), bm_baseline, n, dtype,
                                               Baseline::dense),
                  n >= 8);
      }
    }
  }
}

void register_thread_benchmarks() {
  const auto dtype = torch::kComplexDouble;
  for (int64_t n = 8; n <= 11; ++n) {
    for (const bool backward : {false, true}) {
      for (const int threads : {1, 2}) {
        const auto name = fmt::format("threads/{}/c128/n:{}/t:{}", backward ? "qrb_fwdbwd" : "qrb_fwd", n, threads);
        configure(benchmark::RegisterBenchmark(name.c_str(), bm_qrb, n, dtype, backward, threads), false);
      }
    }
  }
}

}  // namespace hqrn::bench
