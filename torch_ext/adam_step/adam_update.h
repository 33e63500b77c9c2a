// The element loop of Adam, shared by the operator hqrn::adam_step_ (the
// Python package's hqrn.optim.Adam) and hqrn::FusedAdam (the C++ trainer).
// Plain C++ apart from LibTorch so that it builds with its own flags (no errno
// from sqrt, so the loop vectorises) and is cloned per instruction set
// (AVX-512, AVX2, baseline), the widest this CPU has picked when it loads.
#pragma once

#include <cstddef>
#include <cstdint>

namespace hqrn {

// The update of torch::optim::Adam (amsgrad off, no weight decay), element by
// element: m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2,
// p -= step_size * m / (sqrt(v) / bias_correction2_sqrt + eps).
// The four arrays must not overlap.
struct AdamCoefficients {
  double beta1, beta2, eps, step_size, bias_correction2_sqrt;
};
void adam_update(double* p, const double* g, double* m, double* v, int64_t n, const AdamCoefficients& c);
void adam_update(float* p, const float* g, float* m, float* v, int64_t n, const AdamCoefficients& c);

// One parameter's arrays and coefficients.
template <typename real_t>
struct AdamSpan {
  real_t* p;
  const real_t* g;
  real_t* m;
  real_t* v;
  int64_t n;
  AdamCoefficients c;
};

// adam_update on every span, their elements split evenly over the OpenMP
// threads (LibTorch's, so at::set_num_threads applies) when there are enough
// of them. Each element's update is independent: the result does not depend
// on the split.
void adam_update_all(const AdamSpan<double>* spans, size_t count);
void adam_update_all(const AdamSpan<float>* spans, size_t count);

}  // namespace hqrn
