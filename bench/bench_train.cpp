// Section 5: where one training step's time goes. The default entanglement
// network (experiment "entanglement": 2 data qubits, 10 branches, MLP readout)
// on a batch of random two-qubit states: one step (zero_grad, forward,
// cross-entropy, backward, Adam), and one evaluation forward without autograd.
//
// Besides the time, each benchmark reports `ops_share`: the fraction of the
// time spent inside HQRN's operators (torch.ops.hqrn, forward and backward
// kernels with their validation), and `kernels_share`: inside HQRN's
// operators, LibTorch's matrix products (the MLP readout's addmm/mm, forward
// and backward) or Adam's element loop (FusedAdam's one "hqrn.adam_update"
// pass over all parameters, after its bookkeeping), i.e. the arithmetic the
// step cannot avoid. Both are the time a RecordFunction observer counts
// inside those calls over the step's time without the observer (the observer
// slows every operator call a little; `observer_cost` says by how much in
// all). The training step also reports its phases
// (forward, backward, optimizer) and `states_per_s`.
#include <ATen/record_function.h>
#include <fmt/format.h>

#include <chrono>
#include <cstring>
#include <set>
#include <string>

#include "bench/bench.h"
#include "src/data/entanglement.h"
#include "src/experiments/experiment.h"
#include "src/fused_adam.h"

namespace hqrn::bench {

namespace {

using SteadyClock = std::chrono::steady_clock;

// Nanoseconds spent in outermost counted operator calls on this thread (an
// hqrn op's autograd wrapper calls its CPU kernel through the dispatcher
// again, addmm's backward calls mm: only the outer call counts).
using Counted = bool (*)(const at::RecordFunction&);
thread_local Counted g_counted = nullptr;
thread_local int64_t g_op_depth = 0;
thread_local int64_t g_op_nanoseconds = 0;
thread_local SteadyClock::time_point g_op_start;

bool is_hqrn_op(const at::RecordFunction& fn) { return std::strncmp(fn.name(), "hqrn::", 6) == 0; }

bool is_kernel(const at::RecordFunction& fn) {
  static const std::set<std::string> arithmetic{"aten::mm", "aten::addmm", "hqrn.adam_update"};
  return is_hqrn_op(fn) || arithmetic.count(fn.name()) > 0;
}

std::unique_ptr<at::ObserverContext> on_op_start(const at::RecordFunction& fn) {
  if (g_counted(fn) && g_op_depth++ == 0) g_op_start = SteadyClock::now();
  return nullptr;
}

void on_op_end(const at::RecordFunction& fn, at::ObserverContext*) {
  if (g_counted(fn) && --g_op_depth == 0) {
    g_op_nanoseconds += std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now() - g_op_start).count();
  }
}

// The share of `work`'s time inside operators that `counted` selects, over
// `repeats` pairs of calls: one timed plainly, one under the observer, which
// adds its own cost to every operator call (mostly outside the counted
// ones). The counted time under the observer is divided by the plain time,
// the alternation letting both see the same drift of the machine.
// `observed_ratio` receives the observed over the plain time. The observer
// is thread-local: the autograd engine runs a CPU backward on the calling
// thread, and the kernels' parallel regions sit inside the outermost call,
// so their time is counted once.
template <typename Work>
double share_inside(Counted counted, const Work& work, int repeats, double* observed_ratio = nullptr) {
  g_counted = counted;
  g_op_nanoseconds = 0;
  int64_t plain = 0, observed = 0;
  const auto nanoseconds_of = [&] {
    const auto start = SteadyClock::now();
    work();
    return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now() - start).count();
  };
  for (int i = 0; i < repeats; ++i) {
    plain += nanoseconds_of();
    const auto handle = at::addThreadLocalCallback(at::RecordFunctionCallback(on_op_start, on_op_end));
    observed += nanoseconds_of();
    at::removeCallback(handle);
  }
  if (observed_ratio) *observed_ratio = static_cast<double>(observed) / static_cast<double>(plain);
  return static_cast<double>(g_op_nanoseconds) / static_cast<double>(plain);
}

