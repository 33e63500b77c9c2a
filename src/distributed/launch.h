// The launcher's contract (torchrun, or the Slurm wrapper): RANK, WORLD_SIZE,
// LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT. Without any of
// them a run is a single process, as before.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>

namespace hqrn::distributed {

struct LaunchEnvironment {
  int64_t rank = 0;
  int64_t world_size = 1;
  int64_t local_rank = 0;
  int64_t local_world_size = 1;
  std::string master_addr;
  int64_t master_port = 0;
  // torchrun's agent already serves the rendezvous store on MASTER_PORT
  // (TORCHELASTIC_USE_AGENT_STORE=True): every rank is then a client.
  bool launcher_hosts_store = false;
};

// Reads the variables through `getenv` (std::getenv in the CLI). nullopt when
// none is set; InvalidInput naming the variable when some are missing, not
// integers, or inconsistent (rank outside the world, a port outside 1..65535).
std::optional<LaunchEnvironment> read_launch_environment(const std::function<const char*(const char*)>& getenv);

// Intra-op threads per rank: the node's cores shared by its ranks, at least 1.
int64_t default_threads_per_rank(const LaunchEnvironment& env, int64_t cores);

// Rows [begin, end) of a global batch of `rows` that `rank` of `world` takes:
// contiguous shards, the first rows % world ranks one row longer, so the
// ranks together take the batch in its single-process order.
std::pair<int64_t, int64_t> shard_of_batch(int64_t rows, int64_t rank, int64_t world);

}  // namespace hqrn::distributed
