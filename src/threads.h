// LibTorch starts with one intra-op thread here; HQRN sets the count
// explicitly (default: every core) so runs are fast and reproducible.
#pragma once

namespace hqrn {

// Sets LibTorch's intra-op thread count; threads <= 0 means all cores.
// Returns the count in effect.
int set_thread_count(int threads);

}  // namespace hqrn
