#include "src/data/cluster_ising.h"

#include <cmath>
#include <stdexcept>

#include <ATen/Parallel.h>
#include <fmt/format.h>

namespace hqrn::data {
namespace {

// Amplitudes per task of the parallel loops: small rings run on one thread.
constexpr int64_t kGrain = 4096;

void check_state(int spins, const Eigen::VectorXd& state, const char* caller) {
  if (spins < kMinClusterIsingSpins || spins > kMaxClusterIsingSpins) {
    throw std::invalid_argument(fmt::format("{}: {} spins, expected {} to {}", caller, spins, kMinClusterIsingSpins,
                                            kMaxClusterIsingSpins));
  }
  if (state.size() != (int64_t{1} << spins)) {
    throw std::invalid_argument(
        fmt::format("{}: a state of {} amplitudes on {} spins (expected 2^{})", caller, state.size(), spins, spins));
  }
}

// The eigenvalue of Z_i on basis state x: +1 for bit 0, -1 for bit 1.
inline double z_sign(uint64_t x, uint64_t mask) { return (x & mask) ? -1.0 : 1.0; }

}  // namespace

void ClusterIsing::validate() const {
  if (spins < kMinClusterIsingSpins || spins > kMaxClusterIsingSpins) {
    throw std::invalid_argument(fmt::format("cluster-Ising ring: {} spins, expected {} to {}", spins,
                                            kMinClusterIsingSpins, kMaxClusterIsingSpins));
  }
  if (!std::isfinite(J) || !std::isfinite(h1) || !std::isfinite(h2)) {
    throw std::invalid_argument(fmt::format("cluster-Ising ring: couplings must be finite (J = {}, h1 = {}, h2 = {})",
                                            J, h1, h2));
  }
}

double ClusterIsing::norm_bound() const { return spins * (std::abs(J) + std::abs(h1) + std::abs(h2)); }

void apply_hamiltonian(const ClusterIsing& model, const Eigen::VectorXd& in, Eigen::VectorXd& out) {
  model.validate();
  check_state(model.spins, in, "apply_hamiltonian");
  const int n = model.spins;
  // Bit positions of qubit i and its two neighbours.
  std::vector<int> bit(static_cast<size_t>(n)), left(bit.size()), right(bit.size());
  for (int i = 0; i < n; ++i) {
    bit[i] = n - 1 - i;
    left[i] = n - 1 - (i + n - 1) % n;
    right[i] = n - 1 - (i + 1) % n;
  }
  const double J = model.J, h1 = model.h1, h2 = model.h2;
  out.resize(in.size());
  const double* v = in.data();
  double* w = out.data();
  // H is off-diagonal: <x|H|x ^ e_i> = -J z_{i-1}(x) z_{i+1}(x) - h1 (the Zs
  // sit on other sites than the flipped one, so x and x ^ e_i agree on them)
  // and <x|H|x ^ e_i ^ e_{i+1}> = -h2.
  at::parallel_for(0, in.size(), kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t xi = begin; xi < end; ++xi) {
      const uint64_t x = static_cast<uint64_t>(xi);
      double sum = 0.0;
      for (int i = 0; i < n; ++i) {
        // z_{i-1} z_{i+1} = 1 - 2 (parity of the two bits), without a branch.
        const auto odd = static_cast<double>(((x >> left[i]) ^ (x >> right[i])) & 1);
        const double flip = -J * (1.0 - 2.0 * odd) - h1;
        const uint64_t flipped = x ^ (uint64_t{1} << bit[i]);
        sum += flip * v[flipped] - h2 * v[flipped ^ (uint64_t{1} << right[i])];
      }
      w[xi] = sum;
    }
  });
}

Eigen::VectorXd apply_cluster_entangler(int spins, const Eigen::VectorXd& state) {
  check_state(spins, state, "apply_cluster_entangler");
  const uint64_t all = (uint64_t{1} << spins) - 1;
  Eigen::VectorXd out(state.size());
  at::parallel_for(0, state.size(), kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t xi = begin; xi < end; ++xi) {
      const uint64_t x = static_cast<uint64_t>(xi);
      // Neighbours on the ring are neighbouring bits, plus bit 0 with bit N-1:
      // x & rotate(x) has one 1 per bond whose two bits are 1 (N >= 3).
      const uint64_t rotated = ((x << 1) | (x >> (spins - 1))) & all;
      out[xi] = (__builtin_popcountll(x & rotated) & 1) ? -state[xi] : state[xi];
    }
  });
  return out;
}

int string_order_end(int spins) {
  if (spins < 4) {
    throw std::invalid_argument(fmt::format("string order parameter: {} spins, needs at least 4", spins));
  }
  return 2 * (spins / 4);
}

double string_order(int spins, const Eigen::VectorXd& state) {
  check_state(spins, state, "string_order");
  const int b = string_order_end(spins);
  uint64_t flips = 0;
  for (int i = 1; i < b; i += 2) flips |= qubit_mask(spins, i);
  const uint64_t z0 = qubit_mask(spins, 0), zb = qubit_mask(spins, b);
  // <psi| O |psi> with (O psi)(x) = z_0(x) z_b(x) psi(x ^ flips).
  double total = 0.0;
  for (int64_t x = 0; x < state.size(); ++x) {
    const uint64_t ux = static_cast<uint64_t>(x);
    total += state[x] * z_sign(ux, z0) * z_sign(ux, zb) * state[static_cast<int64_t>(ux ^ flips)];
  }
  return total;
}

double antiferromagnetic_order(int spins, const Eigen::VectorXd& state) {
  check_state(spins, state, "antiferromagnetic_order");
  double total = 0.0;
  for (int i = 0; i < spins; ++i) {
    for (int j = 0; j < spins; ++j) {
      const uint64_t flips = i == j ? 0 : qubit_mask(spins, i) | qubit_mask(spins, j);
      double correlation = 0.0;  // <X_i X_j>
      for (int64_t x = 0; x < state.size(); ++x) correlation += state[x] * state[static_cast<int64_t>(x ^ flips)];
      total += ((i + j) % 2 ? -1.0 : 1.0) * correlation;
    }
  }
  return total / (static_cast<double>(spins) * spins);
}

}  // namespace hqrn::data
