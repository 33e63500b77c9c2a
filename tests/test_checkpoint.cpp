// Checkpoints (src/checkpoint.h): classical -> HQRN -> HQRN round trips keep
// every parameter and output bit for bit, the configuration and kind come
// back without flags, mismatches list the offending parameter names, broken
// files fail with the path in the message, and writes are atomic.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "models/network.h"
#include "src/checkpoint.h"
#include "src/legacy_checkpoint.h"
#include "src/safetensors.h"
#include "src/source_dir.h"
#include "tests/dense_reference.h"
#include "tests/gradcheck.h"
#include "tests/model_test_util.h"

namespace hqrn {
namespace {

using test::all_close;
using test::throws_with;

constexpr auto kC = torch::kComplexDouble;
constexpr auto kR = torch::kDouble;

NetworkConfig feature_config() {
  return NetworkConfig().data_qubits(2).ancillas(1).features(3).blocks(2).branches(2).classes(3).readout(Readout::mlp).hidden(5).hidden_layers(2).feature_scale(0.5);
}

NetworkConfig state_config() {
  return NetworkConfig().data_qubits(2).ancillas(1).blocks(2).branches(2).classes(2).log_readout(true);
}

// Classical inputs (features, or probability vectors and diagonal states)
// and, for state networks, coherent density matrices.
std::vector<torch::Tensor> classical_inputs(const NetworkConfig& c) {
  if (c.features() > 0) return {torch::rand({4, c.features()}, kR) * 2 - 1};
  const auto p = dense::random_probabilities(4, c.data_qubits(), kR);
  return {p, torch::diag_embed(p).to(kC)};
}

std::vector<torch::Tensor> all_inputs(const NetworkConfig& c) {
  auto inputs = classical_inputs(c);
  if (c.features() == 0) inputs.push_back(dense::random_density(4, c.data_qubits(), kC));
  return inputs;
}

::testing::AssertionResult same_parameters(const ResidualNetworkImpl& a, const ResidualNetworkImpl& b) {
  const auto pa = a.named_parameters();
  const auto pb = b.named_parameters();
  if (pa.keys() != pb.keys()) return ::testing::AssertionFailure() << "parameter names differ";
  for (const auto& item : pa) {
    if (!torch::equal(item.value(), pb[item.key()])) {
      return ::testing::AssertionFailure() << "parameter '" << item.key() << "' differs";
    }
  }
  return ::testing::AssertionSuccess();
}

void expect_same_outputs(ResidualNetworkImpl& a, ResidualNetworkImpl& b, const std::vector<torch::Tensor>& inputs,
                         const std::string& label) {
  torch::NoGradGuard no_grad;
  for (const auto& x : inputs) {
    for (const auto mode : {Mode::quantum, Mode::classical}) {
      EXPECT_TRUE(torch::equal(a.forward(x, mode), b.forward(x, mode)))
          << label << " input " << x.sizes() << " mode " << to_string(mode);
    }
  }
}

void randomize_quantum(ResidualNetworkImpl& model) {
  torch::NoGradGuard no_grad;
  for (auto& q : model.quantum_parameters()) q.uniform_(-M_PI, M_PI);
}

TEST(Checkpoint, ClassicalToHqrnToHqrnRoundTrip) {
  torch::manual_seed(301);
  for (const auto& config : {feature_config(), state_config()}) {
    const auto label = config.to_json();
    test::TempDir dir;
    const auto classical_path = dir.file("classical.pt");
    const auto hqrn_path = dir.file("hqrn.pt");

    ClassicalResNet classical(config);
    test::randomize_weights(*classical);
    save_checkpoint(*classical, classical_path);
    auto classical_back = load_classical_resnet(classical_path);
    EXPECT_TRUE(same_parameters(*classical, *classical_back)) << label;
    {
      torch::NoGradGuard no_grad;
      for (const auto& x : classical_inputs(config)) EXPECT_TRUE(torch::equal(classical->forward(x), classical_back->forward(x)));
    }

    // Into an HQRN whose quantum weights were nonzero: zero_quantum clears them.
    HQRN model(config);
    test::randomize_weights(*model);
    load_classical(*model, classical_path);
    for (const auto& q : model->quantum_parameters()) EXPECT_TRUE(torch::equal(q, torch::zeros_like(q))) << label;
    const auto source = classical->named_parameters();
    for (const auto& item : source) EXPECT_TRUE(torch::equal(model->named_parameters()[item.key()], item.value())) << item.key();
    {
      torch::NoGradGuard no_grad;
      for (const auto& x : classical_inputs(config)) {
        EXPECT_TRUE(all_close(model->forward(x, Mode::quantum), classical->forward(x), 1e-12, 1e-12)) << label;
        EXPECT_TRUE(torch::equal(model->forward(x, Mode::classical), classical->forward(x))) << label;
      }
    }

    save_checkpoint(*model, hqrn_path);
    auto back = load_hqrn(hqrn_path);
    EXPECT_TRUE(same_parameters(*model, *back)) << label;
    expect_same_outputs(*model, *back, all_inputs(config), label + " zero quantum");

    // Nonzero quantum-only weights survive a round trip too.
    randomize_quantum(*model);
    save_checkpoint(*model, hqrn_path);
    back = load_hqrn(hqrn_path);
    EXPECT_TRUE(same_parameters(*model, *back)) << label;
    expect_same_outputs(*model, *back, all_inputs(config), label + " random quantum");

    // zero_quantum = false keeps the HQRN's own quantum-only weights.
    HQRN keep(config);
    randomize_quantum(*keep);
    std::vector<torch::Tensor> quantum_before;
    for (const auto& q : keep->quantum_parameters()) quantum_before.push_back(q.clone());
    load_classical(*keep, classical_path, /*zero_quantum=*/false);
    const auto quantum_after = keep->quantum_parameters();
    for (size_t i = 0; i < quantum_before.size(); ++i) EXPECT_TRUE(torch::equal(quantum_after[i], quantum_before[i]));
  }
}

TEST(Checkpoint, LoadCheckpointRestoresKindAndConfigWithoutFlags) {
  torch::manual_seed(302);
  test::TempDir dir;
  const auto config = NetworkConfig()
                          .data_qubits(3)
                          .ancillas(1)
                          .features(5)
                          .blocks(3)
                          .branches(2)
                          .classes(3)
                          .readout(Readout::born)
                          .readout_qubits(3);
  HQRN model(config);
  save_checkpoint(*model, dir.file("h.pt"));
  const auto loaded = load_checkpoint(dir.file("h.pt"));
  EXPECT_EQ(loaded.kind, ModelKind::hqrn);
  EXPECT_TRUE(loaded.config == config) << loaded.config.to_json();
  EXPECT_TRUE(loaded.model->config() == config);
  EXPECT_TRUE(loaded.model->has_quantum_weights());
  EXPECT_NE(std::dynamic_pointer_cast<HQRNImpl>(loaded.model), nullptr);
  EXPECT_TRUE(loaded.training_json.empty());
  EXPECT_TRUE(same_parameters(*model, *loaded.model));

  const auto classical_config = state_config().readout(Readout::mlp).hidden(7);
  ClassicalResNet classical(classical_config);
  save_checkpoint(*classical, dir.file("c.pt"));
  const auto loaded_classical = load_checkpoint(dir.file("c.pt"));
  EXPECT_EQ(loaded_classical.kind, ModelKind::classical);
  EXPECT_TRUE(loaded_classical.config == classical_config);
  EXPECT_FALSE(loaded_classical.model->has_quantum_weights());
  EXPECT_NE(std::dynamic_pointer_cast<ClassicalResNetImpl>(loaded_classical.model), nullptr);
}

TEST(Checkpoint, SinglePrecisionModelsComeBackInSinglePrecision) {
  torch::manual_seed(303);
  test::TempDir dir;
  HQRN model(state_config());
  test::randomize_weights(*model);
  model->to(torch::kFloat32);
  save_checkpoint(*model, dir.file("f32.pt"));
  auto back = load_hqrn(dir.file("f32.pt"));
  // Stop here otherwise: a dtype mix-up can leave tensors whose storage is
  // too small for their dtype, and reading them is out of bounds.
  ASSERT_EQ(back->real_dtype(), torch::kFloat32);
  for (const auto& p : back->parameters()) ASSERT_EQ(p.scalar_type(), torch::kFloat32);
  EXPECT_TRUE(same_parameters(*model, *back));
  const auto rho = dense::random_density(3, 2, torch::kComplexFloat);
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal(model->forward(rho, Mode::quantum), back->forward(rho, Mode::quantum)));
}

TEST(Checkpoint, TrainingStateAndOptimizerResume) {
  torch::manual_seed(304);
  test::TempDir dir;
  const auto path = dir.file("resume.pt");
  const auto x = torch::rand({6, 3}, kR);
  const auto y = torch::randint(0, 3, {6}, torch::kLong);
  const auto step = [&](ResidualNetworkImpl& model, torch::optim::Optimizer& optimizer) {
    optimizer.zero_grad();
    torch::nn::functional::cross_entropy(model.forward(x, Mode::quantum), y).backward();
    optimizer.step();
  };
  HQRN model(feature_config());
  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(0.05));
  for (int i = 0; i < 3; ++i) step(*model, optimizer);
  const std::string json = R"({"epoch": 3, "seed": 304})";
  save_checkpoint(*model, path, TrainingState{json, &optimizer});

