// hqrn: train, translate, evaluate and export Hybrid Quantum Residual
// Networks, generate entanglement data, and run the end-to-end demo.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <thread>

#include "src/commands.h"
#include "src/demo.h"
#include "src/distributed/launch.h"
#include "src/experiments/phases.h"
#include "src/noise_study.h"
#include "src/phases_study.h"
#include "src/threads.h"

namespace {

// Numeric bounds with a readable message (CLI11's own range check prints the
// largest double as its upper end), and no silent wrap of "-3" into an
// unsigned option: values are parsed as signed or floating point here.
CLI::Validator bounded(double lowest, bool inclusive) {
  const std::string rule = fmt::format("{} {}", inclusive ? ">=" : ">", lowest);
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        double value = 0;
        if (!CLI::detail::lexical_cast(text, value) || !std::isfinite(value)) return "'" + text + "' is not a number";
        if (inclusive ? value >= lowest : value > lowest) return std::string();
        return fmt::format("{} is out of range (must be {})", text, rule);
      },
      "NUMBER " + rule);
}
const CLI::Validator kNonNegative = bounded(0, true);
const CLI::Validator kPositive = bounded(0, false);
const CLI::Validator kAtLeastOne = bounded(1, true);
const CLI::Validator kAtLeastTwo = bounded(2, true);

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"HQRN: hybrid quantum residual networks on density matrices (LibTorch)"};
  app.require_subcommand(1);
  // Global options (--threads, --exec) also after the command: subcommands
  // created below inherit this and hand options they lack to the parent.
  app.fallthrough();
  int threads = 0;
  app.add_option("--threads", threads, "Intra-op threads (0: all cores)")->check(kNonNegative);
  std::string execution = "auto";
  app.add_option("--exec", execution,
                 "HQRN simulation: aware (only the entries the diagonal qubits allow; probability vectors once "
                 "every qubit is measured) | dense (full density matrices) | vectors (state vectors and the "
                 "measured qubits, for pure and low-rank inputs; density matrices are converted by "
                 "eigendecomposition; no noise) | auto (vectors for state-vector inputs without noise, else aware); "
                 "same results")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "aware", "dense", "vectors"}));

  hqrn::DemoOptions demo;
  auto* demo_cmd = app.add_subcommand("demo", "End-to-end demo on the shipped data; writes summary.json and plots");
  demo_cmd->add_option("--out", demo.out, "Output folder")->capture_default_str();
  demo_cmd->add_flag("--quick", demo.quick, "Tiny settings (seconds), for smoke tests");
  demo_cmd->add_option("--seed", demo.seed, "Seed")->capture_default_str()->check(kNonNegative);
  bool no_plots = false;
  demo_cmd->add_flag("--no-plots", no_plots, "Skip the PNG plots");

  hqrn::TrainCommand train;
  std::string mode = "quantum";
  uint64_t seed = 0;
  int64_t epochs = 20, batch_size = 64;
  double lr = 0.01;
  bool quiet = false, constant_lr = false;
  auto* train_cmd = app.add_subcommand("train", "Train a classical analog or an HQRN; checkpoints after every epoch");
  std::string tasks;
  for (const auto& e : hqrn::experiments()) tasks += (tasks.empty() ? "" : " | ") + e.name;
  train_cmd->add_option("--task", train.task, "Experiment: " + tasks)->capture_default_str();
  train_cmd->add_option("--model", train.model, "hqrn | classical")->capture_default_str();
  train_cmd->add_option("--data", train.data.data, "Training data: classical CSV (digits) or state CSV (entanglement)");
  train_cmd->add_option("--test-data", train.data.test_data, "Held-out state CSV (entanglement with --data)");
  train_cmd->add_option("--family", train.data.family, "Generated states: random | adversarial-dephased | adversarial-marginal")
      ->capture_default_str();
  train_cmd->add_option("--n-train", train.data.n_train, "Generated training states")->capture_default_str()->check(kAtLeastTwo);
  train_cmd->add_option("--n-test", train.data.n_test, "Generated test states")->capture_default_str()->check(kAtLeastTwo);
  train_cmd->add_option("--data-seed", train.data.seed, "Seed of the generated states")->capture_default_str()->check(kNonNegative);
  train_cmd->add_option("--spins", train.data.spins, "phases: ring size N of the generated ground states")
      ->capture_default_str()
      ->check(CLI::Range(hqrn::kPhasesMinSpins, hqrn::data::kMaxClusterIsingSpins));
  train_cmd->add_option("--init", train.init, "Start from a checkpoint (a classical one translates into an HQRN)");
  train_cmd->add_flag("--freeze-classical", train.freeze_classical, "Train only the quantum-only weights V, a");
  train_cmd->add_option("--mode", mode, "HQRN simulation: quantum | classical")->capture_default_str();
  train_cmd->add_option("--out", train.out, "Checkpoint to write")->required();
  train_cmd->add_flag("--resume", train.resume, "Continue from --out if it exists (same seed: same result)");
  train_cmd->add_option("--dist-timeout-ms", train.distributed_timeout_ms,
                        "Under a launcher (torchrun): how long to wait for the other ranks before stopping")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1000}, int64_t{3600000}));
  train_cmd->add_flag("--project-states", train.data.check.project,
                      "Map states that are not density matrices (beyond 1e-8) to the nearest one instead of failing");
  train_cmd->add_option("--epochs", epochs, "Epochs")->capture_default_str()->check(kNonNegative);
  train_cmd->add_option("--batch-size", batch_size, "Mini-batch size")->capture_default_str()->check(kAtLeastOne);
  train_cmd->add_option("--lr", lr, "Adam learning rate (cosine decay to 5% over the epochs)")->capture_default_str()->check(kPositive);
  train_cmd->add_flag("--constant-lr", constant_lr, "Keep the learning rate constant");
  train_cmd->add_option("--seed", seed, "Seed of initial weights and batch order")->capture_default_str()->check(kNonNegative);
  // One flag per network field marked for it in HQRN_NETWORK_CONFIG_FIELDS.
  for (const auto& field : hqrn::NetworkConfig::fields()) {
    if (!field.flag) continue;
    std::string flag = "--" + field.name;
    std::replace(flag.begin(), flag.end(), '_', '-');
    train_cmd->add_option_function<std::string>(
        flag, [&train, name = field.name](const std::string& text) { train.shape.values.emplace_back(name, text); },
        field.help);
  }
  train_cmd->add_flag("--quiet", quiet, "No progress output");

  std::string from, translate_out;
  auto* translate_cmd = app.add_subcommand("translate", "Load a classical-analog checkpoint into an HQRN");
  translate_cmd->add_option("--from", from, "Classical checkpoint")->required();
  translate_cmd->add_option("--out", translate_out, "HQRN checkpoint to write")->required();

  std::string convert_from, convert_out;
  auto* convert_cmd = app.add_subcommand(
      "convert-checkpoint", "Rewrite an old-format checkpoint (LibTorch archive; unsafe on files from others) as safetensors");
  convert_cmd->add_option("--from", convert_from, "Old-format checkpoint (only one you trust)")->required();
  convert_cmd->add_option("--out", convert_out, "Checkpoint to write")->required();

  hqrn::EvalCommand eval;
  auto* eval_cmd = app.add_subcommand("eval", "Evaluate a checkpoint on a data file");
  eval_cmd->add_option("--model", eval.model, "Checkpoint")->required();
  eval_cmd->add_option("--data", eval.data, "Classical CSV or state CSV, matching the model")->required();
  eval_cmd->add_option("--mode", eval.mode, "quantum | classical (default: the model's own)");
  eval_cmd->add_option("--json", eval.json, "Write accuracy, n, loss and the task's metrics as JSON");
  eval_cmd->add_option("--predictions", eval.predictions, "Write label, prediction and class probabilities as CSV");
  eval_cmd->add_option("--readout", eval.readout,
                       "Write each branch's readout distribution (Z outcomes of the readout register) per sample as CSV");
  eval_cmd->add_option("--noise", eval.noise,
                       "Evaluate under this noise model instead of the checkpoint's (e.g. depolarizing=0.01,readout=0.02; "
                       "none: noiseless)");
  eval_cmd->add_option("--shots", eval.shots,
                       "Estimate each branch's readout distribution from N sampled outcomes before the head")
      ->check(kAtLeastOne);
  eval_cmd->add_option("--shot-seeds", eval.shot_seeds, "Independent shot samples, for the accuracy's spread")
      ->capture_default_str()->check(kAtLeastOne);
  eval_cmd->add_option("--seed", eval.seed, "First seed of the shot samples")->capture_default_str()->check(kNonNegative);
  eval_cmd->add_flag("--project-states", eval.project_states,
                     "Map states that are not density matrices (beyond 1e-8) to the nearest one instead of failing");

  std::string family = "random", states_out;
  int64_t n_states = 1000;
  uint64_t states_seed = 0;
  auto* gen_cmd = app.add_subcommand("gen-states", "Generate two-qubit states in the state CSV format");
  gen_cmd->add_option("--family", family, "random | adversarial-dephased | adversarial-marginal")->capture_default_str();
  gen_cmd->add_option("--n", n_states, "Number of states (even)")->capture_default_str()->check(kAtLeastTwo);
  gen_cmd->add_option("--seed", states_seed, "Seed")->capture_default_str()->check(kNonNegative);
  gen_cmd->add_option("--out", states_out, "Output CSV (.gz compresses)")->required();

  hqrn::data::PhaseRequest phases;
  std::string phases_set = "line", phases_out;
  auto* phases_cmd = app.add_subcommand(
      "gen-phases", "Generate ground states of the cluster-Ising ring (phases experiment) as a state-vector file");
  phases_cmd->add_option("--spins", phases.spins, "Ring size N")
      ->capture_default_str()
      ->check(CLI::Range(hqrn::data::kMinClusterIsingSpins, hqrn::data::kMaxClusterIsingSpins));
  phases_cmd->add_option("--set", phases_set, "line (h2 = 0, exact labels) | plane (string-order labels) | twins (dual pairs)")
      ->capture_default_str()
      ->check(CLI::IsMember({"line", "plane", "twins"}));
  phases_cmd->add_option("--points", phases.points, "h1 grid points (line, plane) or pairs (twins)")
      ->capture_default_str()
      ->check(kAtLeastOne);
  phases_cmd->add_option("--h2-points", phases.h2_points, "plane: h2 grid points (0: 2 * points - 1)")
      ->capture_default_str()
      ->check(kNonNegative);
  phases_cmd->add_option("--min-gap", phases.ground.min_gap, "Refuse points whose gap E1 - E0 is below this")
      ->capture_default_str()
      ->check(kNonNegative);
  phases_cmd->add_flag("--skip-degenerate", phases.skip_degenerate, "plane: leave out refused points instead of failing");
  phases_cmd->add_option("--out", phases_out, "Output .safetensors")->required();

  hqrn::NoiseStudyOptions study;
  auto* study_cmd = app.add_subcommand("study", "Studies on the shipped data generators");
  study_cmd->require_subcommand(1);
  auto* noise_study_cmd = study_cmd->add_subcommand(
      "noise", "Entanglement accuracy against depolarizing noise and shots: HQRN (trained without and with noise), "
               "tomography MLP, classical analog; writes noise_study.csv, .json and .png");
  noise_study_cmd->add_option("--out", study.out, "Output folder")->capture_default_str();
  noise_study_cmd->add_flag("--quick", study.quick, "Tiny settings (seconds), for smoke tests");
  noise_study_cmd->add_option("--seed", study.seed, "Seed")->capture_default_str()->check(kNonNegative);
  noise_study_cmd->add_option("--shot-seeds", study.shot_seeds, "Independent shot samples per point")
      ->capture_default_str()
      ->check(kAtLeastOne);
  bool study_no_plots = false;
  noise_study_cmd->add_flag("--no-plots", study_no_plots, "Skip the PNG plot");

  hqrn::PhasesStudyOptions phases_study;
  auto* phases_study_cmd = study_cmd->add_subcommand(
      "phases", "Cluster-Ising phases per ring size: HQRN, classical analog and few-body Pauli MLP trained on the line "
                "h2 = 0, scored on the (h1, h2) plane against the string order and on the dual twins, exactly and "
                "under shots; writes results.json, phases_study.csv, per-point CSVs and phase-diagram plots");
  phases_study_cmd->add_option("--out", phases_study.out, "Output folder (its data/ caches the generated states)")
      ->capture_default_str();
  phases_study_cmd->add_option("--spins", phases_study.spins, "Ring sizes, e.g. 8,10,12 (default 8,10,12; quick: 8)")
      ->delimiter(',')
      ->check(CLI::Range(hqrn::kPhasesMinSpins, hqrn::data::kMaxClusterIsingSpins));
  phases_study_cmd->add_option("--shots", phases_study.shots,
                               "Shot counts of the finite-shot evaluations (default 64,256,1024,4096)")
      ->delimiter(',')
      ->check(kAtLeastOne);
  phases_study_cmd->add_option("--shot-seeds", phases_study.shot_seeds, "Independent shot samples per point")
      ->capture_default_str()
      ->check(kAtLeastOne);
  phases_study_cmd->add_option("--line-points", phases_study.line_points, "h1 points of the training line (0: 33)")
      ->check(kNonNegative);
  phases_study_cmd->add_option("--plane-points", phases_study.plane_points,
                               "h1 points of the plane, 2 k - 1 values of h2 (0: 17)")
      ->check(kNonNegative);
  phases_study_cmd->add_option("--twin-pairs", phases_study.twin_pairs, "Dual pairs (0: 16)")->check(kNonNegative);
  phases_study_cmd->add_option("--epochs", phases_study.epochs, "Training epochs of every model (0: the default)")
      ->check(kNonNegative);
  phases_study_cmd->add_flag("--quick", phases_study.quick, "Tiny settings (seconds), for smoke tests");
  phases_study_cmd->add_option("--seed", phases_study.seed, "Seed")->capture_default_str()->check(kNonNegative);
  bool phases_no_plots = false;
  phases_study_cmd->add_flag("--no-plots", phases_no_plots, "Skip the PNG plots");

  std::string qasm_model, qasm_prefix;
  auto* qasm_cmd = app.add_subcommand("export-qasm", "Write an HQRN as OpenQASM 3 (one program per branch)");
  qasm_cmd->add_option("--model", qasm_model, "Checkpoint")->required();
  qasm_cmd->add_option("--out", qasm_prefix, "Output prefix: PREFIX_branch<k>.qasm, PREFIX_classical.json")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // Bad command lines are bad input like any other: one message, exit code 2.
    fmt::print(stderr, "error: {}\nRun with --help for more information.\n", e.what());
    return 2;
  }
  try {
    // Under a launcher the node's cores are shared by the ranks on it.
    if (threads == 0 && *train_cmd) {
      if (const auto env = hqrn::distributed::read_launch_environment([](const char* name) { return std::getenv(name); })) {
        threads = static_cast<int>(hqrn::distributed::default_threads_per_rank(
            *env, static_cast<int64_t>(std::max(1u, std::thread::hardware_concurrency()))));
      }
    }
    hqrn::set_thread_count(threads);
    demo.execution = train.execution = eval.execution = study.execution = hqrn::parse_execution(execution);
    phases_study.execution = demo.execution;
    if (*demo_cmd) {
      demo.plots = !no_plots;
      return hqrn::run_demo(demo);
    }
    if (*noise_study_cmd) {
      study.plots = !study_no_plots;
      return hqrn::run_noise_study(study);
    }
    if (*phases_study_cmd) {
      phases_study.plots = !phases_no_plots;
      return hqrn::run_phases_study(phases_study);
    }
    if (*train_cmd) {
      train.mode = hqrn::parse_mode(mode);
      train.options.epochs(epochs).batch_size(batch_size).learning_rate(lr).seed(seed).show_progress(!quiet)
          .cosine_schedule(!constant_lr)
          .label(train.model);
      return hqrn::run_train(train);
    }
    if (*translate_cmd) return hqrn::run_translate(from, translate_out);
    if (*convert_cmd) return hqrn::run_convert_checkpoint(convert_from, convert_out);
    if (*eval_cmd) return hqrn::run_eval(eval);
    if (*gen_cmd) return hqrn::run_gen_states(family, n_states, states_seed, states_out);
    if (*phases_cmd) {
      phases.set = hqrn::data::parse_phase_set(phases_set);
      return hqrn::run_gen_phases(phases, phases_out);
    }
    if (*qasm_cmd) return hqrn::run_export_qasm(qasm_model, qasm_prefix);
  } catch (const c10::Error& e) {
    fmt::print(stderr, "error: {}\n", e.what_without_backtrace());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 2;
  }
  return 0;
}
