// c10d's Gloo headers are compiled only where USE_C10D_GLOO is defined (this file).
#include "src/distributed/group.h"

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <fmt/format.h>

#include <cstring>
#include <map>

#include "src/clock.h"
#include "src/safetensors.h"

namespace hqrn::distributed {

struct Group::State {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
};

template <typename F>
void Group::collective(const char* what, F&& run) {
  const auto start = Clock::now();
  try {
    run();
  } catch (const std::exception& e) {
    throw GroupError(fmt::format("distributed: {} failed: another rank stopped or is unreachable ({})", what,
                                 std::string(e.what()).substr(0, 300)));
  }
  collective_seconds_ += seconds_since(start);
}

Group::Group(const LaunchEnvironment& env, std::chrono::milliseconds timeout)
    : state_(std::make_unique<State>()), rank_(env.rank), world_size_(env.world_size) {
  collective("rendezvous", [&] {
    c10d::TCPStoreOptions options;
    options.port = static_cast<uint16_t>(env.master_port);
    options.isServer = env.rank == 0 && !env.launcher_hosts_store;
    options.numWorkers = static_cast<size_t>(env.world_size);
    options.timeout = timeout;
    state_->store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, options);
    auto gloo = c10d::ProcessGroupGloo::Options::create(timeout);
    gloo->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    state_->group = c10::make_intrusive<c10d::ProcessGroupGloo>(state_->store, static_cast<int>(env.rank),
                                                                 static_cast<int>(env.world_size), gloo);
  });
}

Group::~Group() = default;

void Group::all_reduce_sum(const std::vector<at::Tensor>& tensors, int64_t bucket_bytes) {
  if (world_size_ == 1) return;
  std::map<c10::ScalarType, std::vector<at::Tensor>> by_dtype;
  for (const auto& t : tensors) by_dtype[t.scalar_type()].push_back(t);
  for (auto& [dtype, list] : by_dtype) {
    size_t start = 0;
    while (start < list.size()) {
      // One flat buffer per bucket: few large messages instead of one per tensor.
      size_t end = start;
      int64_t bytes = 0;
      do {
        bytes += list[end].numel() * list[end].element_size();
        ++end;
      } while (end < list.size() && bytes + list[end].numel() * list[end].element_size() <= bucket_bytes);
      std::vector<at::Tensor> flat_parts;
      for (size_t i = start; i < end; ++i) flat_parts.push_back(list[i].detach().reshape({-1}));
      std::vector<at::Tensor> buffer{at::cat(flat_parts)};
      collective("all-reduce", [&] { state_->group->allreduce(buffer)->wait(); });
      int64_t at = 0;
      at::NoGradGuard no_grad;
      for (size_t i = start; i < end; ++i) {
        list[i].copy_(buffer[0].narrow(0, at, list[i].numel()).view_as(list[i]));
        at += list[i].numel();
      }
      start = end;
    }
  }
}

void Group::sum_gradients(const std::vector<at::Tensor>& parameters, const std::vector<at::Tensor>& also,
                          int64_t bucket_bytes) {
  std::vector<at::Tensor> tensors;
  for (const auto& p : parameters) {
    if (!p.grad().defined()) p.mutable_grad() = at::zeros_like(p);
    tensors.push_back(p.grad());
  }
  tensors.insert(tensors.end(), also.begin(), also.end());
  all_reduce_sum(tensors, bucket_bytes);
}

void Group::require_same(const std::string& what, const std::string& text) {
  if (world_size_ == 1) return;
  // Ranks compare a digest: rank 0's is broadcast, each rank checks its own, and
  // the verdicts are summed so that every rank stops when any differs.
  const auto digest = safetensors::sha256_hex(text);
  std::vector<at::Tensor> mine{at::empty({static_cast<int64_t>(digest.size())}, at::kByte)};
  std::memcpy(mine[0].data_ptr(), digest.data(), digest.size());
  auto reference = mine[0].clone();
  std::vector<at::Tensor> broadcast{reference};
  collective("configuration check", [&] { state_->group->broadcast(broadcast)->wait(); });
  std::vector<at::Tensor> differs{at::tensor({at::equal(reference, mine[0]) ? 0.0 : 1.0}, at::kDouble)};
  collective("configuration check", [&] { state_->group->allreduce(differs)->wait(); });
  const auto count = differs[0].item<double>();
  if (count > 0) {
    throw GroupError(fmt::format("distributed: the ranks do not run the same {} ({} of {} differ from rank 0); "
                                 "start every rank with the same command and data",
                                 what, static_cast<int64_t>(count), world_size_));
  }
}

void Group::barrier() {
  if (world_size_ == 1) return;
  collective("barrier", [&] { state_->group->barrier()->wait(); });
}

}  // namespace hqrn::distributed
