#include "torch_ext/memory.h"

#include <c10/util/Exception.h>
#include <c10/util/accumulate.h>

#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <list>
#include <mutex>
#include <string>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace hqrn {
namespace {

constexpr std::size_t kHugePage = std::size_t{2} << 20;

std::size_t pool_capacity() {
  const char* env = std::getenv("HQRN_BUFFER_POOL_MB");
  if (env == nullptr || *env == '\0') return std::size_t{1024} << 20;
  char* end = nullptr;
  const unsigned long long mb = std::strtoull(env, &end, 10);
  TORCH_CHECK(end != nullptr && *end == '\0', "HQRN_BUFFER_POOL_MB must be a whole number of MiB, got '", env, "'");
  return static_cast<std::size_t>(mb) << 20;
}

void* allocate_fresh(std::size_t bytes) {
  void* p = std::aligned_alloc(kHugePage, bytes);
  TORCH_CHECK(p != nullptr, "hqrn: out of memory allocating ", bytes, " bytes");
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  madvise(p, bytes, MADV_HUGEPAGE);
#if defined(MADV_POPULATE_WRITE)
  // Fault everything in now, in one call: faults taken inside a parallel
  // kernel contend for the page-table lock. Older kernels reject this advice.
  madvise(p, bytes, MADV_POPULATE_WRITE);
#endif
#endif
  return p;
}

// Buffers of dead tensors, most recently returned last. When the pool is
// over capacity the oldest go back to the system, so a run that moves on to
// other sizes does not keep stale ones. Never destroyed: tensors may die after
// static destructors have run.
class BufferPool {
 public:
  void* take(std::size_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (auto it = free_.rbegin(); it != free_.rend(); ++it) {
        if (it->bytes != bytes) continue;
        void* p = it->data;
        free_.erase(std::next(it).base());
        held_ -= bytes;
        return p;
      }
    }
    return allocate_fresh(bytes);
  }

  void give(void* p, std::size_t bytes) {
    std::vector<void*> released;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (bytes > capacity_) {
        released.push_back(p);
      } else {
        free_.push_back({bytes, p});
        held_ += bytes;
        while (held_ > capacity_) {
          released.push_back(free_.front().data);
          held_ -= free_.front().bytes;
          free_.pop_front();
        }
      }
    }
    for (void* q : released) std::free(q);
  }

 private:
  struct Buffer {
    std::size_t bytes;
    void* data;
  };
  std::mutex mutex_;
  std::list<Buffer> free_;
  std::size_t held_ = 0;
  const std::size_t capacity_ = pool_capacity();
};

BufferPool& pool() {
  static auto* instance = new BufferPool();
  return *instance;
}

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kPoolEnabled = false;  // keep use-after-free visible to AddressSanitizer
#else
constexpr bool kPoolEnabled = true;
#endif

}  // namespace

at::Tensor empty_large(at::IntArrayRef shape, const at::TensorOptions& options) {
  const auto bytes = static_cast<std::size_t>(c10::multiply_integers(shape)) * options.dtype().itemsize();
  if (!kPoolEnabled || bytes < kPooledBytes || !options.device().is_cpu()) return at::empty(shape, options);
  const std::size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  void* p = pool().take(rounded);
  return at::from_blob(p, shape, [rounded](void* q) { pool().give(q, rounded); }, options);
}

}  // namespace hqrn
