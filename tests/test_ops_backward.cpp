// Backward of every op in complex128/float64: the op's gradients (its
// registered backward, reached through torch::autograd::grad) against central
// finite differences of the op and against autograd through the dense reference.
#include <gtest/gtest.h>
#include <torch/torch.h>

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

TEST(QrbStepBackward, MatchesFiniteDifferencesAndDenseAutograd) {
  torch::manual_seed(101);
  for (int64_t n = 1; n <= 4; ++n) {
    const int64_t half = int64_t{1} << (n - 1);
    for (int64_t batch : {1, 2}) {
      if (n == 4 && batch == 2) continue;  // keeps the finite differences quick
      for (bool per_sample : {false, true}) {
        for (int64_t target = 0; target < n; ++target) {
          for (bool dephase : {false, true}) {
            const TensorFn op = [=](const Inputs& x) { return hqrn::qrb_step(x[0], x[1], x[2], target, dephase); };
            const TensorFn ref = [=](const Inputs& x) { return dense::qrb_step(x[0], x[1], x[2], target, dephase); };
            // A non-Hermitian rho exercises every entry of the backward.
            const Inputs inputs{dense::random_matrix(batch, n, kC), dense::random_angles(half, kR, per_sample ? batch : 0),
                                dense::random_angles(half, kR, per_sample ? batch : 0)};
            EXPECT_TRUE(gradients_match(op, ref, inputs, {0, 1, 2}))
                << "n " << n << " B " << batch << " per_sample " << per_sample << " target " << target
                << " dephase " << dephase;
          }
        }
      }
    }
  }
}

TEST(QrbStepBackward, SubsetsOfInputsRequiringGrad) {
  // Autograd asks only for some gradients; the others must not disturb them.
  torch::manual_seed(102);
  const int64_t n = 3, target = 1;
  const TensorFn op = [=](const Inputs& x) { return hqrn::qrb_step(x[0], x[1], x[2], target, true); };
  const TensorFn ref = [=](const Inputs& x) { return dense::qrb_step(x[0], x[1], x[2], target, true); };
  const Inputs inputs{dense::random_density(2, n, kC), dense::random_angles(4, kR, 2), dense::random_angles(4, kR)};
  for (const std::vector<size_t>& wrt : {std::vector<size_t>{0}, {1}, {2}, {1, 2}, {0, 2}}) {
    EXPECT_TRUE(gradients_match(op, ref, inputs, wrt)) << "wrt size " << wrt.size() << " first " << wrt[0];
  }
}

TEST(QrbStepBackward, NonContiguousInputAndIncomingGradient) {
  torch::manual_seed(103);
  const int64_t n = 3;
  for (int64_t target = 0; target < n; ++target) {
    for (bool dephase : {false, true}) {
      // rho arrives transposed and the incoming gradient is transposed too.
      const TensorFn op = [=](const Inputs& x) {
        return hqrn::qrb_step(x[0].transpose(1, 2), x[1].t(), x[2], target, dephase).transpose(1, 2);
      };
      const TensorFn ref = [=](const Inputs& x) {
        return dense::qrb_step(x[0].transpose(1, 2), x[1].t(), x[2], target, dephase).transpose(1, 2);
      };
      const Inputs inputs{dense::random_matrix(2, n, kC), dense::random_angles(2, kR, 4), dense::random_angles(4, kR)};
      EXPECT_TRUE(gradients_match(op, ref, inputs, {0, 1, 2})) << "target " << target << " dephase " << dephase;
    }
  }
}

TEST(MarkovStepBackward, MatchesFiniteDifferencesAndDenseAutograd) {
  torch::manual_seed(111);
  for (int64_t n = 1; n <= 5; ++n) {
    const int64_t half = int64_t{1} << (n - 1);
    for (int64_t batch : {1, 3}) {
      for (bool per_sample : {false, true}) {
        for (int64_t target = 0; target < n; ++target) {
          const TensorFn op = [=](const Inputs& x) { return hqrn::markov_step(x[0], x[1], target); };
          const TensorFn ref = [=](const Inputs& x) { return dense::markov_step(x[0], x[1], target); };
          const Inputs inputs{dense::random_probabilities(batch, n, kR),
                              dense::random_angles(half, kR, per_sample ? batch : 0)};
          EXPECT_TRUE(gradients_match(op, ref, inputs, {0, 1}))
              << "n " << n << " B " << batch << " per_sample " << per_sample << " target " << target;
          EXPECT_TRUE(gradients_match(op, ref, inputs, {1})) << "theta only, n " << n << " target " << target;
        }
      }
    }
  }
}

// A random angle table of `rows` rows (0: shared).
torch::Tensor table(int64_t half, int64_t rows) { return dense::random_angles(half, kR, rows); }

