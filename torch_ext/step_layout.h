// Where the 2x2 blocks of one residual step live in memory (docs/operators.md,
// "The coherence-aware layout" and "Kernels").
//
// For target j, a block pairs rows x0, x1 = x0 | e_j and columns y0, y1 that
// share one assignment of the diagonal qubits. Rows and columns run over the
// same `pairs` per group, and the rotation of pair p is R(ctrl[p]): the cidx
// of its rows. The same kernels then serve the dense layout [B, d, d] and the
// coherence-aware layout [B, 2^|D|, 2^m, 2^m]; only these tables differ.
// Host-only: the tables are built once per call (an op's prepare step) as
// std::vector; a device kernel would receive copies of them.
#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "qubit_index.h"

namespace hqrn {
// Internal linkage: each translation unit (the kernels, and the tests that
// include an op's prepare.h) keeps its own copy, so none interposes another.
namespace {

struct StepLayout {
  int64_t groups = 1, pairs = 0;
  int64_t in_size = 0, out_size = 0;  // entries per batch element
  // The input has the block's off-diagonal entries (the target is not yet diagonal).
  bool coherent = true;
  // Per group * pairs + p: control configuration and row offsets for bit 0/1.
  std::vector<int64_t> ctrl, in_row[2], out_row[2];
  // Per column pair q: column offset for bit 0/1.
  std::vector<int64_t> in_col[2], out_col[2];
  // Column pairs come in runs of this many (a power of two, or 1) along which
  // every column offset and the control configuration grow by one: the
  // kernels' vectorised loops walk a run as consecutive memory (set by
  // with_column_runs).
  int64_t column_run = 1;
};

// Sets l.column_run to the longest run of column pairs (a power of two
// dividing `pairs`) along which in_col, out_col and, in every group, ctrl
// all advance by exactly one.
inline StepLayout with_column_runs(StepLayout l) {
  const auto advances = [&](int64_t run) {
    for (int64_t q = 0; q < l.pairs; ++q) {
      if (q % run == 0) continue;
      for (int bit = 0; bit < 2; ++bit) {
        if (l.in_col[bit][q] != l.in_col[bit][q - 1] + 1 || l.out_col[bit][q] != l.out_col[bit][q - 1] + 1) {
          return false;
        }
      }
      for (int64_t g = 0; g < l.groups; ++g) {
        if (l.ctrl[g * l.pairs + q] != l.ctrl[g * l.pairs + q - 1] + 1) return false;
      }
    }
    return true;
  };
  l.column_run = 1;
  while (l.column_run * 2 <= l.pairs && l.pairs % (l.column_run * 2) == 0 && advances(l.column_run * 2)) {
    l.column_run *= 2;
  }
  return l;
}

// The dense layout: one group, rows = columns = basis indices; the output
// occupies the same places as the input.
inline StepLayout dense_layout(int64_t n, int64_t target) {
  StepLayout l;
  const int64_t d = int64_t{1} << n, mask = index::qubit_mask(n, target);
  l.pairs = d / 2;
  l.in_size = l.out_size = d * d;
  for (int64_t p = 0; p < l.pairs; ++p) {
    const int64_t x0 = index::insert_zero_bit(p, mask);
    l.ctrl.push_back(p);
    for (int bit = 0; bit < 2; ++bit) {
      const int64_t x = bit ? x0 | mask : x0;
      l.in_row[bit].push_back(x * d);
      l.in_col[bit].push_back(x);
    }
  }
  for (int bit = 0; bit < 2; ++bit) {
    l.out_row[bit] = l.in_row[bit];
    l.out_col[bit] = l.in_col[bit];
  }
  return with_column_runs(std::move(l));
}

// Position of qubit q in the ascending list `qubits` as a bit mask of an
// index over those qubits (the first listed is the most significant).
inline int64_t local_mask(const std::vector<int64_t>& qubits, int64_t q) {
  const auto k = static_cast<int64_t>(qubits.size());
  for (int64_t i = 0; i < k; ++i) {
    if (qubits[i] == q) return int64_t{1} << (k - 1 - i);
  }
  return 0;
}

// The coherence-aware layout for diagonal qubits `diagonal` (ascending) out
// of n. A target outside D splits every block (it joins D); a target in D
// mixes block a with block a ^ e_j, entry by entry.
inline StepLayout aware_layout(int64_t n, int64_t target, const std::vector<int64_t>& diagonal) {
  StepLayout l;
  const auto coherent_qubits = index::complement(n, diagonal);
  const auto mask_of = [n](const std::vector<int64_t>& qubits) {
    std::vector<int64_t> masks;
    for (auto q : qubits) masks.push_back(index::qubit_mask(n, q));
    return masks;
  };
  const auto d_masks = mask_of(diagonal), c_masks = mask_of(coherent_qubits);
  const int64_t a_count = int64_t{1} << diagonal.size(), m = int64_t{1} << coherent_qubits.size();
  const int64_t target_mask = index::qubit_mask(n, target);
  const auto cidx = [&](int64_t a, int64_t r) {
    return index::delete_bit(index::scatter_bits(a, d_masks) | index::scatter_bits(r, c_masks), target_mask);
  };
  l.in_size = a_count * m * m;
  l.coherent = local_mask(diagonal, target) == 0;
  if (l.coherent) {
    std::vector<int64_t> grown = diagonal;
    grown.push_back(target);
    std::sort(grown.begin(), grown.end());
    const int64_t t = local_mask(coherent_qubits, target), u = local_mask(grown, target);
    const int64_t m_out = m / 2;
    l.groups = a_count;
    l.pairs = m_out;
    l.out_size = l.in_size / 2;
    for (int64_t a = 0; a < a_count; ++a) {
      const int64_t a_out = index::insert_zero_bit(a, u);
      for (int64_t p = 0; p < m_out; ++p) {
        const int64_t r0 = index::insert_zero_bit(p, t);
        l.ctrl.push_back(cidx(a, r0));
        for (int bit = 0; bit < 2; ++bit) {
          l.in_row[bit].push_back((a * m + (bit ? r0 | t : r0)) * m);
          l.out_row[bit].push_back(((bit ? a_out | u : a_out) * m_out + p) * m_out);
        }
      }
    }
    for (int64_t q = 0; q < m_out; ++q) {
      const int64_t s0 = index::insert_zero_bit(q, t);
      for (int bit = 0; bit < 2; ++bit) {
        l.in_col[bit].push_back(bit ? s0 | t : s0);
        l.out_col[bit].push_back(q);
      }
    }
  } else {
    const int64_t u = local_mask(diagonal, target);
    l.groups = a_count / 2;
    l.pairs = m;
    l.out_size = l.in_size;
    for (int64_t g = 0; g < l.groups; ++g) {
      const int64_t a0 = index::insert_zero_bit(g, u);
      for (int64_t p = 0; p < m; ++p) {
        l.ctrl.push_back(cidx(a0, p));
        for (int bit = 0; bit < 2; ++bit) l.in_row[bit].push_back(((bit ? a0 | u : a0) * m + p) * m);
      }
    }
    for (int64_t q = 0; q < m; ++q) {
      for (int bit = 0; bit < 2; ++bit) l.in_col[bit].push_back(q);
    }
    for (int bit = 0; bit < 2; ++bit) {
      l.out_row[bit] = l.in_row[bit];
      l.out_col[bit] = l.in_col[bit];
    }
  }
  return with_column_runs(std::move(l));
}

}  // namespace
}  // namespace hqrn
