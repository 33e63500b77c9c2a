#include "src/data/state_vectors_file.h"

#include <cstdint>
#include <algorithm>
#include <cstring>
#include <fstream>
#include <set>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/torch.h>

#include "src/data/csv.h"
#include "src/safetensors.h"

namespace hqrn::data {
namespace {

namespace st = hqrn::safetensors;

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
  throw std::invalid_argument(fmt::format("{}: {}", path, problem));
}

bool host_is_little_endian() {
  const uint16_t probe = 1;
  unsigned char first = 0;
  std::memcpy(&first, &probe, 1);
  return first == 1;
}

st::TensorBytes tensor_bytes(const std::string& name, const char* dtype, const torch::Tensor& t) {
  const auto c = t.detach().to(torch::kCPU).contiguous();
  return {name, dtype, std::vector<int64_t>(c.sizes().begin(), c.sizes().end()),
          std::string(static_cast<const char*>(c.data_ptr()), static_cast<size_t>(c.numel() * c.element_size()))};
}

}  // namespace

void save_state_vectors(const std::string& path, const StateVectorDataset& d) {
  if (!host_is_little_endian()) fail(path, "writing state files needs a little-endian host");
  const auto& a = d.amplitudes;
  if (!a.defined() || a.dim() != 3 || a.scalar_type() != torch::kComplexDouble) {
    fail(path, "amplitudes must be a complex128 tensor [N, r, 2^n]");
  }
  const int64_t n_states = a.size(0), dimension = a.size(2);
  if (a.size(1) < 1 || dimension < 2 || (dimension & (dimension - 1)) != 0) {
    fail(path, fmt::format("amplitudes [{}]: r must be >= 1 and 2^n a power of two >= 2", fmt::join(a.sizes(), ", ")));
  }
  if (!d.labels.defined() || d.labels.scalar_type() != torch::kInt64 || !d.labels.sizes().equals({n_states})) {
    fail(path, fmt::format("labels must be an int64 tensor [{}]", n_states));
  }
  const int qubits = __builtin_ctzll(static_cast<unsigned long long>(dimension));
  std::map<std::string, std::string> metadata = d.extra_metadata;
  for (const char* reserved : {"format", "format_version", "qubits", "parameter_names"}) {
    if (metadata.count(reserved) != 0) fail(path, fmt::format("extra metadata may not set '{}'", reserved));
  }
  metadata["format"] = kStateVectorsFormat;
  metadata["format_version"] = std::to_string(kStateVectorsFormatVersion);
  metadata["qubits"] = std::to_string(qubits);

  std::vector<st::TensorBytes> tensors = {tensor_bytes("amplitudes", "F64", torch::view_as_real(a.contiguous())),
                                          tensor_bytes("labels", "I64", d.labels)};
  if (d.parameters.defined()) {
    const auto& p = d.parameters;
    if (p.scalar_type() != torch::kFloat64 || p.dim() != 2 || p.size(0) != n_states ||
        p.size(1) != static_cast<int64_t>(d.parameter_names.size())) {
      fail(path, fmt::format("parameters must be a float64 tensor [{}, {}] (one column per parameter name)", n_states,
                             d.parameter_names.size()));
    }
    for (const auto& name : d.parameter_names) {
      if (name.empty() || name.find(',') != std::string::npos) {
        fail(path, fmt::format("parameter name '{}' must be non-empty and without commas", name));
      }
    }
    metadata["parameter_names"] = fmt::format("{}", fmt::join(d.parameter_names, ","));
    tensors.push_back(tensor_bytes("parameters", "F64", p));
  } else if (!d.parameter_names.empty()) {
    fail(path, "parameter_names given without parameters");
  }
  write_file_atomically(path, st::serialize(metadata, tensors));
}

namespace {

// The tensor `name` as a new tensor of dtype `type`, after its dtype and rank are checked.
torch::Tensor read_tensor(const st::File& file, const std::string& name, const char* dtype, torch::ScalarType type,
                          size_t rank) {
  const auto& info = file.tensor(name);
  if (info.dtype != dtype) fail(file.source, fmt::format("'{}' is {}, expected {}", name, info.dtype, dtype));
  if (info.shape.size() != rank) {
    fail(file.source, fmt::format("'{}' has shape [{}], expected {} dimensions", name, fmt::join(info.shape, ", "), rank));
  }
  auto out = torch::empty(info.shape, torch::TensorOptions().dtype(type));
  const auto bytes = file.bytes(info);
  if (!bytes.empty()) std::memcpy(out.data_ptr(), bytes.data(), bytes.size());
  return out;
}

const std::string& metadata_entry(const st::File& file, const std::string& key) {
  const auto found = file.metadata.find(key);
  if (found == file.metadata.end()) {
    fail(file.source, fmt::format("not an {} file (no '{}' in __metadata__)", kStateVectorsFormat, key));
  }
  return found->second;
}

}  // namespace

