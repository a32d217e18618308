// A caching allocator for CPU tensors, installed on the first dt_cpu_cache_set_limit.
//
// Why: glibc's malloc hands every block of 32 MiB or more to mmap and unmaps it on free (and
// trims a thread arena's heaps when they empty), so each large activation, a [1, 128, 256, 256]
// float map say, costs a zeroed-page fault for every 4 KiB page on its first write: about 10^5
// faults per 256 px decode of SD's autoencoder, a third of its time. Freed large blocks are kept
// here instead and handed to the next request they fit, whatever malloc's heuristics and whichever
// thread's arena; small blocks (under kMinCached) go straight to c10's allocation, which malloc
// serves from memory it already holds.
//
// A request takes the smallest kept block of at least its size if that wastes at most a quarter,
// of several such the last freed (reusing the oldest would cycle through every kept block of the
// size, each long gone from the CPU's caches); otherwise a fresh block, rounded up to kGranule so
// that near sizes share blocks. Kept bytes stay under the limit: a free that would pass it evicts
// the oldest kept blocks first. A fresh allocation that fails empties the cache and tries once
// more. Once installed the allocator stays (tensors hold its deleter); a limit of 0 empties it
// and makes it pass every block through.
#include "internal.h"

#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>

#include <list>
#include <map>
#include <mutex>
#include <unordered_map>

using namespace dit4j;

namespace {

constexpr size_t kMinCached = size_t{1} << 20;  // 1 MiB
constexpr size_t kGranule = size_t{1} << 16;    // 64 KiB

// Every DataPtr's context is its data pointer, as Allocator::raw_allocate requires (oneDNN's
// convolutions allocate through it); the sizes of large blocks in use are looked up by pointer.
class CachingCpuAllocator final : public c10::Allocator {
 public:
  c10::DataPtr allocate(size_t n) override {
    if (n < kMinCached) {
      void* p = c10::alloc_cpu(n);
      return {p, p, &c10::free_cpu, c10::Device(c10::kCPU)};
    }
    void* p = take(n);
    return {p, p, &release, c10::Device(c10::kCPU)};
  }

  c10::DeleterFnPtr raw_deleter() const override {
    return &release;
  }

  void copy_data(void* dest, const void* src, std::size_t count) const override {
    default_copy_data(dest, src, count);
  }

  void set_limit(size_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    limit_ = bytes;
    while (cached_ > limit_) evict_oldest();
  }

  void stats(int64_t* out) {
    std::lock_guard<std::mutex> lock(mu_);
    out[0] = static_cast<int64_t>(cached_);
    out[1] = static_cast<int64_t>(kept_.size());
    out[2] = hits_;
    out[3] = misses_;
    out[4] = static_cast<int64_t>(limit_);
  }

 private:
  struct Block {
    void* ptr;
    size_t size;
  };
  using Kept = std::list<Block>;  // oldest first

  void* take(size_t n) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = by_size_.lower_bound(n);
      if (it != by_size_.end() && it->first - n <= n / 4) {
        it = std::prev(by_size_.upper_bound(it->first));  // of that size, the last freed: still in the CPU's caches
        Block b = *it->second;
        kept_.erase(it->second);
        by_size_.erase(it);
        cached_ -= b.size;
        in_use_.emplace(b.ptr, b.size);
        hits_++;
        return b.ptr;
      }
      misses_++;
    }
    size_t size = (n + kGranule - 1) / kGranule * kGranule;
    void* p;
    try {
      p = c10::alloc_cpu(size);
    } catch (const c10::Error&) {
      empty();
      p = c10::alloc_cpu(size);
    }
    std::lock_guard<std::mutex> lock(mu_);
    in_use_.emplace(p, size);
    return p;
  }

  // Frees every kept block, the limit unchanged (out of memory: a fresh block comes first).
  void empty() {
    std::lock_guard<std::mutex> lock(mu_);
    while (!kept_.empty()) evict_oldest();
  }

  static void release(void* ptr);

  // A large block back from a tensor (kept while the limit allows), or a small one (freed).
  void give_back(void* ptr) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto used = in_use_.find(ptr);
      if (used != in_use_.end()) {
        Block b{ptr, used->second};
        in_use_.erase(used);
        if (b.size <= limit_) {
          while (cached_ + b.size > limit_) evict_oldest();
          kept_.push_back(b);
          by_size_.emplace(b.size, std::prev(kept_.end()));
          cached_ += b.size;
          return;
        }
      }
    }
    c10::free_cpu(ptr);
  }

  // Caller holds mu_; the cache is not empty.
  void evict_oldest() {
    Block b = kept_.front();
    auto range = by_size_.equal_range(b.size);
    for (auto it = range.first; it != range.second; ++it) {
      if (it->second == kept_.begin()) {
        by_size_.erase(it);
        break;
      }
    }
    kept_.pop_front();
    cached_ -= b.size;
    c10::free_cpu(b.ptr);
  }

  std::mutex mu_;
  Kept kept_;
  std::multimap<size_t, Kept::iterator> by_size_;
  std::unordered_map<void*, size_t> in_use_;  // large blocks held by tensors
  size_t cached_ = 0, limit_ = 0;
  int64_t hits_ = 0, misses_ = 0;
};

// Never destroyed: tensors freed during process exit still call back into it.
CachingCpuAllocator& instance() {
  static auto* a = new CachingCpuAllocator();
  return *a;
}

void CachingCpuAllocator::release(void* ptr) {
  instance().give_back(ptr);
}

}  // namespace

extern "C" {

int32_t dt_cpu_cache_set_limit(int64_t bytes) {
  return guard_s([&] {
    if (bytes < 0) arg_error("CPU cache limit must be >= 0 bytes, got " + std::to_string(bytes));
    static std::once_flag installed;
    if (bytes > 0) {
      // Priority 1 outranks libtorch's own CPU allocator (registered at 0).
      std::call_once(installed, [] { c10::SetCPUAllocator(&instance(), 1); });
    }
    instance().set_limit(static_cast<size_t>(bytes));
    return 0;
  });
}

int32_t dt_cpu_cache_stats(int64_t* out) {
  return guard_s([&] {
    if (out == nullptr) arg_error("argument 'out' is NULL");
    instance().stats(out);
    return 0;
  });
}

}  // extern "C"
