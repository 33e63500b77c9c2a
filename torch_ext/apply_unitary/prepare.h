// Validation and planning of apply_unitary, shared by the forward and
// backward kernels (device-neutral: shapes and dtypes only). The kernels
// receive a GatePlan and do arithmetic only. Every check names the op, the
// argument and the problem, and raises c10::Error (RuntimeError in Python).
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/util/ArrayRef.h>
#include <c10/util/Exception.h>

#include <cstdint>
#include <vector>

#include "torch_ext/check.h"
#include "torch_ext/qubit_index.h"

namespace hqrn::gate {
// Internal linkage: every translation unit gets its own copy, so a test
// executable's copy can never interpose the library's at dynamic link time.
namespace {

constexpr const char* kOp = "apply_unitary";
constexpr int64_t kMaxGateQubits = 3;

// Row/column offsets of the gate's sub-register and of the rest of the register.
struct GatePlan {
  int64_t batch, d, k_dim;
  int64_t u_stride;  // 0 for one u shared by the batch
  std::vector<int64_t> gate, rest;
};

// apply_unitary(rho, u, targets); its backward reports under the same name.
inline GatePlan prepare(const at::Tensor& rho, const at::Tensor& u, at::IntArrayRef targets) {
  const int64_t n = check::density_batch(rho, kOp);
  const auto list = check::qubit_list(targets, n, kOp, "targets");
  const auto k = static_cast<int64_t>(list.size());
  TORCH_CHECK(k >= 1 && k <= kMaxGateQubits, kOp, ": targets must list 1 to ", kMaxGateQubits,
              " qubits, got ", k);
  check::kernel_device(u, kOp, "u");
  TORCH_CHECK(u.scalar_type() == rho.scalar_type(), kOp, ": u must have rho's dtype ", rho.scalar_type(),
              ", got ", u.scalar_type());
  const int64_t k_dim = int64_t{1} << k;
  const bool shared = u.dim() == 2 && u.size(0) == k_dim && u.size(1) == k_dim;
  const bool per_sample = u.dim() == 3 && u.size(0) == rho.size(0) && u.size(1) == k_dim && u.size(2) == k_dim;
  TORCH_CHECK(shared || per_sample, kOp, ": u must have shape [", k_dim, ", ", k_dim, "] or [", rho.size(0),
              ", ", k_dim, ", ", k_dim, "] for ", k, " target(s), got ", u.sizes());
  return {rho.size(0), rho.size(1), k_dim, per_sample ? k_dim * k_dim : 0,
          index::subregister_offsets(n, list), index::subregister_offsets(n, index::complement(n, list))};
}

}  // namespace
}  // namespace hqrn::gate
