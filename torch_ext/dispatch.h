// The typed dispatcher handle of a registered op, for the C++ entries that
// call through the dispatcher (so they record autograd like torch.ops.hqrn.*).
#pragma once

#include <ATen/core/dispatch/Dispatcher.h>

namespace hqrn {

template <typename Signature>
c10::TypedOperatorHandle<Signature> typed_op(const char* name) {
  return c10::Dispatcher::singleton().findSchemaOrThrow(name, "").typed<Signature>();
}

}  // namespace hqrn
