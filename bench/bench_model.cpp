// Section 2: whole-network training work. The entanglement HQRN under
// coherence-aware vs dense execution (same batch in both arms), and one
// training epoch on the digits for the classical analog and for the HQRN in
// Mode::quantum with aware execution (on classical inputs: the same work).
#include <fmt/format.h>

#include "bench/bench.h"
#include "src/experiments/experiment.h"
#include "src/training.h"

namespace hqrn::bench {

namespace {

constexpr int64_t kBranches = 2;
constexpr int64_t kBlocks = 2;

// Dense at 10 ancillas is 12 qubits (256 MiB per sample): a batch of 2 keeps
// it within memory and a minute.
int64_t model_batch(int64_t ancillas) { return ancillas >= 10 ? 2 : 16; }

void bm_model(benchmark::State& state, int64_t ancillas, hqrn::Execution execution) {
  const int64_t batch = model_batch(ancillas);
  auto net = state_model(ancillas, kBranches, kBlocks);
  const auto x = random_density_matrices(batch, 4);
  const auto y = torch::randint(0, 2, {batch}, torch::kLong);
  for (auto _ : state) forward_backward(*net, x, y, execution);
  state.counters["batch"] = static_cast<double>(batch);
  state.counters["qubits"] = static_cast<double>(2 + ancillas);
}

// One pass over the digits' training split: Adam, cross-entropy, batch 64.
void bm_digits_epoch(benchmark::State& state, bool quantum) {
  const auto& digits = hqrn::find_experiment("digits");
  static const auto task = digits.load(hqrn::DataRequest{});
  const auto config = digits.network(task);
  std::shared_ptr<hqrn::ResidualNetworkImpl> net;
  if (quantum) {
    net = hqrn::HQRN(config).ptr();
  } else {
    net = hqrn::ClassicalResNet(config).ptr();
  }
  const auto mode = quantum ? hqrn::Mode::quantum : hqrn::Mode::classical;
  hqrn::Trainable trainable;
  trainable.logits = [&](const torch::Tensor& x) { return net->forward(x, mode); };
  trainable.parameters = net->parameters();
  const auto options = hqrn::TrainOptions().epochs(1).batch_size(64).show_progress(false);
  for (auto _ : state) {
    auto result = hqrn::train(trainable, task.x_train, task.y_train, {}, {}, options);
    benchmark::DoNotOptimize(result);
  }
  state.counters["samples"] = static_cast<double>(task.x_train.size(0));
}

}  // namespace

hqrn::HQRN state_model(int64_t ancillas, int64_t branches, int64_t blocks) {
  hqrn::HQRN net(hqrn::NetworkConfig()
                     .data_qubits(2)
                     .ancillas(ancillas)
                     .branches(branches)
                     .blocks(blocks)
                     .classes(2)
                     .readout(hqrn::Readout::linear));
  return net;
}

void forward_backward(hqrn::ResidualNetworkImpl& net, const torch::Tensor& x, const torch::Tensor& y,
                      hqrn::Execution execution) {
  net.zero_grad();
  const auto loss = torch::nn::functional::cross_entropy(net.forward(x, hqrn::Mode::quantum, execution), y);
  loss.backward();
  benchmark::DoNotOptimize(loss);
}

void register_model_benchmarks() {
  for (const int64_t ancillas : {6, 8, 10}) {
    for (const auto execution : {hqrn::Execution::aware, hqrn::Execution::dense}) {
      const auto name = fmt::format("model/{}/anc:{}", execution == hqrn::Execution::aware ? "aware" : "dense",
                                    ancillas);
      auto* b = benchmark::RegisterBenchmark(name.c_str(), bm_model, ancillas, execution);
      b->UseRealTime()->Unit(benchmark::kMillisecond);
      if (execution == hqrn::Execution::dense && ancillas >= 8) b->Iterations(1);
    }
  }
  for (const bool quantum : {false, true}) {
    auto* b = benchmark::RegisterBenchmark(quantum ? "epoch/hqrn_aware/digits" : "epoch/classical/digits",
                                           bm_digits_epoch, quantum);
    b->UseRealTime()->Unit(benchmark::kMillisecond)->Iterations(quantum ? 1 : 3);
  }
}

}  // namespace hqrn::bench
