// apply_kraus and aware_apply_kraus against references written here: every
// Kraus operator is embedded into the full 2^n x 2^n register as a sum of
// Kronecker products (identities on the other qubits, qubit 0 leftmost = most
// significant bit), and rho' = sum_m K_m rho K_m^dagger is formed with plain
// LibTorch matmuls. Forward against it; backward against autograd through it
// and against central differences; the aware layout against the dense op;
// validation messages; double backward refused.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "tests/assertions.h"
#include "tests/dense_reference.h"
#include "tests/gradcheck.h"
#include "tests/op_test_util.h"
#include "torch_ext/apply_kraus/prepare.h"
#include "torch_ext/ops.h"

namespace hqrn {
namespace {

constexpr auto kC = torch::kComplexDouble;

// ---- the independent reference

// sum_m K_m rho K_m^dagger in complex128 (tests/dense_reference: Kronecker products).
torch::Tensor reference_kraus(const torch::Tensor& rho, const torch::Tensor& kraus,
                              const std::vector<int64_t>& targets) {
  return dense::apply_kraus(rho.to(kC), kraus.to(kC), targets);
}

// The aware layout through the reference: blocks -> dense -> channel -> blocks.
torch::Tensor reference_aware(const torch::Tensor& blocks, const torch::Tensor& kraus,
                              const std::vector<int64_t>& targets, const std::vector<int64_t>& diagonal) {
  const int64_t n = dense::qubits_of_dim(blocks.size(1)) + dense::qubits_of_dim(blocks.size(2));
  const auto rho = dense::aware_to_dense(blocks.to(kC), diagonal, n);
  return dense::aware_from_dense(reference_kraus(rho, kraus, targets), diagonal);
}

// ---- inputs

torch::Tensor random_kraus(int64_t ops, int64_t k, torch::ScalarType dtype, int64_t batch = 0) {
  const int64_t kd = int64_t{1} << k;
  std::vector<int64_t> shape{ops, kd, kd};
  if (batch > 0) shape.insert(shape.begin(), batch);
  return (torch::randn(shape, torch::TensorOptions().dtype(kC)) / double(kd)).to(dtype);
}

torch::Tensor matrix2(std::complex<double> a, std::complex<double> b, std::complex<double> c,
                      std::complex<double> d) {
  auto m = torch::empty({2, 2}, kC);
  m.index_put_({0, 0}, c10::complex<double>(a));
  m.index_put_({0, 1}, c10::complex<double>(b));
  m.index_put_({1, 0}, c10::complex<double>(c));
  m.index_put_({1, 1}, c10::complex<double>(d));
  return m;
}

// The standard noise channels (PennyLane's Kraus operators), [m, 2, 2] complex128.
torch::Tensor depolarizing(double p) {
  const double a = std::sqrt(1 - p), b = std::sqrt(p / 3);
  const std::complex<double> i(0, 1);
  return torch::stack({matrix2(a, 0, 0, a), matrix2(0, b, b, 0), matrix2(0, -i * b, i * b, 0), matrix2(b, 0, 0, -b)});
}
torch::Tensor amplitude_damping(double g) {
  return torch::stack({matrix2(1, 0, 0, std::sqrt(1 - g)), matrix2(0, std::sqrt(g), 0, 0)});
}
torch::Tensor phase_damping(double g) {
  return torch::stack({matrix2(1, 0, 0, std::sqrt(1 - g)), matrix2(0, 0, 0, std::sqrt(g))});
}
torch::Tensor bit_flip(double p) {
  const double a = std::sqrt(1 - p), b = std::sqrt(p);
  return torch::stack({matrix2(a, 0, 0, a), matrix2(0, b, b, 0)});
}

struct NamedChannel {
  std::string name;
  torch::Tensor kraus;
};
std::vector<NamedChannel> spec_channels() {
  return {{"depolarizing", depolarizing(0.3)},
          {"amplitude_damping", amplitude_damping(0.4)},
          {"phase_damping", phase_damping(0.25)},
          {"bit_flip", bit_flip(0.15)}};
}

// Target lists for n qubits and k targets: all ordered ones up to 3 qubits,
// a few (among them {2, 0} and {3, 1}) for 4.
std::vector<std::vector<int64_t>> target_lists(int64_t n, int64_t k) {
  if (n <= 3) return test::ordered_selections(n, k);
  if (k == 1) return {{0}, {2}, {3}};
  return {{2, 0}, {0, 3}, {3, 1}, {1, 2}};
}

std::string label(int64_t n, const std::vector<int64_t>& targets, bool per_sample, torch::ScalarType dtype) {
  return "n=" + std::to_string(n) + " targets=" + test::list_string(targets) +
         (per_sample ? " per-sample" : " shared") + " " + c10::toString(dtype);
}

// ---- forward

TEST(ApplyKraus, ForwardMatchesKroneckerReference) {
  torch::manual_seed(11);
  for (const auto dtype : test::complex_dtypes()) {
    for (int64_t n = 1; n <= 4; ++n) {
      for (int64_t k = 1; k <= std::min<int64_t>(2, n); ++k) {
        for (const auto& targets : target_lists(n, k)) {
          for (const bool per_sample : {false, true}) {
            const int64_t batch = 3, ops = per_sample ? 2 : 3;
            const auto rho = dense::random_density(batch, n, dtype);
            const auto kraus = random_kraus(ops, k, dtype, per_sample ? batch : 0);
            const auto got = hqrn::apply_kraus(rho, kraus, targets);
            ASSERT_EQ(got.scalar_type(), dtype);
            EXPECT_TRUE(test::all_close(got, reference_kraus(rho, kraus, targets),
                                        test::forward_tolerance(dtype), test::forward_tolerance(dtype)))
                << label(n, targets, per_sample, dtype);
          }
        }
      }
    }
  }
}

TEST(ApplyKraus, TargetOrderIsTheMostSignificantBitFirst) {
  // A CNOT-like Kraus set with a single operator on {2, 0}: control = qubit 2.
  auto cnot = torch::zeros({1, 4, 4}, kC);
  for (int64_t x : {0, 1}) cnot.index_put_({0, x, x}, 1.0);
  cnot.index_put_({0, 2, 3}, 1.0);
  cnot.index_put_({0, 3, 2}, 1.0);
  // |001> (qubit 2 set) -> the control is qubit 2, so qubit 0 flips: |101>.
  auto rho = torch::zeros({1, 8, 8}, kC);
  rho.index_put_({0, 1, 1}, 1.0);
  const auto out = hqrn::apply_kraus(rho, cnot, {2, 0});
  EXPECT_NEAR(torch::real(out[0][5][5]).item<double>(), 1.0, 1e-14);
  EXPECT_NEAR(torch::abs(out).sum().item<double>(), 1.0, 1e-14);
}

TEST(ApplyKraus, NonContiguousAndConjugateViews) {
  torch::manual_seed(12);
  for (const auto dtype : test::complex_dtypes()) {
    const int64_t n = 3;
    const std::vector<int64_t> targets{2, 0};
    // A transposed batch and a strided, conjugated Kraus view.
    const auto rho = dense::random_density(2, n, dtype).transpose(1, 2);
    const auto wide_kraus = random_kraus(3, 2, dtype, 2).repeat({1, 1, 1, 2});
    const auto kraus = wide_kraus.index({torch::indexing::Slice(), torch::indexing::Slice(),
                                         torch::indexing::Slice(), torch::indexing::Slice(0, 8, 2)})
                           .conj();
    ASSERT_FALSE(rho.is_contiguous());
    ASSERT_FALSE(kraus.is_contiguous());
    EXPECT_TRUE(test::all_close(hqrn::apply_kraus(rho, kraus, targets), reference_kraus(rho, kraus, targets),
                                test::forward_tolerance(dtype), test::forward_tolerance(dtype)))
        << c10::toString(dtype);
    const auto shared = random_kraus(2, 1, dtype).transpose(1, 2);
    ASSERT_FALSE(shared.is_contiguous());
    EXPECT_TRUE(test::all_close(hqrn::apply_kraus(rho, shared, {1}), reference_kraus(rho, shared, {1}),
                                test::forward_tolerance(dtype), test::forward_tolerance(dtype)));
  }
}

TEST(ApplyKraus, TracePreservingChannelKeepsTrace) {
  torch::manual_seed(13);
  const auto rho = dense::random_density(2, 3, kC);
  for (const auto& channel : spec_channels()) {
    const auto out = hqrn::apply_kraus(rho, channel.kraus, {1});
    const auto trace = torch::real(torch::diagonal(out, 0, -2, -1)).sum(-1);
    EXPECT_TRUE(test::all_close(trace, torch::ones({2}, torch::kDouble), 1e-13)) << channel.name;
  }
}

// ---- backward

test::TensorFn dense_op(std::vector<int64_t> targets) {
  return [targets](const std::vector<torch::Tensor>& in) { return hqrn::apply_kraus(in[0], in[1], targets); };
}
test::TensorFn dense_ref(std::vector<int64_t> targets) {
  return [targets](const std::vector<torch::Tensor>& in) { return reference_kraus(in[0], in[1], targets); };
}

TEST(ApplyKraus, BackwardMatchesAutogradAndFiniteDifferences) {
  torch::manual_seed(21);
  for (int64_t n = 1; n <= 3; ++n) {
    for (int64_t k = 1; k <= std::min<int64_t>(2, n); ++k) {
      for (const auto& targets : target_lists(n, k)) {
        for (const bool per_sample : {false, true}) {
          const int64_t batch = 2;
          const std::vector<torch::Tensor> inputs{dense::random_matrix(batch, n, kC),
                                                  random_kraus(2, k, kC, per_sample ? batch : 0)};
          EXPECT_TRUE(test::gradients_match(dense_op(targets), dense_ref(targets), inputs, {0, 1}))
              << label(n, targets, per_sample, kC);
        }
      }
    }
  }
}

TEST(ApplyKraus, BackwardOnFourQubitsAndSingleMatchesAutograd) {
  torch::manual_seed(22);
  for (const auto dtype : test::complex_dtypes()) {
    const double tol = dtype == kC ? 1e-10 : 2e-4;
    for (const auto& targets : std::vector<std::vector<int64_t>>{{2, 0}, {3}, {1, 3}}) {
      for (const bool per_sample : {false, true}) {
        const std::vector<torch::Tensor> inputs{dense::random_matrix(3, 4, dtype),
                                                random_kraus(3, targets.size(), dtype, per_sample ? 3 : 0)};
        const auto weight = torch::randn({3, 16, 16}, kC).to(dtype);
        const auto got = test::autograd_gradients(dense_op(targets), inputs, {0, 1}, weight);
        const auto want = test::autograd_gradients(
            [&](const std::vector<torch::Tensor>& in) { return reference_kraus(in[0], in[1], targets); },
            {inputs[0].to(kC), inputs[1].to(kC)}, {0, 1}, weight.to(kC));
        for (size_t i = 0; i < 2; ++i) {
          EXPECT_EQ(got[i].scalar_type(), dtype);
          EXPECT_TRUE(test::all_close(got[i], want[i], tol, tol)) << label(4, targets, per_sample, dtype)
                                                                   << " input " << i;
        }
      }
    }
  }
}

TEST(ApplyKraus, SharedKrausGradientIsDeterministic) {
  torch::manual_seed(23);
  const std::vector<torch::Tensor> inputs{dense::random_matrix(16, 4, kC), random_kraus(4, 2, kC)};
  const auto weight = torch::randn({16, 16, 16}, kC);
  const auto first = test::autograd_gradients(dense_op({3, 1}), inputs, {0, 1}, weight);
  const auto second = test::autograd_gradients(dense_op({3, 1}), inputs, {0, 1}, weight);
  EXPECT_TRUE(torch::equal(first[1], second[1]));
  EXPECT_TRUE(torch::equal(first[0], second[0]));
}

TEST(ApplyKraus, DoubleBackwardIsRefused) {
  torch::manual_seed(24);
  const auto rho = dense::random_density(2, 2, kC).requires_grad_(true);
  const auto kraus = random_kraus(2, 1, kC).requires_grad_(true);
  const auto loss = torch::real(hqrn::apply_kraus(rho, kraus, {1})).pow(2).sum();
  try {
    torch::autograd::grad({loss}, {rho, kraus}, {}, /*retain_graph=*/true, /*create_graph=*/true);
    ADD_FAILURE() << "backward with create_graph did not raise";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what()).find("apply_kraus: double backward is not supported"), std::string::npos)
        << e.what();
  }
  // A plain backward still works afterwards.
  const auto grads = torch::autograd::grad({loss}, {rho, kraus});
  EXPECT_TRUE(grads[0].defined() && grads[1].defined());

