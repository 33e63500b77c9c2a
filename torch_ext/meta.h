// What the Meta kernels share. A Meta kernel is its operator's validation
// and plan (prepare.h, the CPU kernel's own) plus empty outputs of the shapes
// the plan gives: FakeTensor tracing (torch.compile, opcheck) and meta tensors
// get the shapes, dtypes and errors of the real kernel without touching data.
// (Python's fake kernels, hqrn/_registrations.py, take over on torch 2.x
// where shapes may be symbolic, which C++ sizes cannot be.)
#pragma once

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include "torch_ext/check.h"

namespace hqrn::meta {
namespace {

// The dispatcher runs the Meta kernel when any input is meta: all must be.
using check::same_device;

// A contiguous output, as the CPU kernels return.
inline at::Tensor empty(at::IntArrayRef shape, const at::TensorOptions& options) {
  return at::empty(shape, options.memory_format(at::MemoryFormat::Contiguous));
}

inline at::Tensor empty_like(const at::Tensor& t) { return empty(t.sizes(), t.options()); }

}  // namespace
}  // namespace hqrn::meta