TEST(VectorStepBackward, MatchesFiniteDifferencesAndDenseAutograd) {
  torch::manual_seed(112);
  for (int64_t n = 1; n <= 3; ++n) {
    const int64_t half = int64_t{1} << (n - 1);
    // (theta rows, phi rows) for B = 4: shared, per sample, grouped, and mixed.
    for (const auto& [theta_rows, phi_rows] : {std::pair<int64_t, int64_t>{0, 0}, {4, 4}, {2, 2}, {1, 0}, {0, 4}}) {
      for (int64_t target = 0; target < n; ++target) {
        const TensorFn op = [=](const Inputs& x) { return hqrn::vector_step(x[0], x[1], x[2], target); };
        const TensorFn ref = [=](const Inputs& x) { return dense::vector_step(x[0], x[1], x[2], target); };
        const Inputs inputs{torch::randn({4, 2, 2 * half}, kC), table(half, theta_rows), table(half, phi_rows)};
        EXPECT_TRUE(gradients_match(op, ref, inputs, {0, 1, 2}))
            << "n " << n << " theta rows " << theta_rows << " phi rows " << phi_rows << " target " << target;
        EXPECT_TRUE(gradients_match(op, ref, inputs, {2})) << "phi only, n " << n << " target " << target;
      }
    }
  }
}

// Sizes where the backward splits a group's vectors into slabs and the pairs
// into tiles (its work units, fixed by the shapes alone), and empty batches:
// the gradients equal autograd through the dense reference, and are the same
// bits on one and on two threads.
TEST(VectorStepBackward, WorkUnitsGiveTheSameBitsOnOneAndTwoThreads) {
  torch::manual_seed(113);
  struct Case {
    int64_t batch, comps, n, target, theta_rows, phi_rows;
  };
  const int saved_threads = at::get_num_threads();
  for (const auto& c : {Case{64, 2, 3, 1, 0, 0}, Case{6, 3, 10, 4, 3, 0}, Case{4, 1, 10, 9, 4, 4},
                        Case{40, 1, 4, 0, 0, 8}, Case{0, 2, 3, 0, 0, 0}, Case{4, 0, 2, 1, 2, 2}}) {
    const int64_t half = int64_t{1} << (c.n - 1);
    const Inputs inputs{torch::randn({c.batch, c.comps, 2 * half}, kC), table(half, c.theta_rows),
                        table(half, c.phi_rows)};
    const auto weight = torch::randn({c.batch, c.comps, 2 * half}, kC);
    const TensorFn op = [&](const Inputs& x) { return hqrn::vector_step(x[0], x[1], x[2], c.target); };
    const TensorFn ref = [&](const Inputs& x) { return dense::vector_step(x[0], x[1], x[2], c.target); };
    std::vector<std::vector<torch::Tensor>> by_threads;
    for (const int threads : {1, 2}) {
      at::set_num_threads(threads);
      by_threads.push_back(test::autograd_gradients(op, inputs, {0, 1, 2}, weight));
    }
    at::set_num_threads(saved_threads);
    const auto expected = test::autograd_gradients(ref, inputs, {0, 1, 2}, weight);
    const auto label = "B " + std::to_string(c.batch) + " r " + std::to_string(c.comps) + " n " + std::to_string(c.n);
    for (size_t k = 0; k < 3; ++k) {
      EXPECT_TRUE(torch::equal(by_threads[0][k], by_threads[1][k])) << label << " input " << k;
      EXPECT_TRUE(test::all_close(by_threads[0][k], expected[k], 1e-10, 1e-9)) << label << " input " << k;
    }
  }
}

TEST(DephaseBackward, MatchesFiniteDifferencesAndDenseAutograd) {
  torch::manual_seed(121);
  for (int64_t n = 1; n <= 4; ++n) {
    for (int64_t target = 0; target < n; ++target) {
      const TensorFn op = [=](const Inputs& x) { return hqrn::dephase(x[0], target); };
      const TensorFn ref = [=](const Inputs& x) { return dense::dephase(x[0], target); };
      EXPECT_TRUE(gradients_match(op, ref, {dense::random_matrix(2, n, kC)}, {0})) << "n " << n << " target " << target;
    }
  }
}

TEST(EmbedAncillasBackward, MatchesFiniteDifferencesAndDenseAutograd) {
  torch::manual_seed(131);
  for (int64_t n = 1; n <= 3; ++n) {
    for (int64_t n_aux = 0; n_aux <= 2; ++n_aux) {
      const TensorFn op = [=](const Inputs& x) { return hqrn::embed_ancillas(x[0], n_aux); };
      const TensorFn ref = [=](const Inputs& x) { return dense::embed_ancillas(x[0], n_aux); };
      EXPECT_TRUE(gradients_match(op, ref, {dense::random_matrix(2, n, kC)}, {0})) << "n " << n << " n_aux " << n_aux;
    }
  }
}

TEST(PartialTraceBackward, MatchesFiniteDifferencesAndDenseAutograd) {
  torch::manual_seed(141);
  for (int64_t n = 1; n <= 4; ++n) {
    std::vector<std::vector<int64_t>> keeps{{}, {0}, {n - 1}};
    if (n >= 2) keeps.push_back({n - 1, 0});
    if (n >= 3) keeps.push_back({2, 0, 1});
    if (n >= 4) keeps.push_back({3, 1});
    for (const auto& keep : keeps) {
      const TensorFn op = [=](const Inputs& x) { return hqrn::partial_trace(x[0], keep); };
      const TensorFn ref = [=](const Inputs& x) { return dense::partial_trace(x[0], keep); };
      EXPECT_TRUE(gradients_match(op, ref, {dense::random_matrix(2, n, kC)}, {0}))
          << "n " << n << " keep " << list_string(keep);
    }
  }
}