StateVectorDataset load_state_vectors(const std::string& path) {
  if (!host_is_little_endian()) fail(path, "reading state files needs a little-endian host");
  const auto file = st::read_file(path);
  if (metadata_entry(file, "format") != kStateVectorsFormat) {
    fail(path, fmt::format("format is '{}', expected '{}'", metadata_entry(file, "format"), kStateVectorsFormat));
  }
  if (metadata_entry(file, "format_version") != std::to_string(kStateVectorsFormatVersion)) {
    fail(path, fmt::format("format_version '{}' is not supported (this build reads {})",
                           metadata_entry(file, "format_version"), kStateVectorsFormatVersion));
  }
  const std::set<std::string> known = {"amplitudes", "labels", "parameters"};
  for (const auto& t : file.tensors) {
    if (known.count(t.name) == 0) fail(path, fmt::format("unknown tensor '{}'", t.name));
  }
  StateVectorDataset d;
  const auto parts = read_tensor(file, "amplitudes", "F64", torch::kFloat64, 4);
  const int64_t n_states = parts.size(0), dimension = parts.size(2);
  if (parts.size(3) != 2 || parts.size(1) < 1 || dimension < 2 || (dimension & (dimension - 1)) != 0) {
    fail(path, fmt::format("amplitudes has shape [{}], expected [N, r, 2^n, 2] with r >= 1 and n >= 1",
                           fmt::join(parts.sizes(), ", ")));
  }
  const int qubits = __builtin_ctzll(static_cast<unsigned long long>(dimension));
  if (metadata_entry(file, "qubits") != std::to_string(qubits)) {
    fail(path, fmt::format("metadata says qubits = '{}' but the amplitudes have 2^{} entries",
                           metadata_entry(file, "qubits"), qubits));
  }
  if (!torch::isfinite(parts).all().item<bool>()) fail(path, "amplitudes has a value that is not finite");
  d.amplitudes = torch::view_as_complex(parts);
  // sum_k |v_k|^2 per state: the trace of the state it stands for.
  const auto traces = parts.square().sum({1, 2, 3});
  const auto worst = (traces - 1).abs().max().item<double>();
  if (n_states > 0 && !(worst <= kStateNormTolerance)) {
    const auto row = (traces - 1).abs().argmax().item<int64_t>();
    fail(path, fmt::format("state {} has trace {:.12g} (sum of its components' squared norms), expected 1", row,
                           traces[row].item<double>()));
  }
  d.labels = read_tensor(file, "labels", "I64", torch::kInt64, 1);
  if (d.labels.size(0) != n_states) {
    fail(path, fmt::format("labels has {} entries for {} states", d.labels.size(0), n_states));
  }
  if (n_states > 0 && d.labels.min().item<int64_t>() < 0) fail(path, "labels must be non-negative");
  const auto names = file.metadata.find("parameter_names");
  const bool has_parameters = std::any_of(file.tensors.begin(), file.tensors.end(),
                                          [](const st::TensorInfo& t) { return t.name == "parameters"; });
  if (has_parameters != (names != file.metadata.end())) {
    fail(path, "'parameters' and the metadata entry 'parameter_names' come together or not at all");
  }
  if (has_parameters) {
    d.parameters = read_tensor(file, "parameters", "F64", torch::kFloat64, 2);
    d.parameter_names.clear();
    for (size_t begin = 0;;) {
      const size_t comma = names->second.find(',', begin);
      d.parameter_names.push_back(names->second.substr(begin, comma == std::string::npos ? std::string::npos : comma - begin));
      if (comma == std::string::npos) break;
      begin = comma + 1;
    }
    if (!torch::isfinite(d.parameters).all().item<bool>()) fail(path, "parameters has a value that is not finite");
    for (const auto& name : d.parameter_names) {
      if (name.empty()) fail(path, fmt::format("parameter_names '{}' has an empty name", names->second));
    }
    if (d.parameters.size(0) != n_states || d.parameters.size(1) != static_cast<int64_t>(d.parameter_names.size())) {
      fail(path, fmt::format("parameters has shape [{}], expected [{}, {}] (one column per name in '{}')",
                             fmt::join(d.parameters.sizes(), ", "), n_states, d.parameter_names.size(), names->second));
    }
  }
  for (const auto& [key, value] : file.metadata) {
    if (key != "format" && key != "format_version" && key != "qubits" && key != "parameter_names") {
      d.extra_metadata[key] = value;
    }
  }
  return d;
}

bool is_state_vectors_file(const std::string& path) {
  // A safetensors file starts with its header's length (8 bytes, little
  // endian) and then the header's '{'; a CSV starts with a number, a gzip
  // file with 0x1f 0x8b.
  std::ifstream in(path, std::ios::binary);
  unsigned char head[9] = {};
  if (!in.read(reinterpret_cast<char*>(head), sizeof(head))) return false;
  uint64_t length = 0;
  for (int i = 7; i >= 0; --i) length = (length << 8) | head[i];
  return head[8] == '{' && length <= st::kMaxHeaderBytes;
}

}  // namespace hqrn::data
