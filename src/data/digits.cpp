#include "src/data/digits.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

#include "src/data/csv.h"
#include "src/data/random.h"

namespace hqrn::data {

Dataset load_classical_csv(const std::string& path) {
  const NumericTable table = read_numeric_csv(path);
  if (table.cols < 2) {
    throw_at_line(path, table.line_numbers.front(), "a row needs at least one feature and a label");
  }
  const int64_t n = table.rows();
  const int64_t f = table.cols - 1;
  Dataset dataset{torch::empty({n, f}, torch::kFloat64), torch::empty({n}, torch::kInt64)};
  auto features = dataset.features.accessor<double, 2>();
  auto labels = dataset.labels.accessor<int64_t, 1>();
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < f; ++j) features[i][j] = table.at(i, j);
    labels[i] = label_at(table, i, f);
  }
  return dataset;
}

Split split_dataset(const Dataset& dataset, double test_fraction, uint64_t seed) {
  if (!(test_fraction >= 0.0 && test_fraction <= 1.0)) {
    throw std::invalid_argument(fmt::format("split_dataset: test_fraction {} is not in [0, 1]", test_fraction));
  }
  const int64_t n = dataset.labels.size(0);
  if (dataset.features.size(0) != n) {
    throw std::invalid_argument("split_dataset: features and labels have different numbers of rows");
  }
  std::mt19937_64 rng(seed);
  std::vector<int64_t> permutation = random_permutation(n, rng);
  const auto n_test = static_cast<int64_t>(std::llround(test_fraction * static_cast<double>(n)));
  std::sort(permutation.begin(), permutation.begin() + n_test);
  std::sort(permutation.begin() + n_test, permutation.end());
  const auto middle = permutation.cbegin() + n_test;

  const auto take = [&](std::vector<int64_t>::const_iterator begin, std::vector<int64_t>::const_iterator end) {
    const torch::Tensor index = torch::tensor(std::vector<int64_t>(begin, end), torch::kInt64);
    return Dataset{dataset.features.index_select(0, index), dataset.labels.index_select(0, index)};
  };
  return Split{take(middle, permutation.cend()), take(permutation.cbegin(), middle)};
}

}  // namespace hqrn::data
