#include "models/pauli_measurements.h"

#include <cmath>
#include <vector>

#include "models/errors.h"
#include "models/noise.h"
#include "models/register_state.h"

namespace hqrn {

namespace {

// Basis changes U_a with U_a P_a U_a^dagger = Z, for a = X, Y, Z.
torch::Tensor measurement_bases(torch::ScalarType complex_dtype) {
  const double h = 1.0 / std::sqrt(2.0);
  const auto c = [](double re, double im) { return c10::complex<double>(re, im); };
  const auto matrix = [&](std::vector<c10::complex<double>> v) {
    return torch::tensor(v, torch::kComplexDouble).reshape({2, 2});
  };
  const torch::Tensor u[3] = {
      matrix({c(h, 0), c(h, 0), c(h, 0), c(-h, 0)}),   // H
      matrix({c(h, 0), c(0, -h), c(h, 0), c(0, h)}),   // H S^dagger
      matrix({c(1, 0), c(0, 0), c(0, 0), c(1, 0)}),    // I
  };
  std::vector<torch::Tensor> settings;
  for (int a = 0; a < 3; ++a) {
    for (int b = 0; b < 3; ++b) settings.push_back(torch::kron(u[a], u[b]));
  }
  return torch::stack(settings).to(complex_dtype);  // [9, 4, 4]
}

}  // namespace

torch::Tensor measured_pauli_settings(const torch::Tensor& states, const NoiseModel& noise) {
  require(states.dim() == 3 && states.size(1) == 4 && states.size(2) == 4 && states.is_complex(),
          "measured_pauli_settings: expected complex two-qubit states [B, 4, 4], got ", states.sizes(), " ",
          states.scalar_type());
  noise.validate();
  const int64_t batch = states.size(0);
  const auto u = measurement_bases(states.scalar_type());
  const auto rotated = torch::matmul(torch::matmul(u.unsqueeze(0), states.unsqueeze(1)), u.conj().transpose(-2, -1).unsqueeze(0));
  auto state = RegisterState::from_data_state(rotated.reshape({batch * 9, 4, 4}), 0, Representation::dense);
  // The same channels, in the same order, as after a residual step.
  const auto kraus = step_kraus(noise, states.scalar_type());
  if (kraus.defined()) state = state.apply_channel(kraus, {0}).apply_channel(kraus, {1});
  return apply_readout_error(state.probabilities(), noise.readout).reshape({batch, 9, 4});
}

torch::Tensor pauli_features_from_settings(const torch::Tensor& settings) {
  require(settings.dim() == 3 && settings.size(1) == 9 && settings.size(2) == 4 && !settings.is_complex(),
          "pauli_features_from_settings: expected real outcome distributions [B, 9, 4], got ", settings.sizes(), " ",
          settings.scalar_type());
  const auto options = settings.options();
  // Outcome x = 2 b0 + b1 (qubit 0 the most significant); eigenvalue (-1)^b.
  const auto z0 = torch::tensor({1.0, 1.0, -1.0, -1.0}, options);
  const auto z1 = torch::tensor({1.0, -1.0, 1.0, -1.0}, options);
  const int64_t batch = settings.size(0);
  const auto first = (settings * z0).sum(-1).reshape({batch, 3, 3});    // <P_a I> from setting (a, b)
  const auto second = (settings * z1).sum(-1).reshape({batch, 3, 3});   // <I P_b>
  const auto both = (settings * z0 * z1).sum(-1).reshape({batch, 3, 3});  // <P_a P_b>
  std::vector<torch::Tensor> features;
  for (int64_t a = 0; a < 4; ++a) {
    for (int64_t b = 0; b < 4; ++b) {
      if (a == 0 && b == 0) continue;
      if (a == 0) features.push_back(second.select(2, b - 1).mean(1));
      else if (b == 0) features.push_back(first.select(1, a - 1).mean(1));
      else features.push_back(both.select(1, a - 1).select(1, b - 1));
    }
  }
  return torch::stack(features, 1);
}

}  // namespace hqrn
