// Wall-clock helpers for progress lines and summaries (steady clock).
#pragma once

#include <chrono>

namespace hqrn {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace hqrn
