// Autograd kernel of angle_tables: one node for all R weight sets; its
// backward hands each weight and bias its slice of the registered backward
// op's result. Double backward is refused.

#include "torch_ext/angle_tables/angle_tables.h"
#include "torch_ext/autograd_function.h"
#include "torch_ext/autograd_kernels.h"

namespace hqrn {
namespace {

class AngleTablesFunction : public torch::autograd::Function<AngleTablesFunction> {
 public:
  static Variable forward(AutogradContext*, at::TensorList weights, at::TensorList biases) {
    at::AutoDispatchBelowADInplaceOrView guard;
    return hqrn::angle_tables(weights, biases);
  }
  static variable_list backward(AutogradContext*, variable_list grads) {
    const BackwardScope scope(grads, "angle_tables");
    const auto [grad_w, grad_b] = backward::angle_tables(grads[0]);
    // Gradients in the order of the forward's inputs: every weight, then every bias.
    auto out = slices(grad_w);
    for (auto& g : slices(grad_b)) out.push_back(std::move(g));
    return out;
  }
};

at::Tensor angle_tables_autograd(at::TensorList weights, at::TensorList biases) {
  return AngleTablesFunction::apply(weights, biases);
}

}  // namespace

void add_angle_tables_autograd(AutogradKernels& out) {
  out.emplace_back("angle_tables", torch::CppFunction(&angle_tables_autograd));
}

}  // namespace hqrn
