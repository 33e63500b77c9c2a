#include "src/fused_adam.h"
#include "torch_ext/adam_step/adam_update.h"

#include <ATen/Dispatch.h>
#include <ATen/record_function.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <initializer_list>
#include <string>
#include <vector>

namespace hqrn {

namespace {

bool fusable_group(const torch::optim::OptimizerParamGroup& group) {
  const auto& o = static_cast<const torch::optim::AdamOptions&>(group.options());
  return !o.amsgrad() && o.weight_decay() == 0;
}

bool fusable_tensor(const torch::Tensor& t, const torch::Tensor& like) {
  return t.device().is_cpu() && t.layout() == torch::kStrided && t.is_contiguous() &&
         t.scalar_type() == like.scalar_type() && t.sizes() == like.sizes();
}

bool fusable_param(const torch::Tensor& p) {
  const auto& g = p.grad();
  return !g.defined() || (p.device().is_cpu() && p.is_contiguous() && !p.is_complex() &&
                          (p.scalar_type() == torch::kFloat64 || p.scalar_type() == torch::kFloat32) &&
                          fusable_tensor(g, p));
}

// The step's element loops, by dtype.
struct PendingSpans {
  std::vector<AdamSpan<double>> doubles;
  std::vector<AdamSpan<float>> floats;
  void add(const AdamSpan<double>& s) { doubles.push_back(s); }
  void add(const AdamSpan<float>& s) { floats.push_back(s); }
};

}  // namespace

const OptimizerStateKey& FusedAdam::state_key(const torch::Tensor& p) {
  const auto* impl = p.unsafeGetTensorImpl();
  auto it = keys_.find(impl);
  if (it == keys_.end()) it = keys_.emplace(impl, optimizer_state_key(p)).first;
  return it->second;
}

torch::Tensor FusedAdam::step(LossClosure closure) {
  bool fusable = !closure;
  for (const auto& group : param_groups_) {
    fusable = fusable && fusable_group(group);
    for (const auto& p : group.params()) fusable = fusable && fusable_param(p);
  }
  if (!fusable) return torch::optim::Adam::step(std::move(closure));

  torch::NoGradGuard no_grad;
  // First the bookkeeping (state, step counts, coefficients) for every
  // parameter, then the arithmetic for all of them in one parallel pass.
  PendingSpans spans;
  for (auto& group : param_groups_) {
    const auto& o = static_cast<const torch::optim::AdamOptions&>(group.options());
    const auto [beta1, beta2] = o.betas();
    for (auto& p : group.params()) {
      const auto& g = p.grad();
      if (!g.defined()) continue;
      auto& slot = state_[state_key(p)];
      if (!slot) {
        auto fresh = std::make_unique<torch::optim::AdamParamState>();
        fresh->step(0);
        fresh->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Contiguous));
        fresh->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Contiguous));
        slot = std::move(fresh);
      }
      auto& s = static_cast<torch::optim::AdamParamState&>(*slot);
      // A restored state is LibTorch's to shape; make it one this loop can walk.
      if (!fusable_tensor(s.exp_avg(), p)) s.exp_avg(s.exp_avg().to(p.options()).contiguous().reshape(p.sizes()));
      if (!fusable_tensor(s.exp_avg_sq(), p)) {
        s.exp_avg_sq(s.exp_avg_sq().to(p.options()).contiguous().reshape(p.sizes()));
      }
      s.step(s.step() + 1);
      const double bias_correction1 = 1 - std::pow(beta1, static_cast<double>(s.step()));
      const double bias_correction2 = 1 - std::pow(beta2, static_cast<double>(s.step()));
      const AdamCoefficients c{beta1, beta2, o.eps(), o.lr() / bias_correction1, std::sqrt(bias_correction2)};
      AT_DISPATCH_FLOATING_TYPES(p.scalar_type(), "FusedAdam::step", [&] {
        spans.add(AdamSpan<scalar_t>{p.data_ptr<scalar_t>(), g.data_ptr<scalar_t>(), s.exp_avg().data_ptr<scalar_t>(),
                                     s.exp_avg_sq().data_ptr<scalar_t>(), p.numel(), c});
      });
      // Written in place, as the in-place ops of torch::optim::Adam would (autograd's checks see it).
      for (const torch::Tensor* t : std::initializer_list<const torch::Tensor*>{&p, &s.exp_avg(), &s.exp_avg_sq()}) {
        t->unsafeGetTensorImpl()->bump_version();
      }
    }
  }
  // Named for profilers: the update's arithmetic, apart from its bookkeeping.
  RECORD_USER_SCOPE("hqrn.adam_update");
  adam_update_all(spans.doubles.data(), spans.doubles.size());
  adam_update_all(spans.floats.data(), spans.floats.size());
  return {};
}

void FusedAdam::zero_grad(bool set_to_none) {
  for (auto& group : param_groups_) {
    for (auto& p : group.params()) {
      auto& g = p.mutable_grad();
      if (!g.defined()) continue;
      if (set_to_none) {
        g.reset();
        continue;
      }
      if (g.device().is_cpu() && g.is_contiguous() && !g.requires_grad() && !g.is_complex() &&
          (g.scalar_type() == torch::kFloat64 || g.scalar_type() == torch::kFloat32)) {
        std::memset(g.data_ptr(), 0, static_cast<size_t>(g.numel()) * g.element_size());
        g.unsafeGetTensorImpl()->bump_version();  // as zero_() would
      } else {
        g.detach_();
        g.zero_();
      }
    }
  }
}

}  // namespace hqrn
