// What the CUDA kernels (torch_ext/<op>/cuda_kernel.cu) share: launch shapes
// on the current stream, plan tables copied to the device, and a reduction
// over rows in a fixed order (deterministic: no atomics anywhere).
#pragma once

#include <ATen/ATen.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace hqrn::cuda {
namespace {

constexpr int kThreads = 256;

// Blocks for `work` items, one per thread, under the grid's x limit; the
// kernels loop with a grid stride, so a capped grid still covers everything.
inline unsigned grid_for(int64_t work) {
  const int64_t blocks = (work + kThreads - 1) / kThreads;
  return static_cast<unsigned>(std::min<int64_t>(std::max<int64_t>(blocks, 1), int64_t{1} << 20));
}

inline cudaStream_t stream() { return c10::cuda::getCurrentCUDAStream().stream(); }

// Grid-stride loop index: for (int64_t i = first_index(); i < work; i += stride()).
__device__ inline int64_t first_index() { return int64_t{blockIdx.x} * blockDim.x + threadIdx.x; }
__device__ inline int64_t stride() { return int64_t{gridDim.x} * blockDim.x; }

// Host tables of a plan (basis offsets, std::vector), concatenated into one
// int64 tensor on `device`: one copy per call. Returns the device tensor; the
// start of table k is data_ptr + offsets[k].
struct Uploaded {
  at::Tensor data;
  std::vector<int64_t> offsets;
  const int64_t* at(size_t k) const { return data.data_ptr<int64_t>() + offsets[k]; }
};

inline Uploaded upload(std::initializer_list<const std::vector<int64_t>*> tables, const at::Device& device) {
  Uploaded u;
  std::vector<int64_t> all;
  for (const auto* t : tables) {
    u.offsets.push_back(static_cast<int64_t>(all.size()));
    all.insert(all.end(), t->begin(), t->end());
  }
  if (all.empty()) all.push_back(0);  // a valid pointer even for empty tables
  u.data = at::tensor(all, at::TensorOptions().dtype(at::kLong)).to(device);
  return u;
}

// out[c] = sum over r of in[r * cols + c], r ascending: the fixed-order
// reduction of per-row (per-sample, per-tile) partial sums.
template <typename T>
__global__ void sum_rows_kernel(const T* in, int64_t rows, int64_t cols, T* out) {
  for (int64_t c = first_index(); c < cols; c += stride()) {
    T total = in[c];
    for (int64_t r = 1; r < rows; ++r) total += in[r * cols + c];
    out[c] = total;
  }
}

template <typename T>
void sum_rows(const T* in, int64_t rows, int64_t cols, T* out) {
  if (cols == 0) return;
  if (rows == 0) {  // an empty batch: the sums are zero
    C10_CUDA_CHECK(cudaMemsetAsync(out, 0, static_cast<size_t>(cols) * sizeof(T), stream()));
    return;
  }
  sum_rows_kernel<T><<<grid_for(cols), kThreads, 0, stream()>>>(in, rows, cols, out);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

}  // namespace
}  // namespace hqrn::cuda
