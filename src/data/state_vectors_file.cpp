#include "src/data/state_vectors_file.h"

#include <cstdint>
#include <cstring>
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

}  // namespace hqrn::data
