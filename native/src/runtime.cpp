// Runtime information (versions, configuration), threads and global seeding.
#include "internal.h"

#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <torch/version.h>

#include <mutex>

using namespace dit4j;

extern "C" {

const char* dt_torch_version(void) {
#ifdef TORCH_VERSION
  return TORCH_VERSION;
#else
#define DIT4J_STR2(x) #x
#define DIT4J_STR(x) DIT4J_STR2(x)
  return DIT4J_STR(TORCH_VERSION_MAJOR) "." DIT4J_STR(TORCH_VERSION_MINOR) "." DIT4J_STR(TORCH_VERSION_PATCH);
#endif
}

int32_t dt_built_with_cuda(void) {
  return has_cuda_libs() ? 1 : 0;
}

const char* dt_torch_config(void) {
  static const std::string config = [] {
    try {
      return at::show_config();
    } catch (...) {
      return std::string("(at::show_config() failed)");
    }
  }();
  return config.c_str();
}

int32_t dt_set_num_threads(int32_t n) {
  return guard_s([&] {
    if (n <= 0 || n > 4096) arg_error("number of threads must be in [1, 4096], got " + std::to_string(n));
    at::set_num_threads(n);
    return 0;
  });
}

int32_t dt_get_num_threads(void) {
  return guard_s([&] { return static_cast<int32_t>(at::get_num_threads()); });
}

int32_t dt_manual_seed(uint64_t seed) {
  return guard_s([&] {
    {
      auto g = at::detail::getDefaultCPUGenerator();
      std::lock_guard<std::mutex> lock(g.mutex());
      g.set_current_seed(seed);
    }
    const auto& hooks = at::detail::getCUDAHooks();
    const int n = hooks.getNumGPUs();
    for (int i = 0; i < n; i++) {
      auto g = hooks.getDefaultGenerator(static_cast<c10::DeviceIndex>(i));
      std::lock_guard<std::mutex> lock(g.mutex());
      g.set_current_seed(seed);
    }
    return 0;
  });
}

}  // extern "C"