  const auto loaded = load_checkpoint(path);
  EXPECT_EQ(loaded.training_json, json);
  torch::optim::Adam resumed(loaded.model->parameters(), torch::optim::AdamOptions(0.05));
  restore_optimizer(path, *loaded.model, resumed);
  // With Adam's moments restored the next step is the same as the original's;
  // a fresh Adam's first step (about lr * sign(g)) would differ.
  auto fresh_model = load_checkpoint(path).model;
  torch::optim::Adam fresh(fresh_model->parameters(), torch::optim::AdamOptions(0.05));
  step(*model, optimizer);
  step(*loaded.model, resumed);
  step(*fresh_model, fresh);
  EXPECT_TRUE(same_parameters(*model, *loaded.model));
  EXPECT_FALSE(same_parameters(*model, *fresh_model)) << "the comparison cannot tell restored from fresh state";

  const auto bare = dir.file("bare.pt");
  save_checkpoint(*model, bare);
  EXPECT_TRUE(load_checkpoint(bare).training_json.empty());
  torch::optim::Adam other(loaded.model->parameters());
  EXPECT_TRUE(throws_with<std::runtime_error>([&] { restore_optimizer(bare, *loaded.model, other); }, {bare, "optimizer"}));
}

// A classical checkpoint of another shape: the error lists every offending name.
TEST(Checkpoint, MismatchedClassicalCheckpointsListTheNames) {
  torch::manual_seed(305);
  const auto base = NetworkConfig().data_qubits(2).ancillas(1).blocks(2).branches(1).classes(2);
  struct Case {
    NetworkConfig classical;
    std::vector<std::string> names;
  };
  const std::vector<Case> cases{
      {NetworkConfig(base).blocks(3),
       {"'branch0.block2.W' is in the classical checkpoint but not in the HQRN", "'branch0.block2.b'"}},
      {NetworkConfig(base).blocks(1), {"'branch0.block1.W' of the HQRN is missing", "'branch0.block1.b'"}},
      {NetworkConfig(base).branches(2),
       {"'branch1.block0.W'", "'branch1.block1.b'", "'head.mlp.0.weight' has shape 2x4 in the checkpoint but 2x2"}},
      {NetworkConfig(base).ancillas(2),
       {"'branch0.block0.W' has shape 4x4 in the checkpoint but 3x3 in the HQRN", "'branch0.block1.b' has shape 4"}},
      {NetworkConfig(base).data_qubits(1),
       {"'branch0.block0.W' has shape 2x2 in the checkpoint but 3x3 in the HQRN"}},
      {NetworkConfig(base).readout(Readout::mlp).hidden(5),
       {"'head.mlp.0.weight' has shape 5x2 in the checkpoint but 2x2", "'head.mlp.0.bias' has shape 5",
        "'head.mlp.2.weight' is in the classical checkpoint but not in the HQRN", "'head.mlp.2.bias'"}},
      {NetworkConfig(base).classes(4), {"'head.mlp.0.weight' has shape 4x4 in the checkpoint but 2x2"}},
      {NetworkConfig(base).features(4), {"'encoder.linear.weight' is in the classical checkpoint"}},
  };
  test::TempDir dir;
  HQRN model(base);
  test::randomize_weights(*model);
  std::vector<torch::Tensor> before;
  for (const auto& p : model->parameters()) before.push_back(p.clone());
  int index = 0;
  for (const auto& c : cases) {
    const auto path = dir.file("classical" + std::to_string(index++) + ".pt");
    ClassicalResNet classical(c.classical);
    save_checkpoint(*classical, path);
    auto with_path = c.names;
    with_path.push_back(path);
    EXPECT_TRUE(throws_with<std::runtime_error>([&] { load_classical(*model, path); }, with_path)) << c.classical.to_json();
    EXPECT_TRUE(throws_with<std::runtime_error>([&] { load_classical(*model, *classical); }, c.names))
        << c.classical.to_json();
  }
  {
    HQRN mlp_model(NetworkConfig(base).readout(Readout::mlp).hidden(2));
    ClassicalResNet linear(base);
    EXPECT_TRUE(throws_with<std::runtime_error>([&] { load_classical(*mlp_model, *linear); },
                                                {"'head.mlp.2.weight' of the HQRN is missing", "'head.mlp.2.bias'"}));
  }
  // A failed load leaves the target untouched (nothing half-copied).
  const auto after = model->parameters();
  for (size_t i = 0; i < before.size(); ++i) EXPECT_TRUE(torch::equal(after[i], before[i])) << "parameter " << i;
}

