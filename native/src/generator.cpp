// Random number generators: explicit ones (dt_generator) and the devices' default ones.
#include "internal.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/detail/CUDAHooksInterface.h>

#include <mutex>

using namespace dit4j;

namespace {

// The generator a state call works on: g's own, else the default one of the device.
at::Generator target(dt_generator g, int32_t device_type, int32_t device_index) {
  if (g != nullptr) return g->g;
  const at::Device dev = device(device_type, device_index);
  if (dev.is_cpu()) return at::detail::getDefaultCPUGenerator();
  if (!has_cuda_libs()) throw std::runtime_error("this libtorch has no CUDA: there is no CUDA generator");
  return at::detail::getCUDAHooks().getDefaultGenerator(dev.index());
}

}  // namespace

extern "C" {

dt_generator dt_generator_new(uint64_t seed, int32_t device_type, int32_t device_index) {
  return guard<dt_generator>(nullptr, [&]() -> dt_generator {
    const at::Device dev = device(device_type, device_index);
    if (dev.is_cpu()) return new dt_generator_s{at::make_generator<at::CPUGeneratorImpl>(seed)};
    if (!has_cuda_libs()) throw std::runtime_error("this libtorch has no CUDA: cannot create a CUDA generator");
    at::Generator g = at::detail::getCUDAHooks().getNewGenerator(dev.index());
    {
      std::lock_guard<std::mutex> lock(g.mutex());
      g.set_current_seed(seed);
    }
    return new dt_generator_s{std::move(g)};
  });
}

void dt_generator_free(dt_generator g) {
  delete g;
}

int32_t dt_generator_set_seed(dt_generator g, uint64_t seed) {
  return guard_s([&] {
    if (g == nullptr) arg_error("argument 'g' is NULL (a generator is required)");
    std::lock_guard<std::mutex> lock(g->g.mutex());
    g->g.set_current_seed(seed);
    return 0;
  });
}

dt_tensor dt_generator_get_state(dt_generator g, int32_t device_type, int32_t device_index) {
  return guard_t([&] {
    at::Generator gen = target(g, device_type, device_index);
    at::Tensor state;
    {
      std::lock_guard<std::mutex> lock(gen.mutex());
      state = gen.get_state();
    }
    return make(std::move(state));
  });
}

int32_t dt_generator_set_state(dt_generator g, int32_t device_type, int32_t device_index, dt_tensor state) {
  return guard_s([&] {
    const at::Tensor& s = DT_ARG(state);
    if (s.scalar_type() != at::kByte || !s.device().is_cpu()) {
      arg_error("generator state must be a CPU uint8 tensor (from dt_generator_get_state)");
    }
    at::Generator gen = target(g, device_type, device_index);
    at::Tensor contiguous = s.contiguous();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(contiguous);
    return 0;
  });
}

}  // extern "C"
