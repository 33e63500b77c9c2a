// What every op folder's autograd.cpp uses: LibTorch's autograd Function
// types, and the checks its backward and entries run.
#pragma once

#include <ATen/core/LegacyTypeDispatch.h>
#include <ATen/core/Tensor.h>
#include <ATen/core/grad_mode.h>
#include <c10/util/Exception.h>
#include <torch/autograd.h>

namespace hqrn {
// Internal linkage, like the ops' prepare.h: one copy per translation unit.
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::Variable;
using torch::autograd::variable_list;

// Entered first in every backward that calls a backward operator. A
// backward with create_graph (GradMode on) or through a gradient that itself
// requires grad would silently drop second-order terms (the backward
// operators have no autograd of their own): it is refused. Then the backward
// operator's call stays below the autograd keys: its Autograd kernel would
// only repeat the refusal, and on torch >= 2.4 that kernel is the Python one
// (a trip through the interpreter per node).
class BackwardScope {
 public:
  BackwardScope(const variable_list& grads, const char* op) {
    bool grad_requires_grad = false;
    for (const auto& g : grads) grad_requires_grad = grad_requires_grad || (g.defined() && g.requires_grad());
    TORCH_CHECK(!at::GradMode::is_enabled() && !grad_requires_grad, op,
                ": double backward is not supported (its backward is not differentiable; call backward "
                "without create_graph)");
  }

 private:
  at::AutoDispatchBelowADInplaceOrView below_autograd_;
};

// An undefined tensor would fail inside autograd with an anonymous message;
// name it here (the kernels' preparation step checks everything else).
inline void require_defined(const at::Tensor& t, const char* op, const char* name) {
  TORCH_CHECK(t.defined(), op, ": ", name, " is an undefined tensor");
}

// t[0], ..., t[R-1] of a contiguous tensor as tensors sharing its storage,
// for a backward that computes R inputs' gradients in one buffer. unbind()
// would make each slice a tracked view through the dispatcher (about 0.7 us
// each; tens of parameters per step); gradients need neither, and
// AccumulateGrad keeps these as they are.
inline variable_list slices(const at::Tensor& t) {
  TORCH_INTERNAL_ASSERT(t.dim() >= 1 && t.is_contiguous(), "slices: expected a contiguous tensor");
  const int64_t count = t.size(0);
  const int64_t step = count == 0 ? 0 : t.numel() / count;
  variable_list out;
  out.reserve(static_cast<size_t>(count));
  for (int64_t r = 0; r < count; ++r) {
    auto s = at::detail::make_tensor<c10::TensorImpl>(c10::Storage(t.storage()), t.key_set(), t.dtype());
    s.unsafeGetTensorImpl()->set_sizes_and_strides(t.sizes().slice(1), t.strides().slice(1));
    s.unsafeGetTensorImpl()->set_storage_offset(t.storage_offset() + r * step);
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace
}  // namespace hqrn
