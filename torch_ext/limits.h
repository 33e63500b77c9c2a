// Size limits shared by the operators and the model layer.
#pragma once

#include <cstdint>

namespace hqrn {

// Largest register simulated: one dense complex128 state of 14 qubits already
// takes 4 GiB, and d * d entries must stay addressable in int64 offsets.
constexpr int64_t kMaxQubits = 14;

}  // namespace hqrn
