#include "torch_ext/autograd_kernels.h"

namespace hqrn {

AutogradKernels autograd_kernels() {
  AutogradKernels all;
  add_qrb_step_autograd(all);
  add_markov_step_autograd(all);
  add_vector_step_autograd(all);
  add_state_ops_autograd(all);
  add_apply_unitary_autograd(all);
  add_apply_kraus_autograd(all);
  add_angle_tables_autograd(all);
  return all;
}

}  // namespace hqrn
