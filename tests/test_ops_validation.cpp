// Bad inputs raise c10::Error (RuntimeError in Python) whose message names
// the offending argument, for every op.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cctype>
#include <functional>
#include <string>
#include <vector>

#include "tests/dense_reference.h"
#include "tests/op_test_util.h"
#include "torch_ext/backward_ops.h"
#include "torch_ext/ops.h"

namespace hqrn {
namespace {

constexpr auto kC = torch::kComplexDouble;
constexpr auto kR = torch::kDouble;

bool is_identifier_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// `word` occurs in `text` delimited by non-identifier characters (so that "u"
// does not match inside "unitary").
bool mentions_word(const std::string& text, const std::string& word) {
  for (size_t at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) {
    const bool starts = at == 0 || !is_identifier_char(text[at - 1]);
    const bool ends = at + word.size() == text.size() || !is_identifier_char(text[at + word.size()]);
    if (starts && ends) return true;
  }
  return false;
}

// The call raises c10::Error and its message names one of `names`.
::testing::AssertionResult raises_naming(const std::function<void()>& call, const std::vector<std::string>& names) {
  try {
    call();
  } catch (const c10::Error& e) {
    const std::string message = e.msg();
    for (const auto& name : names) {
      if (mentions_word(message, name)) return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << "message does not name '" << names.front() << "': " << message;
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "raised a non-c10 exception: " << e.what();
  }
  return ::testing::AssertionFailure() << "did not raise (expected an error naming '" << names.front() << "')";
}

::testing::AssertionResult raises_naming(const std::function<void()>& call, const std::string& name) {
  return raises_naming(call, std::vector<std::string>{name});
}

torch::Tensor complex_zeros(std::vector<int64_t> shape) { return torch::zeros(shape, kC); }

// Every op that takes a state, called on `rho` with otherwise valid arguments
// for a 2-qubit register.
std::vector<std::pair<std::string, std::function<void(const torch::Tensor&)>>> state_ops() {
  const auto table = torch::zeros({2}, kR);
  return {
      {"qrb_step", [=](const torch::Tensor& rho) { hqrn::qrb_step(rho, table, table, 0, true); }},
      {"qrb_sweep", [](const torch::Tensor& rho) {
         const auto tables = torch::zeros({2, 2}, kR);
         hqrn::qrb_sweep(rho, tables, tables, {0, 1});
       }},
      {"dephase", [](const torch::Tensor& rho) { hqrn::dephase(rho, 0); }},
      {"embed_ancillas", [](const torch::Tensor& rho) { hqrn::embed_ancillas(rho, 1); }},
      {"partial_trace", [](const torch::Tensor& rho) { hqrn::partial_trace(rho, {0}); }},
      {"probs", [](const torch::Tensor& rho) { hqrn::probs(rho); }},
      {"apply_unitary", [](const torch::Tensor& rho) { hqrn::apply_unitary(rho, torch::eye(2, kC), {0}); }},
  };
}

TEST(OpValidation, StateOfWrongShapeOrDtypeNamesRho) {
  const std::vector<std::pair<std::string, torch::Tensor>> bad_states{
      {"2-D", complex_zeros({4, 4})},
      {"4-D", complex_zeros({1, 1, 4, 4})},
      {"non-square", complex_zeros({1, 4, 8})},
      {"3 x 3", complex_zeros({1, 3, 3})},
      {"6 x 6", complex_zeros({1, 6, 6})},
      {"float64", torch::zeros({1, 4, 4}, kR)},
      {"float32", torch::zeros({1, 4, 4}, torch::kFloat)},
  };
  for (const auto& [op_name, op] : state_ops()) {
    for (const auto& [what, rho] : bad_states) {
      EXPECT_TRUE(raises_naming([&] { op(rho); }, "rho")) << op_name << " with " << what << " rho";
    }
  }
}

TEST(OpValidation, QrbStepAngleTableDtypeAndShape) {
  const auto rho = complex_zeros({2, 8, 8});  // n = 3, tables of 4
  const auto good = torch::zeros({4}, kR);
  const auto step = [&](const torch::Tensor& theta, const torch::Tensor& phi) {
    return [=] { hqrn::qrb_step(rho, theta, phi, 0, true); };
  };
  EXPECT_TRUE(raises_naming(step(torch::zeros({4}, torch::kFloat), good), "theta")) << "float32 theta, complex128 rho";
  EXPECT_TRUE(raises_naming(step(good, torch::zeros({4}, torch::kFloat)), "phi")) << "float32 phi, complex128 rho";
  EXPECT_TRUE(raises_naming(step(torch::zeros({4}, kC), good), "theta")) << "complex theta";
  EXPECT_TRUE(raises_naming([&] { hqrn::qrb_step(rho.to(torch::kComplexFloat), good, good.to(torch::kFloat), 0); },
                            "theta"))
      << "float64 theta, complex64 rho";
  EXPECT_TRUE(raises_naming(step(torch::zeros({3}, kR), good), "theta")) << "3 angles for 3 qubits";
  EXPECT_TRUE(raises_naming(step(torch::zeros({8}, kR), good), "theta")) << "8 angles for 3 qubits";
  EXPECT_TRUE(raises_naming(step(good, torch::zeros({2}, kR)), "phi")) << "2 phis for 3 qubits";
  EXPECT_TRUE(raises_naming(step(torch::zeros({3, 4}, kR), good), "theta")) << "per-sample table for batch 3, B = 2";
  EXPECT_TRUE(raises_naming(step(good, torch::zeros({1, 4}, kR)), "phi")) << "per-sample table for batch 1, B = 2";
  EXPECT_TRUE(raises_naming(step(torch::zeros({2, 4, 1}, kR), good), "theta")) << "3-D table";
  EXPECT_TRUE(raises_naming(step(torch::zeros({}, kR), good), "theta")) << "0-D table";
}

TEST(OpValidation, TargetOutOfRange) {
  const auto rho = complex_zeros({1, 8, 8});
  const auto table = torch::zeros({4}, kR);
  const auto p = torch::full({1, 8}, 0.125, kR);
  for (int64_t target : {-1, 3, 7}) {
    EXPECT_TRUE(raises_naming([&] { hqrn::qrb_step(rho, table, table, target, true); }, "target"))
        << "qrb_step target " << target;
    EXPECT_TRUE(raises_naming([&] { hqrn::markov_step(p, table, target); }, "target")) << "markov_step target " << target;
    EXPECT_TRUE(raises_naming([&] { hqrn::dephase(rho, target); }, "target")) << "dephase target " << target;
  }
}

TEST(OpValidation, MarkovStepShapesAndDtypes) {
  const auto table = torch::zeros({4}, kR);
  const auto p = torch::full({2, 8}, 0.125, kR);
  EXPECT_TRUE(raises_naming([&] { hqrn::markov_step(torch::full({8}, 0.125, kR), table, 0); }, "p")) << "1-D p";
  EXPECT_TRUE(raises_naming([&] { hqrn::markov_step(torch::zeros({1, 8, 8}, kR), table, 0); }, "p")) << "3-D p";
  EXPECT_TRUE(raises_naming([&] { hqrn::markov_step(torch::zeros({1, 6}, kR), table, 0); }, "p")) << "6 entries";
  EXPECT_TRUE(raises_naming([&] { hqrn::markov_step(torch::zeros({1, 8}, kC), table, 0); }, "p")) << "complex p";
  EXPECT_TRUE(raises_naming([&] { hqrn::markov_step(p, torch::zeros({4}, torch::kFloat), 0); }, "theta"))
      << "float32 theta, float64 p";
  EXPECT_TRUE(raises_naming([&] { hqrn::markov_step(p, torch::zeros({5}, kR), 0); }, "theta")) << "5 angles";
  EXPECT_TRUE(raises_naming([&] { hqrn::markov_step(p, torch::zeros({3, 4}, kR), 0); }, "theta")) << "batch 3 table";
}

TEST(OpValidation, VectorStepShapesDtypesTablesAndDevices) {
  const auto psi = complex_zeros({6, 2, 8});  // B = 6, r = 2, n = 3: tables of 4
  const auto good = torch::zeros({4}, kR);
  const auto step = [&](const torch::Tensor& v, const torch::Tensor& theta, const torch::Tensor& phi,
                        int64_t target = 0) { return [=] { hqrn::vector_step(v, theta, phi, target); }; };
  // Every message names the op as well as the argument.
  const auto names = [](const std::string& arg) {
    return std::function<::testing::AssertionResult(const std::function<void()>&)>(
        [arg](const std::function<void()>& call) {
          auto named = raises_naming(call, arg);
          if (!named) return named;
          return raises_naming(call, "vector_step");
        });
  };
  EXPECT_TRUE(names("psi")(step(complex_zeros({6, 8}), good, good))) << "2-D psi";
  EXPECT_TRUE(names("psi")(step(complex_zeros({1, 6, 2, 8}), good, good))) << "4-D psi";
  EXPECT_TRUE(names("psi")(step(torch::zeros({6, 2, 8}, kR), good, good))) << "real psi";
  EXPECT_TRUE(names("psi")(step(torch::zeros({6, 2, 8}, torch::kFloat), good, good))) << "float32 psi";
  EXPECT_TRUE(names("psi")(step(complex_zeros({6, 2, 6}), good, good))) << "6 amplitudes";
  EXPECT_TRUE(names("psi")(step(complex_zeros({6, 2, 1}), torch::zeros({1}, kR), torch::zeros({1}, kR))))
      << "no qubit";
  {
    // Past the vectors limit (meta tensors: nothing is allocated).
    const auto meta = torch::TensorOptions().device(torch::kMeta);
    const auto table = torch::empty({int64_t{1} << 24}, meta.dtype(kR));
    EXPECT_TRUE(names("qubits")(step(torch::empty({1, 1, int64_t{1} << 25}, meta.dtype(kC)), table, table)))
        << "25 qubits";
  }
  EXPECT_TRUE(names("theta")(step(psi, torch::zeros({4}, torch::kFloat), good))) << "float32 theta, complex128 psi";
  EXPECT_TRUE(names("phi")(step(psi.to(torch::kComplexFloat), good.to(torch::kFloat), good)))
      << "float64 phi, complex64 psi";
  EXPECT_TRUE(names("theta")(step(psi, torch::zeros({4}, kC), good))) << "complex theta";
  EXPECT_TRUE(names("theta")(step(psi, torch::zeros({8}, kR), good))) << "8 angles for 3 qubits";
  EXPECT_TRUE(names("phi")(step(psi, good, torch::zeros({2}, kR)))) << "2 phis for 3 qubits";
  EXPECT_TRUE(names("theta")(step(psi, torch::zeros({6, 2}, kR), good))) << "per-sample table of 2";
  EXPECT_TRUE(names("theta")(step(psi, torch::zeros({2, 4, 1}, kR), good))) << "3-D table";
  EXPECT_TRUE(names("theta")(step(psi, torch::zeros({4, 4}, kR), good))) << "4 groups of 6 samples";
  EXPECT_TRUE(names("phi")(step(psi, good, torch::zeros({0, 4}, kR)))) << "no groups";
  EXPECT_TRUE(raises_naming(step(psi, torch::zeros({2, 4}, kR), torch::zeros({3, 4}, kR)),
                            "theta and phi must have one grouping"))
      << "theta in 2 groups, phi in 3";
  for (int64_t target : {-1, 3, 7}) {
    EXPECT_TRUE(names("target")(step(psi, good, good, target))) << "target " << target;
  }
  // Accepted: shared, per sample, grouped (G dividing B), one grouping with a shared table, B = 0, r = 0.
  for (const auto& [theta, phi] : {std::pair{good, good}, {torch::zeros({6, 4}, kR), good},
                                   {torch::zeros({3, 4}, kR), torch::zeros({3, 4}, kR)},
                                   {good, torch::zeros({1, 4}, kR)}}) {
    EXPECT_NO_THROW(hqrn::vector_step(psi, theta, phi, 2)) << theta.sizes() << " " << phi.sizes();
  }
  EXPECT_NO_THROW(hqrn::vector_step(complex_zeros({0, 2, 8}), torch::zeros({2, 4}, kR), good, 0)) << "B = 0";
  EXPECT_NO_THROW(hqrn::vector_step(complex_zeros({6, 0, 8}), good, good, 0)) << "r = 0";
  // Meta tensors get the output's shape; a meta state with CPU tables is refused by name.
  const auto meta = torch::empty({6, 2, 8}, torch::TensorOptions().dtype(kC).device(torch::kMeta));
  const auto shape_only = hqrn::vector_step(meta, good.to(torch::kMeta), good.to(torch::kMeta), 1);
  EXPECT_TRUE(shape_only.is_meta());
  EXPECT_EQ(shape_only.sizes(), meta.sizes());
  EXPECT_TRUE(names("theta")(step(meta, good, good.to(torch::kMeta)))) << "meta psi, CPU theta";
  EXPECT_TRUE(raises_naming(step(meta, good, good.to(torch::kMeta)), "one device")) << "meta psi, CPU theta";
  EXPECT_TRUE(names("target")(step(meta, good.to(torch::kMeta), good.to(torch::kMeta), 3))) << "meta, target 3";
  // The backward op checks its incoming gradient (shape and dtype of psi).
  EXPECT_TRUE(raises_naming([&] { backward::vector_step(complex_zeros({6, 1, 8}), psi, good, good, 0); }, "grad"))
      << "grad of another shape";
  EXPECT_TRUE(raises_naming([&] { backward::vector_step(psi.to(torch::kComplexFloat), psi, good, good, 0); },
                            "_vector_step_backward"))
      << "complex64 grad, complex128 psi";
  EXPECT_TRUE(raises_naming([&] { backward::vector_step(torch::Tensor(), psi, good, good, 0); }, "grad"))
      << "undefined grad";
}

TEST(OpValidation, PartialTraceKeepList) {
  const auto rho = complex_zeros({1, 8, 8});
  for (const std::vector<int64_t>& keep : {std::vector<int64_t>{0, 0}, {2, 1, 2}, {3}, {-1}, {0, 5}}) {
    EXPECT_TRUE(raises_naming([&] { hqrn::partial_trace(rho, keep); }, "keep"))
        << "keep " << test::list_string(keep);
  }
}

TEST(OpValidation, ApplyUnitaryTargetsAndGateShape) {
  const auto rho = complex_zeros({3, 16, 16});  // n = 4
  const auto apply = [&](const torch::Tensor& u, std::vector<int64_t> targets) {
    return [=] { hqrn::apply_unitary(rho, u, targets); };
  };
  EXPECT_TRUE(raises_naming(apply(torch::eye(4, kC), {1, 1}), "targets")) << "duplicate targets";
  EXPECT_TRUE(raises_naming(apply(torch::eye(2, kC), {4}), "targets")) << "target 4 of 4 qubits";
  EXPECT_TRUE(raises_naming(apply(torch::eye(2, kC), {-1}), "targets")) << "negative target";
  EXPECT_TRUE(raises_naming(apply(torch::eye(16, kC), {0, 1, 2, 3}), std::vector<std::string>{"targets", "u"})) << "k = 4 > 3";
  EXPECT_TRUE(raises_naming(apply(torch::eye(4, kC), {2}), "u")) << "4 x 4 gate on one target";
  EXPECT_TRUE(raises_naming(apply(torch::eye(2, kC), {0, 1}), "u")) << "2 x 2 gate on two targets";
  EXPECT_TRUE(raises_naming(apply(complex_zeros({2, 4}), {0}), "u")) << "non-square gate";
  EXPECT_TRUE(raises_naming(apply(complex_zeros({2, 2, 2}), {0}), "u")) << "per-sample gates for batch 2, B = 3";
  EXPECT_TRUE(raises_naming(apply(complex_zeros({1, 3, 2, 2}), {0}), "u")) << "4-D gate";
}

TEST(OpValidation, EmbedAncillasNegativeCount) {
  EXPECT_TRUE(raises_naming([] { hqrn::embed_ancillas(complex_zeros({1, 2, 2}), -1); }, "n_aux"));
}

TEST(OpValidation, QrbSweepTablesAndTargets) {
  const auto rho = complex_zeros({2, 8, 8});  // n = 3: tables [3, 4]
  const auto good = torch::zeros({3, 4}, kR);
  const auto sweep = [&](const torch::Tensor& theta, const torch::Tensor& phi, std::vector<int64_t> targets) {
    return [=] { hqrn::qrb_sweep(rho, theta, phi, targets); };
  };
  EXPECT_TRUE(raises_naming(sweep(torch::zeros({4}, kR), good, {0}), "theta")) << "one table for 3 qubits";
  EXPECT_TRUE(raises_naming(sweep(good, torch::zeros({2, 4}, kR), {0}), "phi")) << "2 tables for 3 qubits";
  EXPECT_TRUE(raises_naming(sweep(good, torch::zeros({3, 8}, kR), {0}), "phi")) << "tables of 8 for 3 qubits";
  EXPECT_TRUE(raises_naming(sweep(good.to(torch::kFloat), good, {0}), "theta")) << "float32 tables, complex128 rho";
  EXPECT_TRUE(raises_naming(sweep(good, good, {0, 3}), "targets")) << "target 3 of 3 qubits";
  EXPECT_TRUE(raises_naming(sweep(good, good, {-1}), "targets")) << "target -1";
}

TEST(OpValidation, AwareStepLayoutDiagonalAndTables) {
  const auto table = torch::zeros({4}, kR);  // n = 3
  const auto step = [&](const torch::Tensor& blocks, std::vector<int64_t> diagonal, int64_t target = 0,
                        const torch::Tensor& theta = torch::zeros({4}, kR)) {
    return [=] { hqrn::aware_step(blocks, theta, table, target, diagonal); };
  };
  const auto blocks = complex_zeros({2, 2, 4, 4});  // |D| = 1, m = 2
  EXPECT_TRUE(raises_naming(step(complex_zeros({2, 4, 4}), {}), "blocks")) << "3-D blocks";
  EXPECT_TRUE(raises_naming(step(torch::zeros({2, 2, 4, 4}, kR), {1}), "blocks")) << "real blocks";
  EXPECT_TRUE(raises_naming(step(complex_zeros({2, 2, 4, 2}), {1}), "blocks")) << "non-square blocks";
  EXPECT_TRUE(raises_naming(step(complex_zeros({2, 3, 4, 4}), {1}), "blocks")) << "3 diagonal assignments";
  EXPECT_TRUE(raises_naming(step(complex_zeros({2, 2, 3, 3}), {1}), "blocks")) << "3 x 3 blocks";
  EXPECT_TRUE(raises_naming(step(blocks, {}), "diagonal")) << "no diagonal qubit for 2 assignments";
  EXPECT_TRUE(raises_naming(step(blocks, {0, 1}), "diagonal")) << "two diagonal qubits for 2 assignments";
  EXPECT_TRUE(raises_naming(step(blocks, {3}), "diagonal")) << "diagonal qubit 3 of 3";
  EXPECT_TRUE(raises_naming(step(complex_zeros({2, 4, 2, 2}), {2, 0}), "diagonal")) << "descending diagonal list";
  EXPECT_TRUE(raises_naming(step(complex_zeros({2, 4, 2, 2}), {1, 1}), "diagonal")) << "repeated diagonal qubit";
  EXPECT_TRUE(raises_naming(step(blocks, {1}, 3), "target")) << "target 3 of 3";
  EXPECT_TRUE(raises_naming(step(blocks, {1}, 0, torch::zeros({8}, kR)), "theta")) << "table of 8 for 3 qubits";
  EXPECT_TRUE(raises_naming(step(blocks, {1}, 0, torch::zeros({3, 4}, kR)), "theta")) << "per-sample table, B = 3";
  // Grouped tables: G must divide the batch, and theta and phi group alike.
  const auto batch6 = complex_zeros({6, 2, 4, 4});
  EXPECT_TRUE(raises_naming(step(batch6, {1}, 0, torch::zeros({4, 4}, kR)), "theta must have shape [4] (shared) or [G, 4]"))
      << "4 groups of 6 samples";
  EXPECT_TRUE(raises_naming(step(batch6, {1}, 0, torch::zeros({0, 4}, kR)), "theta")) << "no groups";
  EXPECT_TRUE(raises_naming([&] { hqrn::aware_step(batch6, torch::zeros({2, 4}, kR), torch::zeros({3, 4}, kR), 0, {1}); },
                            "theta and phi must have one grouping"))
      << "theta in 2 groups, phi in 3";
  EXPECT_NO_THROW(hqrn::aware_step(batch6, torch::zeros({3, 4}, kR), table, 0, {1})) << "3 groups, shared phi";
  // The dense step keeps the spec's shapes: shared or per sample only.
  EXPECT_TRUE(raises_naming([&] { hqrn::qrb_step(complex_zeros({6, 8, 8}), torch::zeros({3, 4}, kR), table, 0); },
                            "or [6, 4] (per sample)"))
      << "grouped tables on the dense step";
}

TEST(OpValidation, BackwardOpsCheckTheIncomingGradient) {
  const auto table = torch::zeros({4}, kR);
  const auto blocks = complex_zeros({1, 2, 4, 4});  // target 0 splits: output [1, 4, 2, 2]
  EXPECT_TRUE(raises_naming([&] { backward::aware_step(complex_zeros({1, 2, 4, 4}), blocks, table, table, 0, {1}); },
                            "grad"));
  EXPECT_TRUE(raises_naming([&] { backward::qrb_sweep(complex_zeros({1, 4, 4}), complex_zeros({1, 8, 8}),
                                                      torch::zeros({3, 4}, kR), torch::zeros({3, 4}, kR), {0}); },
                            "grad"));
}

TEST(OpValidation, AngleTablesNameWhatIsWrong) {
  const auto w = torch::zeros({3, 3}, kR);
  const auto b = torch::zeros({3}, kR);
  EXPECT_TRUE(raises_naming([&] { hqrn::angle_tables({}, {}); }, "weights")) << "no weights";
  EXPECT_TRUE(raises_naming([&] { hqrn::angle_tables({w, w}, {b}); }, "bias")) << "one bias for two matrices";
  EXPECT_TRUE(raises_naming([&] { hqrn::angle_tables({torch::zeros({3, 2}, kR)}, {b}); }, "weights[0]"))
      << "non-square";
  EXPECT_TRUE(raises_naming([&] { hqrn::angle_tables({w, torch::zeros({2, 2}, kR)}, {b, b}); }, "weights[1]"))
      << "sizes differ";
  EXPECT_TRUE(raises_naming([&] { hqrn::angle_tables({w}, {torch::zeros({2}, kR)}); }, "biases[0]"))
      << "bias length";
  EXPECT_TRUE(raises_naming([&] { hqrn::angle_tables({w}, {b.to(torch::kFloat32)}); }, "dtype"))
      << "mixed dtypes";
  EXPECT_TRUE(raises_naming([&] { hqrn::angle_tables({complex_zeros({3, 3})}, {b}); }, "float64"))
      << "complex weights";
  EXPECT_TRUE(raises_naming([&] { hqrn::angle_tables({w}, {torch::Tensor()}); }, "undefined")) << "undefined bias";
  EXPECT_TRUE(raises_naming([&] { hqrn::angle_tables({torch::zeros({25, 25}, kR)}, {torch::zeros({25}, kR)}); },
                            "qubits"))
      << "too many qubits";
  EXPECT_TRUE(raises_naming([&] { backward::angle_tables(torch::zeros({3, 2, 3}, kR)); }, "grad"))
      << "backward: not [n, R, 2^(n-1)]";
  EXPECT_TRUE(raises_naming([&] { backward::angle_tables(torch::zeros({3, 2, 4}, torch::kInt64)); }, "grad"))
      << "backward: integer gradient";
}

TEST(OpValidation, ErrorsReachAutogradCallers) {
  // Validation runs under autograd too (inputs requiring grad).
  const auto rho = complex_zeros({1, 4, 4}).requires_grad_(true);
  const auto theta = torch::zeros({3}, kR).requires_grad_(true);
  EXPECT_TRUE(raises_naming([&] { hqrn::qrb_step(rho, theta, theta, 0, true); }, "theta"));
  EXPECT_TRUE(raises_naming([&] { hqrn::partial_trace(rho, {1, 1}); }, "keep"));
}

}  // namespace
}  // namespace hqrn
