#include "models/mlp.h"

namespace hqrn {

torch::nn::Sequential make_mlp(int64_t in, int64_t hidden, int64_t layers, int64_t out) {
  torch::nn::Sequential seq;
  int64_t width = in;
  for (int64_t l = 0; l < layers; ++l) {
    seq->push_back(torch::nn::Linear(width, hidden));
    seq->push_back(torch::nn::ReLU());
    width = hidden;
  }
  seq->push_back(torch::nn::Linear(width, out));
  return seq;
}

}  // namespace hqrn
