// The coherence-aware step and the block sweep against the dense references:
// aware_step on every set of diagonal qubits equals the dense qrb_step read
// in the aware layout (forward in both dtypes, backward by finite differences
// and dense autograd), and qrb_sweep equals chained dense steps.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <vector>

#include "tests/dense_reference.h"
#include "tests/gradcheck.h"
#include "tests/op_test_util.h"
#include "torch_ext/ops.h"

namespace hqrn {
namespace {

using test::gradients_match;
using test::list_string;
using test::TensorFn;
using Inputs = std::vector<torch::Tensor>;

constexpr auto kC = torch::kComplexDouble;
constexpr auto kR = torch::kDouble;

// Every subset of the n qubits, ascending.
std::vector<std::vector<int64_t>> qubit_subsets(int64_t n) {
  std::vector<std::vector<int64_t>> out;
  for (int64_t bits = 0; bits < (int64_t{1} << n); ++bits) {
    std::vector<int64_t> subset;
    for (int64_t q = 0; q < n; ++q) {
      if ((bits >> q) & 1) subset.push_back(q);
    }
    out.push_back(subset);
  }
  return out;
}

std::vector<int64_t> with_target(std::vector<int64_t> diagonal, int64_t target) {
  if (std::find(diagonal.begin(), diagonal.end(), target) == diagonal.end()) diagonal.push_back(target);
  std::sort(diagonal.begin(), diagonal.end());
  return diagonal;
}

// A random state that is diagonal on `diagonal` (dephased there).
torch::Tensor state_diagonal_on(int64_t batch, int64_t n, const std::vector<int64_t>& diagonal) {
  auto rho = dense::random_density(batch, n, kC);
  for (const auto q : diagonal) rho = dense::dephase(rho, q);
  return rho;
}

TEST(AwareStep, MatchesDenseStepForEveryDiagonalSetAndTarget) {
  torch::manual_seed(301);
  for (int64_t n = 1; n <= 4; ++n) {
    const int64_t half = int64_t{1} << (n - 1);
    for (const auto& diagonal : qubit_subsets(n)) {
      for (int64_t target = 0; target < n; ++target) {
        for (const auto dtype : test::complex_dtypes()) {
          for (const bool per_sample : {false, true}) {
            const auto real = dense::real_dtype(dtype);
            const auto rho = state_diagonal_on(2, n, diagonal);
            const auto theta = dense::random_angles(half, kR, per_sample ? 2 : 0);
            const auto phi = dense::random_angles(half, kR, per_sample ? 2 : 0);
            const auto expected_dense = dense::qrb_step(rho, theta, phi, target, true);
            const auto grown = with_target(diagonal, target);
            const auto out = hqrn::aware_step(dense::aware_from_dense(rho, diagonal).to(dtype), theta.to(real),
                                              phi.to(real), target, diagonal);
            const auto label = "n " + std::to_string(n) + " D " + list_string(diagonal) + " target " +
                               std::to_string(target) + " " + std::string(c10::toString(dtype)) +
                               (per_sample ? " per-sample" : " shared");
            ASSERT_EQ(out.scalar_type(), dtype) << label;
            const auto expected = dense::aware_from_dense(expected_dense, grown);
            ASSERT_EQ(out.sizes(), expected.sizes()) << label;
            const double tol = test::forward_tolerance(dtype);
            EXPECT_TRUE(torch::allclose(out.to(kC), expected, tol, tol)) << label;
            // Nothing of the dense result lies outside the stored blocks.
            EXPECT_TRUE(torch::allclose(dense::aware_to_dense(out.to(kC), grown, n), expected_dense, tol, tol))
                << label;
          }
        }
      }
    }
  }
}

TEST(AwareStep, BackwardMatchesFiniteDifferencesAndDenseAutograd) {
  torch::manual_seed(302);
  for (int64_t n = 1; n <= 3; ++n) {
    const int64_t half = int64_t{1} << (n - 1);
    for (const auto& diagonal : qubit_subsets(n)) {
      for (int64_t target = 0; target < n; ++target) {
        for (const bool per_sample : {false, true}) {
          const auto grown = with_target(diagonal, target);
          const TensorFn op = [=](const Inputs& x) { return hqrn::aware_step(x[0], x[1], x[2], target, diagonal); };
          const TensorFn ref = [=](const Inputs& x) {
            const auto rho = dense::aware_to_dense(x[0], diagonal, n);
            return dense::aware_from_dense(dense::qrb_step(rho, x[1], x[2], target, true), grown);
          };
          // Non-Hermitian blocks exercise every entry of the backward.
          const Inputs inputs{dense::aware_from_dense(dense::random_matrix(2, n, kC), diagonal),
                              dense::random_angles(half, kR, per_sample ? 2 : 0),
                              dense::random_angles(half, kR, per_sample ? 2 : 0)};
          EXPECT_TRUE(gradients_match(op, ref, inputs, {0, 1, 2}))
              << "n " << n << " D " << list_string(diagonal) << " target " << target << " per_sample "
              << per_sample;
        }
      }
    }
  }
}

TEST(AwareStep, GroupedTablesEqualTheirTablesRepeatedPerSample) {
  // One table per group of consecutive samples (how branches run side by
  // side) against the dense reference with each group's table repeated over
  // its rows: forward, and backward by finite differences and autograd's sum
  // over each group. phi shared or grouped like theta.
  torch::manual_seed(305);
  const int64_t batch = 6;
  for (int64_t n = 1; n <= 3; ++n) {
    const int64_t half = int64_t{1} << (n - 1);
    for (const auto& diagonal : qubit_subsets(n)) {
      for (int64_t target = 0; target < n; ++target) {
        for (const int64_t groups : {1, 2, 3}) {
          for (const bool shared_phi : {false, true}) {
            const auto repeated = [&](const torch::Tensor& t) {
              return t.dim() == 2 ? t.repeat_interleave(batch / groups, 0) : t;
            };
            const TensorFn op = [=](const Inputs& x) { return hqrn::aware_step(x[0], x[1], x[2], target, diagonal); };
            const auto grown = with_target(diagonal, target);
            const TensorFn ref = [=](const Inputs& x) {
              const auto rho = dense::aware_to_dense(x[0], diagonal, n);
              return dense::aware_from_dense(dense::qrb_step(rho, repeated(x[1]), repeated(x[2]), target, true), grown);
            };
            const Inputs inputs{dense::aware_from_dense(dense::random_matrix(batch, n, kC), diagonal),
                                dense::random_angles(half, kR, groups),
                                dense::random_angles(half, kR, shared_phi ? 0 : groups)};
            const auto label = "n " + std::to_string(n) + " D " + list_string(diagonal) + " target " +
                               std::to_string(target) + " groups " + std::to_string(groups) +
                               (shared_phi ? " shared phi" : " grouped phi");
            EXPECT_TRUE(torch::allclose(op(inputs), ref(inputs), 1e-14, 1e-14)) << label;
            EXPECT_TRUE(gradients_match(op, ref, inputs, {0, 1, 2})) << label;
          }
        }
      }
    }
  }
}

TEST(AwareStep, ChainOfStepsEndsOnTheProbabilityVector) {
  // Ancillas start diagonal; once every data qubit has been stepped the
  // blocks are 1x1 and hold the Z distribution of the dense path.
  torch::manual_seed(303);
  const int64_t n = 5, data = 2;
  std::vector<int64_t> diagonal{2, 3, 4};
  const auto rho = dense::embed_ancillas(dense::random_density(3, data, kC), n - data);
  auto blocks = dense::aware_from_dense(rho, diagonal);
  auto dense_state = rho;
  for (const int64_t target : {3, 0, 4, 1, 2, 0}) {
    const auto theta = dense::random_angles(16, kR), phi = dense::random_angles(16, kR);
    blocks = hqrn::aware_step(blocks, theta, phi, target, diagonal);
    diagonal = with_target(diagonal, target);
    dense_state = dense::qrb_step(dense_state, theta, phi, target, true);
    EXPECT_TRUE(torch::allclose(dense::aware_to_dense(blocks, diagonal, n), dense_state, 1e-12, 1e-12))
        << "after target " << target;
  }
  ASSERT_EQ(blocks.sizes(), (std::vector<int64_t>{3, 32, 1, 1}));
  EXPECT_TRUE(torch::allclose(torch::real(blocks).reshape({3, 32}), dense::probs(dense_state), 1e-12, 1e-12));
}

TEST(QrbSweep, MatchesChainedDenseSteps) {
  torch::manual_seed(304);
  for (int64_t n = 1; n <= 3; ++n) {
    const int64_t half = int64_t{1} << (n - 1);
    // Every qubit once, a repeat, a skip, and no target at all.
    std::vector<std::vector<int64_t>> orders{{}, {0}};
    std::vector<int64_t> all;
    for (int64_t q = 0; q < n; ++q) all.push_back(q);
    orders.push_back(all);
    orders.push_back({n - 1, 0, n - 1});
    for (const auto& targets : orders) {
      const TensorFn op = [=](const Inputs& x) { return hqrn::qrb_sweep(x[0], x[1], x[2], targets); };
      const TensorFn ref = [=](const Inputs& x) {
        auto rho = x[0];
        for (const auto j : targets) rho = dense::qrb_step(rho, x[1][j], x[2][j], j, true);
        return rho;
      };
      const Inputs inputs{dense::random_matrix(2, n, kC), dense::random_angles(n * half, kR).reshape({n, half}),
                          dense::random_angles(n * half, kR).reshape({n, half})};
      EXPECT_TRUE(torch::allclose(op(inputs), ref(inputs), 1e-12, 1e-12)) << "n " << n << " " << list_string(targets);
      EXPECT_TRUE(gradients_match(op, ref, inputs, {0, 1, 2})) << "n " << n << " targets " << list_string(targets);
    }
  }
}

}  // namespace
}  // namespace hqrn