  const auto blocks = dense::aware_from_dense(rho.detach(), {0}).requires_grad_(true);
  const auto aware_loss = torch::real(hqrn::aware_apply_kraus(blocks, bit_flip(0.2), {0}, {0})).pow(2).sum();
  try {
    torch::autograd::grad({aware_loss}, {blocks}, {}, true, true);
    ADD_FAILURE() << "aware backward with create_graph did not raise";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what()).find("aware_apply_kraus: double backward is not supported"),
              std::string::npos)
        << e.what();
  }
}

// ---- the coherence-aware layout

// A random density matrix with the qubits of D dephased: a valid aware state.
torch::Tensor dephased_density(int64_t batch, int64_t n, const std::vector<int64_t>& diagonal,
                               torch::ScalarType dtype) {
  auto rho = dense::random_density(batch, n, kC);
  for (auto q : diagonal) rho = dense::dephase(rho, q);
  return rho.to(dtype);
}

std::string aware_label(const std::vector<int64_t>& diagonal, const std::vector<int64_t>& targets,
                        const std::string& what) {
  return "D=" + test::list_string(diagonal) + " targets=" + test::list_string(targets) + " " + what;
}

TEST(AwareApplyKraus, SpecChannelsMatchTheDenseOp) {
  torch::manual_seed(31);
  const int64_t n = 3;
  for (const auto dtype : test::complex_dtypes()) {
    const double tol = test::forward_tolerance(dtype);
    for (const auto& diagonal : std::vector<std::vector<int64_t>>{{}, {0}, {1}, {0, 2}, {0, 1, 2}}) {
      for (int64_t t = 0; t < n; ++t) {
        for (const auto& channel : spec_channels()) {
          const auto rho = dephased_density(2, n, diagonal, dtype);
          const auto kraus = channel.kraus.to(dtype);
          const auto blocks = dense::aware_from_dense(rho, diagonal);
          const auto got = hqrn::aware_apply_kraus(blocks, kraus, {t}, diagonal);
          EXPECT_EQ(got.sizes(), blocks.sizes());
          const auto dense_out = hqrn::apply_kraus(rho, kraus, {t});
          EXPECT_TRUE(test::all_close(got, dense::aware_from_dense(dense_out, diagonal), tol, tol))
              << aware_label(diagonal, {t}, channel.name);
          // The dense output has no coherence on D (nothing dropped).
          EXPECT_TRUE(test::all_close(dense::aware_to_dense(got, diagonal, n), dense_out, tol, tol))
              << aware_label(diagonal, {t}, channel.name) << " (dropped entries)";
        }
      }
    }
  }
}