TEST(Checkpoint, BrokenFilesThrowWithThePath) {
  torch::manual_seed(306);
  test::TempDir dir;
  HQRN model(state_config());
  ClassicalResNet classical(state_config());
  const auto good_hqrn = dir.file("good_hqrn.pt");
  const auto good_classical = dir.file("good_classical.pt");
  save_checkpoint(*model, good_hqrn);
  save_checkpoint(*classical, good_classical);
  const auto bytes = test::read_bytes(good_hqrn);
  ASSERT_GT(bytes.size(), 100u);

  std::vector<std::string> broken;
  broken.push_back(dir.file("truncated.pt"));
  test::write_bytes(broken.back(), bytes.substr(0, bytes.size() / 2));
  broken.push_back(dir.file("random.pt"));
  const auto noise = torch::randint(0, 256, {4096}, torch::kUInt8);
  test::write_bytes(broken.back(), std::string(static_cast<const char*>(noise.data_ptr()), 4096));
  broken.push_back(dir.file("empty.pt"));
  test::write_bytes(broken.back(), "");
  broken.push_back(dir.file("does_not_exist.pt"));
  // A valid safetensors file that is not an HQRN checkpoint.
  broken.push_back(dir.file("foreign.pt"));
  test::write_bytes(broken.back(), safetensors::serialize({}, {{"weights", "F32", {3}, std::string(12, '\0')}}));
  // A checkpoint whose parameters decode to NaN.
  broken.push_back(dir.file("nan.pt"));
  {
    HQRN bad(state_config());
    torch::NoGradGuard no_grad;
    bad->branches[0]->blocks[1]->W[0][1] = std::nan("");
    save_checkpoint(*bad, broken.back());
  }

  for (const auto& path : broken) {
    EXPECT_TRUE(throws_with<std::runtime_error>([&] { load_checkpoint(path); }, {path})) << path;
    EXPECT_TRUE(throws_with<std::runtime_error>([&] { load_hqrn(path); }, {path})) << path;
    EXPECT_TRUE(throws_with<std::runtime_error>([&] { load_classical_resnet(path); }, {path})) << path;
    HQRN target(state_config());
    EXPECT_TRUE(throws_with<std::runtime_error>([&] { load_classical(*target, path); }, {path})) << path;
  }
  EXPECT_TRUE(throws_with<std::runtime_error>([&] { load_checkpoint(dir.file("foreign.pt")); }, {"not an HQRN checkpoint"}));
  EXPECT_TRUE(throws_with<std::runtime_error>([&] { load_checkpoint(dir.file("nan.pt")); }, {"branch0.block1.W", "NaN"}));

  // The wrong kind for the loader.
  EXPECT_TRUE(throws_with<std::runtime_error>([&] { load_classical_resnet(good_hqrn); }, {good_hqrn, "hqrn", "classical"}));
  EXPECT_TRUE(throws_with<std::runtime_error>([&] { load_hqrn(good_classical); }, {good_classical, "hqrn", "classical"}));
  EXPECT_NO_THROW(load_hqrn(good_hqrn));
  EXPECT_NO_THROW(load_classical_resnet(good_classical));
}

