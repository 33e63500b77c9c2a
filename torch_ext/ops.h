// Public C++ entry points of the HQRN operators (docs/operators.md).
//
// Each operator's entries are declared in its folder's header, included
// here, and go through the dispatcher, so they record autograd exactly like
// `torch.ops.hqrn.<name>` does from Python. Conventions: n qubits, d = 2^n,
// qubit 0 is the most significant bit of a basis index; states are batched
// `[B, d, d]` complex64/complex128 tensors, probability vectors `[B, d]`
// float32/float64, state vectors `[B, r, d]` complex64/complex128. Angle
// tables have 2^(n-1) entries indexed by the other qubits' bits (cidx),
// either shared `[2^(n-1)]` or per sample `[B, 2^(n-1)]`, and must have the
// state's real dtype. The registered
// backward ops' entries are in namespace hqrn::backward, beside each op.
#pragma once

#include "torch_ext/angle_tables/angle_tables.h"
#include "torch_ext/apply_kraus/apply_kraus.h"
#include "torch_ext/apply_unitary/apply_unitary.h"
#include "torch_ext/markov_step/markov_step.h"
#include "torch_ext/qrb_step/qrb_step.h"
#include "torch_ext/state_ops/state_ops.h"
#include "torch_ext/vector_step/vector_step.h"