TEST(AwareApplyKraus, GeneralChannelsOnCoherentTargetsMatchTheDenseOp) {
  torch::manual_seed(32);
  const int64_t n = 4;
  for (const auto dtype : test::complex_dtypes()) {
    const double tol = test::forward_tolerance(dtype);
    for (const auto& diagonal : std::vector<std::vector<int64_t>>{{}, {1}, {0, 2}}) {
      const auto coherent = [&] {
        std::vector<int64_t> c;
        for (int64_t q = 0; q < n; ++q)
          if (std::find(diagonal.begin(), diagonal.end(), q) == diagonal.end()) c.push_back(q);
        return c;
      }();
      std::vector<std::vector<int64_t>> lists{{coherent.back()}, {coherent.back(), coherent.front()}};
      for (const auto& targets : lists) {
        for (const bool per_sample : {false, true}) {
          const auto rho = dephased_density(2, n, diagonal, dtype);
          const auto kraus = random_kraus(3, targets.size(), dtype, per_sample ? 2 : 0);
          const auto blocks = dense::aware_from_dense(rho, diagonal);
          const auto got = hqrn::aware_apply_kraus(blocks, kraus, targets, diagonal);
          const auto want = dense::aware_from_dense(hqrn::apply_kraus(rho, kraus, targets), diagonal);
          EXPECT_TRUE(test::all_close(got, want, tol, tol))
              << aware_label(diagonal, targets, per_sample ? "per-sample" : "shared");
          EXPECT_TRUE(test::all_close(got, reference_aware(blocks, kraus, targets, diagonal), tol, tol))
              << aware_label(diagonal, targets, "vs reference");
        }
      }
    }
  }
}

