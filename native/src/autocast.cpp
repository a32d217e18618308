// Autocast (automatic mixed precision), per thread as torch.autocast does it.
#include "internal.h"

#include <ATen/autocast_mode.h>

using namespace dit4j;

namespace {

at::DeviceType autocast_device(int32_t device_type) {
  return device(device_type, -1).type();
}

}  // namespace

extern "C" {

int32_t dt_autocast_enter(int32_t device_type, int32_t dtype, int32_t enabled) {
  return guard_s([&] {
    const at::DeviceType type = autocast_device(device_type);
    const bool previous = at::autocast::is_autocast_enabled(type);
    if (enabled != 0) {
      const at::ScalarType target = scalar_type(dtype);
      if (target != at::kBFloat16 && target != at::kHalf) {
        arg_error(std::string("autocast dtype must be bfloat16 or float16, got ") + c10::toString(target));
      }
      at::autocast::set_autocast_dtype(type, target);
    }
    at::autocast::set_autocast_enabled(type, enabled != 0);
    at::autocast::increment_nesting();
    return previous ? 1 : 0;
  });
}

// The weight-cast cache lives as long as the outermost region, as in torch.autocast.__exit__.
int32_t dt_autocast_exit(int32_t device_type, int32_t previous_enabled, int32_t previous_dtype) {
  return guard_s([&] {
    const at::DeviceType type = autocast_device(device_type);
    const at::ScalarType restored = scalar_type(previous_dtype);
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    at::autocast::set_autocast_enabled(type, previous_enabled != 0);
    at::autocast::set_autocast_dtype(type, restored);
    return 0;
  });
}

int32_t dt_autocast_is_enabled(int32_t device_type) {
  return guard_s([&] { return at::autocast::is_autocast_enabled(autocast_device(device_type)) ? 1 : 0; });
}

int32_t dt_autocast_dtype(int32_t device_type) {
  return guard_s([&] { return static_cast<int32_t>(at::autocast::get_autocast_dtype(autocast_device(device_type))); });
}

}  // extern "C"
