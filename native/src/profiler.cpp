// Counting what the device ran: libtorch's own (Kineto) profiler around a region of dt_* calls,
// summarised as the number of kernels, of copies/fills, and their summed device time. This is
// what torch.profiler reports for PyTorch code, so both sides of a benchmark count alike.
#include "internal.h"

#include <torch/csrc/autograd/profiler_kineto.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <sstream>
#include <vector>

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

// ATen operators that no other ATen operator called: on each thread, an aten:: event that starts
// after the enclosing top-level one has ended (nested calls lie inside their caller's interval).
// torch.profiler's cpu_parent links come from the same containment, so its events with no aten::
// ancestor are these.
int64_t top_level_aten_ops(const std::vector<profiler::KinetoEvent>& events) {
  std::map<uint64_t, std::vector<std::pair<uint64_t, uint64_t>>> by_thread;  // start, end
  for (const auto& e : events) {
    if (e.deviceType() == c10::DeviceType::CUDA || !starts_with(e.name(), "aten::")) continue;
    by_thread[e.startThreadId()].emplace_back(e.startNs(), e.endNs());
  }
  int64_t count = 0;
  for (auto& [thread, spans] : by_thread) {
    // Callers first: by start, the longer span first where two start together.
    std::sort(spans.begin(), spans.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first < b.first : a.second > b.second;
    });
    uint64_t open_until = 0;
    bool open = false;
    for (const auto& [start, end] : spans) {
      if (open && start < open_until) continue;
      count++;
      open = true;
      open_until = end;
    }
  }
  return count;
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

int32_t dt_profiler_stop(int64_t* out, char* top, int32_t cap, int32_t n_top) {
  return guard_s([&]() -> int32_t {
    if (out == nullptr) arg_error("'out' is NULL (room for 6 values is required)");
    if (top != nullptr && cap <= 0) arg_error("'cap' must be > 0 when 'top' is given");
    if (!torch::profiler::impl::profilerEnabled()) arg_error("the profiler is not running");
    const auto result = profiler::disableProfiler();
    int64_t kernels = 0, copies = 0, device_ns = 0, cpu_ops = 0, aten_ops = 0;
    std::map<std::string, std::pair<int64_t, int64_t>> by_name;  // device ns, calls
    for (const auto& e : result->events()) {
      if (e.deviceType() != c10::DeviceType::CUDA) {
        cpu_ops++;
        if (starts_with(e.name(), "aten::")) aten_ops++;
        continue;
      }
      const std::string name = e.name();
      if (starts_with(name, "Memcpy") || starts_with(name, "Memset")) {
        copies++;
      } else {
        kernels++;
      }
      const auto ns = static_cast<int64_t>(e.durationNs());
      device_ns += ns;
      auto& entry = by_name[name];
      entry.first += ns;
      entry.second++;
    }
    out[0] = kernels;
    out[1] = copies;
    out[2] = device_ns;
    out[3] = cpu_ops;
    out[4] = aten_ops;
    out[5] = top_level_aten_ops(result->events());
    if (top != nullptr) {
      // The n_top names by summed device time: "ms<TAB>calls<TAB>name" lines.
      std::vector<std::pair<std::string, std::pair<int64_t, int64_t>>> rows(by_name.begin(), by_name.end());
      std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second.first > b.second.first; });
      std::ostringstream table;
      for (size_t i = 0; i < rows.size() && static_cast<int64_t>(i) < n_top; i++) {
        table << rows[i].second.first / 1e6 << '\t' << rows[i].second.second << '\t' << rows[i].first << '\n';
      }
      const std::string text = table.str();
      std::strncpy(top, text.c_str(), static_cast<size_t>(cap) - 1);
      top[cap - 1] = '\0';
    }
    return 0;
  });
}

}  // extern "C"