TEST(AwareApplyKraus, BackwardMatchesTheReference) {
  torch::manual_seed(33);
  const int64_t n = 3;
  struct Case {
    std::vector<int64_t> diagonal, targets;
  };
  const std::vector<Case> cases{{{}, {2}}, {{0}, {2, 1}}, {{1}, {0}}, {{0, 2}, {1}},   // coherent targets
                                {{0}, {0}}, {{1, 2}, {2}}, {{0, 1, 2}, {1}}};          // diagonal target
  for (const auto& c : cases) {
    bool on_diagonal = false;
    for (auto t : c.targets)
      on_diagonal = on_diagonal || std::find(c.diagonal.begin(), c.diagonal.end(), t) != c.diagonal.end();
    std::vector<std::pair<std::string, torch::Tensor>> channels;
    for (const auto& ch : spec_channels()) {
      if (c.targets.size() == 1) channels.push_back({ch.name, ch.kraus});
    }
    channels.push_back({"per-sample spec channels",
                        c.targets.size() == 1 ? torch::stack({amplitude_damping(0.3), phase_damping(0.6)})
                                              : random_kraus(2, 2, kC, 2)});
    if (!on_diagonal) channels.push_back({"random", random_kraus(3, c.targets.size(), kC)});
    for (const auto& [name, kraus] : channels) {
      const std::vector<torch::Tensor> inputs{dense::aware_from_dense(dense::random_matrix(2, n, kC), c.diagonal),
                                              kraus};
      const auto op = [&](const std::vector<torch::Tensor>& in) {
        return hqrn::aware_apply_kraus(in[0], in[1], c.targets, c.diagonal);
      };
      const auto ref = [&](const std::vector<torch::Tensor>& in) {
        return reference_aware(in[0], in[1], c.targets, c.diagonal);
      };
      const auto what = aware_label(c.diagonal, c.targets, name);
      if (!on_diagonal) {
        EXPECT_TRUE(test::gradients_match(op, ref, inputs, {0, 1})) << what;
        continue;
      }
      // On a diagonal target a perturbed Kraus set may create coherence (the
      // op refuses it), so finite differences only for the blocks.
      const auto weight = torch::randn(inputs[0].sizes(), kC);
      const auto got = test::autograd_gradients(op, inputs, {0, 1}, weight);
      const auto want = test::autograd_gradients(ref, inputs, {0, 1}, weight);
      const auto fd = test::finite_difference_gradients(op, inputs, {0}, weight);
      EXPECT_TRUE(test::all_close(got[0], want[0], 1e-10, 1e-9)) << what << " blocks vs reference";
      EXPECT_TRUE(test::all_close(got[1], want[1], 1e-10, 1e-9)) << what << " kraus vs reference";
      EXPECT_TRUE(test::all_close(got[0], fd[0], 1e-7, 1e-6)) << what << " blocks vs finite differences";
    }
  }
}

