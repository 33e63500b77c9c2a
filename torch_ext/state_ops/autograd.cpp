// Autograd kernels of dephase, embed_ancillas, partial_trace and probs: the
// forward runs below the autograd key. Dephasing is a self-adjoint projection,
// so its backward is dephase itself, through the dispatcher, differentiable to
// any order. The others call their registered backward op, which is not
// itself differentiable, so they refuse double backward.
#include "torch_ext/autograd_function.h"
#include "torch_ext/autograd_kernels.h"
#include "torch_ext/qubit_index.h"
#include "torch_ext/state_ops/state_ops.h"

namespace hqrn {
namespace {

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
    const BackwardScope scope(grads, "embed_ancillas");
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
    const BackwardScope scope(grads, "partial_trace");
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
    const BackwardScope scope(grads, "probs");
    return {backward::probs(grads[0])};
  }
};

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

}  // namespace

void add_state_ops_autograd(AutogradKernels& out) {
  out.emplace_back("dephase", torch::CppFunction(&dephase_autograd));
  out.emplace_back("embed_ancillas", torch::CppFunction(&embed_ancillas_autograd));
  out.emplace_back("partial_trace", torch::CppFunction(&partial_trace_autograd));
  out.emplace_back("probs", torch::CppFunction(&probs_autograd));
}

}  // namespace hqrn
