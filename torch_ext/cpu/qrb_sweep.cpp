// One residual block as a single op: S_j for each listed target, in order.
// The forward keeps one state alive at a time; the backward recomputes the
// block's intermediate states from its input, so autograd saves one state per
// block instead of one per step (deep networks fit in memory).
#include <ATen/ATen.h>
#include <torch/library.h>

#include <vector>

#include "../backward_ops.h"
#include "../check.h"
#include "../ops.h"

namespace hqrn {
namespace {

constexpr const char* kOp = "qrb_sweep";

// theta, phi: one table per qubit, [n, 2^(n-1)], of rho's real dtype.
void check_inputs(const at::Tensor& rho, const at::Tensor& theta, const at::Tensor& phi, at::IntArrayRef targets) {
  const int64_t n = check::density_batch(rho, kOp);
  TORCH_CHECK(n >= 1, kOp, ": rho must describe at least one qubit (d >= 2), got d = ", rho.size(1));
  const auto real_type = c10::toRealValueType(rho.scalar_type());
  for (const auto& [table, name] : {std::pair{theta, "theta"}, std::pair{phi, "phi"}}) {
    check::cpu_tensor(table, kOp, name);
    TORCH_CHECK(table.scalar_type() == real_type, kOp, ": ", name, " must have dtype ", real_type,
                " to match the state, got ", table.scalar_type());
    TORCH_CHECK(table.dim() == 2 && table.size(0) == n && table.size(1) == rho.size(1) / 2, kOp, ": ", name,
                " must hold one table per qubit, [", n, ", ", rho.size(1) / 2, "], got ", table.sizes());
  }
  for (const auto j : targets) check::qubit(j, n, kOp, "targets");
}

at::Tensor qrb_sweep_cpu(const at::Tensor& rho, const at::Tensor& theta, const at::Tensor& phi,
                         at::IntArrayRef targets) {
  check_inputs(rho, theta, phi, targets);
  if (targets.empty()) return rho.clone();
  at::Tensor state = rho;
  for (const auto j : targets) state = hqrn::qrb_step(state, theta[j], phi[j], j, true);
  return state;
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> qrb_sweep_backward_cpu(const at::Tensor& grad, const at::Tensor& rho,
                                                                      const at::Tensor& theta, const at::Tensor& phi,
                                                                      at::IntArrayRef targets) {
  check_inputs(rho, theta, phi, targets);
  TORCH_CHECK(grad.sizes() == rho.sizes() && grad.scalar_type() == rho.scalar_type(),
              "_qrb_sweep_backward: grad must match rho's shape and dtype, got ", grad.sizes(), " ",
              grad.scalar_type());
  // Inputs of every step, recomputed; each is released once its step's backward has run.
  std::vector<at::Tensor> inputs{rho};
  for (size_t k = 0; k + 1 < targets.size(); ++k) {
    inputs.push_back(hqrn::qrb_step(inputs.back(), theta[targets[k]], phi[targets[k]], targets[k], true));
  }
  auto grad_theta = at::zeros_like(theta);
  auto grad_phi = at::zeros_like(phi);
  if (targets.empty()) return {grad.clone(), grad_theta, grad_phi};
  at::Tensor g = grad;
  for (auto k = static_cast<int64_t>(targets.size()) - 1; k >= 0; --k) {
    const int64_t j = targets[k];
    auto [g_state, g_theta, g_phi] = backward::qrb_step(g, inputs[k], theta[j], phi[j], j, true);
    inputs[k] = at::Tensor();
    g = g_state;
    grad_theta[j] += g_theta;
    grad_phi[j] += g_phi;
  }
  return {g, grad_theta, grad_phi};
}

}  // namespace

TORCH_LIBRARY_IMPL(hqrn, CPU, m) {
  m.impl("qrb_sweep", &qrb_sweep_cpu);
  m.impl("_qrb_sweep_backward", &qrb_sweep_backward_cpu);
}

}  // namespace hqrn
