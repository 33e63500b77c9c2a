// Section 3: peak memory of one forward + backward of a dense-execution HQRN
// (2 data qubits + 6 ancillas, batch 8, one branch) against its depth.
//
// Each measurement runs in a fresh process (this binary again, with
// --memory-probe=BLOCKS), so that no heap left over from other benchmarks
// hides or inflates it, and so that the malloc setting it needs does not
// change the timings of the others. The probe fixes malloc's mmap threshold at
// 64 KiB before anything is allocated (every tensor of that size or more is
// then its own mapping, returned to the OS when freed, so the resident set
// follows live memory), runs without the ops' buffer pool, runs one warm-up
// call, resets the peak through /proc/self/clear_refs, and reports VmHWM
// after the measured call minus VmRSS before it.
#include <malloc.h>
#include <unistd.h>

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>

#include "bench/bench.h"

namespace hqrn::bench {

namespace {

constexpr int64_t kAncillas = 6;
constexpr int64_t kBatch = 8;

// A "<key>:  <n> kB" line of /proc/self/status, in bytes.
double status_bytes(const std::string& key) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(key + ":", 0) == 0) return std::stod(line.substr(key.size() + 1)) * 1024.0;
  }
  throw std::runtime_error("no " + key + " in /proc/self/status");
}

void reset_peak_rss() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
  if (!clear.flush()) throw std::runtime_error("cannot reset the peak RSS through /proc/self/clear_refs");
}

std::string self_executable() {
  std::array<char, 4096> path{};
  const auto size = ::readlink("/proc/self/exe", path.data(), path.size() - 1);
  if (size <= 0) throw std::runtime_error("cannot read /proc/self/exe");
  return std::string(path.data(), static_cast<size_t>(size));
}

// Runs the probe in a child process and returns the peak it prints. The
// child runs without the ops' buffer pool, which would otherwise keep the
// warm-up's buffers resident and hide them from the measured call.
double probe_in_child(int64_t blocks) {
  const auto command = fmt::format("HQRN_BUFFER_POOL_MB=0 '{}' --memory-probe={} --threads={}", self_executable(),
                                   blocks, default_threads());
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), ::pclose);
  if (!pipe) throw std::runtime_error("cannot run " + command);
  double peak = -1;
  if (std::fscanf(pipe.get(), "peak_bytes %lf", &peak) != 1 || peak < 0) {
    throw std::runtime_error("memory probe failed: " + command);
  }
  return peak;
}

void bm_memory(benchmark::State& state, int64_t blocks) {
  double peak = 0;
  for (auto _ : state) peak = probe_in_child(blocks);
  const double state_bytes = static_cast<double>(kBatch) * std::ldexp(1.0, 2 * (2 + kAncillas)) * 16;
  state.counters["peak_bytes"] = benchmark::Counter(peak, benchmark::Counter::kDefaults, benchmark::Counter::kIs1024);
  state.counters["state_bytes"] =
      benchmark::Counter(state_bytes, benchmark::Counter::kDefaults, benchmark::Counter::kIs1024);
  state.counters["peak_states"] = peak / state_bytes;
}

}  // namespace

void prepare_memory_probe() {
  if (mallopt(M_MMAP_THRESHOLD, 64 * 1024) != 1) throw std::runtime_error("mallopt(M_MMAP_THRESHOLD) failed");
}

double memory_probe(int64_t blocks) {
  auto net = state_model(kAncillas, 1, blocks);
  const auto x = random_density_matrices(kBatch, 4);
  const auto y = torch::randint(0, 2, {kBatch}, torch::kLong);
  forward_backward(*net, x, y, hqrn::Execution::dense);  // warm-up: gradient buffers and lazy initialisation
  malloc_trim(0);
  const double before = status_bytes("VmRSS");
  reset_peak_rss();
  forward_backward(*net, x, y, hqrn::Execution::dense);
  return status_bytes("VmHWM") - before;
}

void register_memory_benchmarks() {
  for (const int64_t blocks : {1, 2, 4, 8}) {
    benchmark::RegisterBenchmark(fmt::format("memory/dense/blocks:{}", blocks).c_str(), bm_memory, blocks)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond)
        ->Iterations(1);
  }
}

}  // namespace hqrn::bench
