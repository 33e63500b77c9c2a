// Parallel loops with a fixed split, so that per-chunk partial sums reduce in
// the same order on every run with the same thread count (determinism).
#pragma once

#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdint>

namespace hqrn {

// Below about this many touched entries a parallel region costs more than it
// saves (thread wake-up, and spinning when the machine is oversubscribed).
constexpr int64_t kParallelMinWork = int64_t{1} << 15;

// Grain size for items that each touch `cost_per_item` entries.
inline int64_t grain_for(int64_t cost_per_item) {
  return std::max<int64_t>(1, kParallelMinWork / std::max<int64_t>(1, cost_per_item));
}

// Number of chunks for `work` items of which each chunk should hold at least `grain`.
inline int64_t chunk_count(int64_t work, int64_t grain) {
  const int64_t by_grain = std::max<int64_t>(1, (work + grain - 1) / grain);
  return std::max<int64_t>(1, std::min<int64_t>(at::get_num_threads(), by_grain));
}

// Calls body(chunk, begin, end) for `chunks` contiguous pieces of [0, work).
template <typename Body>
void for_each_chunk(int64_t work, int64_t chunks, const Body& body) {
  const int64_t size = (work + chunks - 1) / chunks;
  at::parallel_for(0, chunks, 1, [&](int64_t first, int64_t last) {
    for (int64_t chunk = first; chunk < last; ++chunk) {
      const int64_t begin = chunk * size;
      const int64_t end = std::min(work, begin + size);
      if (begin < end) body(chunk, begin, end);
    }
  });
}

}  // namespace hqrn
