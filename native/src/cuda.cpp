// CUDA queries and controls. The shim needs no CUDA headers and no CUDA library at link time:
// it goes through libtorch's CUDA hooks, its device allocator and stream interfaces (all
// declared in the CPU headers and registered by libtorch_cuda when it is loaded), and (for
// device name and compute capability) the CUDA driver API, loaded with dlopen. So one shim
// built against the CPU libtorch serves the CUDA build of the same version: whether CUDA is
// there is asked at run time (has_cuda_libs), never fixed at compile time.
#include "internal.h"

#include <ATen/detail/CUDAHooksInterface.h>
#include <c10/core/CachingDeviceAllocator.h>
#include <c10/core/impl/DeviceGuardImplInterface.h>
#include <dlfcn.h>

#include <cstring>

using namespace dit4j;

namespace {

[[noreturn]] void no_cuda() {
  throw std::runtime_error("this libtorch has no CUDA (libtorch_cuda is not loaded: a CPU build of libtorch)");
}

}  // namespace

c10::DeviceIndex dit4j::cuda_device(int32_t device) {
  if (!has_cuda_libs()) no_cuda();
  const auto& hooks = at::detail::getCUDAHooks();
  const int n = hooks.getNumGPUs();
  if (n <= 0) arg_error("no CUDA device is available");
  if (device == -1) return hooks.current_device() < 0 ? 0 : hooks.current_device();
  if (device < 0 || device >= n) {
    arg_error("CUDA device " + std::to_string(device) + " does not exist (" + std::to_string(n) + " device(s))");
  }
  return static_cast<c10::DeviceIndex>(device);
}

namespace {

// The bits of the CUDA driver API we need (stable C ABI; CUdevice is an int).
struct Driver {
  int (*cuInit)(unsigned) = nullptr;
  int (*cuDeviceGet)(int*, int) = nullptr;
  int (*cuDeviceGetName)(char*, int, int) = nullptr;
  int (*cuDeviceGetAttribute)(int*, int, int) = nullptr;
  std::string error;
};

const Driver& driver() {
  static const Driver d = [] {
    Driver r;
    void* lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_GLOBAL);
    if (lib == nullptr) lib = dlopen("libcuda.so", RTLD_NOW | RTLD_GLOBAL);
    if (lib == nullptr) {
      const char* e = dlerror();
      r.error = std::string("cannot load the CUDA driver (libcuda.so.1): ") + (e ? e : "unknown error");
      return r;
    }
    r.cuInit = reinterpret_cast<int (*)(unsigned)>(dlsym(lib, "cuInit"));
    r.cuDeviceGet = reinterpret_cast<int (*)(int*, int)>(dlsym(lib, "cuDeviceGet"));
    r.cuDeviceGetName = reinterpret_cast<int (*)(char*, int, int)>(dlsym(lib, "cuDeviceGetName"));
    r.cuDeviceGetAttribute = reinterpret_cast<int (*)(int*, int, int)>(dlsym(lib, "cuDeviceGetAttribute"));
    if (!r.cuInit || !r.cuDeviceGet || !r.cuDeviceGetName || !r.cuDeviceGetAttribute) {
      r.error = "the CUDA driver library lacks cuInit/cuDeviceGet/cuDeviceGetName/cuDeviceGetAttribute";
    } else if (int rc = r.cuInit(0); rc != 0) {
      r.error = "cuInit failed with CUresult " + std::to_string(rc);
    }
    return r;
  }();
  if (!d.error.empty()) throw std::runtime_error(d.error);
  return d;
}

int driver_device(int32_t device) {
  const Driver& d = driver();
  int dev = 0;
  int rc = d.cuDeviceGet(&dev, cuda_device(device));
  if (rc != 0) throw std::runtime_error("cuDeviceGet(" + std::to_string(device) + ") failed with CUresult " + std::to_string(rc));
  return dev;
}

c10::DeviceAllocator* cuda_allocator() {
  if (!has_cuda_libs()) no_cuda();
  return c10::getDeviceAllocator(c10::DeviceType::CUDA);
}

}  // namespace

