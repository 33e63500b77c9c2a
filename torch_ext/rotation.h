// The single-qubit rotation of a residual step, R(theta, phi) =
// exp(-i theta/2 (cos(phi) Y + sin(phi) X)), and its derivatives. Forward and
// backward kernels take their coefficients from here only.
//
// Everything here is arithmetic on scalars and is C10_HOST_DEVICE (empty for
// a host compiler), so a CUDA kernel can use it unchanged (nvcc needs
// --expt-relaxed-constexpr, as LibTorch's CUDA builds use, for std::pair and
// std::conj of c10::complex).
#pragma once

#include <c10/macros/Macros.h>
#include <c10/util/complex.h>

#include <cmath>
#include <utility>

namespace hqrn {
// External (vague) linkage on purpose, unlike qubit_index.h: only library
// translation units include this header (no test does, so no test copy can
// interpose), and internal linkage changes GCC's inlining of these templates
// in the step kernels, and with it which products -march=native contracts
// into FMAs: results would move in the last bit.

template <typename real_t>
struct Mat2 {
  using complex_t = c10::complex<real_t>;
  complex_t m00, m01, m10, m11;

  C10_HOST_DEVICE Mat2 operator*(const Mat2& o) const {
    return {m00 * o.m00 + m01 * o.m10, m00 * o.m01 + m01 * o.m11,
            m10 * o.m00 + m11 * o.m10, m10 * o.m01 + m11 * o.m11};
  }
  C10_HOST_DEVICE Mat2 adjoint() const {
    return {std::conj(m00), std::conj(m10), std::conj(m01), std::conj(m11)};
  }
  C10_HOST_DEVICE Mat2& operator+=(const Mat2& o) {
    m00 += o.m00; m01 += o.m01; m10 += o.m10; m11 += o.m11;
    return *this;
  }
  // Re tr(A X): the first-order change of a real loss when a factor A moves
  // along dA, once the rest of the chain is summed into X (LibTorch's
  // complex-gradient convention).
  C10_HOST_DEVICE real_t trace_real() const { return m00.real() + m11.real(); }
};

// R(theta, phi) = [[c, -u], [conj(u), c]] with c = cos(theta/2),
// s = sin(theta/2), u = e^{i phi} s; with dR/dtheta and dR/dphi.
template <typename real_t>
struct Rotation {
  using complex_t = c10::complex<real_t>;
  real_t c, s;
  complex_t e;  // e^{i phi}
  complex_t u;  // e^{i phi} sin(theta/2)

  C10_HOST_DEVICE Rotation(real_t theta, real_t phi)
      : c(std::cos(theta / 2)), s(std::sin(theta / 2)), e(std::cos(phi), std::sin(phi)), u(e * s) {}

  C10_HOST_DEVICE Mat2<real_t> matrix() const { return {complex_t(c), -u, std::conj(u), complex_t(c)}; }

  C10_HOST_DEVICE Mat2<real_t> d_theta() const {
    const real_t h = real_t(0.5);
    return {complex_t(-h * s), -e * (h * c), std::conj(e) * (h * c), complex_t(-h * s)};
  }

  C10_HOST_DEVICE Mat2<real_t> d_phi() const {
    const complex_t i(0, 1);
    return {complex_t(0), -i * u, -i * std::conj(u), complex_t(0)};
  }

