// Counting what the device ran: libtorch's own (Kineto) profiler around a region of dt_* calls,
// summarised as the number of kernels, of copies/fills, and their summed device time. This is
// what torch.profiler reports for PyTorch code, so both sides of a benchmark count alike.
#include "internal.h"

#include <torch/csrc/autograd/profiler_kineto.h>

#include <set>

using namespace dit4j;

namespace {

namespace profiler = torch::autograd::profiler;
using torch::profiler::impl::ActivityType;
using torch::profiler::impl::ProfilerConfig;
using torch::profiler::impl::ProfilerState;

std::set<ActivityType> activities(bool cuda) {
  std::set<ActivityType> a{ActivityType::CPU};
  if (cuda) a.insert(ActivityType::CUDA);
  return a;
}

bool starts_with(const std::string& s, const char* prefix) {
  return s.rfind(prefix, 0) == 0;
}

}  // namespace

extern "C" {

int32_t dt_profiler_start(int32_t cuda) {
  return guard_s([&]() -> int32_t {
    if (torch::profiler::impl::profilerEnabled()) arg_error("the profiler is already running");
    if (cuda && !has_cuda_libs()) arg_error("cannot profile CUDA: this libtorch has no CUDA");
    const ProfilerConfig config(ProfilerState::KINETO);
    profiler::prepareProfiler(config, activities(cuda != 0));
    profiler::enableProfiler(config, activities(cuda != 0));
    return 0;
  });
}

int32_t dt_profiler_stop(int64_t* out) {
  return guard_s([&]() -> int32_t {
    if (out == nullptr) arg_error("'out' is NULL (room for 4 values is required)");
    if (!torch::profiler::impl::profilerEnabled()) arg_error("the profiler is not running");
    const auto result = profiler::disableProfiler();
    int64_t kernels = 0, copies = 0, device_ns = 0, cpu_ops = 0;
    for (const auto& e : result->events()) {
      if (e.deviceType() != c10::DeviceType::CUDA) {
        cpu_ops++;
        continue;
      }
      const std::string name = e.name();
      if (starts_with(name, "Memcpy") || starts_with(name, "Memset")) {
        copies++;
      } else {
        kernels++;
      }
      device_ns += static_cast<int64_t>(e.durationNs());
    }
    out[0] = kernels;
    out[1] = copies;
    out[2] = device_ns;
    out[3] = cpu_ops;
    return 0;
  });
}

}  // extern "C"
