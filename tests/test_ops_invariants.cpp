// Physical properties the ops must have, checked on the ops themselves:
// channels keep density matrices valid, theta = 0 is the skip connection, the
// exactness theorem (docs/model.md) holds on one step, and a two-step circuit
// tells an entangled state from its dephased twin.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "tests/dense_reference.h"
#include "tests/gradcheck.h"
#include "tests/op_test_util.h"
#include "torch_ext/memory.h"
#include "torch_ext/ops.h"

namespace hqrn {
namespace {

using test::all_close;
using test::list_string;

constexpr auto kC = torch::kComplexDouble;
constexpr auto kR = torch::kDouble;

// Hermitian, unit trace, eigenvalues >= -1e-10.
::testing::AssertionResult is_density_batch(const torch::Tensor& rho) {
  if (auto hermitian = all_close(rho, rho.transpose(1, 2).conj(), 1e-12); !hermitian) {
    return ::testing::AssertionFailure() << "not Hermitian: " << hermitian.message();
  }
  const auto trace = torch::real(torch::diagonal(rho, 0, -2, -1)).sum(-1);
  if (auto unit = all_close(trace, torch::ones_like(trace), 1e-12); !unit) {
    return ::testing::AssertionFailure() << "trace not 1: " << unit.message();
  }
  const double lowest = torch::linalg_eigvalsh(rho, "L").min().item<double>();
  if (lowest < -1e-10) return ::testing::AssertionFailure() << "eigenvalue " << lowest;
  return ::testing::AssertionSuccess();
}

TEST(OpInvariants, ChannelsKeepDensityMatricesValid) {
  torch::manual_seed(201);
  for (int64_t n = 1; n <= 5; ++n) {
    const int64_t half = int64_t{1} << (n - 1);
    // Full rank and rank one (pure) states.
    for (int64_t rank : {0, 1}) {
      const auto rho = dense::random_density(3, n, kC, rank);
      ASSERT_TRUE(is_density_batch(rho));
      for (int64_t target = 0; target < n; ++target) {
        for (bool dephase : {false, true}) {
          for (bool per_sample : {false, true}) {
            const auto theta = dense::random_angles(half, kR, per_sample ? 3 : 0);
            const auto phi = dense::random_angles(half, kR, per_sample ? 3 : 0);
            EXPECT_TRUE(is_density_batch(hqrn::qrb_step(rho, theta, phi, target, dephase)))
                << "qrb_step n " << n << " target " << target << " dephase " << dephase;
          }
        }
        EXPECT_TRUE(is_density_batch(hqrn::dephase(rho, target))) << "dephase n " << n << " target " << target;
      }
      for (int64_t n_aux = 0; n_aux <= 2; ++n_aux) {
        EXPECT_TRUE(is_density_batch(hqrn::embed_ancillas(rho, n_aux))) << "embed n " << n << " n_aux " << n_aux;
      }
      for (const std::vector<int64_t>& keep : {std::vector<int64_t>{}, {0}, {n - 1, 0}}) {
        if (keep.size() == 2 && n < 2) continue;
        EXPECT_TRUE(is_density_batch(hqrn::partial_trace(rho, keep))) << "partial_trace n " << n
                                                                       << " keep " << list_string(keep);
      }
      const auto p = hqrn::probs(rho);
      EXPECT_TRUE(all_close(p.sum(-1), torch::ones({3}, torch::kDouble), 1e-12)) << "probs sum, n " << n;
      EXPECT_GE(p.min().item<double>(), -1e-12) << "probs n " << n;
    }
  }
}

TEST(OpInvariants, ZeroThetaWithoutDephasingIsIdentityForAnyPhi) {
  torch::manual_seed(202);
  for (int64_t n = 1; n <= 5; ++n) {
    const int64_t half = int64_t{1} << (n - 1);
    const auto rho = dense::random_matrix(2, n, kC);
    for (int64_t target = 0; target < n; ++target) {
      const auto phi = dense::random_angles(half, kR, 2);
      EXPECT_TRUE(all_close(hqrn::qrb_step(rho, torch::zeros({half}, kR), phi, target, false), rho, 1e-14))
          << "n " << n << " target " << target;
      // With dephasing, theta = 0 leaves only the measurement.
      EXPECT_TRUE(all_close(hqrn::qrb_step(rho, torch::zeros({2, half}, kR), phi, target, true),
                            hqrn::dephase(rho, target), 1e-14))
          << "dephased, n " << n << " target " << target;
    }
  }
}

TEST(OpInvariants, StepEqualsRotationThenDephase) {
  torch::manual_seed(203);
  for (int64_t n = 1; n <= 5; ++n) {
    const int64_t half = int64_t{1} << (n - 1);
    const auto rho = dense::random_matrix(3, n, kC);
    for (int64_t target = 0; target < n; ++target) {
      const auto theta = dense::random_angles(half, kR, 3), phi = dense::random_angles(half, kR);
      EXPECT_TRUE(all_close(hqrn::qrb_step(rho, theta, phi, target, true),
                            hqrn::dephase(hqrn::qrb_step(rho, theta, phi, target, false), target), 1e-12))
          << "n " << n << " target " << target;
    }
  }
}

TEST(OpInvariants, ConstantTableStepEqualsSingleQubitGate) {
  // With the same angles for every control configuration, U_j is R on qubit j.
  torch::manual_seed(204);
  for (int64_t n = 1; n <= 5; ++n) {
    const int64_t half = int64_t{1} << (n - 1);
    const auto rho = dense::random_matrix(2, n, kC);
    for (int64_t target = 0; target < n; ++target) {
      const auto angles = dense::random_angles(2, kR);
      const auto theta = angles[0].expand({half}), phi = angles[1].expand({half});
      const auto gate = dense::rotation(angles[0], angles[1]);
      EXPECT_TRUE(all_close(hqrn::qrb_step(rho, theta, phi, target, false),
                            hqrn::apply_unitary(rho, gate, {target}), 1e-12))
          << "n " << n << " target " << target;
    }
  }
}

TEST(OpInvariants, ExactnessTheoremOnDiagonalStates) {
  // diag(p) -> qrb_step is diagonal and its diagonal is markov_step(p), whatever phi.
  torch::manual_seed(205);
  for (int64_t n = 1; n <= 6; ++n) {
    const int64_t half = int64_t{1} << (n - 1);
    for (bool per_sample : {false, true}) {
      const auto p = dense::random_probabilities(3, n, kR);
      const auto rho = torch::diag_embed(p).to(kC);
      for (int64_t target = 0; target < n; ++target) {
        const auto theta = dense::random_angles(half, kR, per_sample ? 3 : 0);
        const auto phi = dense::random_angles(half, kR, per_sample ? 3 : 0);
        const auto out = hqrn::qrb_step(rho, theta, phi, target, true);
        const auto off_diagonal = out - torch::diag_embed(torch::diagonal(out, 0, -2, -1));
        EXPECT_LE(off_diagonal.abs().max().item<double>(), 1e-14) << "n " << n << " target " << target;
        EXPECT_TRUE(all_close(hqrn::probs(out), hqrn::markov_step(p, theta, target), 1e-12))
            << "n " << n << " target " << target << " per_sample " << per_sample;
        // The classical analog of the step in float32 agrees too.
        EXPECT_TRUE(all_close(hqrn::probs(hqrn::qrb_step(rho.to(torch::kComplexFloat), theta.to(torch::kFloat),
                                                         phi.to(torch::kFloat), target, true)),
                              hqrn::markov_step(p.to(torch::kFloat), theta.to(torch::kFloat), target), 1e-5))
            << "float32, n " << n << " target " << target;
      }
    }
  }
}

TEST(OpInvariants, MarkovStepPreservesProbability) {
  torch::manual_seed(206);
  for (int64_t n = 1; n <= 6; ++n) {
    const auto p = dense::random_probabilities(3, n, kR);
    for (int64_t target = 0; target < n; ++target) {
      const auto out = hqrn::markov_step(p, dense::random_angles(int64_t{1} << (n - 1), kR, 3), target);
      EXPECT_TRUE(all_close(out.sum(-1), torch::ones({3}, kR), 1e-12));
      EXPECT_GE(out.min().item<double>(), 0.0);
      // theta = pi flips the target bit with certainty.
      const auto flipped = hqrn::markov_step(p, torch::full({int64_t{1} << (n - 1)}, M_PI, kR), target);
      const auto twice = hqrn::markov_step(flipped, torch::full({int64_t{1} << (n - 1)}, M_PI, kR), target);
      EXPECT_TRUE(all_close(twice, p, 1e-12)) << "n " << n << " target " << target;
    }
  }
}

TEST(OpInvariants, PartialTraceComposesAndUndoesEmbedding) {
  torch::manual_seed(207);
  const auto rho = dense::random_density(2, 4, kC);
  // Tracing in two stages equals tracing at once (qubits follow keep's order).
  const auto staged = hqrn::partial_trace(hqrn::partial_trace(rho, {3, 0, 2}), {2, 0});
  EXPECT_TRUE(all_close(staged, hqrn::partial_trace(rho, {2, 3}), 1e-12));
  // Keeping every qubit in order is the identity; reversing them is a permutation.
  EXPECT_TRUE(all_close(hqrn::partial_trace(rho, {0, 1, 2, 3}), rho, 1e-14));
  EXPECT_TRUE(all_close(hqrn::partial_trace(hqrn::partial_trace(rho, {3, 2, 1, 0}), {3, 2, 1, 0}), rho, 1e-14));
  // The ancillas are in |0..0> and tracing them out gives rho back.
  for (int64_t n_aux = 0; n_aux <= 3; ++n_aux) {
    EXPECT_TRUE(all_close(hqrn::partial_trace(hqrn::embed_ancillas(rho, n_aux), {0, 1, 2, 3}), rho, 1e-14))
        << "n_aux " << n_aux;
  }
  // A product state rho_A (x) rho_B: keeping A's qubits gives rho_A.
  const auto a = dense::random_density(1, 2, kC), b = dense::random_density(1, 1, kC);
  const auto product = torch::kron(a[0], b[0]).unsqueeze(0);
  EXPECT_TRUE(all_close(hqrn::partial_trace(product, {0, 1}), a, 1e-12));
  EXPECT_TRUE(all_close(hqrn::partial_trace(product, {2}), b, 1e-12));
}

TEST(OpInvariants, ApplyUnitaryIdentityAndComposition) {
  torch::manual_seed(208);
  const auto rho = dense::random_matrix(2, 4, kC);
  for (int64_t k = 1; k <= 3; ++k) {
    const auto targets = test::random_selection(4, k);
    const int64_t dim = int64_t{1} << k;
    EXPECT_TRUE(all_close(hqrn::apply_unitary(rho, torch::eye(dim, kC), targets), rho, 1e-14));
    // Two gates on the same targets compose as u2 u1.
    const auto u1 = dense::random_unitary(dim, kC), u2 = dense::random_unitary(dim, kC, 2);
    EXPECT_TRUE(all_close(hqrn::apply_unitary(hqrn::apply_unitary(rho, u1, targets), u2, targets),
                          hqrn::apply_unitary(rho, torch::matmul(u2, u1), targets), 1e-12))
        << "targets " << list_string(targets);
  }
  // A gate on (a, b) equals the same gate with its qubits swapped on (b, a).
  const auto u = dense::random_unitary(4, kC);
  const auto swap = torch::tensor({1., 0., 0., 0., 0., 0., 1., 0., 0., 1., 0., 0., 0., 0., 0., 1.}, kR)
                        .reshape({4, 4})
                        .to(kC);
  EXPECT_TRUE(all_close(hqrn::apply_unitary(rho, u, {1, 3}),
                        hqrn::apply_unitary(rho, torch::matmul(swap, torch::matmul(u, swap)), {3, 1}), 1e-12));
}

// Two Bell-measurement steps (docs/model.md, "What the quantum weights see"): a step on qubit 0 with
// theta = pi when qubit 1 is 1 (a CNOT up to phases), then a theta = pi/2 step
// on qubit 1. With every phi = 0 the circuit maps |Phi+> to |00>, |Phi-> to
// |01>, |Psi-> to |10> and |Psi+> to |11> (worked out by hand: after the first
// step qubit 0 holds the parity and qubit 1 the state (|0> +- |1>)/sqrt2,
// which R(pi/2, 0) sends to |0> or |1>).
torch::Tensor bell_circuit(const torch::Tensor& rho) {
  const auto cnot_theta = torch::tensor({0.0, M_PI}, kR);  // indexed by qubit 1's bit
  const auto half_pi = torch::full({2}, M_PI / 2, kR);      // indexed by qubit 0's bit
  const auto zero = torch::zeros({2}, kR);
  return hqrn::probs(hqrn::qrb_step(hqrn::qrb_step(rho, cnot_theta, zero, 0, true), half_pi, zero, 1, true));
}

torch::Tensor pure_state(const std::vector<double>& amplitudes) {
  const auto psi = torch::tensor(amplitudes, kR).to(kC) / std::sqrt(2.0);
  return torch::outer(psi, psi.conj()).unsqueeze(0);
}

TEST(OpInvariants, BellMeasurementSeparatesEntangledStateFromDephasedTwin) {
  const auto phi_plus = pure_state({1, 0, 0, 1});
  const auto phi_minus = pure_state({1, 0, 0, -1});
  const auto psi_plus = pure_state({0, 1, 1, 0});
  const auto psi_minus = pure_state({0, 1, -1, 0});
  const auto one_hot = [](int64_t outcome) {
    auto p = torch::zeros({1, 4}, kR);
    p[0][outcome] = 1.0;
    return p;
  };
  EXPECT_TRUE(all_close(bell_circuit(phi_plus), one_hot(0), 1e-12));
  EXPECT_TRUE(all_close(bell_circuit(phi_minus), one_hot(1), 1e-12));
  EXPECT_TRUE(all_close(bell_circuit(psi_minus), one_hot(2), 1e-12));
  EXPECT_TRUE(all_close(bell_circuit(psi_plus), one_hot(3), 1e-12));
  // The dephased twin (|00><00| + |11><11|)/2 has the same Z statistics as
  // |Phi+> but gives 1/2, 1/2 on two outcomes.
  const auto twin = hqrn::dephase(hqrn::dephase(phi_plus, 0), 1);
  EXPECT_TRUE(all_close(twin, torch::diag_embed(torch::tensor({{0.5, 0.0, 0.0, 0.5}}, kR)).to(kC), 1e-15));
  EXPECT_TRUE(all_close(bell_circuit(twin), one_hot(0) * 0.5 + one_hot(1) * 0.5, 1e-12));
  // The same circuit on the dense reference, as a cross-check of the hand derivation.
  const auto cnot_theta = torch::tensor({0.0, M_PI}, kR), half_pi = torch::full({2}, M_PI / 2, kR);
  const auto zero = torch::zeros({2}, kR);
  for (const auto& state : {phi_plus, phi_minus, psi_plus, psi_minus, twin}) {
    const auto expected =
        dense::probs(dense::qrb_step(dense::qrb_step(state, cnot_theta, zero, 0, true), half_pi, zero, 1, true));
    EXPECT_TRUE(all_close(bell_circuit(state), expected, 1e-12));
  }
}

TEST(LargeOutputs, PooledBuffersAreDistinctWhileAliveAndReusedAfter) {
  // 2 x 512 x 512 complex128 = 8 MiB: above the pooling threshold.
  const std::vector<int64_t> shape{2, 512, 512};
  auto a = empty_large(shape, torch::kComplexDouble);
  auto b = empty_large(shape, torch::kComplexDouble);
  EXPECT_EQ(a.sizes(), shape);
  EXPECT_EQ(a.scalar_type(), torch::kComplexDouble);
  EXPECT_TRUE(a.is_contiguous());
  EXPECT_NE(a.data_ptr(), b.data_ptr());
  a.fill_(1.0);
  b.fill_(2.0);
  EXPECT_TRUE(torch::all(torch::real(a) == 1.0).item<bool>());
  void* first = a.data_ptr();
  a = torch::Tensor();  // back to the pool
  const auto c = empty_large(shape, torch::kComplexDouble);
#if !defined(__SANITIZE_ADDRESS__)
  EXPECT_EQ(c.data_ptr(), first) << "a dead buffer of the same size is reused";
#endif
  EXPECT_TRUE(torch::all(torch::real(b) == 2.0).item<bool>()) << "reuse must not touch live tensors";
  // Small requests are plain allocations.
  const auto small = empty_large({3, 4}, torch::kFloat);
  EXPECT_EQ(small.sizes(), (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(small.scalar_type(), torch::kFloat);
  // Ops return pooled outputs that outlive each other correctly.
  const auto rho = dense::random_density(2, 9, torch::kComplexDouble);
  const auto table = torch::zeros({256}, torch::kDouble);
  const auto once = hqrn::qrb_step(rho, table, table, 0, true);
  const auto twice = hqrn::qrb_step(once, table, table, 0, true);
  EXPECT_TRUE(torch::allclose(twice, dense::dephase(rho, 0), 1e-12, 1e-12));
}

}  // namespace
}  // namespace hqrn
