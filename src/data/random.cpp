#include "src/data/random.h"

#include <cmath>
#include <numeric>
#include <utility>

namespace hqrn::data {

uint64_t uniform_below(std::mt19937_64& rng, uint64_t n) {
  // Reject the lowest 2^64 mod n outputs so that every residue is equally likely.
  const uint64_t rejected = (0 - n) % n;
  uint64_t r = rng();
  while (r < rejected) r = rng();
  return r % n;
}

double uniform_unit(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

std::complex<double> complex_gaussian(std::mt19937_64& rng) {
  const double radius = std::sqrt(-2.0 * std::log(1.0 - uniform_unit(rng)));  // 1 - u lies in (0, 1]
  const double angle = 2.0 * M_PI * uniform_unit(rng);
  return {radius * std::cos(angle), radius * std::sin(angle)};
}

std::vector<int64_t> random_permutation(int64_t n, std::mt19937_64& rng) {
  std::vector<int64_t> permutation(static_cast<size_t>(n));
  std::iota(permutation.begin(), permutation.end(), int64_t{0});
  for (int64_t i = n - 1; i > 0; --i) {
    std::swap(permutation[static_cast<size_t>(i)], permutation[uniform_below(rng, static_cast<uint64_t>(i) + 1)]);
  }
  return permutation;
}

}  // namespace hqrn::data
