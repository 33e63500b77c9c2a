// Size limits shared by the operators and the model layer.
#pragma once

#include <cstdint>

namespace hqrn {

// Largest register simulated: one dense complex128 state of 14 qubits already
// takes 4 GiB, and d * d entries must stay addressable in int64 offsets.
constexpr int64_t kMaxQubits = 14;

// Largest register in the state-vector representation (vector_step): 2^24
// amplitudes per component (256 MiB in complex128), and the angle tables of
// a step, 2^23 entries per qubit, still fit a workstation's memory.
constexpr int64_t kMaxVectorQubits = 24;

}  // namespace hqrn