TEST(Checkpoint, WritesAreAtomicAndOverwrite) {
  torch::manual_seed(307);
  test::TempDir dir;
  const auto path = dir.file("model.pt");
  HQRN first(state_config());
  HQRN second(state_config());
  save_checkpoint(*first, path);
  save_checkpoint(*second, path);
  // Only the checkpoint remains: no temporary files left beside it.
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"model.pt"});
  EXPECT_TRUE(same_parameters(*second, *load_hqrn(path)));

  // A directory that does not exist: a clear error naming the target, no file.
  const auto nowhere = dir.file("no_such_dir/model.pt");
  EXPECT_TRUE(throws_with<std::runtime_error>([&] { save_checkpoint(*first, nowhere); }, {nowhere}));
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"model.pt"});
}

// Rewrites a saved checkpoint with its header's JSON changed by `edit` and
// the data section replaced by `data` (the SHA-256 recomputed unless told not to).
std::string edited_checkpoint(const std::string& path, const std::function<void(nlohmann::json&)>& edit,
                              std::optional<std::string> data = std::nullopt, bool rehash = true) {
  const auto bytes = test::read_bytes(path);
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  auto header = nlohmann::json::parse(bytes.substr(8, n));
  std::string body = data ? *data : bytes.substr(8 + n);
  edit(header);
  if (rehash) header["__metadata__"]["data_sha256"] = safetensors::sha256_hex(body);
  const auto text = header.dump();
  std::string out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((text.size() >> (8 * i)) & 0xff));
  return out + text + body;
}

