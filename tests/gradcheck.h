// Finite-difference gradient checks for the op tests.
//
// A function f of several tensors is reduced to the real scalar
// L = sum Re(conj(W) * f(...)) with a fixed random W (for real outputs,
// L = sum W * f). Its gradient with respect to each input is then taken two
// ways: by central differences, perturbing the real and the imaginary part of
// every complex entry separately, and by torch::autograd::grad. LibTorch's
// convention for complex inputs is grad = dL/dRe + i dL/dIm, which is what
// the finite differences assemble. Work in complex128/float64.
#pragma once

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <functional>
#include <sstream>
#include <vector>

namespace hqrn::test {

using TensorFn = std::function<torch::Tensor(const std::vector<torch::Tensor>&)>;

// L = sum Re(conj(W) * out), or sum W * out for a real output.
inline torch::Tensor real_loss(const torch::Tensor& out, const torch::Tensor& weight) {
  if (out.is_complex()) return torch::real(weight.conj() * out).sum();
  return (weight * out).sum();
}

// A fixed random W with out's shape and dtype.
inline torch::Tensor random_weight_like(const torch::Tensor& out) {
  return torch::randn(out.sizes(), torch::TensorOptions().dtype(out.scalar_type()));
}

// Central-difference gradients of L with respect to inputs[i] for i in `wrt`.
inline std::vector<torch::Tensor> finite_difference_gradients(const TensorFn& fn,
                                                              const std::vector<torch::Tensor>& inputs,
                                                              const std::vector<size_t>& wrt,
                                                              const torch::Tensor& weight, double eps = 1e-6) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> grads;
  for (size_t i : wrt) {
    const auto& input = inputs.at(i);
    TORCH_CHECK(input.scalar_type() == torch::kComplexDouble || input.scalar_type() == torch::kDouble,
                "finite differences need complex128/float64 inputs, got ", input.scalar_type());
    auto point = input.detach().clone(torch::MemoryFormat::Contiguous);
    // Real view: for complex tensors entry k's real part is at 2k, its imaginary part at 2k + 1.
    auto coords = point.is_complex() ? torch::view_as_real(point) : point;
    double* x = coords.data_ptr<double>();
    auto grad_coords = torch::zeros(coords.sizes(), torch::kDouble);
    double* g = grad_coords.data_ptr<double>();
    auto args = inputs;
    args[i] = point;
    const auto loss_at = [&] { return real_loss(fn(args), weight).item<double>(); };
    for (int64_t k = 0; k < coords.numel(); ++k) {
      const double saved = x[k];
      x[k] = saved + eps;
      const double up = loss_at();
      x[k] = saved - eps;
      const double down = loss_at();
      x[k] = saved;
      g[k] = (up - down) / (2 * eps);
    }
    grads.push_back(point.is_complex() ? torch::view_as_complex(grad_coords) : grad_coords);
  }
  return grads;
}

// Gradients of L through fn's autograd graph (leaves are copies of the inputs
// that keep their strides, so a non-contiguous input stays non-contiguous).
// An input autograd reports as unused gets a zero gradient.
inline std::vector<torch::Tensor> autograd_gradients(const TensorFn& fn, const std::vector<torch::Tensor>& inputs,
                                                     const std::vector<size_t>& wrt, const torch::Tensor& weight) {
  std::vector<torch::Tensor> args;
  for (const auto& input : inputs) args.push_back(input.detach().clone());
  std::vector<torch::Tensor> leaves;
  for (size_t i : wrt) {
    args.at(i).requires_grad_(true);
    leaves.push_back(args[i]);
  }
  const auto loss = real_loss(fn(args), weight);
  auto grads = torch::autograd::grad({loss}, leaves, {}, /*retain_graph=*/false, /*create_graph=*/false,
                                     /*allow_unused=*/true);
  for (size_t k = 0; k < grads.size(); ++k) {
    if (!grads[k].defined()) grads[k] = torch::zeros_like(leaves[k]);
  }
  return grads;
}

// |actual - expected| <= atol + rtol |expected| entrywise, same shape, both
// complex or both real; reports the worst entry otherwise.
inline ::testing::AssertionResult all_close(const torch::Tensor& actual, const torch::Tensor& expected,
                                            double atol, double rtol = 0.0) {
  if (!actual.defined() || !expected.defined()) {
    return ::testing::AssertionFailure() << "undefined tensor (actual " << actual.defined() << ", expected "
                                         << expected.defined() << ")";
  }
  if (actual.sizes() != expected.sizes()) {
    return ::testing::AssertionFailure() << "shape " << actual.sizes() << ", expected " << expected.sizes();
  }
  if (actual.is_complex() != expected.is_complex()) {
    return ::testing::AssertionFailure() << "dtype " << actual.scalar_type() << ", expected "
                                         << expected.scalar_type();
  }
  const auto wide = actual.is_complex() ? torch::kComplexDouble : torch::kDouble;
  const auto a = actual.detach().to(wide);
  const auto e = expected.detach().to(wide);
  const auto excess = ((a - e).abs() - (atol + rtol * e.abs())).flatten();
  if (excess.numel() == 0) return ::testing::AssertionSuccess();
  const auto worst = excess.argmax().item<int64_t>();
  const double worst_excess = excess[worst].item<double>();
  if (worst_excess <= 0 && !torch::isnan(excess).any().item<bool>()) return ::testing::AssertionSuccess();
  std::ostringstream where;
  where << "worst flat index " << worst << ": got " << a.flatten()[worst].item() << ", expected "
        << e.flatten()[worst].item() << ", |diff| = " << (a - e).abs().flatten()[worst].item<double>()
        << " (atol " << atol << ", rtol " << rtol << ")";
  return ::testing::AssertionFailure() << where.str();
}

// Checks the gradients of `op` (through its backward) against central
// differences of `op` and against autograd through `reference`, for every
// input listed in `wrt`.
inline ::testing::AssertionResult gradients_match(const TensorFn& op, const TensorFn& reference,
                                                  const std::vector<torch::Tensor>& inputs,
                                                  const std::vector<size_t>& wrt, double fd_atol = 1e-7,
                                                  double ref_atol = 1e-10) {
  torch::Tensor weight;
  {
    torch::NoGradGuard no_grad;
    weight = random_weight_like(op(inputs));
  }
  const auto op_grads = autograd_gradients(op, inputs, wrt, weight);
  const auto fd_grads = finite_difference_gradients(op, inputs, wrt, weight);
  const auto ref_grads = autograd_gradients(reference, inputs, wrt, weight);
  for (size_t k = 0; k < wrt.size(); ++k) {
    auto vs_fd = all_close(op_grads[k], fd_grads[k], fd_atol, 1e-6);
    if (!vs_fd) return ::testing::AssertionFailure() << "input " << wrt[k] << " vs finite differences: " << vs_fd.message();
    auto vs_ref = all_close(op_grads[k], ref_grads[k], ref_atol, 1e-9);
    if (!vs_ref) return ::testing::AssertionFailure() << "input " << wrt[k] << " vs dense reference autograd: " << vs_ref.message();
  }
  return ::testing::AssertionSuccess();
}

}  // namespace hqrn::test
