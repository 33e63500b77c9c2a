// Validation of adam_step_: every tensor of every list, before the kernel
// writes anything, so a bad call changes no parameter.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/util/Exception.h>

#include <cmath>
#include <cstddef>

#include "torch_ext/check.h"

namespace hqrn::adam {
// Internal linkage, as in the other ops' prepare.h.
namespace {

constexpr const char* kOp = "adam_step_";

inline void same_layout(const at::Tensor& t, const at::Tensor& p, const char* name, size_t k) {
  TORCH_CHECK(t.defined(), kOp, ": ", name, "[", k, "] is an undefined tensor");
  TORCH_CHECK(t.device() == p.device(), kOp, ": ", name, "[", k, "] is on ", t.device(), " but params[", k,
              "] is on ", p.device());
  TORCH_CHECK(t.layout() == at::kStrided && t.sizes() == p.sizes() && t.scalar_type() == p.scalar_type() &&
                  t.is_contiguous(),
              kOp, ": ", name, "[", k, "] must be a dense contiguous tensor of params[", k, "]'s shape ", p.sizes(),
              " and dtype ", p.scalar_type(), ", got ", t.sizes(), " ", t.scalar_type(),
              t.is_contiguous() ? "" : " (not contiguous)");
}

inline void prepare(at::TensorList params, at::TensorList grads, at::TensorList exp_avgs, at::TensorList exp_avg_sqs,
                    at::TensorList steps, double lr, double beta1, double beta2, double eps) {
  const size_t count = params.size();
  TORCH_CHECK(grads.size() == count && exp_avgs.size() == count && exp_avg_sqs.size() == count &&
                  steps.size() == count,
              kOp, ": the lists must have one entry per parameter, got ", count, " params, ", grads.size(),
              " grads, ", exp_avgs.size(), " exp_avgs, ", exp_avg_sqs.size(), " exp_avg_sqs and ", steps.size(),
              " steps");
  TORCH_CHECK(std::isfinite(lr) && lr >= 0, kOp, ": lr must be finite and >= 0, got ", lr);
  TORCH_CHECK(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1, kOp, ": betas must lie in [0, 1), got (", beta1,
              ", ", beta2, ")");
  TORCH_CHECK(std::isfinite(eps) && eps >= 0, kOp, ": eps must be finite and >= 0, got ", eps);
  for (size_t k = 0; k < count; ++k) {
    const auto& p = params[k];
    TORCH_CHECK(p.defined(), kOp, ": params[", k, "] is an undefined tensor");
    check::kernel_device(p, kOp, "params");
    TORCH_CHECK(p.scalar_type() == at::kFloat || p.scalar_type() == at::kDouble, kOp, ": params[", k,
                "] must be float32 or float64, got ", p.scalar_type());
    TORCH_CHECK(p.layout() == at::kStrided && p.is_contiguous(), kOp, ": params[", k,
                "] must be a dense contiguous tensor");
    same_layout(grads[k], p, "grads", k);
    same_layout(exp_avgs[k], p, "exp_avgs", k);
    same_layout(exp_avg_sqs[k], p, "exp_avg_sqs", k);
    const auto& step = steps[k];
    TORCH_CHECK(step.defined() && step.numel() == 1 && step.layout() == at::kStrided &&
                    (step.scalar_type() == at::kFloat || step.scalar_type() == at::kDouble),
                kOp, ": steps[", k, "] must be a one-element float32 or float64 tensor (the step count)");
    TORCH_CHECK(step.device() == p.device(), kOp, ": steps[", k, "] is on ", step.device(), " but params[", k,
                "] is on ", p.device());
  }
}

}  // namespace
}  // namespace hqrn::adam
