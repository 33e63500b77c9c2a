#include "src/distributed/launch.h"

#include <fmt/format.h>

#include <algorithm>

#include "models/errors.h"
#include "models/parse_number.h"

namespace hqrn::distributed {

namespace {
constexpr const char* kVariables[] = {"RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR",
                                      "MASTER_PORT"};

int64_t integer_variable(const std::function<const char*(const char*)>& getenv, const char* name) {
  const auto value = parse_int64(getenv(name));
  require(value.has_value(), "distributed launch: ", name, " = '", getenv(name), "' is not an integer");
  return *value;
}
}  // namespace

std::optional<LaunchEnvironment> read_launch_environment(const std::function<const char*(const char*)>& getenv) {
  std::string missing, present;
  for (const auto* name : kVariables) {
    const char* value = getenv(name);
    auto& list = value == nullptr || *value == '\0' ? missing : present;
    if (!list.empty()) list += ' ';
    list += name;  // (appended in two steps: GCC 12's C++20 mode warns falsely on `"" + std::string`)
  }
  if (present.empty()) return std::nullopt;
  require(missing.empty(), "distributed launch: ", missing, " not set (a launcher such as torchrun sets RANK, "
          "WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR and MASTER_PORT)");
  LaunchEnvironment env;
  env.rank = integer_variable(getenv, "RANK");
  env.world_size = integer_variable(getenv, "WORLD_SIZE");
  env.local_rank = integer_variable(getenv, "LOCAL_RANK");
  env.local_world_size = integer_variable(getenv, "LOCAL_WORLD_SIZE");
  env.master_addr = getenv("MASTER_ADDR");
  env.master_port = integer_variable(getenv, "MASTER_PORT");
  const char* agent_store = getenv("TORCHELASTIC_USE_AGENT_STORE");
  env.launcher_hosts_store = agent_store != nullptr && std::string(agent_store) == "True";
  require(env.world_size >= 1, "distributed launch: WORLD_SIZE = ", env.world_size, " must be >= 1");
  require(env.rank >= 0 && env.rank < env.world_size, "distributed launch: RANK = ", env.rank, " is outside 0..",
          env.world_size - 1);
  require(env.local_world_size >= 1 && env.local_world_size <= env.world_size, "distributed launch: LOCAL_WORLD_SIZE = ",
          env.local_world_size, " must be in 1..WORLD_SIZE");
  require(env.local_rank >= 0 && env.local_rank < env.local_world_size, "distributed launch: LOCAL_RANK = ",
          env.local_rank, " is outside 0..", env.local_world_size - 1);
  require(env.master_port >= 1 && env.master_port <= 65535, "distributed launch: MASTER_PORT = ", env.master_port,
          " is not a port (1..65535)");
  return env;
}

int64_t default_threads_per_rank(const LaunchEnvironment& env, int64_t cores) {
  return std::max<int64_t>(1, cores / env.local_world_size);
}

std::pair<int64_t, int64_t> shard_of_batch(int64_t rows, int64_t rank, int64_t world) {
  const int64_t base = rows / world, extra = rows % world;
  const int64_t begin = rank * base + std::min(rank, extra);
  return {begin, begin + base + (rank < extra ? 1 : 0)};
}

}  // namespace hqrn::distributed
