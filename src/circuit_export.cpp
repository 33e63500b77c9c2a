#include "src/circuit_export.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <complex>
#include <regex>
#include <sstream>
#include <stdexcept>

#include "models/parse_number.h"
#include "src/data/csv.h"
#include "torch_ext/ops.h"
#include "torch_ext/qubit_index.h"

namespace hqrn {

namespace {

void add_gate(std::vector<Gate>& gates, const char* name, double angle, std::vector<int64_t> qubits) {
  if (angle != 0.0) gates.push_back({name, angle, std::move(qubits)});
}

// Controlled rotations of every other qubit i onto target j with angles row[i].
void add_controlled(std::vector<Gate>& gates, const char* name, const torch::Tensor& row, int64_t j, double sign) {
  const auto acc = row.accessor<double, 1>();
  for (int64_t i = 0; i < row.size(0); ++i) {
    if (i != j) add_gate(gates, name, sign * acc[i], {i, j});
  }
}

torch::Tensor gate_matrix(const Gate& gate, torch::ScalarType dtype) {
  using c = std::complex<double>;
  const double h = gate.angle / 2;
  c m[2][2];
  if (gate.name == "ry" || gate.name == "cry") {
    m[0][0] = std::cos(h); m[0][1] = -std::sin(h); m[1][0] = std::sin(h); m[1][1] = std::cos(h);
  } else {
    m[0][0] = std::polar(1.0, -h); m[0][1] = 0; m[1][0] = 0; m[1][1] = std::polar(1.0, h);
  }
  const bool controlled = gate.name[0] == 'c';
  const int64_t k = controlled ? 4 : 2;
  auto u = torch::eye(k, torch::kComplexDouble);
  const int64_t off = controlled ? 2 : 0;  // control = most significant bit
  for (int r = 0; r < 2; ++r) {
    for (int col = 0; col < 2; ++col) u.index_put_({off + r, off + col}, c10::complex<double>(m[r][col]));
  }
  return u.to(dtype);
}

}  // namespace

std::vector<Gate> branch_circuit(const ResidualStackImpl& branch) {
  torch::NoGradGuard no_grad;
  std::vector<Gate> gates;
  for (const auto& block : branch.blocks) {
    const auto W = block->W.to(torch::kFloat64).contiguous();
    const auto b = block->b.to(torch::kFloat64).contiguous();
    const bool quantum = block->has_quantum_weights();
    const auto V = quantum ? block->V.to(torch::kFloat64).contiguous() : torch::zeros_like(W);
    const auto a = quantum ? block->a.to(torch::kFloat64).contiguous() : torch::zeros_like(b);
    for (const auto j : block->targets()) {
      // U_j = [RZ(-a) prod CRZ(-V)] [RY(b) prod CRY(W)] [RZ(a) prod CRZ(V)]; rightmost first.
      add_gate(gates, "rz", a[j].item<double>(), {j});
      add_controlled(gates, "crz", V[j], j, 1.0);
      add_gate(gates, "ry", b[j].item<double>(), {j});
      add_controlled(gates, "cry", W[j], j, 1.0);
      add_gate(gates, "rz", -a[j].item<double>(), {j});
      add_controlled(gates, "crz", V[j], j, -1.0);
      gates.push_back({"measure", 0.0, {j}});
    }
  }
  return gates;
}

std::string to_openqasm3(const std::vector<Gate>& gates, int64_t qubits, const std::string& comment,
                         const std::string& before_measure) {
  std::ostringstream out;
  out << "OPENQASM 3.0;\ninclude \"stdgates.inc\";\n";
  std::istringstream lines(comment);
  for (std::string line; std::getline(lines, line);) out << "// " << line << "\n";
  out << fmt::format("qubit[{}] q;\nbit[{}] c;\n", qubits, qubits);
  for (const auto& g : gates) {
    if (g.name == "measure") {
      if (!before_measure.empty()) out << "// " << before_measure << "\n";
      out << fmt::format("c[{0}] = measure q[{0}];\n", g.qubits[0]);
    } else if (g.qubits.size() == 1) {
      out << fmt::format("{}({:.17g}) q[{}];\n", g.name, g.angle, g.qubits[0]);
    } else {
      out << fmt::format("{}({:.17g}) q[{}], q[{}];\n", g.name, g.angle, g.qubits[0], g.qubits[1]);
    }
  }
  return out.str();
}

std::vector<Gate> parse_openqasm3(const std::string& text, int64_t* qubits) {
  static const std::regex single(R"(^(ry|rz)\(([^)]+)\) q\[(\d+)\];$)");
  static const std::regex controlled(R"(^(cry|crz)\(([^)]+)\) q\[(\d+)\], q\[(\d+)\];$)");
  static const std::regex measure(R"(^c\[(\d+)\] = measure q\[(\d+)\];$)");
  static const std::regex declare(R"(^qubit\[(\d+)\] q;$)");
  std::vector<Gate> gates;
  int64_t n = -1;
  std::istringstream lines(text);
  int64_t number = 0;
  const auto integer = [&](const std::string& s) -> int64_t {
    try {
      return std::stoll(s);
    } catch (const std::logic_error&) {
      data::throw_at_line("<qasm>", number, "index out of range: " + s);
    }
  };
  const auto angle = [&](const std::string& s) {
    const auto v = parse_double(s);
    if (!v || !std::isfinite(*v)) data::throw_at_line("<qasm>", number, "bad angle '" + s + "'");
    return *v;
  };
  const auto qubit = [&](const std::string& s) {
    const int64_t q = integer(s);
    if (n < 0 || q >= n) data::throw_at_line("<qasm>", number, fmt::format("qubit {} not declared", q));
    return q;
  };
  for (std::string line; std::getline(lines, line);) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::smatch m;
    if (line.empty() || line.rfind("//", 0) == 0 || line == "OPENQASM 3.0;" || line == "include \"stdgates.inc\";" ||
        std::regex_match(line, std::regex(R"(^bit\[\d+\] c;$)"))) {
      continue;
    } else if (std::regex_match(line, m, declare)) {
      n = integer(m[1]);
    } else if (std::regex_match(line, m, single)) {
      gates.push_back({m[1], angle(m[2]), {qubit(m[3])}});
    } else if (std::regex_match(line, m, controlled)) {
      gates.push_back({m[1], angle(m[2]), {qubit(m[3]), qubit(m[4])}});
    } else if (std::regex_match(line, m, measure)) {
      gates.push_back({"measure", 0.0, {qubit(m[2])}});
    } else {
      data::throw_at_line("<qasm>", number, "unsupported statement: " + line);
    }
  }
  if (qubits != nullptr) *qubits = n;
  return gates;
}

