// StepLayout's column runs (torch_ext/step_layout.h): the kernels walk a run
// of column pairs as consecutive memory with consecutive rotations, so a run
// that is too long would read the wrong entries, and one that is too short
// leaves the vectorised loops unused. Expected lengths are worked out by hand
// from the big-endian index (qubit 0 is the most significant bit).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "torch_ext/step_layout.h"

namespace hqrn {
namespace {

// Whether, inside every run of `l.column_run` column pairs, the column offsets
// and each group's control configurations grow by exactly one.
bool runs_are_consecutive(const StepLayout& l) {
  if (l.column_run < 1 || l.pairs % l.column_run != 0) return false;
  for (int64_t q = 0; q < l.pairs; ++q) {
    if (q % l.column_run == 0) continue;
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
}

TEST(StepLayout, DenseColumnRunsFollowTheTargetsBit) {
  // n = 4: columns y0 with the target's bit clear. Target 0 (bit 8): y0 =
  // 0..7, one run of 8. Target 1 (bit 4): 0..3, 8..11, runs of 4. Target 2:
  // runs of 2. Target 3 (bit 1): y0 = 0, 2, 4, ..., no run.
  const std::vector<int64_t> expected = {8, 4, 2, 1};
  for (int64_t target = 0; target < 4; ++target) {
    const auto l = dense_layout(4, target);
    EXPECT_EQ(l.column_run, expected[static_cast<size_t>(target)]) << "target " << target;
    EXPECT_TRUE(runs_are_consecutive(l)) << "target " << target;
  }
  EXPECT_EQ(dense_layout(1, 0).column_run, 1) << "one column pair";
}

TEST(StepLayout, AwareColumnRunsAreConsecutiveForEveryDiagonalSet) {
  // Every diagonal set D of 5 qubits and every target: the runs found hold
  // the property the kernels rely on, and coherent steps do find runs.
  const int64_t n = 5;
  int64_t longest = 1;
  for (int64_t set = 0; set < (int64_t{1} << n); ++set) {
    std::vector<int64_t> diagonal;
    for (int64_t q = 0; q < n; ++q) {
      if (set & (int64_t{1} << q)) diagonal.push_back(q);
    }
    for (int64_t target = 0; target < n; ++target) {
      const auto l = aware_layout(n, target, diagonal);
      EXPECT_TRUE(runs_are_consecutive(l)) << "D mask " << set << " target " << target;
      if (l.coherent) longest = std::max(longest, l.column_run);
    }
  }
  // D = {} and target 0 is the dense layout: one run of 2^(n-1) pairs.
  EXPECT_EQ(longest, int64_t{1} << (n - 1));
  EXPECT_EQ(aware_layout(n, 0, {}).column_run, int64_t{1} << (n - 1));
  // D = {0}, target 4 (the last coherent qubit): columns 0, 2, 4, ...: none.
  EXPECT_EQ(aware_layout(n, 4, {0}).column_run, 1);
}

}  // namespace
}  // namespace hqrn
