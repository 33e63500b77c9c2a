// OpenQASM 3 export (src/circuit_export.h): the exported programs, parsed
// back and simulated gate by gate, reproduce each branch's channel on
// coherent inputs; the text holds only ry/rz/cry/crz/measure statements; the
// gates follow OpenQASM's standard definitions; parse errors name the line.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <complex>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "models/network.h"
#include "src/circuit_export.h"
#include "tests/dense_reference.h"
#include "tests/gradcheck.h"
#include "tests/model_test_util.h"
#include "torch_ext/ops.h"

namespace hqrn {
namespace {

using test::all_close;
using test::throws_with;

constexpr auto kC = torch::kComplexDouble;
constexpr auto kR = torch::kDouble;

// Every line is a header line (version, include, comment, register
// declaration) or one of the five statements the exporter may write.
::testing::AssertionResult only_rotations_and_measurements(const std::string& text) {
  static const std::regex header(R"(^(OPENQASM 3\.0;|include "stdgates\.inc";|// .*|//|qubit\[\d+\] q;|bit\[\d+\] c;)$)");
  static const std::regex statement(
      R"(^((ry|rz)\([-+0-9.eE]+\) q\[\d+\];|(cry|crz)\([-+0-9.eE]+\) q\[\d+\], q\[\d+\];|c\[(\d+)\] = measure q\[\4\];)$)");
  std::istringstream lines(text);
  int number = 0;
  bool body = false;
  for (std::string line; std::getline(lines, line);) {
    ++number;
    if (number == 1 && line != "OPENQASM 3.0;") return ::testing::AssertionFailure() << "first line: " << line;
    if (!body && std::regex_match(line, header)) continue;
    body = true;  // no declarations after the first statement
    if (!std::regex_match(line, statement)) {
      return ::testing::AssertionFailure() << "line " << number << " is not ry/rz/cry/crz/measure: " << line;
    }
  }
  return ::testing::AssertionSuccess();
}

// Gates branch_circuit must emit: per step rz(a), crz(V), ry(b), cry(W),
// rz(-a), crz(-V) for the nonzero angles, then one measurement.
size_t expected_gate_count(ResidualStackImpl& branch) {
  size_t count = 0;
  for (auto& block : branch.blocks) {
    const int64_t n = block->b.size(0);
    for (const auto j : block->targets()) {
      const auto nonzero = [](const torch::Tensor& t) { return t.item<double>() != 0.0 ? 1u : 0u; };
      if (block->has_quantum_weights()) count += 2 * nonzero(block->a[j]);
      count += nonzero(block->b[j]);
      for (int64_t i = 0; i < n; ++i) {
        if (i == j) continue;
        if (block->has_quantum_weights()) count += 2 * nonzero(block->V[j][i]);
        count += nonzero(block->W[j][i]);
      }
      count += 1;
    }
  }
  return count;
}

::testing::AssertionResult same_gates(const std::vector<Gate>& a, const std::vector<Gate>& b) {
  if (a.size() != b.size()) return ::testing::AssertionFailure() << a.size() << " vs " << b.size() << " gates";
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].name != b[i].name || a[i].qubits != b[i].qubits || (a[i].name != "measure" && a[i].angle != b[i].angle)) {
      return ::testing::AssertionFailure() << "gate " << i << ": " << a[i].name << "(" << a[i].angle << ") vs "
                                           << b[i].name << "(" << b[i].angle << ")";
    }
  }
  return ::testing::AssertionSuccess();
}

TEST(CircuitExport, ExportedProgramsReproduceTheBranchesOnCoherentStates) {
  torch::manual_seed(401);
  const auto config = NetworkConfig().data_qubits(2).ancillas(1).blocks(3).branches(2).classes(2);
  HQRN model(config);
  test::randomize_weights(*model);
  {
    // Exact zeros: their gates are left out.
    torch::NoGradGuard no_grad;
    model->branches[1]->blocks[0]->V[0][2] = 0.0;
    model->branches[1]->blocks[0]->W[1][0] = 0.0;
    model->branches[1]->blocks[2]->a[2] = 0.0;
  }
  test::TempDir dir;
  const auto prefix = dir.file("net");
  const auto files = export_openqasm(*model, prefix);
  EXPECT_EQ(files, (std::vector<std::string>{prefix + "_branch0.qasm", prefix + "_branch1.qasm", prefix + "_classical.json"}));
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"net_branch0.qasm", "net_branch1.qasm", "net_classical.json"}));

  const auto rho = dense::random_density(3, config.data_qubits(), kC);
  ASSERT_GT(test::max_off_diagonal(rho), 0.01);
  const auto start = model->initial_state(rho, Representation::dense).values();
  for (size_t k = 0; k < model->branches.size(); ++k) {
    const auto text = test::read_bytes(files[k]);
    EXPECT_TRUE(only_rotations_and_measurements(text)) << files[k];
    int64_t qubits = -1;
    const auto gates = parse_openqasm3(text, &qubits);
    EXPECT_EQ(qubits, config.qubits());
    EXPECT_TRUE(same_gates(gates, branch_circuit(*model->branches[k]))) << "text does not round-trip the gates";
    EXPECT_EQ(gates.size(), expected_gate_count(*model->branches[k])) << "branch " << k;

    const auto simulated = simulate_circuit(start, gates);
    const auto expected = test::dense_forward(*model->branches[k], start);
    EXPECT_TRUE(all_close(hqrn::probs(simulated), hqrn::probs(expected), 1e-10)) << "branch " << k;
    // No global phase is lost either: the whole density matrix agrees.
    EXPECT_TRUE(all_close(simulated, expected, 1e-10)) << "branch " << k;
    EXPECT_TRUE(all_close(simulated, test::reference_branch_quantum(*model->branches[k], start), 1e-10));
  }
  // With a zero weight the two branches' programs differ in length.
  EXPECT_EQ(branch_circuit(*model->branches[0]).size(), expected_gate_count(*model->branches[0]));
  EXPECT_EQ(branch_circuit(*model->branches[1]).size() + 5, branch_circuit(*model->branches[0]).size());
}

