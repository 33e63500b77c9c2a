// angle_tables against its definition: the forward against dense::angle_table
// (one table at a time, a product with explicit 0/1 control bits), the
// gradients against finite differences and against autograd through that
// reference; float32 against float64.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "tests/dense_reference.h"
#include "tests/gradcheck.h"
#include "torch_ext/ops.h"

namespace hqrn {
namespace {

using test::all_close;
using Inputs = std::vector<torch::Tensor>;

constexpr auto kR = torch::kDouble;

// R random weight sets of n qubits: R matrices, then R biases.
Inputs random_sets(int64_t sets, int64_t n, torch::ScalarType dtype = kR) {
  Inputs out;
  for (int64_t r = 0; r < sets; ++r) out.push_back(torch::randn({n, n}, dtype));
  for (int64_t r = 0; r < sets; ++r) out.push_back(torch::randn({n}, dtype));
  return out;
}

torch::Tensor op_on(const Inputs& in) {
  const auto half = in.begin() + static_cast<std::ptrdiff_t>(in.size() / 2);
  return angle_tables(Inputs(in.begin(), half), Inputs(half, in.end()));
}

// The tables from dense::angle_table, one target and set at a time: [n, R, h].
torch::Tensor reference_on(const Inputs& in) {
  const auto sets = static_cast<int64_t>(in.size() / 2);
  const int64_t n = in[0].size(0);
  std::vector<torch::Tensor> per_target;
  for (int64_t j = 0; j < n; ++j) {
    std::vector<torch::Tensor> per_set;
    for (int64_t r = 0; r < sets; ++r) per_set.push_back(dense::angle_table(in[r], in[sets + r], j));
    per_target.push_back(torch::stack(per_set));
  }
  return torch::stack(per_target);
}

TEST(AngleTables, EqualsTheDefinitionForEveryTargetAndSet) {
  torch::manual_seed(3);
  for (const int64_t n : {1, 2, 3, 5}) {
    for (const int64_t sets : {1, 4}) {
      const auto in = random_sets(sets, n);
      const auto tables = op_on(in);
      ASSERT_EQ(tables.sizes(), (std::vector<int64_t>{n, sets, int64_t{1} << (n - 1)}));
      EXPECT_TRUE(all_close(tables, reference_on(in), 1e-14)) << "n " << n << ", " << sets << " set(s)";
    }
  }
}

TEST(AngleTables, DiagonalWeightsDoNotEnter) {
  torch::manual_seed(4);
  auto in = random_sets(2, 3);
  const auto before = op_on(in);
  in[1] = in[1] + torch::eye(3, kR) * 7.0;
  EXPECT_TRUE(torch::equal(op_on(in), before));
}

TEST(AngleTables, GradientsMatchFiniteDifferencesAndTheReference) {
  torch::manual_seed(5);
  for (const int64_t n : {1, 2, 4}) {
    const auto in = random_sets(3, n);
    std::vector<size_t> all(in.size());
    for (size_t k = 0; k < all.size(); ++k) all[k] = k;
    EXPECT_TRUE(test::gradients_match(op_on, reference_on, in, all)) << "n " << n;
    EXPECT_TRUE(test::gradients_match(op_on, reference_on, in, {0, 4})) << "n " << n << ", a subset";
  }
}

TEST(AngleTables, WeightGradientsHaveZeroDiagonals) {
  torch::manual_seed(6);
  auto w = torch::randn({3, 3}, kR).requires_grad_(true);
  auto b = torch::randn({3}, kR).requires_grad_(true);
  (angle_tables({w}, {b}) * torch::randn({3, 1, 4}, kR)).sum().backward();
  EXPECT_TRUE(torch::equal(w.grad().diagonal(), torch::zeros({3}, kR)));
  EXPECT_GT(w.grad().abs().sum().item<double>(), 0.0);
}

TEST(AngleTables, FloatFollowsDouble) {
  torch::manual_seed(7);
  const auto in = random_sets(2, 4);
  Inputs narrow;
  for (const auto& t : in) narrow.push_back(t.to(torch::kFloat32));
  const auto tables = op_on(narrow);
  EXPECT_EQ(tables.scalar_type(), torch::kFloat32);
  EXPECT_TRUE(all_close(tables, op_on(in), 1e-5));
}

TEST(AngleTables, NonContiguousWeightsReadAsTheirValues) {
  torch::manual_seed(8);
  const auto in = random_sets(2, 3);
  Inputs transposed = in;
  transposed[0] = in[0].t().contiguous().t();
  ASSERT_FALSE(transposed[0].is_contiguous());
  EXPECT_TRUE(torch::equal(op_on(transposed), op_on(in)));
}

TEST(AngleTables, DoubleBackwardIsRefused) {
  auto w = torch::randn({2, 2}, kR).requires_grad_(true);
  auto b = torch::randn({2}, kR).requires_grad_(true);
  const auto loss = angle_tables({w}, {b}).pow(2).sum();
  EXPECT_THROW(torch::autograd::grad({loss}, {w}, {}, true, /*create_graph=*/true), c10::Error);
}

}  // namespace
}  // namespace hqrn