// ---- validation

TEST(ApplyKrausValidation, DenseInputsAreCheckedWithClearMessages) {
  const auto rho = dense::random_density(2, 2, kC);
  const auto k1 = bit_flip(0.1);
  const auto k2 = random_kraus(2, 2, kC);
  const auto call = [](torch::Tensor r, torch::Tensor k, std::vector<int64_t> t) {
    return [=] { hqrn::apply_kraus(r, k, t); };
  };
  EXPECT_TRUE(test::throws_with<c10::Error>(call(torch::Tensor(), k1, {0}), {"apply_kraus", "rho", "undefined"}));
  EXPECT_TRUE(test::throws_with<c10::Error>(call(rho, torch::Tensor(), {0}), {"apply_kraus", "kraus", "undefined"}));
  EXPECT_TRUE(test::throws_with<c10::Error>(call(rho[0], k1, {0}), {"apply_kraus", "rho", "[B, d, d]"}));
  EXPECT_TRUE(test::throws_with<c10::Error>(call(torch::zeros({1, 3, 3}, kC), k1, {0}), {"apply_kraus", "rho", "power of two"}));
  EXPECT_TRUE(test::throws_with<c10::Error>(call(torch::real(rho), k1, {0}), {"apply_kraus", "rho", "complex64 or complex128"}));
  EXPECT_TRUE(test::throws_with<c10::Error>(call(rho, k1.to(torch::kComplexFloat), {0}),
                          {"apply_kraus", "kraus", "rho's dtype", "ComplexDouble", "ComplexFloat"}));
  EXPECT_TRUE(test::throws_with<c10::Error>(call(rho, k1[0], {0}), {"apply_kraus", "kraus", "[m, 2, 2]", "2 dimensions"}));
  EXPECT_TRUE(test::throws_with<c10::Error>(call(rho, k2, {0}), {"apply_kraus", "kraus", "2 x 2 matrices", "1 target"}));
  EXPECT_TRUE(test::throws_with<c10::Error>(call(rho, k1, {0, 1}), {"apply_kraus", "kraus", "4 x 4 matrices", "2 target"}));
  EXPECT_TRUE(test::throws_with<c10::Error>(call(rho, torch::zeros({0, 2, 2}, kC), {0}), {"apply_kraus", "kraus", "m >= 1", "m = 0"}));
  EXPECT_TRUE(test::throws_with<c10::Error>(call(rho, torch::zeros({3, 2, 2, 2}, kC), {0}),
                          {"apply_kraus", "kraus", "per sample", "batch size 3", "rho's batch size 2"}));
  EXPECT_TRUE(test::throws_with<c10::Error>(call(rho, k1, {}), {"apply_kraus", "targets", "1 to 2", "got 0"}));
  EXPECT_TRUE(test::throws_with<c10::Error>(call(dense::random_density(1, 3, kC), random_kraus(1, 3, kC), {0, 1, 2}),
                          {"apply_kraus", "targets", "1 to 2", "got 3"}));
  EXPECT_TRUE(test::throws_with<c10::Error>(call(rho, k2, {1, 1}), {"apply_kraus", "targets", "twice"}));
  EXPECT_TRUE(test::throws_with<c10::Error>(call(rho, k1, {2}), {"apply_kraus", "targets", "out of range", "2 qubit"}));
  EXPECT_TRUE(test::throws_with<c10::Error>(call(rho, k1, {-1}), {"apply_kraus", "targets", "out of range"}));
  // Meta tensors get the output's shape (the Meta kernel: the same
  // preparation, no data); a meta state with a CPU channel is refused.
  const auto meta = torch::empty({2, 4, 4}, torch::TensorOptions().dtype(kC).device(torch::kMeta));
  const auto shape_only = hqrn::apply_kraus(meta, k1.to(torch::kMeta), {0});
  EXPECT_TRUE(shape_only.is_meta());
  EXPECT_EQ(shape_only.sizes(), meta.sizes());
  EXPECT_TRUE(test::throws_with<c10::Error>([&] { hqrn::apply_kraus(meta, k1.to(torch::kMeta), {2}); },
                                            {"apply_kraus", "targets", "out of range"}));
  EXPECT_TRUE(test::throws_with<c10::Error>([&] { hqrn::apply_kraus(meta, k1, {0}); },
                                            {"apply_kraus", "kraus", "cpu", "meta", "one device"}));
  // The backward op checks its incoming gradient.
  EXPECT_TRUE(test::throws_with<c10::Error>([&] { hqrn::backward::apply_kraus(torch::zeros({2, 2, 2}, kC), rho, k1, {0}); },
                          {"_apply_kraus_backward", "grad", "shape"}));
  EXPECT_TRUE(test::throws_with<c10::Error>([&] { hqrn::backward::apply_kraus(rho, rho, k1, {5}); },
                          {"_apply_kraus_backward", "targets", "out of range"}));
}

