// Entry points of the registered backward ops (hqrn::_<name>_backward). They
// are ops of their own, as in torchvision, so other backends can implement
// them; users normally reach them only through autograd. Each is declared in
// namespace hqrn::backward in its operator's header, all of which ops.h
// gathers.
#pragma once

#include "torch_ext/ops.h"
