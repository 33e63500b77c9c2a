// FusedAdam against torch::optim::Adam: the same trajectory (parameters and
// state) over many steps, parameters without gradients skipped alike, the
// unfused options handed to LibTorch's step, a state made by LibTorch's
// Adam continued, and zero_grad.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "src/fused_adam.h"

namespace hqrn {
namespace {

using Shapes = std::vector<std::vector<int64_t>>;

std::vector<torch::Tensor> make_params(torch::ScalarType dtype, const Shapes& shapes = {{3}, {4, 5}, {2, 3, 7}, {1}}) {
  torch::manual_seed(7);
  std::vector<torch::Tensor> out;
  for (const auto& shape : shapes) {
    out.push_back(torch::randn(shape, torch::kFloat64).to(dtype).requires_grad_(true));
  }
  return out;
}

std::vector<torch::Tensor> copies(const std::vector<torch::Tensor>& params) {
  std::vector<torch::Tensor> out;
  for (const auto& p : params) out.push_back(p.detach().clone().requires_grad_(true));
  return out;
}

// A loss whose gradient changes sign and scale from step to step; params
// listed in `frozen` take no part (their gradients stay undefined).
void backward(const std::vector<torch::Tensor>& params, int step, const std::vector<size_t>& frozen = {}) {
  auto loss = torch::zeros({}, params[0].options().requires_grad(false));
  for (size_t i = 0; i < params.size(); ++i) {
    if (std::find(frozen.begin(), frozen.end(), i) != frozen.end()) continue;
    loss = loss + (torch::sin(params[i] * (1.0 + 0.1 * step)) * (i + 1.0)).sum() + params[i].pow(2).sum() * 0.01;
  }
  loss.backward();
}

void expect_close(const torch::Tensor& a, const torch::Tensor& b, double tolerance, const std::string& what) {
  ASSERT_EQ(a.sizes(), b.sizes()) << what;
  EXPECT_LE((a - b).abs().max().item<double>(), tolerance * (1 + b.abs().max().item<double>())) << what;
}

const torch::optim::AdamParamState& state_of(const torch::optim::Optimizer& o, const torch::Tensor& p) {
  return static_cast<const torch::optim::AdamParamState&>(*o.state().at(hqrn::optimizer_state_key(p)));
}

void run_both(torch::ScalarType dtype, double tolerance, const std::vector<size_t>& frozen,
              bool set_to_none = false, const Shapes& shapes = {{3}, {4, 5}, {2, 3, 7}, {1}}) {
  const auto reference = make_params(dtype, shapes);
  const auto fused_params = copies(reference);
  const auto options = torch::optim::AdamOptions(0.05).betas({0.8, 0.95}).eps(1e-6);
  torch::optim::Adam adam(reference, options);
  FusedAdam fused(fused_params, options);
  for (int step = 0; step < 40; ++step) {
    adam.zero_grad();
    fused.zero_grad(set_to_none);
    backward(reference, step, frozen);
    backward(fused_params, step, frozen);
    adam.step();
    fused.step();
  }
  for (size_t i = 0; i < reference.size(); ++i) {
    const auto name = "param " + std::to_string(i);
    expect_close(fused_params[i], reference[i], tolerance, name);
    const bool was_frozen = std::find(frozen.begin(), frozen.end(), i) != frozen.end();
    EXPECT_EQ(fused.state().count(hqrn::optimizer_state_key(fused_params[i])), was_frozen ? 0u : 1u)
        << name;
    if (was_frozen) {
      EXPECT_TRUE(fused_params[i].equal(reference[i])) << name << " moved without a gradient";
      continue;
    }
    const auto& a = state_of(adam, reference[i]);
    const auto& f = state_of(fused, fused_params[i]);
    EXPECT_EQ(f.step(), a.step()) << name;
    expect_close(f.exp_avg(), a.exp_avg(), tolerance, name + " exp_avg");
    expect_close(f.exp_avg_sq(), a.exp_avg_sq(), tolerance, name + " exp_avg_sq");
  }
}

TEST(FusedAdam, FollowsLibTorchAdamInDouble) { run_both(torch::kFloat64, 1e-12, {}); }

TEST(FusedAdam, FollowsLibTorchAdamInFloat) { run_both(torch::kFloat32, 1e-5, {}); }

TEST(FusedAdam, SkipsParametersWithoutGradientsAsLibTorchDoes) { run_both(torch::kFloat64, 1e-12, {1, 3}); }

// Freed gradients (training's zero_grad) step as zeroed ones when every
// parameter gets a gradient at every step.
TEST(FusedAdam, FollowsLibTorchAdamWithFreedGradients) { run_both(torch::kFloat64, 1e-12, {1}, true); }

TEST(FusedAdam, HandsUnfusedOptionsToLibTorchUnchanged) {
  for (const auto& options : {torch::optim::AdamOptions(0.05).amsgrad(true),
                              torch::optim::AdamOptions(0.05).weight_decay(0.1)}) {
    const auto reference = make_params(torch::kFloat64);
    const auto fused_params = copies(reference);
    torch::optim::Adam adam(reference, options);
    FusedAdam fused(fused_params, options);
    for (int step = 0; step < 10; ++step) {
      adam.zero_grad();
      fused.zero_grad();
      backward(reference, step);
      backward(fused_params, step);
      adam.step();
      fused.step();
    }
    for (size_t i = 0; i < reference.size(); ++i) EXPECT_TRUE(fused_params[i].equal(reference[i])) << i;
  }
}

TEST(FusedAdam, ContinuesAStateMadeByLibTorchAdam) {
  const auto reference = make_params(torch::kFloat64);
  const auto fused_params = copies(reference);
  const auto options = torch::optim::AdamOptions(0.02);
  torch::optim::Adam adam(reference, options);
  for (int step = 0; step < 5; ++step) {
    adam.zero_grad();
    backward(reference, step);
    adam.step();
  }
  // The state as a checkpoint restores it: new AdamParamState objects, keyed by the new parameters.
  FusedAdam fused(fused_params, options);
  for (size_t i = 0; i < reference.size(); ++i) {
    torch::NoGradGuard no_grad;
    fused_params[i].copy_(reference[i]);
    const auto& a = state_of(adam, reference[i]);
    auto s = std::make_unique<torch::optim::AdamParamState>();
    s->step(a.step());
    s->exp_avg(a.exp_avg().clone());
    s->exp_avg_sq(a.exp_avg_sq().clone());
    fused.state()[hqrn::optimizer_state_key(fused_params[i])] = std::move(s);
  }
  for (int step = 5; step < 15; ++step) {
    adam.zero_grad();
    fused.zero_grad();
    backward(reference, step);
    backward(fused_params, step);
    adam.step();
    fused.step();
  }
  for (size_t i = 0; i < reference.size(); ++i) {
    expect_close(fused_params[i], reference[i], 1e-12, "param " + std::to_string(i));
    EXPECT_EQ(state_of(fused, fused_params[i]).step(), 15);
  }
}

// Parameters larger than one thread's share: the elements are split over
// the threads across parameter boundaries; each element's update is the same.
TEST(FusedAdam, SplitsLargeParametersOverThreads) {
  const int saved = at::get_num_threads();
  const Shapes shapes{{3}, {150, 140}, {7}, {9000}};
  for (const int threads : {1, 2}) {
    at::set_num_threads(threads);
    run_both(torch::kFloat64, 1e-12, {2}, true, shapes);
  }
  at::set_num_threads(saved);
}

TEST(FusedAdam, ZeroGradKeepsGradientsDefinedAndZero) {
  const auto params = make_params(torch::kFloat64);
  FusedAdam fused(params, torch::optim::AdamOptions(0.1));
  backward(params, 0);
  const auto version = params[1].grad()._version();
  fused.zero_grad();
  for (const auto& p : params) {
    ASSERT_TRUE(p.grad().defined());
    EXPECT_EQ(p.grad().abs().max().item<double>(), 0.0);
  }
  EXPECT_GT(params[1].grad()._version(), version);
}

TEST(FusedAdam, ZeroGradSetToNoneFreesGradients) {
  const auto params = make_params(torch::kFloat64);
  FusedAdam fused(params, torch::optim::AdamOptions(0.1));
  backward(params, 0);
  fused.zero_grad(/*set_to_none=*/true);
  for (const auto& p : params) EXPECT_FALSE(p.grad().defined());
  // The next backward's gradient is the parameter's gradient, not a sum with stale values.
  backward(params, 1);
  auto again = copies(params);
  backward(again, 1);
  for (size_t i = 0; i < params.size(); ++i) EXPECT_TRUE(params[i].grad().equal(again[i].grad())) << i;
}

}  // namespace
}  // namespace hqrn