TEST(ProbsBackward, MatchesFiniteDifferencesAndDenseAutograd) {
  torch::manual_seed(151);
  for (int64_t n = 1; n <= 4; ++n) {
    const TensorFn op = [](const Inputs& x) { return hqrn::probs(x[0]); };
    const TensorFn ref = [](const Inputs& x) { return dense::probs(x[0]); };
    EXPECT_TRUE(gradients_match(op, ref, {dense::random_matrix(2, n, kC)}, {0})) << "n " << n;
    // Transposed input: the diagonal is the same, the strides are not.
    const TensorFn op_t = [](const Inputs& x) { return hqrn::probs(x[0].transpose(1, 2)); };
    const TensorFn ref_t = [](const Inputs& x) { return dense::probs(x[0].transpose(1, 2)); };
    EXPECT_TRUE(gradients_match(op_t, ref_t, {dense::random_matrix(2, n, kC)}, {0})) << "transposed, n " << n;
  }
}

TEST(ApplyUnitaryBackward, MatchesFiniteDifferencesAndDenseAutograd) {
  torch::manual_seed(161);
  for (int64_t n = 1; n <= 4; ++n) {
    for (int64_t k = 1; k <= std::min<int64_t>(3, n); ++k) {
      const int64_t dim = int64_t{1} << k;
      for (int trial = 0; trial < 2; ++trial) {
        const auto targets = test::random_selection(n, k);
        for (bool per_sample : {false, true}) {
          const int64_t batch = 2;
          const TensorFn op = [=](const Inputs& x) { return hqrn::apply_unitary(x[0], x[1], targets); };
          const TensorFn ref = [=](const Inputs& x) { return dense::apply_unitary(x[0], x[1], targets); };
          // A general (non-unitary) u: the gradient must not assume u^dagger u = 1.
          const auto u = per_sample ? torch::randn({batch, dim, dim}, torch::TensorOptions().dtype(kC))
                                    : torch::randn({dim, dim}, torch::TensorOptions().dtype(kC));
          const Inputs inputs{dense::random_matrix(batch, n, kC), u};
          EXPECT_TRUE(gradients_match(op, ref, inputs, {0, 1}))
              << "n " << n << " targets " << list_string(targets) << " per_sample " << per_sample;
          EXPECT_TRUE(gradients_match(op, ref, inputs, {1})) << "u only, n " << n << " targets " << list_string(targets);
        }
      }
    }
  }
}

TEST(ApplyUnitaryBackward, NonContiguousInputs) {
  torch::manual_seed(162);
  const std::vector<int64_t> targets{2, 0};
  const TensorFn op = [=](const Inputs& x) {
    return hqrn::apply_unitary(x[0].transpose(1, 2), x[1].transpose(1, 2), targets).transpose(1, 2);
  };
  const TensorFn ref = [=](const Inputs& x) {
    return dense::apply_unitary(x[0].transpose(1, 2), x[1].transpose(1, 2), targets).transpose(1, 2);
  };
  const Inputs inputs{dense::random_matrix(2, 3, kC), torch::randn({2, 4, 4}, torch::TensorOptions().dtype(kC))};
  EXPECT_TRUE(gradients_match(op, ref, inputs, {0, 1}));
}

TEST(ChainedOpsBackward, NetworkLikeGraphMatchesDenseAutograd) {
  // embed -> gate -> two steps -> partial trace -> probs: each backward receives
  // the gradient another op's backward produced.
  torch::manual_seed(171);
  const TensorFn op = [](const Inputs& x) {
    auto rho = hqrn::embed_ancillas(x[0], 1);
    rho = hqrn::apply_unitary(rho, x[5], {1, 0});
    rho = hqrn::qrb_step(rho, x[1], x[2], 2, true);
    rho = hqrn::qrb_step(rho, x[3], x[4], 0, false);
    return hqrn::probs(hqrn::partial_trace(rho, {2, 0}));
  };
  const TensorFn ref = [](const Inputs& x) {
    auto rho = dense::embed_ancillas(x[0], 1);
    rho = dense::apply_unitary(rho, x[5], {1, 0});
    rho = dense::qrb_step(rho, x[1], x[2], 2, true);
    rho = dense::qrb_step(rho, x[3], x[4], 0, false);
    return dense::probs(dense::partial_trace(rho, {2, 0}));
  };
  const Inputs inputs{dense::random_density(2, 2, kC), dense::random_angles(4, kR, 2), dense::random_angles(4, kR),
                      dense::random_angles(4, kR), dense::random_angles(4, kR, 2),
                      dense::random_unitary(4, kC)};
  EXPECT_TRUE(gradients_match(op, ref, inputs, {0, 1, 2, 3, 4, 5}));
}

}  // namespace
}  // namespace hqrn
