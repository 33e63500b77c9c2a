// One rank of the distributed group tests (tests/test_distributed.py): started
// once per rank with the launcher's variables set. Prints one line per check.
// Usage: hqrn_distributed_probe sum | config TEXT | die-after-first | latency COUNT
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "src/distributed/group.h"

int main(int argc, char** argv) {
  using namespace hqrn::distributed;
  const std::string what = argc > 1 ? argv[1] : "sum";
  try {
    const auto env = read_launch_environment([](const char* name) { return std::getenv(name); });
    if (!env) {
      std::fprintf(stderr, "not launched as a rank\n");
      return 2;
    }
    Group group(*env, std::chrono::milliseconds(std::atoi(std::getenv("PROBE_TIMEOUT_MS") ?: "20000")));
    const double r = static_cast<double>(env->rank);
    if (what == "sum" || what == "die-after-first") {
      // Mixed dtypes and sizes, buckets smaller than one tensor.
      std::vector<torch::Tensor> ts{torch::full({3, 5}, r + 1, torch::kFloat64), torch::full({7}, 2 * r, torch::kFloat32),
                                    torch::arange(10, torch::kFloat64) * (r + 1)};
      group.all_reduce_sum(ts, 16);
      std::printf("rank %lld sums %.17g %.17g %.17g\n", static_cast<long long>(env->rank), ts[0].sum().item<double>(),
                  ts[1].sum().item<double>(), ts[2].sum().item<double>());
      std::fflush(stdout);
      if (what == "die-after-first" && env->rank == 1) std::_Exit(9);
      group.barrier();
      std::printf("rank %lld done\n", static_cast<long long>(env->rank));
    } else if (what == "latency") {
      // Seconds per all-reduce of `count` doubles (the mean of 500 after 20 warm-ups).
      const auto count = std::atoll(argc > 2 ? argv[2] : "2");
      std::vector<torch::Tensor> ts{torch::ones({count}, torch::kFloat64)};
      for (int i = 0; i < 20; ++i) group.all_reduce_sum(ts);
      const auto start = std::chrono::steady_clock::now();
      for (int i = 0; i < 500; ++i) group.all_reduce_sum(ts);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / 500;
      std::printf("rank %lld all-reduce of %lld doubles: %.1f us\n", static_cast<long long>(env->rank),
                  static_cast<long long>(count), 1e6 * seconds);
    } else if (what == "config") {
      group.require_same("configuration", argc > 2 ? argv[2] : "");
      std::printf("rank %lld same\n", static_cast<long long>(env->rank));
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 3;
  }
  return 0;
}
