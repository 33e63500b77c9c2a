// Input validation shared by the op entries. Every check names the argument
// and the problem, and raises c10::Error (RuntimeError in Python).
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/util/ArrayRef.h>
#include <c10/util/Exception.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "torch_ext/qubit_index.h"

namespace hqrn::check {
// Internal linkage: every translation unit (the kernels, and the tests that
// include an op's prepare.h) gets its own copy, so a test executable's copy
// can never interpose the library's (built with -march=native) at dynamic
// link time.
namespace {

// log2(size) for a power of two >= 1; raises naming `what` otherwise.
inline int64_t qubit_count(int64_t size, const char* op, const char* what) {
  const int64_t n = index::qubits_of_dimension(size);
  TORCH_CHECK(n >= 0, op, ": ", what, " has size ", size,
              ", which is not a power of two (the dimension of a qubit register)");
  return n;
}

// A tensor the kernels take: a CPU or CUDA tensor (cuda_kernel.cu, where
// the library was built with CUDA), or a meta tensor, whose shape alone the
// Meta kernels (meta_kernel.cpp) compute the output's from. That all of an
// op's tensors share one device is same_device's check.
inline void kernel_device(const at::Tensor& t, const char* op, const char* name) {
  TORCH_CHECK(t.defined(), op, ": ", name, " is an undefined tensor");
  TORCH_CHECK(t.device().is_cpu() || t.device().is_cuda() || t.is_meta(), op, ": ", name,
              " must be a CPU or CUDA tensor, got ", t.device());
}

// The dispatcher picks one kernel for all of an op's tensors (CUDA over CPU,
// Meta over both): every defined one must be on that device.
inline void same_device(const char* op, std::initializer_list<std::pair<const char*, const at::Tensor*>> tensors) {
  const std::pair<const char*, const at::Tensor*>* first = nullptr;
  for (const auto& named : tensors) {
    if (!named.second->defined()) continue;
    if (first == nullptr) {
      first = &named;
      continue;
    }
    TORCH_CHECK(named.second->device() == first->second->device(), op, ": ", named.first, " is on ",
                named.second->device(), " but ", first->first, " is on ", first->second->device(),
                "; every tensor argument must be on one device");
  }
}

// A batch of density matrices [B, d, d], complex64 or complex128; returns n.
inline int64_t density_batch(const at::Tensor& rho, const char* op, const char* name = "rho") {
  kernel_device(rho, op, name);
  TORCH_CHECK(rho.dim() == 3, op, ": ", name, " must be a batch of density matrices [B, d, d], got ",
              rho.dim(), " dimensions ", rho.sizes());
  TORCH_CHECK(rho.size(1) == rho.size(2), op, ": ", name, " must hold square matrices, got ",
              rho.size(1), " x ", rho.size(2));
  TORCH_CHECK(rho.scalar_type() == at::kComplexFloat || rho.scalar_type() == at::kComplexDouble, op,
              ": ", name, " must be complex64 or complex128, got ", rho.scalar_type());
  return qubit_count(rho.size(1), op, name);
}

// A batch of probability vectors [B, d], float32 or float64; returns n.
inline int64_t probability_batch(const at::Tensor& p, const char* op, const char* name = "p") {
  kernel_device(p, op, name);
  TORCH_CHECK(p.dim() == 2, op, ": ", name, " must be a batch of probability vectors [B, d], got ",
              p.dim(), " dimensions ", p.sizes());
  TORCH_CHECK(p.scalar_type() == at::kFloat || p.scalar_type() == at::kDouble, op, ": ", name,
              " must be float32 or float64, got ", p.scalar_type());
  return qubit_count(p.size(1), op, name);
}

// A batch of state vectors [B, r, 2^n] (B states of r unnormalised component
// vectors each), complex64 or complex128; returns n.
inline int64_t vector_batch(const at::Tensor& psi, const char* op, const char* name = "psi") {
  kernel_device(psi, op, name);
  TORCH_CHECK(psi.dim() == 3, op, ": ", name, " must be a batch of state vectors [B, r, 2^n] (r component vectors ",
              "per state), got ", psi.dim(), " dimensions ", psi.sizes());
  TORCH_CHECK(psi.scalar_type() == at::kComplexFloat || psi.scalar_type() == at::kComplexDouble, op, ": ", name,
              " must be complex64 or complex128, got ", psi.scalar_type());
  const int64_t n = index::qubits_of_dimension(psi.size(2));
  TORCH_CHECK(n >= 0, op, ": ", name, "'s last dimension has size ", psi.size(2),
              ", which is not a power of two (the 2^n amplitudes of n qubits)");
  return n;
}

inline void qubit(int64_t q, int64_t n, const char* op, const char* name) {
  TORCH_CHECK(q >= 0 && q < n, op, ": ", name, " = ", q, " is out of range for ", n,
              " qubit(s) (valid: 0..", n - 1, ")");
}

// Distinct qubits, each in range.
inline std::vector<int64_t> qubit_list(at::IntArrayRef qubits, int64_t n, const char* op, const char* name) {
  std::vector<int64_t> list(qubits.begin(), qubits.end());
  for (size_t i = 0; i < list.size(); ++i) {
    qubit(list[i], n, op, name);
    for (size_t k = 0; k < i; ++k) {
      TORCH_CHECK(list[k] != list[i], op, ": ", name, " lists qubit ", list[i], " twice");
    }
  }
  return list;
}

// An angle table of a step on n qubits: 2^(n-1) angles in the state's real
// dtype, shared [2^(n-1)] or per sample [batch, 2^(n-1)]. With `grouped`
// (aware_step), also one table per group of consecutive samples [G, 2^(n-1)]
// with G dividing the batch, so that branches run side by side need not
// repeat their tables per sample.
inline void angle_table(const at::Tensor& t, int64_t batch, int64_t n, at::ScalarType real_type, const char* op,
                        const char* name, bool grouped = false) {
  kernel_device(t, op, name);
  const int64_t len = int64_t{1} << (n - 1);
  TORCH_CHECK(t.scalar_type() == real_type, op, ": ", name, " must have dtype ", real_type,
              " to match the state, got ", t.scalar_type());
  const bool rows_ok =
      t.dim() == 2 && (t.size(0) == batch || (grouped && t.size(0) >= 1 && batch % t.size(0) == 0));
  TORCH_CHECK((t.dim() == 1 && t.size(0) == len) || (rows_ok && t.size(1) == len), op, ": ", name,
              " must have shape [", len, "] (shared) or ",
              grouped ? "[G, " + std::to_string(len) + "] (one table per group of consecutive samples, G dividing the batch " + std::to_string(batch) + "; G = batch: per sample)"
                      : "[" + std::to_string(batch) + ", " + std::to_string(len) + "] (per sample)",
              ", one angle per configuration of the other ", n - 1, " qubit(s); got ", t.sizes());
}

// Grouped angle tables (angle_table with `grouped`) that both have rows must
// have the same number of them: each group of samples reads one row of each.
inline void one_grouping(const at::Tensor& theta, const at::Tensor& phi, const char* op) {
  TORCH_CHECK(theta.dim() == 1 || phi.dim() == 1 || theta.size(0) == phi.size(0), op,
              ": theta and phi must have one grouping, got ", theta.sizes(), " and ", phi.sizes());
}

// The incoming gradient of a backward op: the forward output's shape, the
// dtype of the forward input `like`.
inline void output_grad(const at::Tensor& grad, at::IntArrayRef shape, const at::Tensor& like, const char* op) {
  kernel_device(grad, op, "grad");
  TORCH_CHECK(grad.sizes() == shape && grad.scalar_type() == like.scalar_type(), op,
              ": grad must have the output's shape ", shape, " and dtype ", like.scalar_type(), ", got ",
              grad.sizes(), " ", grad.scalar_type());
}

// The incoming gradient of a backward op whose output is shaped like its
// input `like` (named `like_name`).
inline void grad_like(const at::Tensor& grad, const at::Tensor& like, const char* op, const char* like_name) {
  TORCH_CHECK(grad.sizes() == like.sizes() && grad.scalar_type() == like.scalar_type(), op, ": grad must match ",
              like_name, "'s shape and dtype, got ", grad.sizes(), " ", grad.scalar_type());
}

}  // namespace
}  // namespace hqrn::check