TEST(Checkpoint, IsASafetensorsFileWithTheModulesNamesAndMetadata) {
  torch::manual_seed(308);
  test::TempDir dir;
  HQRN model(state_config());
  const auto path = dir.file("h.safetensors");
  save_checkpoint(*model, path);
  const auto file = safetensors::read_file(path);
  EXPECT_EQ(file.metadata.at("format"), "hqrn");
  EXPECT_EQ(file.metadata.at("format_version"), std::to_string(kCheckpointFormatVersion));
  EXPECT_EQ(file.metadata.at("kind"), "hqrn");
  EXPECT_EQ(NetworkConfig::from_json(file.metadata.at("config")), model->config());
  EXPECT_EQ(file.metadata.at("data_sha256"), safetensors::sha256_hex(file.data));
  const auto params = model->named_parameters();
  ASSERT_EQ(file.tensors.size(), params.size());
  for (const auto& item : params) {
    const auto& info = file.tensor(item.key());
    EXPECT_EQ(info.dtype, "F64");
    EXPECT_TRUE(item.value().sizes().equals(info.shape)) << item.key();
    const auto stored = file.bytes(info);
    const auto value = item.value().contiguous();
    EXPECT_EQ(stored, std::string(static_cast<const char*>(value.data_ptr()), stored.size())) << item.key();
  }
}