extern "C" {

int32_t dt_cuda_is_available(void) {
  return guard<int32_t>(0, [] { return at::detail::getCUDAHooks().hasCUDA() ? 1 : 0; });
}

int32_t dt_cuda_device_count(void) {
  return guard<int32_t>(0, [] { return static_cast<int32_t>(at::detail::getCUDAHooks().getNumGPUs()); });
}

int32_t dt_cudnn_is_available(void) {
  return guard<int32_t>(0, [] {
    const auto& hooks = at::detail::getCUDAHooks();
    return hooks.hasCUDA() && hooks.hasCuDNN() ? 1 : 0;
  });
}

int64_t dt_cudnn_version(void) {
  return guard<int64_t>(0, [] {
    const auto& hooks = at::detail::getCUDAHooks();
    if (!hooks.hasCuDNN()) return int64_t(0);
    return static_cast<int64_t>(hooks.versionRuntimeCuDNN());
  });
}

int32_t dt_cuda_device_name(int32_t device, char* buf, int32_t cap) {
  return guard_s([&]() -> int32_t {
    if (buf == nullptr || cap <= 0) arg_error("'buf' must be non-NULL with cap > 0");
    char name[256] = {0};
    int rc = driver().cuDeviceGetName(name, sizeof(name) - 1, driver_device(device));
    if (rc != 0) throw std::runtime_error("cuDeviceGetName failed with CUresult " + std::to_string(rc));
    std::strncpy(buf, name, static_cast<size_t>(cap) - 1);
    buf[cap - 1] = '\0';
    return 0;
  });
}

int32_t dt_cuda_device_capability(int32_t device, int32_t* out) {
  return guard_s([&]() -> int32_t {
    if (out == nullptr) arg_error("'out' is NULL (room for 2 values is required)");
    const int dev = driver_device(device);
    int major = 0, minor = 0;
    // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75, _MINOR = 76
    if (driver().cuDeviceGetAttribute(&major, 75, dev) != 0 || driver().cuDeviceGetAttribute(&minor, 76, dev) != 0) {
      throw std::runtime_error("cuDeviceGetAttribute(compute capability) failed");
    }
    out[0] = major;
    out[1] = minor;
    return 0;
  });
}

void* dt_cuda_current_stream(int32_t device) {
  return guard<void*>(nullptr, [&]() -> void* {
    const c10::Device dev(c10::DeviceType::CUDA, cuda_device(device));
    const auto* impl = c10::impl::getDeviceGuardImpl(c10::DeviceType::CUDA);
    return impl->getStreamNativeHandle(impl->getStream(dev));
  });
}

int32_t dt_cuda_synchronize(int32_t device) {
  return guard_s([&]() -> int32_t {
    at::detail::getCUDAHooks().deviceSynchronize(cuda_device(device));
    return 0;
  });
}

int32_t dt_cuda_memory_stats(int32_t device, int64_t* out) {
  return guard_s([&]() -> int32_t {
    if (out == nullptr) arg_error("'out' is NULL (room for 4 values is required)");
    const c10::DeviceIndex dev = cuda_device(device);
    auto* alloc = cuda_allocator();
    if (!alloc->initialized()) {  // nothing allocated on CUDA yet
      for (int i = 0; i < 4; i++) out[i] = 0;
      return 0;
    }
    const auto stats = alloc->getDeviceStats(dev);
    const auto agg = static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE);
    out[0] = stats.allocated_bytes[agg].current;
    out[1] = stats.allocated_bytes[agg].peak;
    out[2] = stats.reserved_bytes[agg].current;
    out[3] = stats.reserved_bytes[agg].peak;
    return 0;
  });
}

int32_t dt_cuda_reset_peak_memory_stats(int32_t device) {
  return guard_s([&]() -> int32_t {
    const c10::DeviceIndex dev = cuda_device(device);
    auto* alloc = cuda_allocator();
    if (alloc->initialized()) alloc->resetPeakStats(dev);
    return 0;
  });
}

int32_t dt_cuda_empty_cache(void) {
  return guard_s([&]() -> int32_t {
    auto* alloc = cuda_allocator();
    if (alloc->initialized()) alloc->emptyCache();
    return 0;
  });
}

}  // extern "C"
