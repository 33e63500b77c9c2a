// Fully connected classifier heads: `layers` hidden ReLU layers of `hidden`
// units (0 layers: one Linear). Shared by the HQRN readouts and the
// tomography baseline so both get the same kind of head.
#pragma once

#include <torch/torch.h>

namespace hqrn {

torch::nn::Sequential make_mlp(int64_t in, int64_t hidden, int64_t layers, int64_t out);

}  // namespace hqrn