TEST(Checkpoint, HostileFilesGetOneMessageNamingTheProblem) {
  torch::manual_seed(309);
  test::TempDir dir;
  HQRN model(state_config());
  const auto good = dir.file("good.pt");
  save_checkpoint(*model, good);
  const auto file = safetensors::read_file(good);
  const auto first = file.tensors.front().name;
  const auto write = [&](const std::string& name, const std::string& bytes) {
    const auto p = dir.file(name);
    test::write_bytes(p, bytes);
    return p;
  };
  std::string flipped = file.data;
  flipped[0] = static_cast<char>(flipped[0] ^ 1);
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {write("sha.pt", edited_checkpoint(good, [](nlohmann::json&) {}, flipped, false)), {"corrupt", "SHA-256"}},
      {write("nosha.pt", edited_checkpoint(good, [](nlohmann::json& h) { h["__metadata__"].erase("data_sha256"); },
                                           std::nullopt, false)),
       {"data_sha256"}},
      {write("version.pt", edited_checkpoint(good, [](nlohmann::json& h) { h["__metadata__"]["format_version"] = "9"; })),
       {"version 9"}},
      {write("kind.pt", edited_checkpoint(good, [](nlohmann::json& h) { h["__metadata__"]["kind"] = "quantum"; })),
       {"kind 'quantum'"}},
      {write("config.pt", edited_checkpoint(good, [](nlohmann::json& h) { h["__metadata__"]["config"] = "{"; })),
       {"config"}},
      {write("missing.pt", edited_checkpoint(good, [&](nlohmann::json& h) {
         // The first tensor renamed: one missing, one unexpected.
         h["zzz"] = h[first];
         h.erase(first);
       })),
       {first, "missing"}},
      {write("dtype.pt", edited_checkpoint(good, [&](nlohmann::json& h) {
         h[first]["dtype"] = "I64";
       })),
       {first, "I64", "F64"}},
      {write("overlap.pt", edited_checkpoint(good, [&](nlohmann::json& h) {
         h[first]["data_offsets"][0] = h[first]["data_offsets"][0].get<uint64_t>() + 8;
       })),
       {first}},
  };
  for (const auto& [path, words] : cases) {
    auto expected = words;
    expected.push_back(path);
    EXPECT_TRUE(throws_with<CheckpointError>([&] { load_checkpoint(path); }, expected)) << path;
  }
  // An extra tensor the configuration does not have.
  HQRN deeper(NetworkConfig(state_config()).blocks(state_config().blocks() + 1));
  const auto extra = dir.file("extra.pt");
  save_checkpoint(*deeper, extra);
  const auto with_config = write("extra_small_config.pt", edited_checkpoint(extra, [&](nlohmann::json& h) {
    h["__metadata__"]["config"] = model->config().to_json();
  }));
  EXPECT_TRUE(throws_with<CheckpointError>([&] { load_checkpoint(with_config); }, {"not part of", "this configuration"}));
}

// The old format (a LibTorch archive in an envelope) is never parsed on load:
// a crafted archive with a correct envelope once crashed `hqrn eval`.
TEST(Checkpoint, OldFormatIsRefusedAndConvertedOnlyWhenAsked) {
  torch::manual_seed(310);
  test::TempDir dir;
  HQRN model(state_config());
  const auto old_path = dir.file("old.pt");
  save_legacy_checkpoint(*model, old_path);
  EXPECT_TRUE(throws_with<CheckpointError>([&] { load_checkpoint(old_path); }, {old_path, "old", "convert-checkpoint"}));
  const auto converted = load_legacy_checkpoint(old_path);
  EXPECT_TRUE(same_parameters(*model, *converted.model));
  const std::filesystem::path corpus = std::filesystem::path(kSourceDir) / "tests/fuzz/corpus/checkpoint";
  int64_t crafted = 0;
  for (const auto& entry : std::filesystem::directory_iterator(corpus)) {
    if (entry.path().filename().string().rfind("crash-", 0) != 0) continue;
    // The crashing archive wrapped in a correct old-format envelope.
    const auto wrapped = dir.file("wrapped" + std::to_string(crafted++) + ".pt");
    test::write_bytes(wrapped, legacy_envelope(test::read_bytes(entry.path().string())));
    EXPECT_TRUE(throws_with<CheckpointError>([&] { load_checkpoint(wrapped); }, {"old", "unsafe"})) << entry.path();
  }
  EXPECT_GE(crafted, 1);
}

}  // namespace
}  // namespace hqrn

