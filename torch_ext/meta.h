// What the Meta kernels share. A Meta kernel is its operator's validation
// and plan (prepare.h, the CPU kernel's own) plus empty outputs of the shapes
// the plan gives: FakeTensor tracing (torch.compile, opcheck) and meta tensors
// get the shapes, dtypes and errors of the real kernel without touching data.
// (Python's fake kernels, hqrn/_registrations.py, take over on torch 2.x
// where shapes may be symbolic, which C++ sizes cannot be.)
#pragma once

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <initializer_list>
#include <utility>

namespace hqrn::meta {
namespace {

// The dispatcher runs the Meta kernel when any input is meta: all must be.
inline void same_device(const char* op, std::initializer_list<std::pair<const char*, const at::Tensor*>> tensors) {
  const std::pair<const char*, const at::Tensor*>* first = nullptr;
  for (const auto& named : tensors) {
    if (!named.second->defined()) continue;
    if (first == nullptr) {
      first = &named;
      continue;
    }
    TORCH_CHECK(named.second->device() == first->second->device(), op, ": ", named.first, " is on ",
                named.second->device(), " but ", first->first, " is on ", first->second->device(),
                "; every tensor argument must be on one device");
  }
}

// A contiguous output, as the CPU kernels return.
inline at::Tensor empty(at::IntArrayRef shape, const at::TensorOptions& options) {
  return at::empty(shape, options.memory_format(at::MemoryFormat::Contiguous));
}

inline at::Tensor empty_like(const at::Tensor& t) { return empty(t.sizes(), t.options()); }

}  // namespace
}  // namespace hqrn::meta
