#include "src/threads.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <thread>

namespace hqrn {

int set_thread_count(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(threads);
  return at::get_num_threads();
}

}  // namespace hqrn
