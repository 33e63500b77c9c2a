// Schema of angle_tables (a fragment of the hqrn library declared in
// torch_ext/ops.cpp) and its C++ entries through the dispatcher.
#include "torch_ext/angle_tables/angle_tables.h"

#include <torch/library.h>

#include "torch_ext/angle_tables/prepare.h"
#include "torch_ext/dispatch.h"

namespace hqrn {
TORCH_LIBRARY_FRAGMENT(hqrn, m) {
  m.def("angle_tables(Tensor[] weights, Tensor[] biases) -> Tensor");
  m.def("_angle_tables_backward(Tensor grad) -> (Tensor, Tensor)");
}

at::Tensor angle_tables(at::TensorList weights, at::TensorList biases) {
  static auto handle = typed_op<at::Tensor(at::TensorList, at::TensorList)>("hqrn::angle_tables");
  tables::check_lists(weights, biases);
  return handle.call(weights, biases);
}

}  // namespace hqrn

namespace hqrn::backward {

std::tuple<at::Tensor, at::Tensor> angle_tables(const at::Tensor& grad) {
  static auto handle =
      typed_op<std::tuple<at::Tensor, at::Tensor>(const at::Tensor&)>("hqrn::_angle_tables_backward");
  return handle.call(grad);
}

}  // namespace hqrn::backward
