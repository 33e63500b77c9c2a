// One rank's membership of a data-parallel run, on LibTorch's c10d: a
// TCPStore for the rendezvous and ProcessGroupGloo for the collectives. Every
// collective waits at most `timeout`; a rank that died or hung makes the
// others throw GroupError (naming the collective) instead of hanging.
#pragma once

#include <ATen/ATen.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "src/distributed/launch.h"

namespace hqrn::distributed {

class GroupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Group {
 public:
  Group(const LaunchEnvironment& env, std::chrono::milliseconds timeout);
  ~Group();
  Group(const Group&) = delete;
  Group& operator=(const Group&) = delete;

  int64_t rank() const { return rank_; }
  int64_t world_size() const { return world_size_; }

  // Sums each tensor over the ranks in place. Tensors of one dtype are packed
  // into buckets of at most `bucket_bytes` and reduced one bucket per call.
  void all_reduce_sum(const std::vector<at::Tensor>& tensors, int64_t bucket_bytes = 1 << 22);
  // Sums the gradients of `parameters` (undefined gradients count as zero) and
  // the tensors in `also`, in the same buckets: a step's statistics travel with
  // its gradients instead of paying a collective's latency of their own.
  void sum_gradients(const std::vector<at::Tensor>& parameters, const std::vector<at::Tensor>& also = {},
                     int64_t bucket_bytes = 1 << 22);
  // Throws GroupError naming `what` on every rank unless all ranks pass the same text.
  void require_same(const std::string& what, const std::string& text);
  void barrier();
  // Wall time spent in this rank's collectives so far (waiting for the others included).
  double collective_seconds() const { return collective_seconds_; }

 private:
  struct State;
  std::unique_ptr<State> state_;
  int64_t rank_ = 0, world_size_ = 1;
  double collective_seconds_ = 0;
  template <typename F>
  void collective(const char* what, F&& run);
};

}  // namespace hqrn::distributed
