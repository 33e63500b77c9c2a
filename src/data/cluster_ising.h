// The cluster-Ising ring (spec section 9), the model of the phases
// experiment:
//
//   H = -J sum_i Z_{i-1} X_i Z_{i+1} - h1 sum_i X_i - h2 sum_i X_i X_{i+1},
//
// on N spins with indices mod N. Spin i is qubit i, the most significant bit
// of a basis index first (spec section 1): qubit i is bit N-1-i of x. Z_i is
// +1 on bit value 0. H is real in this basis, so its eigenvectors are real
// and every state here is an Eigen::VectorXd of 2^N amplitudes.
//
// Nothing here stores H: it is applied by bit operations, 2N terms per
// amplitude, each output amplitude computed on its own (so the parallel loop
// gives the same bits for every thread count).
#pragma once

#include <cstdint>
#include <vector>

#include <Eigen/Core>

namespace hqrn::data {

// Rings smaller than 3 have i-1 = i+1, where Z_{i-1} X_i Z_{i+1} is no longer a
// three-body term. The upper limit keeps one state within 16 MiB and a ground
// state within minutes on a laptop (the experiment uses N = 8..16).
inline constexpr int kMinClusterIsingSpins = 3;
inline constexpr int kMaxClusterIsingSpins = 20;

struct ClusterIsing {
  int spins = 8;
  double J = 1.0;
  double h1 = 0.0;
  double h2 = 0.0;

  // Throws std::invalid_argument for spins outside [kMinClusterIsingSpins,
  // kMaxClusterIsingSpins] or a coupling that is not finite.
  void validate() const;
  int64_t dimension() const { return int64_t{1} << spins; }
  // An upper bound on the spectral radius: N (|J| + |h1| + |h2|).
  double norm_bound() const;
};

// The mask of qubit i in a basis index of an N-qubit register: bit N-1-i.
inline uint64_t qubit_mask(int spins, int qubit) { return uint64_t{1} << (spins - 1 - qubit); }

// out = H in (out resized to 2^N; in must have 2^N entries and not alias out).
void apply_hamiltonian(const ClusterIsing& model, const Eigen::VectorXd& in, Eigen::VectorXd& out);

// The cluster entangler, CZ on every bond (i, i+1) of the ring: multiplies
// amplitude x by (-1)^(number of bonds whose two bits are 1). Diagonal in Z,
// its own inverse; it maps H(J, h1, 0) to H(h1, J, 0) (the dual twins).
Eigen::VectorXd apply_cluster_entangler(int spins, const Eigen::VectorXd& state);

// The sites of the string order parameter: b = 2 floor(N/4), Z on 0 and b, X
// on the odd sites 1, 3, ..., b-1. Throws for N < 4 (b would be 0).
int string_order_end(int spins);

// S = <Z_0 X_1 X_3 ... X_{b-1} Z_b> (spec section 9) in a normalised real
// state. 1 in the cluster state (a product of its stabilisers), 0 in the
// product state |+...+>.
double string_order(int spins, const Eigen::VectorXd& state);

// The antiferromagnet's order parameter (h2 < 0 favours antiparallel X
// neighbours): the staggered X structure factor
//   m_s^2 = (1/N^2) sum_{i,j} (-1)^(i+j) <X_i X_j>,
// not <X_i> itself, which is 0 on a finite ring (the ground state is a
// symmetric superposition of the two Neel states). 1 on either Neel state of
// an even ring, 1/N in the cluster state, 0 in |+...+> (N even).
double antiferromagnetic_order(int spins, const Eigen::VectorXd& state);

}  // namespace hqrn::data