TEST(CircuitExport, SideFileCarriesConfigEncoderAndHead) {
  torch::manual_seed(402);
  const auto config = NetworkConfig().data_qubits(2).ancillas(1).features(3).blocks(1).branches(2).readout(Readout::mlp).hidden(4);
  HQRN model(config);
  test::randomize_weights(*model);
  test::TempDir dir;
  const auto files = export_openqasm(*model, dir.file("enc"));
  ASSERT_EQ(files.size(), 3u);
  const auto side = nlohmann::json::parse(test::read_bytes(files.back()));
  EXPECT_TRUE(NetworkConfig::from_json(side.at("config").dump()) == config);
  std::vector<std::string> expected_keys;
  for (const auto& item : model->named_parameters()) {
    if (item.key().rfind("encoder.", 0) == 0 || item.key().rfind("head.", 0) == 0) expected_keys.push_back(item.key());
  }
  std::vector<std::string> keys;
  for (const auto& [key, value] : side.at("parameters").items()) keys.push_back(key);
  std::sort(keys.begin(), keys.end());
  std::sort(expected_keys.begin(), expected_keys.end());
  EXPECT_EQ(keys, expected_keys);
  const auto params = model->named_parameters();
  for (const auto& key : expected_keys) {
    const auto& entry = side["parameters"][key];
    const auto shape = entry.at("shape").get<std::vector<int64_t>>();
    const auto values = entry.at("values").get<std::vector<double>>();
    EXPECT_EQ(shape, params[key].sizes().vec()) << key;
    EXPECT_TRUE(torch::equal(torch::tensor(values, kR).reshape(shape), params[key])) << key;
  }
  // Encoded features start diagonal; the programs act on that state as the branches do.
  const auto start = model->initial_state(torch::rand({2, 3}, kR), Representation::dense).values();
  for (size_t k = 0; k < 2; ++k) {
    const auto gates = parse_openqasm3(test::read_bytes(files[k]));
    EXPECT_TRUE(all_close(simulate_circuit(start, gates), test::dense_forward(*model->branches[k], start), 1e-10));
  }
}

TEST(CircuitExport, ClassicalAnalogExportsOnlyRyAndCry) {
  torch::manual_seed(403);
  ClassicalResNet model(NetworkConfig().data_qubits(3).blocks(2).branches(1));
  test::randomize_weights(*model);
  const auto gates = branch_circuit(*model->branches[0]);
  for (const auto& g : gates) EXPECT_TRUE(g.name == "ry" || g.name == "cry" || g.name == "measure") << g.name;
  EXPECT_EQ(gates.size(), expected_gate_count(*model->branches[0]));
  const auto p = dense::random_probabilities(2, 3, kR);
  EXPECT_TRUE(all_close(hqrn::probs(simulate_circuit(torch::diag_embed(p).to(kC), gates)),
                        test::markov_forward(*model->branches[0], p), 1e-12));
}

