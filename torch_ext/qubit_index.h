// Basis-index arithmetic for big-endian qubit registers (qubit 0 = most
// significant bit). Shared by every kernel so that cidx means one thing. The
// scalar helpers are C10_HOST_DEVICE (empty for a host compiler), so a CUDA
// kernel can call them unchanged; the ones that build std::vector tables are
// host-only.
#pragma once

#include <c10/macros/Macros.h>

#include <cstdint>
#include <vector>

namespace hqrn::index {
// Internal linkage: each translation unit (library kernels built with
// -march=native, tests and the model layer built without) keeps its own copy,
// so no copy can interpose another at dynamic link time.
namespace {

// log2(size) when size is a power of two >= 1 (a register's dimension), else -1.
C10_HOST_DEVICE inline int64_t qubits_of_dimension(int64_t size) {
  if (size < 1 || (size & (size - 1)) != 0) return -1;
  int64_t n = 0;
  while ((int64_t{1} << n) < size) ++n;
  return n;
}

// Bit mask of qubit q in an n-qubit index.
C10_HOST_DEVICE inline int64_t qubit_mask(int64_t n, int64_t q) { return int64_t{1} << (n - 1 - q); }

// cidx(x, j): x with qubit j's bit deleted (n-1 bits, order kept).
C10_HOST_DEVICE inline int64_t delete_bit(int64_t x, int64_t mask) {
  return ((x >> 1) & ~(mask - 1)) | (x & (mask - 1));
}

// Inverse of delete_bit: the index with a 0 inserted at `mask`'s position.
C10_HOST_DEVICE inline int64_t insert_zero_bit(int64_t c, int64_t mask) {
  return ((c & ~(mask - 1)) << 1) | (c & (mask - 1));
}

// Spreads the bits of `value` (value's most significant bit first) onto the
// given bit masks: the basis index of a sub-register's configuration.
inline int64_t scatter_bits(int64_t value, const std::vector<int64_t>& masks) {
  int64_t x = 0;
  const auto k = static_cast<int64_t>(masks.size());
  for (int64_t i = 0; i < k; ++i) {
    if ((value >> (k - 1 - i)) & 1) x |= masks[i];
  }
  return x;
}

// Index of each configuration of the qubits listed in `qubits` (first listed
// = most significant), as a full n-qubit basis index with all other bits 0.
inline std::vector<int64_t> subregister_offsets(int64_t n, const std::vector<int64_t>& qubits) {
  std::vector<int64_t> masks;
  for (auto q : qubits) masks.push_back(qubit_mask(n, q));
  std::vector<int64_t> offsets(int64_t{1} << qubits.size());
  for (int64_t v = 0; v < static_cast<int64_t>(offsets.size()); ++v) offsets[v] = scatter_bits(v, masks);
  return offsets;
}

// The qubits of 0..n-1 that are not in `qubits`, in increasing order.
inline std::vector<int64_t> complement(int64_t n, const std::vector<int64_t>& qubits) {
  std::vector<int64_t> rest;
  for (int64_t q = 0; q < n; ++q) {
    bool listed = false;
    for (auto t : qubits) listed = listed || (t == q);
    if (!listed) rest.push_back(q);
  }
  return rest;
}

}  // namespace
}  // namespace hqrn::index
