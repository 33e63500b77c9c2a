// The C++ autograd kernels as operators of their own, hqrn_eager::<op>, with
// hqrn::<op>'s schema (libhqrn_ops_eager.so). On torch >= 2.4 hqrn's Autograd
// key holds the autograd registered from Python, which torch.func and
// torch.compile need; eager Python calls take these instead and leave the
// interpreter once per operator, forward and backward alike. Each is one
// composite kernel (CompositeImplicitAutograd, for every device): the
// torch::autograd::Function that records the node and runs hqrn::<op> below
// the autograd keys.
#include <string>

#include <ATen/core/dispatch/Dispatcher.h>

#include "torch_ext/autograd_kernels.h"

namespace hqrn {

TORCH_LIBRARY(hqrn_eager, m) {
  for (auto& [name, kernel] : autograd_kernels()) {
    const std::string qualified = std::string("hqrn::") + name;
    // libhqrn_ops.so, which this library links, has declared every hqrn operator by now.
    const auto& op = c10::Dispatcher::singleton().findSchemaOrThrow(qualified.c_str(), "");
    m.def(op.schema().cloneWithName(name, ""));
    m.impl(name, std::move(kernel));
  }
}

}  // namespace hqrn
