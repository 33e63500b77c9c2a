// Test entry: fixes LibTorch's thread count (it starts with one here) so the
// parallel kernel paths are exercised.
#include <gtest/gtest.h>

#include "src/threads.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  hqrn::set_thread_count(2);
  return RUN_ALL_TESTS();
}
