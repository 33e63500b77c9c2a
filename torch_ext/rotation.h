// The single-qubit rotation of a residual step, R(theta, phi) =
// exp(-i theta/2 (cos(phi) Y + sin(phi) X)), and its derivatives. Forward and
// backward kernels take their coefficients from here only.
#pragma once

#include <c10/util/complex.h>

#include <cmath>
#include <utility>

namespace hqrn {

template <typename real_t>
struct Mat2 {
  using complex_t = c10::complex<real_t>;
  complex_t m00, m01, m10, m11;

  Mat2 operator*(const Mat2& o) const {
    return {m00 * o.m00 + m01 * o.m10, m00 * o.m01 + m01 * o.m11,
            m10 * o.m00 + m11 * o.m10, m10 * o.m01 + m11 * o.m11};
  }
  Mat2 adjoint() const {
    return {std::conj(m00), std::conj(m10), std::conj(m01), std::conj(m11)};
  }
  Mat2& operator+=(const Mat2& o) {
    m00 += o.m00; m01 += o.m01; m10 += o.m10; m11 += o.m11;
    return *this;
  }
  // Re tr(A X): the first-order change of a real loss when a factor A moves
  // along dA, once the rest of the chain is summed into X (LibTorch's
  // complex-gradient convention).
  real_t trace_real() const { return m00.real() + m11.real(); }
};

// R(theta, phi) = [[c, -e^{i phi} s], [e^{-i phi} s, c]], c = cos(theta/2),
// s = sin(theta/2), with dR/dtheta and dR/dphi.
template <typename real_t>
struct Rotation {
  using complex_t = c10::complex<real_t>;
  real_t c, s;
  complex_t e;  // e^{i phi}

  Rotation(real_t theta, real_t phi)
      : c(std::cos(theta / 2)), s(std::sin(theta / 2)), e(std::cos(phi), std::sin(phi)) {}

  Mat2<real_t> matrix() const { return {complex_t(c), -e * s, std::conj(e) * s, complex_t(c)}; }

  Mat2<real_t> d_theta() const {
    const real_t h = real_t(0.5);
    return {complex_t(-h * s), -e * (h * c), std::conj(e) * (h * c), complex_t(-h * s)};
  }

  Mat2<real_t> d_phi() const {
    const complex_t i(0, 1);
    return {complex_t(0), -i * e * s, -i * std::conj(e) * s, complex_t(0)};
  }

  // Diagonal of R M R^dagger for a block whose rows and columns share this
  // rotation. Written with |e^{i phi}|^2 = 1 exactly, so on diagonal inputs
  // (M01 = M10 = 0) the result does not depend on phi even in the last bit:
  // quantum-only weights cannot move outputs on classical inputs.
  std::pair<complex_t, complex_t> conjugated_diagonal(const Mat2<real_t>& m) const {
    const complex_t cross = std::conj(e) * (c * s) * m.m01 + e * (c * s) * m.m10;
    return {(c * c) * m.m00 - cross + (s * s) * m.m11, (s * s) * m.m00 + cross + (c * c) * m.m11};
  }

  // Bit-flip probability of the classical analog, sin^2(theta/2), and its
  // derivative sin(theta)/2.
  static real_t flip_probability(real_t theta) {
    const real_t s = std::sin(theta / 2);
    return s * s;
  }
  static real_t flip_probability_d_theta(real_t theta) { return std::sin(theta) / 2; }
};

}  // namespace hqrn
