// The launcher contract (src/distributed/launch.h): environment parsing,
// threads per rank and batch shards, without starting any process.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "src/distributed/launch.h"

namespace hqrn::distributed {
namespace {

using Env = std::map<std::string, std::string>;

std::optional<LaunchEnvironment> read(const Env& env) {
  return read_launch_environment([&](const char* name) -> const char* {
    const auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
}

Env full(int rank = 1) {
  return {{"RANK", std::to_string(rank)}, {"WORLD_SIZE", "4"}, {"LOCAL_RANK", "1"}, {"LOCAL_WORLD_SIZE", "2"},
          {"MASTER_ADDR", "node0"}, {"MASTER_PORT", "29500"}};
}

void expect_error(const Env& env, const std::string& text) {
  try {
    read(env);
    ADD_FAILURE() << "accepted; expected an error containing " << text;
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
  }
}

TEST(LaunchEnvironment, NoVariablesMeansOneProcess) { EXPECT_FALSE(read({}).has_value()); }

TEST(LaunchEnvironment, ReadsEveryVariable) {
  auto env = read(full(3));
  ASSERT_TRUE(env.has_value());
  EXPECT_EQ(env->rank, 3);
  EXPECT_EQ(env->world_size, 4);
  EXPECT_EQ(env->local_rank, 1);
  EXPECT_EQ(env->local_world_size, 2);
  EXPECT_EQ(env->master_addr, "node0");
  EXPECT_EQ(env->master_port, 29500);
  EXPECT_FALSE(env->launcher_hosts_store);
  auto with_agent = full();
  with_agent["TORCHELASTIC_USE_AGENT_STORE"] = "True";
  EXPECT_TRUE(read(with_agent)->launcher_hosts_store);
}

TEST(LaunchEnvironment, BadOrPartialVariablesAreNamed) {
  auto partial = full();
  partial.erase("MASTER_PORT");
  partial["LOCAL_RANK"] = "";
  expect_error(partial, "LOCAL_RANK MASTER_PORT not set");
  auto bad = full();
  bad["RANK"] = "one";
  expect_error(bad, "RANK = 'one' is not an integer");
  expect_error(full(4), "RANK = 4 is outside 0..3");
  auto local = full();
  local["LOCAL_WORLD_SIZE"] = "5";
  expect_error(local, "LOCAL_WORLD_SIZE = 5 must be in 1..WORLD_SIZE");
  auto port = full();
  port["MASTER_PORT"] = "70000";
  expect_error(port, "MASTER_PORT = 70000 is not a port");
}

TEST(LaunchEnvironment, ThreadsShareTheNodesCores) {
  LaunchEnvironment env;
  env.local_world_size = 2;
  EXPECT_EQ(default_threads_per_rank(env, 16), 8);
  EXPECT_EQ(default_threads_per_rank(env, 3), 1);
  env.local_world_size = 4;
  EXPECT_EQ(default_threads_per_rank(env, 2), 1);  // never zero
}

TEST(ShardOfBatch, ShardsTileTheBatchInOrderAndDifferByAtMostOneRow) {
  for (int64_t world = 1; world <= 5; ++world) {
    for (int64_t rows = 0; rows <= 23; ++rows) {
      int64_t next = 0, smallest = rows, largest = 0;
      for (int64_t rank = 0; rank < world; ++rank) {
        const auto [begin, end] = shard_of_batch(rows, rank, world);
        EXPECT_EQ(begin, next) << rows << " rows, rank " << rank << " of " << world;
        next = end;
        smallest = std::min(smallest, end - begin);
        largest = std::max(largest, end - begin);
      }
      EXPECT_EQ(next, rows);
      EXPECT_LE(largest - smallest, 1);
    }
  }
}

}  // namespace
}  // namespace hqrn::distributed
