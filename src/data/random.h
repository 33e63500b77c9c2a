// Random draws built only on std::mt19937_64's output, which the C++ standard
// fixes bit for bit. The standard's distributions and std::shuffle are left to
// each library, so using them would tie a seed's data to one compiler.
#pragma once

#include <complex>
#include <cstdint>
#include <random>
#include <vector>

namespace hqrn::data {

// Uniform integer in [0, n), n > 0 (rejection sampling, no modulo bias).
uint64_t uniform_below(std::mt19937_64& rng, uint64_t n);

// Uniform double in [0, 1) with 53 random bits.
double uniform_unit(std::mt19937_64& rng);

// Complex Gaussian: real and imaginary parts independent N(0, 1) (Box-Muller).
std::complex<double> complex_gaussian(std::mt19937_64& rng);

// A uniformly random permutation of 0..n-1: Fisher-Yates from the top, i.e.
// for i = n-1 down to 1 swap elements i and uniform_below(rng, i + 1).
std::vector<int64_t> random_permutation(int64_t n, std::mt19937_64& rng);

}  // namespace hqrn::data
