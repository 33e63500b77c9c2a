#include "bench/circuit.h"

#include <c10/util/complex.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "bench/bench.h"
#include "models/residual_block.h"
#include "torch_ext/ops.h"
#include "torch_ext/qubit_index.h"

namespace hqrn::bench {

namespace {

using cdouble = c10::complex<double>;

torch::Tensor matrix2(cdouble m00, cdouble m01, cdouble m10, cdouble m11) {
  std::vector<cdouble> entries{m00, m01, m10, m11};
  return torch::from_blob(entries.data(), {2, 2}, torch::kComplexDouble).clone();
}

torch::Tensor rz(double angle) {
  return matrix2(c10::polar(1.0, -angle / 2), 0, 0, c10::polar(1.0, angle / 2));
}

torch::Tensor ry(double angle) {
  const double c = std::cos(angle / 2), s = std::sin(angle / 2);
  return matrix2(c, -s, s, c);
}

// |0><0| (x) I + |1><1| (x) u, control first.
torch::Tensor controlled(const torch::Tensor& u) {
  return torch::block_diag({torch::eye(2, torch::kComplexDouble), u});
}

// Moves `axes` of t last, multiplies that 2^k-dimensional index by m from the
// right, and moves them back.
torch::Tensor contract(const torch::Tensor& t, const torch::Tensor& m, const std::vector<int64_t>& axes) {
  const auto k = static_cast<int64_t>(axes.size());
  std::vector<int64_t> last(k);
  for (int64_t i = 0; i < k; ++i) last[i] = t.dim() - k + i;
  const auto moved = t.movedim(axes, last);
  const auto product = torch::matmul(moved.reshape({-1, int64_t{1} << k}), m);
  return product.reshape(moved.sizes()).movedim(last, axes);
}

int64_t qubits_of(const torch::Tensor& rho) {
  return static_cast<int64_t>(std::llround(std::log2(static_cast<double>(rho.size(-1)))));
}

}  // namespace

StepWeights random_weights(int64_t n) {
  hqrn::QuantumResidualBlock block(hqrn::ResidualBlockOptions(n).init_std(1.0));
  torch::NoGradGuard no_grad;
  StepWeights w;
  w.n = n;
  w.W = block->W.detach().clone();
  w.b = block->b.detach().clone();
  w.V = block->V.detach().clone();
  w.a = block->a.detach().clone();
  w.theta = block->theta_tables().detach().clone();
  w.phi = block->phi_tables().detach().clone();
  return w;
}

torch::Tensor apply_gate(const torch::Tensor& rho, const Gate& gate) {
  const int64_t batch = rho.size(0), d = rho.size(-1), n = qubits_of(rho);
  std::vector<int64_t> shape(1 + 2 * n, 2);
  shape[0] = batch;
  std::vector<int64_t> rows, cols;
  for (const auto q : gate.qubits) {
    rows.push_back(1 + q);
    cols.push_back(1 + n + q);
  }
  // (G rho)[x, .] = sum G[x, x'] rho[x', .]: rows times G^T; (rho G^dagger): columns times G^dagger.
  auto t = contract(rho.reshape(shape), gate.matrix.transpose(0, 1), rows);
  t = contract(t, gate.matrix.conj().transpose(0, 1), cols);
  return t.reshape({batch, d, d});
}

std::vector<Gate> step_circuit(const StepWeights& w, int64_t j, torch::ScalarType complex_dtype) {
  std::vector<Gate> gates;
  // One bracket of the factorisation: gate(sign * bias_j), then gate(sign * weights_ji) controlled by each i.
  const auto multiplexed = [&](torch::Tensor (*gate)(double), const torch::Tensor& bias,
                               const torch::Tensor& weights, double sign) {
    gates.push_back({gate(sign * bias[j].item<double>()).to(complex_dtype), {j}});
    for (int64_t i = 0; i < w.n; ++i) {
      if (i == j) continue;
      gates.push_back({controlled(gate(sign * weights[j][i].item<double>())).to(complex_dtype), {i, j}});
    }
  };
  // Applied right to left: RZ(phi), RY(theta), RZ(-phi) per control configuration.
  multiplexed(rz, w.a, w.V, +1.0);
  multiplexed(ry, w.b, w.W, +1.0);
  multiplexed(rz, w.a, w.V, -1.0);
  return gates;
}

torch::Tensor dense_rotation(const StepWeights& w, int64_t j, torch::ScalarType complex_dtype) {
  const int64_t n = w.n, d = int64_t{1} << n, mask = index::qubit_mask(n, j);
  auto u = torch::zeros({d, d}, torch::kComplexDouble);
  auto acc = u.accessor<cdouble, 2>();
  const auto theta = w.theta[j].contiguous(), phi = w.phi[j].contiguous();
  const auto th = theta.accessor<double, 1>(), ph = phi.accessor<double, 1>();
  for (int64_t c = 0; c < d / 2; ++c) {
    const int64_t x0 = index::insert_zero_bit(c, mask), x1 = x0 | mask;
    const double cs = std::cos(th[c] / 2), sn = std::sin(th[c] / 2);
    // R(theta, phi) = [[cos, -e^{i phi} sin], [e^{-i phi} sin, cos]]
    acc[x0][x0] = cs;
    acc[x0][x1] = -c10::polar(sn, ph[c]);
    acc[x1][x0] = c10::polar(sn, -ph[c]);
    acc[x1][x1] = cs;
  }
  return u.to(complex_dtype);
}

torch::Tensor dephasing_mask(int64_t n, int64_t j, torch::ScalarType complex_dtype) {
  const auto bit = torch::bitwise_and(torch::arange(int64_t{1} << n).bitwise_right_shift(n - 1 - j), 1);
  return bit.unsqueeze(1).eq(bit.unsqueeze(0)).to(complex_dtype);
}

torch::Tensor circuit_step(const torch::Tensor& rho, const std::vector<Gate>& gates, const torch::Tensor& mask) {
  auto out = rho;
  for (const auto& gate : gates) out = apply_gate(out, gate);
  return out * mask;
}

torch::Tensor dense_step(const torch::Tensor& rho, const torch::Tensor& u, const torch::Tensor& mask) {
  return torch::matmul(torch::matmul(u, rho), u.conj().transpose(-2, -1)) * mask;
}

double check_baselines() {
  constexpr int64_t n = 4;
  constexpr double tolerance = 1e-10;
  const auto w = random_weights(n);
  const auto rho = random_density_matrices(2, int64_t{1} << n);
  double worst = 0;
  for (int64_t j = 0; j < n; ++j) {
    const auto mask = dephasing_mask(n, j, torch::kComplexDouble);
    const auto expected = hqrn::qrb_step(rho, w.theta[j], w.phi[j], j, true);
    const double gates = (circuit_step(rho, step_circuit(w, j, torch::kComplexDouble), mask) - expected)
                             .abs().max().item<double>();
    const double dense = (dense_step(rho, dense_rotation(w, j, torch::kComplexDouble), mask) - expected)
                             .abs().max().item<double>();
    worst = std::max({worst, gates, dense});
    if (!(gates <= tolerance && dense <= tolerance)) {
      std::fprintf(stderr,
                   "hqrn_bench: the baselines do not compute qrb_step (n = %lld, target %lld): max |gates - "
                   "qrb_step| = %.3g, max |dense - qrb_step| = %.3g (tolerance %.0e)\n",
                   static_cast<long long>(n), static_cast<long long>(j), gates, dense, tolerance);
      std::exit(2);
    }
  }
  return worst;
}

}  // namespace hqrn::bench
