// The C++ autograd kernel of every differentiable operator, by operator
// name, collected from the op folders' autograd.cpp. Two libraries register
// this one set: libhqrn_ops_autograd.so at hqrn's Autograd key (C++ programs,
// and Python on torch < 2.4), and libhqrn_ops_eager.so as operators of their
// own, hqrn_eager::<op> (the Python package's eager calls on torch >= 2.4,
// where hqrn's Autograd key holds the autograd registered from Python for
// torch.func and torch.compile; docs/architecture.md, "Two LibTorches").
#pragma once

#include <utility>
#include <vector>

#include <torch/library.h>

namespace hqrn {

using AutogradKernels = std::vector<std::pair<const char*, torch::CppFunction>>;

// One per op folder (its autograd.cpp).
void add_qrb_step_autograd(AutogradKernels& out);
void add_markov_step_autograd(AutogradKernels& out);
void add_vector_step_autograd(AutogradKernels& out);
void add_state_ops_autograd(AutogradKernels& out);
void add_apply_unitary_autograd(AutogradKernels& out);
void add_apply_kraus_autograd(AutogradKernels& out);
void add_angle_tables_autograd(AutogradKernels& out);

// All of them.
AutogradKernels autograd_kernels();

}  // namespace hqrn
