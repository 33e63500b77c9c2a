// Forward values of every op against the dense references (tests/dense_reference.h),
// computed in double precision from the same inputs.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "tests/dense_reference.h"
#include "tests/gradcheck.h"
#include "tests/op_test_util.h"
#include "torch_ext/ops.h"

namespace hqrn {
namespace {

using test::all_close;
using test::forward_tolerance;
using test::list_string;
using test::wide;

// States to try for an n-qubit register: random density matrices and, since
// every state op except probs is linear in rho, arbitrary non-Hermitian matrices.
std::vector<torch::Tensor> test_states(int64_t batch, int64_t n, torch::ScalarType dtype) {
  return {dense::random_density(batch, n, dtype), dense::random_matrix(batch, n, dtype)};
}

TEST(QrbStepForward, MatchesDenseForEveryTargetTableKindAndDtype) {
  torch::manual_seed(11);
  for (auto dtype : test::complex_dtypes()) {
    const auto real = dense::real_dtype(dtype);
    const double tol = forward_tolerance(dtype);
    for (int64_t n = 1; n <= 6; ++n) {
      const int64_t half = int64_t{1} << (n - 1);
      for (int64_t batch : {1, 3}) {
        // Table kinds: bit 0 makes theta per sample, bit 1 phi (mixed kinds included).
        for (int tables = 0; tables < 4; ++tables) {
          for (int64_t target = 0; target < n; ++target) {
            const auto theta = dense::random_angles(half, real, (tables & 1) ? batch : 0);
            const auto phi = dense::random_angles(half, real, (tables & 2) ? batch : 0);
            for (const auto& rho : test_states(batch, n, dtype)) {
              for (bool dephase : {false, true}) {
                const auto out = hqrn::qrb_step(rho, theta, phi, target, dephase);
                const auto expected = dense::qrb_step(rho.to(wide(dtype)), theta.to(torch::kDouble),
                                                      phi.to(torch::kDouble), target, dephase);
                EXPECT_EQ(out.scalar_type(), dtype);
                EXPECT_TRUE(all_close(out, expected, tol, tol))
                    << "dtype " << dtype << " n " << n << " B " << batch << " theta " << theta.sizes()
                    << " phi " << phi.sizes() << " target " << target << " dephase " << dephase;
              }
            }
          }
        }
      }
    }
  }
}

TEST(QrbStepForward, DephaseDefaultsToTrue) {
  torch::manual_seed(12);
  const auto rho = dense::random_density(2, 3, torch::kComplexDouble);
  const auto theta = dense::random_angles(4, torch::kDouble);
  const auto phi = dense::random_angles(4, torch::kDouble);
  EXPECT_TRUE(all_close(hqrn::qrb_step(rho, theta, phi, 1),
                        dense::qrb_step(rho, theta, phi, 1, /*dephase=*/true), 1e-12));
}

TEST(QrbStepForward, NonContiguousInputs) {
  torch::manual_seed(13);
  for (auto dtype : test::complex_dtypes()) {
    const auto real = dense::real_dtype(dtype);
    const double tol = forward_tolerance(dtype);
    for (int64_t n : {2, 3, 4}) {
      const int64_t d = int64_t{1} << n, half = d / 2, batch = 3;
      // Views: a transposed batch, a corner of a larger matrix, every other sample.
      const std::vector<torch::Tensor> states{
          dense::random_matrix(batch, n, dtype).transpose(1, 2),
          dense::random_matrix(batch, n + 1, dtype).slice(1, 0, d).slice(2, d, 2 * d),
          dense::random_density(2 * batch, n, dtype).slice(0, 0, 2 * batch, 2)};
      // Tables: a transposed per-sample table and a strided shared one.
      const std::vector<std::pair<torch::Tensor, torch::Tensor>> tables{
          {dense::random_angles(batch, real, half).t(), dense::random_angles(batch, real, half).t()},
          {dense::random_angles(2 * half, real).slice(0, 0, 2 * half, 2),
           dense::random_angles(3 * half, real).slice(0, 1, 3 * half, 3)}};
      for (const auto& rho : states) {
        ASSERT_FALSE(rho.is_contiguous());
        for (const auto& [theta, phi] : tables) {
          ASSERT_FALSE(theta.is_contiguous());
          for (int64_t target = 0; target < n; ++target) {
            for (bool dephase : {false, true}) {
              const auto out = hqrn::qrb_step(rho, theta, phi, target, dephase);
              const auto expected = dense::qrb_step(rho.to(wide(dtype)), theta.to(torch::kDouble),
                                                    phi.to(torch::kDouble), target, dephase);
              EXPECT_TRUE(all_close(out, expected, tol, tol))
                  << "dtype " << dtype << " n " << n << " target " << target << " dephase " << dephase
                  << " theta dim " << theta.dim();
            }
          }
        }
      }
    }
  }
}

TEST(MarkovStepForward, MatchesDenseStochasticMatrix) {
  torch::manual_seed(21);
  for (auto dtype : test::real_dtypes()) {
    const double tol = forward_tolerance(dtype);
    for (int64_t n = 1; n <= 6; ++n) {
      const int64_t half = int64_t{1} << (n - 1);
      for (int64_t batch : {1, 3}) {
        for (bool per_sample : {false, true}) {
          for (int64_t target = 0; target < n; ++target) {
            const auto theta = dense::random_angles(half, dtype, per_sample ? batch : 0);
            // A probability vector and an arbitrary real vector (the step is linear in p).
            for (const auto& p : {dense::random_probabilities(batch, n, dtype),
                                  torch::randn({batch, int64_t{1} << n}, torch::TensorOptions().dtype(dtype))}) {
              const auto out = hqrn::markov_step(p, theta, target);
              const auto expected = dense::markov_step(p.to(torch::kDouble), theta.to(torch::kDouble), target);
              EXPECT_EQ(out.scalar_type(), dtype);
              EXPECT_TRUE(all_close(out, expected, tol, tol))
                  << "dtype " << dtype << " n " << n << " B " << batch << " per_sample " << per_sample
                  << " target " << target;
            }
          }
        }
      }
    }
  }
}

TEST(MarkovStepForward, NonContiguousInputs) {
  torch::manual_seed(22);
  for (int64_t n : {2, 4}) {
    const int64_t d = int64_t{1} << n, half = d / 2, batch = 3;
    const auto p = dense::random_probabilities(batch, n, torch::kDouble).t().contiguous().t();  // column-major
    const auto p_strided = dense::random_probabilities(2 * batch, n, torch::kDouble).slice(0, 0, 2 * batch, 2);
    const auto theta = dense::random_angles(batch, torch::kDouble, half).t();
    ASSERT_FALSE(p.is_contiguous());
    for (const auto& probs : {p, p_strided}) {
      for (int64_t target = 0; target < n; ++target) {
        EXPECT_TRUE(all_close(hqrn::markov_step(probs, theta, target), dense::markov_step(probs, theta, target), 1e-12))
            << "n " << n << " target " << target;
      }
    }
  }
}

TEST(DephaseForward, MatchesSumOfProjections) {
  torch::manual_seed(31);
  for (auto dtype : test::complex_dtypes()) {
    const double tol = forward_tolerance(dtype);
    for (int64_t n = 1; n <= 6; ++n) {
      for (int64_t batch : {1, 3}) {
        for (int64_t target = 0; target < n; ++target) {
          auto states = test_states(batch, n, dtype);
          states.push_back(dense::random_matrix(batch, n, dtype).transpose(1, 2));
          for (const auto& rho : states) {
            const auto out = hqrn::dephase(rho, target);
            EXPECT_EQ(out.scalar_type(), dtype);
            EXPECT_TRUE(all_close(out, dense::dephase(rho.to(wide(dtype)), target), tol, tol))
                << "dtype " << dtype << " n " << n << " B " << batch << " target " << target
                << " contiguous " << rho.is_contiguous();
          }
        }
      }
    }
  }
}

TEST(EmbedAncillasForward, MatchesKronWithZeroState) {
  torch::manual_seed(41);
  for (auto dtype : test::complex_dtypes()) {
    const double tol = forward_tolerance(dtype);
    for (int64_t n = 1; n <= 4; ++n) {
      for (int64_t n_aux = 0; n_aux <= 3; ++n_aux) {
        for (int64_t batch : {1, 3}) {
          auto states = test_states(batch, n, dtype);
          states.push_back(dense::random_matrix(batch, n, dtype).transpose(1, 2));
          for (const auto& rho : states) {
            const auto out = hqrn::embed_ancillas(rho, n_aux);
            EXPECT_EQ(out.scalar_type(), dtype);
            EXPECT_TRUE(all_close(out, dense::embed_ancillas(rho.to(wide(dtype)), n_aux), tol, tol))
                << "dtype " << dtype << " n " << n << " n_aux " << n_aux << " B " << batch;
          }
        }
      }
    }
  }
}

TEST(PartialTraceForward, MatchesExplicitSumsForOrderedKeepLists) {
  torch::manual_seed(51);
  for (auto dtype : test::complex_dtypes()) {
    const double tol = forward_tolerance(dtype);
    for (int64_t n = 1; n <= 6; ++n) {
      std::vector<std::vector<int64_t>> keeps;
      if (n <= 4) {
        // Every ordered keep list, the empty one included.
        for (int64_t k = 0; k <= n; ++k) {
          for (auto& keep : test::ordered_selections(n, k)) keeps.push_back(keep);
        }
      } else {
        keeps = {{}, {0}, {n - 1}, {2, 0}, {3, 1, 4}, {1, n - 1, 0, 2}};
        std::vector<int64_t> all, reversed;
        for (int64_t q = 0; q < n; ++q) {
          all.push_back(q);
          reversed.insert(reversed.begin(), q);
        }
        keeps.push_back(all);
        keeps.push_back(reversed);
      }
      for (int64_t batch : {1, 3}) {
        const auto states = test_states(batch, n, dtype);
        for (const auto& keep : keeps) {
          for (const auto& rho : states) {
            const auto out = hqrn::partial_trace(rho, keep);
            EXPECT_EQ(out.scalar_type(), dtype);
            EXPECT_TRUE(all_close(out, dense::partial_trace(rho.to(wide(dtype)), keep), tol, tol))
                << "dtype " << dtype << " n " << n << " B " << batch << " keep " << list_string(keep);
          }
        }
      }
    }
  }
}

TEST(PartialTraceForward, NonContiguousInput) {
  torch::manual_seed(52);
  const auto rho = dense::random_matrix(3, 4, torch::kComplexDouble).transpose(1, 2);
  for (const std::vector<int64_t>& keep : {std::vector<int64_t>{}, {2}, {3, 0}, {1, 3, 2}, {0, 1, 2, 3}}) {
    EXPECT_TRUE(all_close(hqrn::partial_trace(rho, keep), dense::partial_trace(rho, keep), 1e-12))
        << "keep " << list_string(keep);
  }
}

TEST(ProbsForward, IsTheRealDiagonal) {
  torch::manual_seed(61);
  for (auto dtype : test::complex_dtypes()) {
    const double tol = forward_tolerance(dtype);
    for (int64_t n = 1; n <= 6; ++n) {
      for (int64_t batch : {1, 3}) {
        auto states = test_states(batch, n, dtype);
        states.push_back(dense::random_matrix(batch, n, dtype).transpose(1, 2));
        for (const auto& rho : states) {
          const auto out = hqrn::probs(rho);
          EXPECT_EQ(out.scalar_type(), dense::real_dtype(dtype));
          EXPECT_TRUE(all_close(out, dense::probs(rho.to(wide(dtype))), tol, tol))
              << "dtype " << dtype << " n " << n << " B " << batch;
        }
      }
    }
  }
}

TEST(ApplyUnitaryForward, MatchesPermutedKronForOrderedTargets) {
  torch::manual_seed(71);
  for (auto dtype : test::complex_dtypes()) {
    const double tol = forward_tolerance(dtype);
    for (int64_t n = 1; n <= 6; ++n) {
      for (int64_t k = 1; k <= std::min<int64_t>(3, n); ++k) {
        std::vector<std::vector<int64_t>> target_lists;
        if (n <= 3) {
          target_lists = test::ordered_selections(n, k);
        } else {
          for (int i = 0; i < 4; ++i) target_lists.push_back(test::random_selection(n, k));
        }
        const int64_t dim = int64_t{1} << k;
        for (int64_t batch : {1, 3}) {
          const auto states = test_states(batch, n, dtype);
          // Shared and per-sample gates; unitary and general (the formula holds for any u).
          const std::vector<torch::Tensor> gates{
              dense::random_unitary(dim, dtype), dense::random_unitary(dim, dtype, batch),
              torch::randn({dim, dim}, torch::TensorOptions().dtype(dtype)),
              torch::randn({batch, dim, dim}, torch::TensorOptions().dtype(dtype)).transpose(1, 2)};
          for (const auto& targets : target_lists) {
            for (const auto& u : gates) {
              const auto& rho = states[u.dim() == 2 ? 0 : 1];
              const auto out = hqrn::apply_unitary(rho, u, targets);
              EXPECT_EQ(out.scalar_type(), dtype);
              EXPECT_TRUE(all_close(out, dense::apply_unitary(rho.to(wide(dtype)), u.to(wide(dtype)), targets),
                                    tol, tol))
                  << "dtype " << dtype << " n " << n << " B " << batch << " targets " << list_string(targets)
                  << " u " << u.sizes();
            }
          }
        }
      }
    }
  }
}

TEST(ApplyUnitaryForward, NonContiguousState) {
  torch::manual_seed(72);
  const auto rho = dense::random_matrix(6, 4, torch::kComplexDouble).slice(0, 1, 6, 2).transpose(1, 2);
  const auto u = dense::random_unitary(4, torch::kComplexDouble);
  for (const std::vector<int64_t>& targets : {std::vector<int64_t>{3, 1}, {0, 2}, {2, 3}}) {
    EXPECT_TRUE(all_close(hqrn::apply_unitary(rho, u, targets), dense::apply_unitary(rho, u, targets), 1e-12))
        << "targets " << list_string(targets);
  }
}

}  // namespace
}  // namespace hqrn
