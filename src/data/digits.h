// Classical datasets (the 8x8 digits and any CSV of features then a label)
// and the fixed train/test split.
#pragma once

#include <cstdint>
#include <string>

#include <torch/types.h>

namespace hqrn::data {

struct Dataset {
  torch::Tensor features;  // [N, F] float64
  torch::Tensor labels;    // [N] int64
};

struct Split {
  Dataset train;
  Dataset test;
};

// Loads a CSV (plain or gzip) with one sample per row: F feature values, then
// a non-negative integer label. Throws std::runtime_error naming the file and
// line on any malformed input (see read_numeric_csv and label_at).
Dataset load_classical_csv(const std::string& path);

// Deterministic split: P = random_permutation(N, std::mt19937_64(seed)); the
// first round(test_fraction * N) entries of P are the test rows, the rest the
// training rows; each part keeps the file's row order. Depends only on N,
// test_fraction and seed (not on the compiler). test_fraction in [0, 1].
Split split_dataset(const Dataset& dataset, double test_fraction, uint64_t seed);

// The documented split of the digits (data/README.md).
inline constexpr double kDigitsTestFraction = 0.25;
inline constexpr uint64_t kDigitsSplitSeed = 0;

}  // namespace hqrn::data
