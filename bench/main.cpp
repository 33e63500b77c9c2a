// hqrn_bench: Google Benchmark's command line, plus --threads=N (LibTorch
// intra-op threads; default 0 = every core). Records the machine and the
// command in the JSON context for bench/report.py, and checks once that the
// baselines compute what qrb_step computes before timing anything.
// --memory-probe=BLOCKS is internal: the child process of a memory benchmark.
#include <torch/version.h>

#include <fmt/format.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "bench/bench.h"
#include "bench/circuit.h"
#include "src/threads.h"

namespace {

std::string cpu_model() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

// The value of `--<flag>=VALUE`, or nullptr when `arg` is another argument.
const char* flag_value(const char* arg, const char* flag) {
  const auto length = std::strlen(flag);
  return std::strncmp(arg, flag, length) == 0 && arg[length] == '=' ? arg + length + 1 : nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 0;
  int64_t probe_blocks = 0;
  std::string command = argv[0];
  std::vector<char*> args{argv[0]};
  for (int i = 1; i < argc; ++i) {
    command += std::string(" ") + argv[i];
    if (const char* v = flag_value(argv[i], "--threads")) {
      threads = std::stoi(v);
    } else if (const char* v = flag_value(argv[i], "--memory-probe")) {
      probe_blocks = std::stoll(v);
    } else {
      args.push_back(argv[i]);
    }
  }
  if (probe_blocks > 0) {
    hqrn::bench::prepare_memory_probe();
    hqrn::set_thread_count(threads);
    torch::manual_seed(0);
    std::printf("peak_bytes %.0f\n", hqrn::bench::memory_probe(probe_blocks));
    return 0;
  }

  int bench_argc = static_cast<int>(args.size());
  benchmark::Initialize(&bench_argc, args.data());
  if (benchmark::ReportUnrecognizedArguments(bench_argc, args.data())) return 1;

  hqrn::bench::set_default_threads(hqrn::set_thread_count(threads));
  torch::manual_seed(0);
  const double check = hqrn::bench::check_baselines();

  benchmark::AddCustomContext("cpu_model", cpu_model());
  benchmark::AddCustomContext("libtorch", TORCH_VERSION);
  benchmark::AddCustomContext("torch_threads", std::to_string(hqrn::bench::default_threads()));
  benchmark::AddCustomContext("baseline_check", fmt::format("gates and dense equal qrb_step at n = 4 (c128), "
                                                            "max |difference| {:.2g}", check));
  benchmark::AddCustomContext("command", command);

  hqrn::bench::register_step_benchmarks();
  hqrn::bench::register_thread_benchmarks();
  hqrn::bench::register_model_benchmarks();
  hqrn::bench::register_memory_benchmarks();
  hqrn::bench::register_vector_benchmarks();
  hqrn::bench::register_train_benchmarks();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
