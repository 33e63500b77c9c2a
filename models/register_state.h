// The register's state during a simulation, in one of three representations,
// with one set of verbs (step, sweep, apply_channel, probabilities). Blocks,
// branches and the network are written once against it; the representation
// is chosen when the state is prepared and carried by it.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace hqrn {

// - dense: full density matrices [B, 2^n, 2^n] (complex).
// - aware: only the entries whose row and column agree on the qubits known to
//   be diagonal D (ancillas in |0>, measured targets): blocks
//   [B, 2^|D|, 2^m, 2^m] (see hqrn::aware_step); once D holds every qubit, the
//   probability vector. Exact: the dense representation's numbers.
// - probabilities: probability vectors [B, 2^n] (real), the register read in
//   the computational basis: the classical analog (Mode::classical), exact on
//   diagonal states (the exactness theorem, docs/model.md).
// - vectors: r component vectors W [B, r, 2^n] (complex) and the set D of
//   qubits measured so far, standing for rho = sum_k sum_a |P_a w_k><P_a w_k|
//   (a the assignments of D; spec section 8, docs/model.md); once D holds
//   every qubit, the probability vector sum_k |w_k|^2. Exact, at r 2^n
//   numbers per state for pure and low-rank inputs.
enum class Representation { dense, aware, probabilities, vectors };
std::string to_string(Representation representation);

// Eigenvalues at or below this are dropped when a density matrix is written
// as state vectors (to_state_vectors); their total is reported.
inline constexpr double kEigenvalueTolerance = 1e-12;

// A batch of density matrices [B, d, d] as component vectors [B, r, d] with
// rho = sum_k |v_k><v_k|, v_k = sqrt(lambda_k) u_k over the eigenpairs with
// lambda_k > tolerance (r the largest such count in the batch; states with
// fewer get zero components), and the dropped weight per state, [B] (the
// sum of the eigenvalues left out, negative ones included). Not
// differentiable in rho (an eigendecomposition's gradient is unstable at the
// degenerate eigenvalues pure and low-rank states have): a rho that requires
// grad is refused.
// sum_k |v_k><v_k| per state of component vectors [B, r, d]: [B, d, d].
torch::Tensor density_of_components(const torch::Tensor& vectors);

struct StateVectors {
  torch::Tensor vectors, dropped_weight;
};
StateVectors to_state_vectors(const torch::Tensor& rho, double tolerance = kEigenvalueTolerance);

class RegisterState {
 public:
  // rho_data (x) |0..0><0..0| with `ancillas` ancillas after (below) the data
  // qubits; probabilities keeps rho_data's diagonal.
  static RegisterState from_data_state(const torch::Tensor& rho_data, int64_t ancillas,
                                       Representation representation);
  // The diagonal state of probability vectors p_data [B, 2^k], with
  // `ancillas` ancillas in |0> after the k data qubits.
  static RegisterState from_distribution(const torch::Tensor& p_data, int64_t ancillas,
                                         Representation representation);
  // Component vectors [B, r, 2^k] of a k-qubit data register (unmeasured),
  // with `ancillas` ancillas in |0> after them: W (x) |0..0>. In another
  // representation, the density matrices sum_k |v_k><v_k| (or their
  // diagonals) are prepared from them.
  static RegisterState from_vectors(const torch::Tensor& vectors_data, int64_t ancillas,
                                    Representation representation);
  // A dense state [B, d, d] whose qubits `diagonal` are known to be diagonal,
  // in the aware representation (entries outside the stored blocks are dropped).
  static RegisterState aware_from_dense(const torch::Tensor& rho, std::vector<int64_t> diagonal);

  // S_target with angle tables theta, phi [2^(n-1)], [B, 2^(n-1)] or
  // [G, 2^(n-1)] (one per group of B / G consecutive samples; a Markov step on
  // probability vectors, where phi has no effect).
  RegisterState step(const torch::Tensor& theta, const torch::Tensor& phi, int64_t target) const;
  // S_j for j in targets, in order, with tables theta[j], phi[j] ([n, 2^(n-1)],
  // or [n, B, 2^(n-1)] per sample, or [n, G, 2^(n-1)] per group of B / G
  // consecutive samples; phi may be undefined for a probability vector, which
  // never reads it).
  // Dense states with shared tables use hqrn::qrb_sweep, which saves one state
  // per sweep for backward.
  // With a step channel (single-qubit Kraus operators [m, 2, 2], see
  // hqrn::step_kraus), every step is followed by the channel on every qubit,
  // qubit 0 first: Delta_j(N(U rho U^dagger)) = N(Delta_j(U rho U^dagger)),
  // since the channels keep diagonal qubits diagonal and so commute with the
  // measurement.
  RegisterState sweep(const torch::Tensor& theta, const torch::Tensor& phi, const std::vector<int64_t>& targets,
                      const torch::Tensor& step_channel = {}) const;
  // The channel rho -> sum_m K_m rho K_m^dagger on `targets` (Kraus operators
  // [m, 2^k, 2^k] or [B, m, 2^k, 2^k], the state's complex dtype). On a
  // diagonal qubit (aware, probabilities) only channels that keep it diagonal
  // are accepted (see hqrn::aware_apply_kraus), one target at a time; the
  // probability vector gets the channel's classical image,
  // p'(x') = sum_x T[x', x] p(x), T[x', x] = sum_m |K_m[x', x]|^2.
  RegisterState apply_channel(const torch::Tensor& kraus, const std::vector<int64_t>& targets) const;

  // `copies` copies of the batch one after the other: [copies B, ...].
  RegisterState repeated(int64_t copies) const;

  // Z distribution of the whole register, [B, 2^n], in basis-index order.
  torch::Tensor probabilities() const;
  // The full density matrix [B, 2^n, 2^n] (for checks; costs 4^n).
  torch::Tensor to_dense() const;

  Representation representation() const { return representation_; }
  int64_t qubits() const { return qubits_; }
  // Qubits known diagonal (aware), measured (vectors); every qubit for probabilities.
  const std::vector<int64_t>& diagonal() const { return diagonal_; }
  // The stored tensor, in the representation's layout.
  const torch::Tensor& values() const { return values_; }
  // Whether values_ is a probability vector (probabilities, or aware or
  // vectors with every qubit diagonal).
  bool is_distribution() const { return !values_.is_complex(); }

 private:
  RegisterState(Representation representation, int64_t qubits, std::vector<int64_t> diagonal, torch::Tensor values);
  RegisterState with_values(torch::Tensor values) const;
  RegisterState vectors_step(const torch::Tensor& theta, const torch::Tensor& phi, int64_t target) const;

  Representation representation_ = Representation::dense;
  int64_t qubits_ = 0;
  std::vector<int64_t> diagonal_;  // ascending
  torch::Tensor values_;
};

}  // namespace hqrn
