// Every operator case of tests/op_cases.json (the table tests/test_ops.py
// reads too), called through the dispatcher by name: the forward against the
// dense reference of the op's row below, in complex64/float32 and
// complex128/float64, with contiguous and strided inputs and on 1 and 2
// threads (the same bits in every layout and thread count); the gradients of
// every listed input against finite differences and autograd through the
// reference; double backward refused unless the row says the op supports it. A new operator is one row in the JSON
// and one reference here; a registered op without a row fails.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <ATen/core/dispatch/Dispatcher.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "src/source_dir.h"
#include "tests/assertions.h"
#include "tests/dense_reference.h"
#include "tests/gradcheck.h"
#include "tests/op_test_util.h"

namespace hqrn {
namespace {

constexpr auto kC = torch::kComplexDouble;
constexpr auto kR = torch::kDouble;
using Args = std::vector<c10::IValue>;

struct OpCase {
  std::string op;
  nlohmann::json args;
  std::vector<size_t> grad;  // argument positions
  bool double_backward = false;  // supported; else refused
  std::string label;
};

std::vector<OpCase> load_cases() {
  const std::string path = std::string(kSourceDir) + "/tests/op_cases.json";
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  const auto table = nlohmann::json::parse(in);
  std::vector<OpCase> cases;
  for (const auto& row : table.at("cases")) {
    OpCase c{row.at("op").get<std::string>(), row.at("args"), row.at("grad").get<std::vector<size_t>>(),
             row.value("double_backward", false), ""};
    c.label = c.op + " " + c.args.dump();
    cases.push_back(std::move(c));
  }
  return cases;
}

const std::vector<OpCase>& cases() {
  static const auto list = load_cases();
  return list;
}

// One argument from its [kind, ...] spec, in complex128/float64.
c10::IValue make_arg(const nlohmann::json& spec) {
  const auto kind = spec.at(0).get<std::string>();
  const auto size = [&](size_t i) { return spec.at(i).get<int64_t>(); };
  const auto pow2 = [](int64_t k) { return int64_t{1} << k; };
  if (kind == "matrix") return dense::random_matrix(2, size(1), kC);
  if (kind == "density") return dense::random_density(2, size(1), kC);
  if (kind == "probabilities") return dense::random_probabilities(2, size(1), kR);
  if (kind == "angles") return dense::random_angles(pow2(size(1) - 1), kR);
  if (kind == "sample_angles") return dense::random_angles(pow2(size(1) - 1), kR, 2);
  if (kind == "grouped_angles") return dense::random_angles(pow2(size(2) - 1), kR, size(1));
  if (kind == "angle_tables") return dense::random_angles(pow2(size(1) - 1), kR, size(1));
  if (kind == "gate") return torch::randn({pow2(size(1)), pow2(size(1))}, kC) / pow2(size(1));
  if (kind == "sample_gate") return torch::randn({2, pow2(size(1)), pow2(size(1))}, kC) / pow2(size(1));
  if (kind == "kraus") return torch::randn({size(1), pow2(size(2)), pow2(size(2))}, kC) / pow2(size(2));
  if (kind == "sample_kraus") return torch::randn({2, size(1), pow2(size(2)), pow2(size(2))}, kC) / pow2(size(2));
  if (kind == "damping") {
    const double g = 0.3;
    return torch::tensor({1.0, 0.0, 0.0, std::sqrt(1 - g), 0.0, std::sqrt(g), 0.0, 0.0}, kR).reshape({2, 2, 2}).to(kC);
  }
  if (kind == "blocks") return torch::randn({2, pow2(size(1)), pow2(size(2)), pow2(size(2))}, kC) / pow2(size(2));
  if (kind == "vectors") return torch::randn({2, size(1), pow2(size(2))}, kC) / std::sqrt(double(pow2(size(2))));
  if (kind == "int") return spec.at(1).get<int64_t>();
  if (kind == "ints") return spec.at(1).get<std::vector<int64_t>>();
  if (kind == "bool") return spec.at(1).get<bool>();
  throw std::runtime_error("op_cases.json: unknown argument kind '" + kind + "'");
}

Args make_args(const OpCase& c) {
  Args args;
  for (const auto& spec : c.args) args.push_back(make_arg(spec));
  return args;
}

// The same values with other strides: transposed storage for matrices, every
// other element of a wider buffer for vectors.
torch::Tensor strided(const torch::Tensor& t) {
  if (t.dim() >= 2) return t.transpose(-1, -2).contiguous().transpose(-1, -2);
  return torch::stack({t, t}, 1).select(1, 0);
}

// Tensors in the given precision (complex64/float32 when single), optionally strided.
Args convert(const Args& args, bool single, bool make_strided) {
  Args out;
  for (const auto& a : args) {
    if (!a.isTensor()) {
      out.push_back(a);
      continue;
    }
    auto t = a.toTensor();
    if (single) t = t.to(t.is_complex() ? torch::kComplexFloat : torch::kFloat);
    out.push_back(make_strided ? strided(t) : t);
  }
  return out;
}

torch::Tensor call_op(const std::string& name, const Args& args) {
  const auto op = c10::Dispatcher::singleton().findSchemaOrThrow(("hqrn::" + name).c_str(), "");
  torch::jit::Stack stack(args.begin(), args.end());
  op.callBoxed(&stack);
  return stack.back().toTensor();
}

// ---- the reference column: each op from its definition, on dense matrices

using Reference = std::function<torch::Tensor(const Args&)>;

torch::Tensor tensor_at(const Args& a, size_t i) { return a.at(i).toTensor(); }
std::vector<int64_t> ints_at(const Args& a, size_t i) { return a.at(i).toIntVector(); }

int64_t aware_qubits(const torch::Tensor& blocks) {
  return dense::qubits_of_dim(blocks.size(1)) + dense::qubits_of_dim(blocks.size(2));
}

const std::map<std::string, Reference>& references() {
  static const std::map<std::string, Reference> table{
      {"qrb_step",
       [](const Args& a) {
         return dense::qrb_step(tensor_at(a, 0), tensor_at(a, 1), tensor_at(a, 2), a[3].toInt(), a[4].toBool());
       }},
      {"vector_step",
       [](const Args& a) { return dense::vector_step(tensor_at(a, 0), tensor_at(a, 1), tensor_at(a, 2), a[3].toInt()); }},
      {"markov_step", [](const Args& a) { return dense::markov_step(tensor_at(a, 0), tensor_at(a, 1), a[2].toInt()); }},
      {"dephase", [](const Args& a) { return dense::dephase(tensor_at(a, 0), a[1].toInt()); }},
      {"embed_ancillas", [](const Args& a) { return dense::embed_ancillas(tensor_at(a, 0), a[1].toInt()); }},
      {"partial_trace", [](const Args& a) { return dense::partial_trace(tensor_at(a, 0), ints_at(a, 1)); }},
      {"probs", [](const Args& a) { return dense::probs(tensor_at(a, 0)); }},
      {"apply_unitary",
       [](const Args& a) { return dense::apply_unitary(tensor_at(a, 0), tensor_at(a, 1), ints_at(a, 2)); }},
      {"qrb_sweep",
       [](const Args& a) {
         auto rho = tensor_at(a, 0);
         for (const auto j : ints_at(a, 3)) rho = dense::qrb_step(rho, tensor_at(a, 1)[j], tensor_at(a, 2)[j], j, true);
         return rho;
       }},
      {"aware_step",
       [](const Args& a) {
         const auto blocks = tensor_at(a, 0);
         const int64_t target = a[3].toInt();
         auto diagonal = ints_at(a, 4);
         const auto rho = dense::aware_to_dense(blocks, diagonal, aware_qubits(blocks));
         const auto out = dense::qrb_step(rho, tensor_at(a, 1), tensor_at(a, 2), target, true);
         if (std::find(diagonal.begin(), diagonal.end(), target) == diagonal.end()) diagonal.push_back(target);
         std::sort(diagonal.begin(), diagonal.end());
         return dense::aware_from_dense(out, diagonal);
       }},
      {"apply_kraus",
       [](const Args& a) { return dense::apply_kraus(tensor_at(a, 0), tensor_at(a, 1), ints_at(a, 2)); }},
      {"aware_apply_kraus",
       [](const Args& a) {
         const auto blocks = tensor_at(a, 0);
         const auto diagonal = ints_at(a, 3);
         const auto rho = dense::aware_to_dense(blocks, diagonal, aware_qubits(blocks));
         return dense::aware_from_dense(dense::apply_kraus(rho, tensor_at(a, 1), ints_at(a, 2)), diagonal);
       }},
  };
  return table;
}

const Reference& reference_of(const std::string& op) {
  const auto it = references().find(op);
  if (it == references().end()) throw std::runtime_error("no dense reference for op '" + op + "' in test_op_table.cpp");
  return it->second;
}

// Restores the thread count when a test ends.
struct ThreadCount {
  int saved = at::get_num_threads();
  explicit ThreadCount(int n) { at::set_num_threads(n); }
  ~ThreadCount() { at::set_num_threads(saved); }
};

// The op and its reference as functions of the case's tensor arguments.
struct TensorView {
  test::TensorFn op, reference;
  std::vector<torch::Tensor> inputs;
  std::vector<size_t> wrt;  // indices into inputs
};

TensorView tensor_view(const OpCase& c, const Args& args) {
  TensorView v;
  std::vector<size_t> position;  // argument position of each tensor input
  for (size_t i = 0; i < args.size(); ++i) {
    if (!args[i].isTensor()) continue;
    if (std::find(c.grad.begin(), c.grad.end(), i) != c.grad.end()) v.wrt.push_back(v.inputs.size());
    position.push_back(i);
    v.inputs.push_back(args[i].toTensor());
  }
  const auto with = [args, position](const std::vector<torch::Tensor>& tensors) {
    auto out = args;
    for (size_t k = 0; k < position.size(); ++k) out[position[k]] = tensors[k];
    return out;
  };
  v.op = [with, name = c.op](const std::vector<torch::Tensor>& t) { return call_op(name, with(t)); };
  v.reference = [with, &ref = reference_of(c.op)](const std::vector<torch::Tensor>& t) { return ref(with(t)); };
  return v;
}

// Ops whose arguments the table's kinds do not describe (lists of tensors),
// with the file that tests them the same ways (reference, strides, float32,
// finite differences, double backward refused; adam_step_, an optimizer
// update without a derivative: against the formula and torch.optim.Adam).
const std::map<std::string, std::string>& tested_elsewhere() {
  static const std::map<std::string, std::string> ops{{"angle_tables", "tests/test_angle_tables.cpp"},
                                                      {"adam_step_", "tests/test_optim.py"}};
  return ops;
}

TEST(OpTable, EveryRegisteredOpHasARowAndEveryRowAReference) {
  std::set<std::string> rows;
  for (const auto& c : cases()) {
    rows.insert(c.op);
    EXPECT_NO_THROW(reference_of(c.op)) << c.label;
    EXPECT_FALSE(c.grad.empty()) << c.label << ": no input is differentiated";
  }
  int64_t registered = 0;
  for (const auto& name : c10::Dispatcher::singleton().getAllOpNames()) {
    const std::string prefix = "hqrn::";
    if (name.name.rfind(prefix, 0) != 0) continue;
    const auto op = name.name.substr(prefix.size());
    if (op.rfind('_', 0) == 0) continue;  // backward ops, reached through their forward
    if (tested_elsewhere().count(op) > 0) {
      EXPECT_EQ(rows.count(op), 0u) << "op hqrn::" << op << " has a row and is also listed as tested elsewhere";
      continue;
    }
    ++registered;
    EXPECT_EQ(rows.count(op), 1u) << "op hqrn::" << op << " has no row in tests/op_cases.json";
  }
  EXPECT_EQ(registered, static_cast<int64_t>(rows.size())) << "a row names an op that is not registered";
}

TEST(OpTable, ForwardMatchesTheReferenceInEveryPrecisionLayoutAndThreadCount) {
  torch::manual_seed(901);
  for (const auto& c : cases()) {
    const auto wide = make_args(c);
    const auto expected = reference_of(c.op)(wide);
    for (const bool single : {false, true}) {
      const double tol = single ? 1e-5 : 1e-12;
      torch::Tensor first;
      for (const bool make_strided : {false, true}) {
        for (const int threads : {1, 2}) {
          ThreadCount scope(threads);
          const auto label = c.label + (single ? " single" : " double") + (make_strided ? " strided" : "") + " " +
                             std::to_string(threads) + " thread(s)";
          const auto out = call_op(c.op, convert(wide, single, make_strided));
          const auto dtype = !single ? expected.scalar_type()
                             : expected.is_complex() ? torch::kComplexFloat
                                                     : torch::kFloat;
          EXPECT_EQ(out.scalar_type(), dtype) << label;
          EXPECT_TRUE(test::all_close(out, expected, tol, tol)) << label;
          if (!first.defined()) {
            first = out;
          } else {
            EXPECT_TRUE(torch::equal(out, first)) << label << ": differs from the contiguous 1-thread result";
          }
        }
      }
    }
  }
}

TEST(OpTable, GradientsMatchFiniteDifferencesAndTheReference) {
  torch::manual_seed(902);
  for (const auto& c : cases()) {
    const auto wide = make_args(c);
    for (const bool make_strided : {false, true}) {
      const auto view = tensor_view(c, convert(wide, false, make_strided));
      EXPECT_TRUE(test::gradients_match(view.op, view.reference, view.inputs, view.wrt))
          << c.label << (make_strided ? " strided" : "");
    }
  }
}

TEST(OpTable, DoubleBackwardIsRefusedUnlessTheRowSupportsIt) {
  torch::manual_seed(903);
  for (const auto& c : cases()) {
    auto view = tensor_view(c, make_args(c));
    std::vector<torch::Tensor> leaves;
    for (const auto i : view.wrt) leaves.push_back(view.inputs[i].requires_grad_(true));
    const auto out = view.op(view.inputs);
    const auto weight = test::random_weight_like(out);
    const auto loss = test::real_loss(out, weight);
    if (c.double_backward) {
      // Supported: the graph-building gradient is the reference's.
      const auto grads = torch::autograd::grad({loss}, leaves, {}, true, /*create_graph=*/true, true);
      const auto expected = test::autograd_gradients(view.reference, view.inputs, view.wrt, weight);
      for (size_t k = 0; k < grads.size(); ++k) EXPECT_TRUE(test::all_close(grads[k], expected[k], 1e-12)) << c.label;
      continue;
    }
    EXPECT_TRUE(test::throws_with<c10::Error>(
        [&] { torch::autograd::grad({loss}, leaves, {}, /*retain_graph=*/true, /*create_graph=*/true); },
        {c.op + ": double backward is not supported"}))
        << c.label;
    // A plain backward still works afterwards.
    const auto grads = torch::autograd::grad({loss}, leaves);
    EXPECT_TRUE(std::all_of(grads.begin(), grads.end(), [](const torch::Tensor& g) { return g.defined(); }))
        << c.label;
  }
}

}  // namespace
}  // namespace hqrn