struct EntanglementBatch {
  hqrn::HQRN net;
  torch::Tensor x, y;
};

EntanglementBatch entanglement_batch(int64_t batch) {
  const auto states = hqrn::data::generate_states(hqrn::data::parse_family("random"), batch, 1);
  const TaskData task{states.states, states.labels, {}, {}, 2};
  return {hqrn::HQRN(hqrn::find_experiment("entanglement").network(task)), states.states, states.labels};
}

template <typename Work>
void report(benchmark::State& state, int64_t batch, const Work& work) {
  state.counters["batch"] = static_cast<double>(batch);
  state.counters["states_per_s"] =
      benchmark::Counter(static_cast<double>(batch), benchmark::Counter::kIsIterationInvariantRate);
  double observed_ratio = 0;
  state.counters["ops_share"] = share_inside(is_hqrn_op, work, 20);
  state.counters["kernels_share"] = share_inside(is_kernel, work, 20, &observed_ratio);
  state.counters["observer_cost"] = observed_ratio - 1;
}

// One training step as hqrn::train makes it (src/training.cpp). Also
// reports the step's phases as shares of it: forward (with the loss),
// backward, and the optimizer (zero_grad and Adam's update).
void bm_train_step(benchmark::State& state, int64_t batch, hqrn::Execution execution) {
  auto b = entanglement_batch(batch);
  hqrn::FusedAdam optimizer(b.net->parameters(), torch::optim::AdamOptions(1e-3));
  double phase[3] = {0, 0, 0};
  const auto step = [&](bool timed) {
    const auto t0 = SteadyClock::now();
    optimizer.zero_grad(/*set_to_none=*/true);
    const auto loss =
        torch::nn::functional::cross_entropy(b.net->forward(b.x, hqrn::Mode::quantum, execution), b.y);
    const auto t1 = SteadyClock::now();
    loss.backward();
    const auto t2 = SteadyClock::now();
    optimizer.step();
    const auto t3 = SteadyClock::now();
    if (timed) {
      phase[0] += std::chrono::duration<double>(t1 - t0).count();
      phase[1] += std::chrono::duration<double>(t2 - t1).count();
      phase[2] += std::chrono::duration<double>(t3 - t2).count();
    }
    benchmark::DoNotOptimize(loss);
  };
  step(false);
  for (auto _ : state) step(false);
  for (int i = 0; i < 20; ++i) step(true);
  const double total = phase[0] + phase[1] + phase[2];
  state.counters["forward_share"] = phase[0] / total;
  state.counters["backward_share"] = phase[1] / total;
  state.counters["optimizer_share"] = phase[2] / total;
  report(state, batch, [&] { step(false); });
}

// Evaluation: the forward pass alone, without autograd.
void bm_eval(benchmark::State& state, int64_t batch, hqrn::Execution execution) {
  auto b = entanglement_batch(batch);
  torch::NoGradGuard no_grad;
  const auto forward = [&] { benchmark::DoNotOptimize(b.net->forward(b.x, hqrn::Mode::quantum, execution)); };
  forward();
  for (auto _ : state) forward();
  report(state, batch, forward);
}

}  // namespace

void register_train_benchmarks() {
  for (const auto execution : {hqrn::Execution::aware, hqrn::Execution::dense}) {
    const std::string e = execution == hqrn::Execution::aware ? "aware" : "dense";
    for (const int64_t batch : {64, 256}) {
      benchmark::RegisterBenchmark(fmt::format("train_step/{}/batch:{}", e, batch).c_str(), bm_train_step, batch,
                                   execution)
          ->UseRealTime()
          ->Unit(benchmark::kMicrosecond);
      benchmark::RegisterBenchmark(fmt::format("eval/{}/batch:{}", e, batch).c_str(), bm_eval, batch, execution)
          ->UseRealTime()
          ->Unit(benchmark::kMicrosecond);
    }
  }
}

}  // namespace hqrn::bench
