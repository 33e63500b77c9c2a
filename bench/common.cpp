#include <ATen/Parallel.h>

#include "bench/bench.h"

namespace hqrn::bench {

namespace {
int g_default_threads = 1;
}

std::string dtype_name(torch::ScalarType complex_dtype) {
  return complex_dtype == torch::kComplexFloat ? "c64" : "c128";
}

torch::Tensor random_hermitian(int64_t batch, int64_t n, torch::ScalarType complex_dtype) {
  const int64_t d = int64_t{1} << n;
  const auto g = torch::randn({batch, d, d}, torch::dtype(complex_dtype));
  return ((g + g.conj().transpose(-2, -1)) / 2).contiguous();
}

torch::Tensor random_density_matrices(int64_t batch, int64_t d) {
  const auto g = torch::randn({batch, d, d}, torch::kComplexDouble);
  const auto rho = torch::matmul(g, g.conj().transpose(-2, -1));
  const auto trace = rho.diagonal(0, -2, -1).sum(-1);
  return (rho / trace.view({batch, 1, 1})).contiguous();
}

int default_threads() { return g_default_threads; }
void set_default_threads(int threads) { g_default_threads = threads; }

ThreadScope::ThreadScope(int threads) {
  if (threads > 0) at::set_num_threads(threads);
}
ThreadScope::~ThreadScope() { at::set_num_threads(g_default_threads); }

}  // namespace hqrn::bench
