// qrb_sweep on any device: the dense steps of one block, validated once by
// prepare_sweep and run on their plans with a device's step kernels
// (run_forward, run_backward of cpu_kernel.cpp or cuda_kernel.cu). The
// forward keeps one state alive at a time; the backward recomputes the
// block's intermediate states from its input, so autograd saves one state per
// block instead of one per step (deep networks fit in memory).
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <tuple>
#include <vector>

#include "prepare.h"

namespace hqrn::step {
// Internal linkage, as prepare.h.
namespace {

// run_forward(plan, state, theta_j, phi_j) -> the state after step j.
template <typename RunForward>
at::Tensor sweep_forward(const at::Tensor& rho, const at::Tensor& theta, const at::Tensor& phi,
                         at::IntArrayRef targets, const RunForward& run_forward) {
  const auto plan = prepare_sweep(rho, theta, phi, targets);
  if (targets.empty()) return rho.clone();
  at::Tensor state = rho;
  for (const auto j : targets) state = run_forward(plan.step(j), state, theta[j], phi[j]);
  return state;
}

// run_backward(plan, grad, input, theta_j, phi_j) -> (grad of input, of theta_j, of phi_j).
template <typename RunForward, typename RunBackward>
std::tuple<at::Tensor, at::Tensor, at::Tensor> sweep_backward(const at::Tensor& grad, const at::Tensor& rho,
                                                              const at::Tensor& theta, const at::Tensor& phi,
                                                              at::IntArrayRef targets, const RunForward& run_forward,
                                                              const RunBackward& run_backward) {
  const auto plan = prepare_sweep(rho, theta, phi, targets);
  check::grad_like(grad, rho, "_qrb_sweep_backward", "rho");
  // Inputs of every step, recomputed; each is released once its step's backward has run.
  std::vector<at::Tensor> inputs{rho};
  for (size_t k = 0; k + 1 < targets.size(); ++k) {
    const int64_t j = targets[k];
    inputs.push_back(run_forward(plan.step(j), inputs.back(), theta[j], phi[j]));
  }
  auto grad_theta = at::zeros_like(theta);
  auto grad_phi = at::zeros_like(phi);
  if (targets.empty()) return {grad.clone(), grad_theta, grad_phi};
  at::Tensor g = grad;
  for (auto k = static_cast<int64_t>(targets.size()) - 1; k >= 0; --k) {
    const int64_t j = targets[k];
    auto [g_state, g_theta, g_phi] = run_backward(plan.step(j), g, inputs[k], theta[j], phi[j]);
    inputs[k] = at::Tensor();
    g = g_state;
    grad_theta[j] += g_theta;
    grad_phi[j] += g_phi;
  }
  return {g, grad_theta, grad_phi};
}

}  // namespace
}  // namespace hqrn::step
