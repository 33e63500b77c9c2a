// Autograd kernels: each op's forward runs below the autograd key, and its
// backward calls the op's registered backward (hand-written kernels, no
// autograd through ATen inside them).
#include <torch/autograd.h>
#include <torch/library.h>

#include "torch_ext/backward_ops.h"
#include "torch_ext/ops.h"
#include "torch_ext/qubit_index.h"

namespace hqrn {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::Variable;
using torch::autograd::variable_list;

class QrbStepFunction : public torch::autograd::Function<QrbStepFunction> {
 public:
  static Variable forward(AutogradContext* ctx, const Variable& rho, const Variable& theta,
                          const Variable& phi, int64_t target, bool dephase) {
    ctx->saved_data["target"] = target;
    ctx->saved_data["dephase"] = dephase;
    ctx->save_for_backward({rho, theta, phi});
    at::AutoDispatchBelowADInplaceOrView guard;
    return hqrn::qrb_step(rho, theta, phi, target, dephase);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    auto [g_rho, g_theta, g_phi] =
        backward::qrb_step(grads[0], saved[0], saved[1], saved[2], ctx->saved_data["target"].toInt(),
                           ctx->saved_data["dephase"].toBool());
    return {g_rho, g_theta, g_phi, Variable(), Variable()};
  }
};

// Saves only the block's input; backward recomputes the intermediate states
// (the registered backward does), so memory per block is one saved state.
class QrbSweepFunction : public torch::autograd::Function<QrbSweepFunction> {
 public:
  static Variable forward(AutogradContext* ctx, const Variable& rho, const Variable& theta, const Variable& phi,
                          at::IntArrayRef targets) {
    ctx->saved_data["targets"] = targets.vec();
    ctx->save_for_backward({rho, theta, phi});
    at::AutoDispatchBelowADInplaceOrView guard;
    return hqrn::qrb_sweep(rho, theta, phi, targets);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto targets = ctx->saved_data["targets"].toIntVector();
    auto [g_rho, g_theta, g_phi] = backward::qrb_sweep(grads[0], saved[0], saved[1], saved[2], targets);
    return {g_rho, g_theta, g_phi, Variable()};
  }
};

class AwareStepFunction : public torch::autograd::Function<AwareStepFunction> {
 public:
  static Variable forward(AutogradContext* ctx, const Variable& blocks, const Variable& theta, const Variable& phi,
                          int64_t target, at::IntArrayRef diagonal) {
    ctx->saved_data["target"] = target;
    ctx->saved_data["diagonal"] = diagonal.vec();
    ctx->save_for_backward({blocks, theta, phi});
    at::AutoDispatchBelowADInplaceOrView guard;
    return hqrn::aware_step(blocks, theta, phi, target, diagonal);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto diagonal = ctx->saved_data["diagonal"].toIntVector();
    auto [g_blocks, g_theta, g_phi] = backward::aware_step(grads[0], saved[0], saved[1], saved[2],
                                                           ctx->saved_data["target"].toInt(), diagonal);
    return {g_blocks, g_theta, g_phi, Variable(), Variable()};
  }
};

class MarkovStepFunction : public torch::autograd::Function<MarkovStepFunction> {
 public:
  static Variable forward(AutogradContext* ctx, const Variable& p, const Variable& theta, int64_t target) {
    ctx->saved_data["target"] = target;
    ctx->save_for_backward({p, theta});
    at::AutoDispatchBelowADInplaceOrView guard;
    return hqrn::markov_step(p, theta, target);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    auto [g_p, g_theta] =
        backward::markov_step(grads[0], saved[0], saved[1], ctx->saved_data["target"].toInt());
    return {g_p, g_theta, Variable()};
  }
};

// Dephasing is a self-adjoint projection: its backward is itself, through the
// dispatcher, so it is differentiable to any order.
class DephaseFunction : public torch::autograd::Function<DephaseFunction> {
 public:
  static Variable forward(AutogradContext* ctx, const Variable& rho, int64_t target) {
    ctx->saved_data["target"] = target;
    at::AutoDispatchBelowADInplaceOrView guard;
    return hqrn::dephase(rho, target);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    return {hqrn::dephase(grads[0], ctx->saved_data["target"].toInt()), Variable()};
  }
};

class EmbedAncillasFunction : public torch::autograd::Function<EmbedAncillasFunction> {
 public:
  static Variable forward(AutogradContext* ctx, const Variable& rho, int64_t n_aux) {
    ctx->saved_data["n_aux"] = n_aux;
    at::AutoDispatchBelowADInplaceOrView guard;
    return hqrn::embed_ancillas(rho, n_aux);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    return {backward::embed_ancillas(grads[0], ctx->saved_data["n_aux"].toInt()), Variable()};
  }
};

class PartialTraceFunction : public torch::autograd::Function<PartialTraceFunction> {
 public:
  static Variable forward(AutogradContext* ctx, const Variable& rho, at::IntArrayRef keep) {
    at::AutoDispatchBelowADInplaceOrView guard;
    auto out = hqrn::partial_trace(rho, keep);
    // Only after the op has validated rho: its size is then a power of two >= 1.
    ctx->saved_data["keep"] = keep.vec();
    ctx->saved_data["n"] = index::qubits_of_dimension(rho.size(-1));
    return out;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto keep = ctx->saved_data["keep"].toIntVector();
    return {backward::partial_trace(grads[0], keep, ctx->saved_data["n"].toInt()), Variable()};
  }
};

class ProbsFunction : public torch::autograd::Function<ProbsFunction> {
 public:
  static Variable forward(AutogradContext* ctx, const Variable& rho) {
    at::AutoDispatchBelowADInplaceOrView guard;
    return hqrn::probs(rho);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    return {backward::probs(grads[0])};
  }
};

class ApplyUnitaryFunction : public torch::autograd::Function<ApplyUnitaryFunction> {
 public:
  static Variable forward(AutogradContext* ctx, const Variable& rho, const Variable& u,
                          at::IntArrayRef targets) {
    ctx->saved_data["targets"] = targets.vec();
    ctx->save_for_backward({rho, u});
    at::AutoDispatchBelowADInplaceOrView guard;
    return hqrn::apply_unitary(rho, u, targets);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto targets = ctx->saved_data["targets"].toIntVector();
    auto [g_rho, g_u] = backward::apply_unitary(grads[0], saved[0], saved[1], targets);
    return {g_rho, g_u, Variable()};
  }
};

at::Tensor qrb_step_autograd(const at::Tensor& rho, const at::Tensor& theta, const at::Tensor& phi,
                             int64_t target, bool dephase) {
  return QrbStepFunction::apply(rho, theta, phi, target, dephase);
}
at::Tensor qrb_sweep_autograd(const at::Tensor& rho, const at::Tensor& theta, const at::Tensor& phi,
                              at::IntArrayRef targets) {
  return QrbSweepFunction::apply(rho, theta, phi, targets);
}
at::Tensor aware_step_autograd(const at::Tensor& blocks, const at::Tensor& theta, const at::Tensor& phi,
                               int64_t target, at::IntArrayRef diagonal) {
  return AwareStepFunction::apply(blocks, theta, phi, target, diagonal);
}
at::Tensor markov_step_autograd(const at::Tensor& p, const at::Tensor& theta, int64_t target) {
  return MarkovStepFunction::apply(p, theta, target);
}
at::Tensor dephase_autograd(const at::Tensor& rho, int64_t target) {
  return DephaseFunction::apply(rho, target);
}
at::Tensor embed_ancillas_autograd(const at::Tensor& rho, int64_t n_aux) {
  return EmbedAncillasFunction::apply(rho, n_aux);
}
at::Tensor partial_trace_autograd(const at::Tensor& rho, at::IntArrayRef keep) {
  return PartialTraceFunction::apply(rho, keep);
}
at::Tensor probs_autograd(const at::Tensor& rho) { return ProbsFunction::apply(rho); }
at::Tensor apply_unitary_autograd(const at::Tensor& rho, const at::Tensor& u, at::IntArrayRef targets) {
  return ApplyUnitaryFunction::apply(rho, u, targets);
}

}  // namespace

TORCH_LIBRARY_IMPL(hqrn, Autograd, m) {
  m.impl("qrb_step", &qrb_step_autograd);
  m.impl("qrb_sweep", &qrb_sweep_autograd);
  m.impl("aware_step", &aware_step_autograd);
  m.impl("markov_step", &markov_step_autograd);
  m.impl("dephase", &dephase_autograd);
  m.impl("embed_ancillas", &embed_ancillas_autograd);
  m.impl("partial_trace", &partial_trace_autograd);
  m.impl("probs", &probs_autograd);
  m.impl("apply_unitary", &apply_unitary_autograd);
}

}  // namespace hqrn