// Standard gate definitions (OpenQASM stdgates.inc): ry(t) = [[c, -s], [s, c]],
// rz(l) = diag(e^{-il/2}, e^{il/2}), cry/crz controlled on the first qubit.
TEST(CircuitExport, SimulateCircuitUsesStandardGateDefinitions) {
  torch::manual_seed(404);
  const int64_t n = 3;
  using cd = c10::complex<double>;
  const double t = 0.83;
  const double c = std::cos(t / 2), s = std::sin(t / 2);
  const auto ry = torch::tensor({cd(c), cd(-s), cd(s), cd(c)}, kC).reshape({2, 2});
  const auto rz = torch::tensor({cd(std::cos(t / 2), -std::sin(t / 2)), cd(0), cd(0), cd(std::cos(t / 2), std::sin(t / 2))}, kC)
                      .reshape({2, 2});
  const auto controlled = [](const torch::Tensor& u) {
    auto m = torch::eye(4, kC);
    m.slice(0, 2, 4).slice(1, 2, 4).copy_(u);
    return m;
  };
  struct Case {
    Gate gate;
    torch::Tensor matrix;
    std::vector<int64_t> targets;
  };
  const std::vector<Case> cases{
      {{"ry", t, {1}}, ry, {1}},
      {{"rz", t, {2}}, rz, {2}},
      {{"cry", t, {2, 0}}, controlled(ry), {2, 0}},
      {{"crz", t, {0, 1}}, controlled(rz), {0, 1}},
  };
  const auto rho = dense::random_density(2, n, kC);
  for (const auto& cs : cases) {
    const auto u = dense::embedded_unitary(cs.matrix, n, cs.targets);
    const auto expected = torch::matmul(torch::matmul(u, rho), u.conj().t());
    EXPECT_TRUE(all_close(simulate_circuit(rho, {cs.gate}), expected, 1e-12)) << cs.gate.name;
  }
  EXPECT_TRUE(all_close(simulate_circuit(rho, {{"measure", 0.0, {1}}}), dense::dephase(rho, 1), 0));
}

TEST(CircuitExport, TextRoundTripsGatesExactly) {
  torch::manual_seed(405);
  std::vector<Gate> gates;
  const auto angles = dense::random_angles(20, kR) * 7;
  for (int64_t i = 0; i < 20; ++i) {
    const std::vector<std::string> names{"ry", "rz", "cry", "crz"};
    const auto& name = names[static_cast<size_t>(i % 4)];
    std::vector<int64_t> qubits = name[0] == 'c' ? std::vector<int64_t>{i % 4, (i + 1) % 4} : std::vector<int64_t>{i % 4};
    gates.push_back({name, angles[i].item<double>(), qubits});
    if (i % 5 == 4) gates.push_back({"measure", 0.0, {i % 4}});
  }
  gates.push_back({"ry", 1e-300, {0}});  // extreme magnitudes survive {:.17g}
  gates.push_back({"rz", -123456.789, {3}});
  const auto text = to_openqasm3(gates, 4, "first comment line\nsecond");
  EXPECT_NE(text.find("// first comment line\n// second\n"), std::string::npos) << text;
  EXPECT_TRUE(only_rotations_and_measurements(text));
  int64_t qubits = 0;
  EXPECT_TRUE(same_gates(parse_openqasm3(text, &qubits), gates));
  EXPECT_EQ(qubits, 4);
  // Windows line endings are read the same way.
  EXPECT_TRUE(same_gates(parse_openqasm3(std::regex_replace(text, std::regex("\n"), "\r\n")), gates));
}

TEST(CircuitExport, ParseErrorsNameTheLine) {
  const std::string header = "OPENQASM 3.0;\ninclude \"stdgates.inc\";\nqubit[2] q;\nbit[2] c;\n";  // lines 1-4
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases{
      {header + "ry(0.5) q[0];\nh q[1];\n", {"<qasm>:6", "h q[1];"}},
      {header + "cx q[0], q[1];\n", {"<qasm>:5", "cx q[0], q[1];"}},
      {header + "cry(0.5) q[0], q[2];\n", {"<qasm>:5", "qubit 2"}},
      {header + "c[1] = measure q[7];\n", {"<qasm>:5", "qubit 7"}},
      {"OPENQASM 3.0;\nry(0.5) q[0];\n", {"<qasm>:2", "not declared"}},
      {header + "ry(0.5) q[0]\n", {"<qasm>:5"}},                   // missing semicolon
      {header + "// fine\n\nRY(0.5) q[0];\n", {"<qasm>:7", "RY"}},  // comments and blank lines count
  };
  for (const auto& [text, parts] : cases) {
    EXPECT_TRUE(throws_with<std::runtime_error>([&] { parse_openqasm3(text); }, parts)) << text;
  }
}

// Angles or indices that match the statement pattern but are not numbers
// must still be reported as a parse error with the line, not as a bare
// std::invalid_argument / std::out_of_range from std::stod / std::stoll.
TEST(CircuitExport, MalformedNumbersAreParseErrorsWithTheLine) {
  const std::string header = "OPENQASM 3.0;\nqubit[2] q;\n";  // lines 1-2
  for (const char* line : {"ry(abc) q[0];", "ry(0.5x) q[0];", "rz(pi/2) q[1];", "ry(1e999) q[0];", "cry(0.5) q[99999999999999999999], q[0];"}) {
    EXPECT_TRUE(throws_with<std::runtime_error>([&] { parse_openqasm3(header + line + "\n"); }, {"<qasm>:3"})) << line;
  }
}

}  // namespace
}  // namespace hqrn