namespace hqrn {
namespace {

// Inputs that once crashed the checkpoint fuzzer (tests/fuzz/corpus/checkpoint/crash-*)
// must now be rejected with a clear error.
TEST(CheckpointRegression, FuzzerCrashInputsAreRejectedCleanly) {
  const std::filesystem::path corpus = std::filesystem::path(kSourceDir) / "tests/fuzz/corpus/checkpoint";
  int64_t checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(corpus)) {
    if (entry.path().filename().string().rfind("crash-", 0) != 0) continue;
    EXPECT_THROW(load_checkpoint(entry.path().string()), std::runtime_error) << entry.path();
    ++checked;
  }
  EXPECT_GE(checked, 1) << "no crash-* regression inputs found in " << corpus;
}

// The issue's crash: a crafted archive (the fuzzer's crash-* input) inside a
// correct old-format envelope made `hqrn eval --model FILE` die with SIGSEGV
// in LibTorch's archive reader. Every loader now refuses the file by its magic
// alone, so the archive is never parsed: reaching the reader would crash this
// test, and its own errors ("cannot read checkpoint") would show in the message.
TEST(CheckpointRegression, CraftedArchiveInACorrectEnvelopeIsRefusedUnread) {
  test::TempDir dir;
  const std::filesystem::path corpus = std::filesystem::path(kSourceDir) / "tests/fuzz/corpus/checkpoint";
  int64_t checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(corpus)) {
    if (entry.path().filename().string().rfind("crash-", 0) != 0) continue;
    const auto archive = test::read_bytes(entry.path().string());
    const auto envelope = legacy_envelope(archive);
    ASSERT_TRUE(is_legacy_checkpoint(envelope));
    // The correct envelope, and ones the old reader would have refused
    // (checksum, truncation): all get the same refusal, before any check of theirs.
    std::string bad_crc = envelope;
    bad_crc[20] = static_cast<char>(bad_crc[20] ^ 0xff);
    const std::vector<std::pair<std::string, std::string>> variants = {
        {"correct", envelope}, {"bad_crc", bad_crc}, {"truncated", envelope.substr(0, envelope.size() / 2)}};
    for (const auto& [variant, bytes] : variants) {
      const auto path = dir.file(variant + "_" + std::to_string(checked) + ".safetensors");
      test::write_bytes(path, bytes);
      const std::vector<std::string> words = {path, "old LibTorch-archive format", "hqrn convert-checkpoint"};
      EXPECT_TRUE(throws_with<CheckpointError>([&] { load_checkpoint(path); }, words)) << variant;
      EXPECT_TRUE(throws_with<CheckpointError>([&] { load_hqrn(path); }, words)) << variant;
      EXPECT_TRUE(throws_with<CheckpointError>([&] { load_classical_resnet(path); }, words)) << variant;
      HQRN target(state_config());
      EXPECT_TRUE(throws_with<CheckpointError>([&] { load_classical(*target, path); }, words)) << variant;
      torch::optim::Adam optimizer(target->parameters());
      EXPECT_TRUE(throws_with<CheckpointError>([&] { restore_optimizer(path, *target, optimizer); }, words)) << variant;
      try {
        load_checkpoint(path);
      } catch (const CheckpointError& e) {
        const std::string message = e.what();
        EXPECT_EQ(message.find('\n'), std::string::npos) << message;
        EXPECT_EQ(message.find("cannot read checkpoint"), std::string::npos) << message;
      }
    }
    ++checked;
  }
  EXPECT_GE(checked, 1) << "no crash-* regression inputs found in " << corpus;
}

// The fuzzer's seeds in the current format must load, or fuzzing starts only
// from inputs that the first checks refuse.
TEST(CheckpointRegression, FuzzerSeedsAreValidCheckpoints) {
  const std::filesystem::path corpus = std::filesystem::path(kSourceDir) / "tests/fuzz/corpus/checkpoint";
  int64_t loaded = 0;
  for (const auto& entry : std::filesystem::directory_iterator(corpus)) {
    const auto name = entry.path().filename().string();
    if (entry.path().extension() != ".safetensors" || name.rfind("crash-", 0) == 0) continue;
    EXPECT_NO_THROW(load_checkpoint(entry.path().string())) << entry.path();
    ++loaded;
  }
  EXPECT_GE(loaded, 3) << "no current-format seeds in " << corpus;
}

}  // namespace
}  // namespace hqrn
