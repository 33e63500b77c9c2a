// Angle tables of residual blocks from their weights (docs/model.md, "Angle
// tables"): for every target j and configuration c of the other qubits,
//
//     theta_j(c) = b_j + sum_{i != j} W_ji c_i
//
// (phi from V and a likewise). One call builds the tables of R weight sets
// (the blocks of branches run side by side, theta's and phi's), so a training
// step makes one operator call and one backward node for all of them instead
// of stacking the weights and multiplying by the control bits. Goes through
// the dispatcher and is differentiable in every weight and bias; double
// backward is refused.
#pragma once

#include <ATen/core/Tensor.h>

#include <tuple>

namespace hqrn {

// weights: R real matrices [n, n] (diagonals unused), biases: R vectors [n],
// all of one dtype (float32 or float64). Returns the tables [n, R, 2^(n-1)]:
// entry [j, r, c] is weight set r's angle for target j at configuration c.
at::Tensor angle_tables(at::TensorList weights, at::TensorList biases);

}  // namespace hqrn

namespace hqrn::backward {

// The registered backward op (hqrn::_angle_tables_backward): from the tables'
// gradient [n, R, 2^(n-1)], the gradients of the weights [R, n, n] (zero
// diagonals) and of the biases [R, n].
std::tuple<at::Tensor, at::Tensor> angle_tables(const at::Tensor& grad);

}  // namespace hqrn::backward
