// Adam with one pass over each parameter's memory per step. LibTorch's Adam
// makes about six operator calls per parameter tensor (each a dispatch, a
// TensorIterator and an allocation); for the small networks trained here
// (tens of tensors, a few thousand numbers) that overhead was a quarter of a
// training step. Same update, same state objects (torch::optim::AdamParamState,
// so checkpoints save and restore it as LibTorch's), same options; what it
// does not fuse (amsgrad, weight decay, closures, other dtypes or layouts)
// runs through torch::optim::Adam::step unchanged.
#pragma once

#include <torch/torch.h>

#include <string>
#include <unordered_map>
#include <vector>

#include "src/optimizer_state_key.h"

namespace hqrn {

class FusedAdam : public torch::optim::Adam {
 public:
  FusedAdam(std::vector<torch::Tensor> params, torch::optim::AdamOptions options)
      : torch::optim::Adam(std::move(params), options) {}

  torch::Tensor step(LossClosure closure = nullptr) override;

  // Optimizer::zero_grad (LibTorch 1.13: gradients are zeroed, not freed),
  // writing the zeros directly for contiguous gradients. With set_to_none the
  // gradients are freed instead (PyTorch 2's default): the next backward then
  // hands each parameter its fresh gradient rather than adding it into zeros,
  // one kernel call less per parameter. The two differ only for a parameter
  // that the next backward gives no gradient: Adam skips it instead of
  // stepping with a zero gradient.
  void zero_grad(bool set_to_none = false);

 private:
  // state_'s key for parameter p, made once per parameter (LibTorch 1.13
  // prints it through a stream).
  const OptimizerStateKey& state_key(const torch::Tensor& p);
  std::unordered_map<const c10::TensorImpl*, OptimizerStateKey> keys_;
};

}  // namespace hqrn
