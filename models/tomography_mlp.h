// The full-tomography reference of the entanglement experiments: a classical
// MLP on all 15 two-qubit Pauli expectations (it sees the whole state, unlike
// the HQRN, which sees only its own measurement outcomes).
#pragma once

#include <torch/torch.h>

namespace hqrn {

class TomographyMLPImpl : public torch::nn::Module {
 public:
  TomographyMLPImpl(int64_t features, int64_t hidden, int64_t layers, int64_t classes);
  torch::Tensor forward(const torch::Tensor& pauli_features);  // [B, F] -> logits [B, C]

 private:
  int64_t features_;
  torch::nn::Sequential mlp{nullptr};
};
TORCH_MODULE(TomographyMLP);

}  // namespace hqrn