TEST(ApplyKrausValidation, AwareInputsAreCheckedWithClearMessages) {
  const auto rho = dephased_density(2, 3, {1}, kC);
  const auto blocks = dense::aware_from_dense(rho, {1});  // [2, 2, 4, 4]
  const auto call = [](torch::Tensor b, torch::Tensor k, std::vector<int64_t> t, std::vector<int64_t> d) {
    return [=] { hqrn::aware_apply_kraus(b, k, t, d); };
  };
  const auto k1 = depolarizing(0.2);
  EXPECT_TRUE(test::throws_with<c10::Error>(call(rho, k1, {0}, {1}), {"aware_apply_kraus", "blocks", "[B, 2^|D|, 2^m, 2^m]"}));
  EXPECT_TRUE(test::throws_with<c10::Error>(call(torch::Tensor(), k1, {0}, {1}), {"aware_apply_kraus", "blocks", "undefined"}));
  EXPECT_TRUE(test::throws_with<c10::Error>(call(blocks, torch::Tensor(), {0}, {1}), {"aware_apply_kraus", "kraus", "undefined"}));
  EXPECT_TRUE(test::throws_with<c10::Error>(call(blocks, k1, {0}, {}), {"aware_apply_kraus", "diagonal", "lists 0 qubit"}));
  EXPECT_TRUE(test::throws_with<c10::Error>(call(dense::aware_from_dense(dephased_density(1, 3, {0, 2}, kC), {0, 2}), k1, {1}, {2, 0}),
                          {"aware_apply_kraus", "diagonal", "ascending"}));
  EXPECT_TRUE(test::throws_with<c10::Error>(call(blocks, k1, {3}, {1}), {"aware_apply_kraus", "targets", "out of range"}));
  EXPECT_TRUE(test::throws_with<c10::Error>(call(blocks, k1.to(torch::kComplexFloat), {0}, {1}),
                          {"aware_apply_kraus", "kraus", "blocks's dtype"}));
  EXPECT_TRUE(test::throws_with<c10::Error>(call(blocks, torch::zeros({3, 1, 2, 2}, kC), {0}, {1}),
                          {"aware_apply_kraus", "kraus", "batch size 3", "blocks's batch size 2"}));
  // A Hadamard-like operator on the diagonal qubit 1 would create coherence.
  const auto hadamard = (matrix2(1, 1, 1, -1) / std::sqrt(2.0)).unsqueeze(0);
  EXPECT_TRUE(test::throws_with<c10::Error>(call(blocks, hadamard, {1}, {1}),
                          {"aware_apply_kraus", "would create coherence on diagonal qubit 1", "dense"}));
  // ... as would a per-sample set whose second sample does.
  EXPECT_TRUE(test::throws_with<c10::Error>(call(blocks, torch::stack({bit_flip(0.1), torch::cat({bit_flip(0.1), hadamard})
                                                                       .narrow(0, 1, 2)}),
                               {1}, {1}),
                          {"would create coherence on diagonal qubit 1"}));
  // ... but the same operator on a coherent qubit is fine.
  EXPECT_NO_THROW(hqrn::aware_apply_kraus(blocks, hadamard, {0}, {1}));
  EXPECT_TRUE(test::throws_with<c10::Error>(call(blocks, random_kraus(2, 2, kC), {0, 1}, {1}),
                          {"aware_apply_kraus", "2-qubit channel", "diagonal qubit 1",
                           "not supported in the coherence-aware layout"}));
  EXPECT_TRUE(test::throws_with<c10::Error>([&] { hqrn::backward::aware_apply_kraus(blocks[0], blocks, k1, {1}, {1}); },
                          {"_aware_apply_kraus_backward", "grad", "shape"}));
}

}  // namespace
}  // namespace hqrn