torch::Tensor simulate_circuit(torch::Tensor rho, const std::vector<Gate>& gates, const torch::Tensor& step_channel) {
  for (const auto& g : gates) {
    if (g.name == "measure") {
      if (step_channel.defined()) {
        for (int64_t q = 0; q < index::qubits_of_dimension(rho.size(1)); ++q) {
          rho = hqrn::apply_kraus(rho, step_channel, {q});
        }
      }
      rho = hqrn::dephase(rho, g.qubits[0]);
    } else {
      rho = hqrn::apply_unitary(rho, gate_matrix(g, rho.scalar_type()), g.qubits);
    }
  }
  return rho;
}

std::vector<std::string> export_openqasm(ResidualNetworkImpl& model, const std::string& prefix) {
  const auto& config = model.config();
  std::vector<std::string> files;
  const auto& noise = config.noise();
  const std::string noise_note =
      noise.channels.empty() ? "" : fmt::format("noise: {} on every qubit here (see config.noise in the side file)",
                                                NoiseModel{noise.channels, 0}.to_string());
  for (size_t k = 0; k < model.branches.size(); ++k) {
    const std::string comment = fmt::format(
        "HQRN branch {} of {}: qubits 0..{} data{}.\n"
        "Input: {}.\nReadout: Z distribution of the last {} qubit(s){}; head in {}_classical.json.",
        k, model.branches.size(), config.data_qubits() - 1,
        config.ancillas() > 0 ? fmt::format(", {}..{} ancillas (start in |0>)", config.data_qubits(), config.qubits() - 1)
                              : std::string(),
        config.features() > 0 ? "data qubit j prepared by ry(theta_enc_j) then measured, theta_enc = A u + beta "
                                "(encoder in the side file)"
                              : "the data register's state",
        config.readout_width(),
        noise.readout > 0 ? fmt::format(", each bit flipped with probability {} (readout error)", noise.readout) : "",
        prefix);
    const auto path = fmt::format("{}_branch{}.qasm", prefix, k);
    data::write_file_atomically(path, to_openqasm3(branch_circuit(*model.branches[k]), config.qubits(), comment,
                                                   noise_note));
    files.push_back(path);
  }
  nlohmann::json side;
  side["config"] = nlohmann::json::parse(config.to_json());
  torch::NoGradGuard no_grad;
  for (const auto& item : model.named_parameters()) {
    if (item.key().rfind("encoder.", 0) != 0 && item.key().rfind("head.", 0) != 0) continue;
    const auto t = item.value().to(torch::kFloat64).contiguous();
    side["parameters"][item.key()] = {{"shape", t.sizes().vec()},
                                      {"values", std::vector<double>(t.data_ptr<double>(), t.data_ptr<double>() + t.numel())}};
  }
  const auto json_path = prefix + "_classical.json";
  data::write_file_atomically(json_path, side.dump(2) + "\n");
  files.push_back(json_path);
  return files;
}

}  // namespace hqrn