  // Bit-flip probability of the classical analog, sin^2(theta/2), and its
  // derivative sin(theta)/2.
  C10_HOST_DEVICE static real_t flip_probability(real_t theta) {
    const real_t s = std::sin(theta / 2);
    return s * s;
  }
  C10_HOST_DEVICE static real_t flip_probability_d_theta(real_t theta) { return std::sin(theta) / 2; }
};

// ---- The measured block (docs/operators.md, "Kernels"): of R_x M R_y^dagger
// only the diagonal survives the measurement of the target. It is bilinear in the
// rows' factors (c_x, u_x) and the columns' (c_y, u_y), which is what the
// forward and backward below are written in.

// u_x conj(u_y); exactly s^2 when rows and columns share the rotation, so
// that on diagonal inputs phi cannot move the result even in the last bit
// (quantum-only weights leave classical predictions unchanged).
template <typename real_t>
C10_HOST_DEVICE c10::complex<real_t> cross_factor(const Rotation<real_t>& x, const Rotation<real_t>& y,
                                                  bool shared) {
  return shared ? c10::complex<real_t>(x.s * x.s) : x.u * std::conj(y.u);
}

// diag(R_x M R_y^dagger). Without coherence (the target already diagonal)
// M's off-diagonal entries are zero and skipped.
template <bool coherent, typename real_t>
C10_HOST_DEVICE std::pair<c10::complex<real_t>, c10::complex<real_t>> measured_block(const Rotation<real_t>& x,
                                                                                     const Rotation<real_t>& y,
                                                                                     bool shared,
                                                                                     const Mat2<real_t>& m) {
  const real_t cc = x.c * y.c;
  const auto w = cross_factor(x, y, shared);
  if constexpr (!coherent) return {cc * m.m00 + w * m.m11, std::conj(w) * m.m00 + cc * m.m11};
  return {cc * m.m00 - x.c * (std::conj(y.u) * m.m01) - y.c * (x.u * m.m10) + w * m.m11,
          std::conj(w) * m.m00 + y.c * (std::conj(x.u) * m.m01) + x.c * (y.u * m.m10) + cc * m.m11};
}

// R_x^dagger diag(g0, g1) R_y: the gradient of a measured block's input.
template <typename real_t>
C10_HOST_DEVICE Mat2<real_t> measured_block_input_grad(const Rotation<real_t>& x, const Rotation<real_t>& y,
                                                       bool shared, c10::complex<real_t> g0, c10::complex<real_t> g1) {
  const real_t cc = x.c * y.c;
  const auto w = cross_factor(x, y, shared);
  return {cc * g0 + w * g1, y.c * (x.u * g1) - x.c * (y.u * g0), x.c * (std::conj(y.u) * g1) - y.c * (std::conj(x.u) * g0),
          std::conj(w) * g0 + cc * g1};
}

// Gradient of a real loss with respect to one rotation's factors: dL/dc, and
// K with dL/dRe(u) + i dL/dIm(u) = conj(K).
template <typename real_t>
struct FactorGrad {
  real_t c = 0;
  c10::complex<real_t> k{};
  C10_HOST_DEVICE FactorGrad& operator+=(const FactorGrad& o) {
    c += o.c;
    k += o.k;
    return *this;
  }
};

// Adds a measured block's contribution (incoming gradient diag(g0, g1)) to
// its rows' rotation and to its columns' rotation, through t = M R_y^dagger
// (out00 = c_x t00 - u_x t10, out11 = conj(u_x) t01 + c_x t11) and
// s = R_x M (out00 = c_y s00 - conj(u_y) s01, out11 = u_y s10 + c_y s11).
template <bool coherent, typename real_t>
C10_HOST_DEVICE void add_measured_block_factor_grads(const Rotation<real_t>& x, const Rotation<real_t>& y,
                                                     const Mat2<real_t>& m, c10::complex<real_t> g0,
                                                     c10::complex<real_t> g1, FactorGrad<real_t>& row,
                                                     FactorGrad<real_t>& col) {
  auto t00 = y.c * m.m00, t10 = -(std::conj(y.u) * m.m11), t01 = y.u * m.m00, t11 = y.c * m.m11;
  auto s00 = x.c * m.m00, s01 = -(x.u * m.m11), s10 = std::conj(x.u) * m.m00, s11 = x.c * m.m11;
  if constexpr (coherent) {
    t00 -= std::conj(y.u) * m.m01;
    t10 += y.c * m.m10;
    t01 += y.c * m.m01;
    t11 += y.u * m.m10;
    s00 -= x.u * m.m10;
    s01 += x.c * m.m01;
    s10 += x.c * m.m10;
    s11 += std::conj(x.u) * m.m01;
  }
  const auto g0c = std::conj(g0), g1c = std::conj(g1);
  row.c += (g0c * t00 + g1c * t11).real();
  row.k += g1 * std::conj(t01) - g0c * t10;
  col.c += (g0c * s00 + g1c * s11).real();
  col.k += g1c * s10 - g0 * std::conj(s01);
}

// dL/dtheta and dL/dphi of a rotation from its factor gradient
// (dc/dtheta = -s/2, du/dtheta = e c/2, du/dphi = i u).
template <typename real_t>
C10_HOST_DEVICE std::pair<real_t, real_t> angle_gradients(const Rotation<real_t>& r, const FactorGrad<real_t>& g) {
  const auto ke = g.k * r.e;
  return {-g.c * r.s / 2 + ke.real() * r.c / 2, -ke.imag() * r.s};
}

// The same from the summed 2x2 products P of an unmeasured step (see the
// qrb_step backward): Re tr(dR P).
template <typename real_t>
C10_HOST_DEVICE std::pair<real_t, real_t> angle_gradients(const Rotation<real_t>& r, const Mat2<real_t>& p) {
  return {(r.d_theta() * p).trace_real(), (r.d_phi() * p).trace_real()};
}

}  // namespace hqrn
