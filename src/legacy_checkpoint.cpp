// Reader of the previous checkpoint format (2: a LibTorch archive inside a
// checksummed envelope), kept only for `hqrn convert-checkpoint`. LibTorch's
// archive reader is not safe on hostile files (a crafted archive with a valid
// envelope crashes it), so nothing else reaches this file.
#include "src/legacy_checkpoint.h"

#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <sstream>
#include <stdexcept>

#include "src/data/csv.h"

namespace hqrn {

namespace {

constexpr uint64_t kLegacyFormatVersion = 2;

// Envelope around LibTorch's archive: magic, version, payload size and CRC-32.
// LibTorch's deserializer can crash on corrupted archives (found by the
// checkpoint fuzzer: unbounded recursion in the TorchScript type parser), so
// a file reaches it only once its bytes are exactly those that were written.
constexpr char kMagic[8] = {'H', 'Q', 'R', 'N', 'C', 'K', 'P', 'T'};
constexpr size_t kHeaderSize = sizeof(kMagic) + 4 + 8 + 4;

void put_le(std::string& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

uint64_t get_le(const std::string& in, size_t at, int bytes) {
  uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) value |= static_cast<uint64_t>(static_cast<unsigned char>(in[at + i])) << (8 * i);
  return value;
}

uint32_t crc32_of(const std::string& bytes) {
  uLong crc = ::crc32(0L, Z_NULL, 0);
  for (size_t done = 0; done < bytes.size();) {
    const auto chunk = static_cast<uInt>(std::min<size_t>(bytes.size() - done, 1u << 30));
    crc = ::crc32(crc, reinterpret_cast<const Bytef*>(bytes.data() + done), chunk);
    done += chunk;
  }
  return static_cast<uint32_t>(crc);
}

}  // namespace

std::string legacy_envelope(const std::string& payload) {
  std::string out(kMagic, sizeof(kMagic));
  put_le(out, static_cast<uint64_t>(kLegacyFormatVersion), 4);
  put_le(out, payload.size(), 8);
  put_le(out, crc32_of(payload), 4);
  return out + payload;
}

namespace {

std::string unwrap_payload(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot open checkpoint ({})", path, std::strerror(errno)));
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw std::runtime_error(fmt::format("{}: cannot read checkpoint", path));
  if (bytes.size() < kHeaderSize || bytes.compare(0, sizeof(kMagic), kMagic, sizeof(kMagic)) != 0) {
    throw std::runtime_error(fmt::format("{}: not an HQRN checkpoint (no HQRNCKPT header; empty, truncated or "
                                         "another kind of file)", path));
  }
  const auto version = get_le(bytes, sizeof(kMagic), 4);
  if (version != static_cast<uint64_t>(kLegacyFormatVersion)) {
    throw std::runtime_error(fmt::format("{}: checkpoint format version {} is not supported (this build reads {})",
                                         path, version, kLegacyFormatVersion));
  }
  const auto size = get_le(bytes, sizeof(kMagic) + 4, 8);
  if (size != bytes.size() - kHeaderSize) {
    throw std::runtime_error(fmt::format("{}: checkpoint is truncated or has trailing bytes ({} payload bytes, "
                                         "header says {})", path, bytes.size() - kHeaderSize, size));
  }
  std::string payload = bytes.substr(kHeaderSize);
  if (crc32_of(payload) != get_le(bytes, sizeof(kMagic) + 12, 4)) {
    throw std::runtime_error(fmt::format("{}: checkpoint is corrupt (checksum mismatch)", path));
  }
  return payload;
}

constexpr const char* kKindKey = "hqrn_model_kind";
constexpr const char* kConfigKey = "hqrn_config";
constexpr const char* kTrainingKey = "hqrn_training";
constexpr const char* kDtypeKey = "hqrn_real_dtype";

ModelKind parse_kind(const std::string& name, const std::string& path) {
  if (name == "hqrn") return ModelKind::hqrn;
  if (name == "classical") return ModelKind::classical;
  throw std::runtime_error(fmt::format("{}: unknown model kind '{}' in checkpoint", path, name));
}

std::string read_string(torch::serialize::InputArchive& archive, const char* key, const std::string& path) {
  c10::IValue value;
  if (!archive.try_read(key, value) || !value.isString()) {
    throw std::runtime_error(fmt::format("{}: not an HQRN checkpoint (no '{}' entry)", path, key));
  }
  return value.toStringRef();
}

torch::serialize::InputArchive open_archive(const std::string& path) {
  torch::serialize::InputArchive archive;
  std::istringstream payload(unwrap_payload(path));
  try {
    archive.load_from(payload);
  } catch (const c10::Error& e) {
    throw std::runtime_error(fmt::format("{}: cannot read checkpoint (missing, truncated or corrupt): {}", path,
                                         e.what_without_backtrace()));
  }
  return archive;
}
}  // namespace

void save_legacy_checkpoint(const ResidualNetworkImpl& model, const std::string& path) {
  torch::serialize::OutputArchive archive;
  model.save(archive);
  archive.write(kKindKey, c10::IValue(to_string(model.has_quantum_weights() ? ModelKind::hqrn : ModelKind::classical)));
  archive.write(kConfigKey, c10::IValue(model.config().to_json()));
  archive.write(kDtypeKey, c10::IValue(std::string(model.real_dtype() == torch::kFloat32 ? "float32" : "float64")));
  std::ostringstream bytes;
  archive.save_to(bytes);
  data::write_file_atomically(path, legacy_envelope(bytes.str()));
}

bool is_legacy_checkpoint(const std::string& bytes) {
  return bytes.size() >= sizeof(kMagic) && bytes.compare(0, sizeof(kMagic), kMagic, sizeof(kMagic)) == 0;
}

LoadedCheckpoint load_legacy_checkpoint(const std::string& path) {
  auto archive = open_archive(path);
  LoadedCheckpoint loaded{parse_kind(read_string(archive, kKindKey, path), path), NetworkConfig{}, nullptr, ""};
  try {
    loaded.config = NetworkConfig::from_json(read_string(archive, kConfigKey, path));
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(fmt::format("{}: {}", path, e.what()));
  }
  loaded.model = loaded.kind == ModelKind::hqrn ? std::shared_ptr<ResidualNetworkImpl>(HQRN(loaded.config).ptr())
                                                : ClassicalResNet(loaded.config).ptr();
  // LibTorch's archive keeps the model's dtype over the stored tensors, so the
  // model must already have the saved precision.
  const auto dtype = read_string(archive, kDtypeKey, path);
  if (dtype == "float32") {
    loaded.model->to(torch::kFloat32);
  } else if (dtype != "float64") {
    throw std::runtime_error(fmt::format("{}: unknown parameter dtype '{}' in checkpoint", path, dtype));
  }
  try {
    loaded.model->load(archive);
    c10::IValue training;
    if (archive.try_read(kTrainingKey, training) && training.isString()) loaded.training_json = training.toStringRef();
  } catch (const c10::Error& e) {
    throw std::runtime_error(fmt::format("{}: checkpoint does not match its configuration: {}", path,
                                         e.what_without_backtrace()));
  }
  // A model's parameters must be finite; a corrupt file can decode to NaN.
  for (const auto& item : loaded.model->named_parameters()) {
    if (!torch::isfinite(item.value()).all().item<bool>()) {
      throw std::runtime_error(fmt::format("{}: parameter '{}' holds NaN or Inf", path, item.key()));
    }
  }
  return loaded;
}

namespace {

// Runs `work` in a forked child; its result (or its exception's message)
// comes back through a pipe. A child killed by a signal becomes an error.
std::string run_in_child(const std::function<std::string()>& work, const std::string& path) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error(fmt::format("{}: pipe failed: {}", path, std::strerror(errno)));
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(fmt::format("{}: fork failed: {}", path, std::strerror(errno)));
  if (pid == 0) {
    close(fds[0]);
    std::string reply;
    int code = 0;
    try {
      reply = work();
    } catch (const c10::Error& e) {
      reply = e.what_without_backtrace();
      code = 1;
    } catch (const std::exception& e) {
      reply = e.what();
      code = 1;
    }
    for (size_t done = 0; done < reply.size();) {
      const ssize_t n = write(fds[1], reply.data() + done, reply.size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    _exit(code);  // no destructors or atexit handlers of the parent's objects
  }
  close(fds[1]);
  std::string reply;
  char buffer[4096];
  for (ssize_t n; (n = read(fds[0], buffer, sizeof buffer)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    reply.append(buffer, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) {
    throw std::runtime_error(fmt::format("{}: LibTorch's archive reader crashed on this file ({}); it is not a "
                                         "checkpoint that can be converted",
                                         path, strsignal(WTERMSIG(status))));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw std::runtime_error(reply);
  return reply;
}

}  // namespace

ModelKind convert_legacy_checkpoint(const std::string& from, const std::string& out) {
  const auto kind = run_in_child(
      [&] {
        const auto loaded = load_legacy_checkpoint(from);
        save_checkpoint(*loaded.model, out, TrainingState{loaded.training_json});
        return to_string(loaded.kind);
      },
      from);
  return kind == to_string(ModelKind::hqrn) ? ModelKind::hqrn : ModelKind::classical;
}

}  // namespace hqrn
