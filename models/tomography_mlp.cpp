#include "models/tomography_mlp.h"
#include "models/errors.h"

#include "models/mlp.h"

namespace hqrn {

TomographyMLPImpl::TomographyMLPImpl(int64_t features, int64_t hidden, int64_t layers, int64_t classes)
    : features_(features), mlp(register_module("mlp", make_mlp(features, hidden, layers, classes))) {
  to(torch::kFloat64);
}

torch::Tensor TomographyMLPImpl::forward(const torch::Tensor& pauli_features) {
  require(pauli_features.dim() == 2 && pauli_features.size(1) == features_, "TomographyMLP: expected features [B, ",
              features_, "], got ", pauli_features.sizes());
  return mlp->forward(pauli_features.to(torch::kFloat64));
}

}  // namespace hqrn
