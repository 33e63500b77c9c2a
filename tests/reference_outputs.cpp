// Writes what the C++ network computes on a data file, for the Python
// package's parity test (tests/test_python_package.py): class probabilities
// and the gradient of the mean cross-entropy with respect to every parameter,
// as a safetensors file (tensors "probabilities" and "grad.<parameter>").
// Usage: hqrn_reference_outputs MODEL DATA MODE EXECUTION OUT [LIMIT]
#include <torch/torch.h>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "src/checkpoint.h"
#include "src/data/digits.h"
#include "src/data/state_csv.h"
#include "src/safetensors.h"

namespace {

hqrn::safetensors::TensorBytes tensor_bytes(const std::string& name, const torch::Tensor& t) {
  const auto c = t.detach().to(torch::kFloat64).contiguous();
  return {name, "F64", std::vector<int64_t>(c.sizes().begin(), c.sizes().end()),
          std::string(static_cast<const char*>(c.data_ptr()), static_cast<size_t>(c.numel() * 8))};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: %s MODEL DATA MODE EXECUTION OUT [LIMIT]\n", argv[0]);
    return 2;
  }
  try {
    torch::set_num_threads(1);
    const auto loaded = hqrn::load_checkpoint(argv[1]);
    auto& model = *loaded.model;
    const int64_t limit = argc > 6 ? std::stoll(argv[6]) : -1;
    torch::Tensor x, y;
    if (loaded.config.features() > 0) {
      const auto d = hqrn::data::load_classical_csv(argv[2]);
      x = d.features, y = d.labels;
    } else {
      const auto d = hqrn::data::load_state_csv(argv[2]);
      x = d.states, y = d.labels;
    }
    if (limit > 0 && x.size(0) > limit) x = x.narrow(0, 0, limit), y = y.narrow(0, 0, limit);
    const auto logits = model.forward(x, hqrn::parse_mode(argv[3]), hqrn::parse_execution(argv[4]));
    torch::nn::functional::cross_entropy(logits, y).backward();
    std::vector<hqrn::safetensors::TensorBytes> tensors{tensor_bytes("probabilities", torch::softmax(logits, 1))};
    for (const auto& item : model.named_parameters()) {
      const auto& g = item.value().grad();
      tensors.push_back(tensor_bytes("grad." + item.key(), g.defined() ? g : torch::zeros_like(item.value())));
    }
    const auto bytes = hqrn::safetensors::serialize({}, tensors);
    std::FILE* f = std::fopen(argv[5], "wb");
    if (f == nullptr || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size() || std::fclose(f) != 0) {
      std::fprintf(stderr, "cannot write %s\n", argv[5]);
      return 1;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }
  return 0;
}
