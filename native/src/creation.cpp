// Tensor creation: constant and range factories, random factories and initialisers, and
// zero-copy tensors over caller memory.
#include "internal.h"

#include <cmath>
#include <memory>

using namespace dit4j;

extern "C" {

dt_tensor dt_empty(const int64_t* sizes, int32_t ndim, int32_t dtype, int32_t device_type, int32_t device_index) {
  return guard_t([&] { return make(at::empty(size_array(sizes, ndim, "sizes"), options(dtype, device_type, device_index))); });
}

dt_tensor dt_zeros(const int64_t* sizes, int32_t ndim, int32_t dtype, int32_t device_type, int32_t device_index) {
  return guard_t([&] { return make(at::zeros(size_array(sizes, ndim, "sizes"), options(dtype, device_type, device_index))); });
}

dt_tensor dt_ones(const int64_t* sizes, int32_t ndim, int32_t dtype, int32_t device_type, int32_t device_index) {
  return guard_t([&] { return make(at::ones(size_array(sizes, ndim, "sizes"), options(dtype, device_type, device_index))); });
}

dt_tensor dt_full(const int64_t* sizes, int32_t ndim, double value, int32_t dtype, int32_t device_type,
                  int32_t device_index) {
  return guard_t([&] {
    return make(at::full(size_array(sizes, ndim, "sizes"), value, options(dtype, device_type, device_index)));
  });
}

dt_tensor dt_arange(double start, double end, double step, int32_t dtype, int32_t device_type, int32_t device_index) {
  return guard_t([&] { return make(at::arange(start, end, step, options(dtype, device_type, device_index))); });
}

dt_tensor dt_linspace(double start, double end, int64_t steps, int32_t dtype, int32_t device_type, int32_t device_index) {
  return guard_t([&] {
    check_count(steps, "steps", int64_t(1) << 40);
    return make(at::linspace(start, end, steps, options(dtype, device_type, device_index)));
  });
}

dt_tensor dt_randn(const int64_t* sizes, int32_t ndim, int32_t dtype, int32_t device_type, int32_t device_index,
                   dt_generator g) {
  return guard_t([&] {
    return make(at::randn(size_array(sizes, ndim, "sizes"), gen(g), options(dtype, device_type, device_index)));
  });
}

dt_tensor dt_rand(const int64_t* sizes, int32_t ndim, int32_t dtype, int32_t device_type, int32_t device_index,
                  dt_generator g) {
  return guard_t([&] {
    return make(at::rand(size_array(sizes, ndim, "sizes"), gen(g), options(dtype, device_type, device_index)));
  });
}

dt_tensor dt_randint(int64_t low, int64_t high, const int64_t* sizes, int32_t ndim, int32_t dtype, int32_t device_type,
                     int32_t device_index, dt_generator g) {
  return guard_t([&] {
    return make(at::randint(low, high, size_array(sizes, ndim, "sizes"), gen(g), options(dtype, device_type, device_index)));
  });
}

dt_tensor dt_randperm(int64_t n, int32_t device_type, int32_t device_index, dt_generator g) {
  return guard_t([&] {
    check_count(n, "n", int64_t(1) << 40);
    return make(at::randperm(n, gen(g), options(DT_DTYPE_INT64, device_type, device_index)));
  });
}

int32_t dt_normal_(dt_tensor t, double mean, double std, dt_generator g) {
  return guard_s([&] {
    DT_ARG(t).normal_(mean, std, gen(g));
    return 0;
  });
}

int32_t dt_uniform_(dt_tensor t, double low, double high, dt_generator g) {
  return guard_s([&] {
    DT_ARG(t).uniform_(low, high, gen(g));
    return 0;
  });
}

int32_t dt_bernoulli_(dt_tensor t, double p, dt_generator g) {
  return guard_s([&] {
    DT_ARG(t).bernoulli_(p, gen(g));
    return 0;
  });
}

// torch.nn.init.trunc_normal_: inverse-CDF sampling of N(mean, std) restricted to [a, b].
int32_t dt_trunc_normal_(dt_tensor t, double mean, double std, double a, double b, dt_generator g) {
  return guard_s([&] {
    const at::Tensor& x = DT_ARG(t);
    if (!(std > 0)) arg_error("trunc_normal_: std must be > 0, got " + std::to_string(std));
    if (!(a < b)) arg_error("trunc_normal_: need a < b, got [" + std::to_string(a) + ", " + std::to_string(b) + "]");
    auto norm_cdf = [](double v) { return (1.0 + std::erf(v / std::sqrt(2.0))) / 2.0; };
    const double l = norm_cdf((a - mean) / std);
    const double u = norm_cdf((b - mean) / std);
    at::NoGradGuard no_grad;
    x.uniform_(2 * l - 1, 2 * u - 1, gen(g));
    x.erfinv_();
    x.mul_(std * std::sqrt(2.0));
    x.add_(mean);
    x.clamp_(a, b);
    return 0;
  });
}

// A CPU tensor over caller memory. On success, on_free(ctx) runs exactly once when libtorch
// releases the memory; if this call fails, on_free is never called (the caller still owns
// the memory).
dt_tensor dt_from_blob(void* data, const int64_t* sizes, const int64_t* strides, int32_t ndim, int32_t dtype,
                       void (*on_free)(int64_t ctx), int64_t ctx) {
  return guard_t([&] {
    const at::IntArrayRef shape = size_array(sizes, ndim, "sizes");
    at::OptionalIntArrayRef stride;
    if (strides != nullptr) stride = int_array(strides, ndim, "strides");
    const at::TensorOptions opts = at::TensorOptions().dtype(scalar_type(dtype)).device(at::kCPU);
    int64_t numel = 1;
    for (int64_t s : shape) {
      if (__builtin_mul_overflow(numel, s, &numel)) arg_error("the sizes overflow int64 (too many elements)");
    }
    if (data == nullptr && numel > 0) arg_error("'data' is NULL for a tensor of " + std::to_string(numel) + " elements");

    if (on_free == nullptr) {
      return make(at::for_blob(data, shape).strides(stride).options(opts).make_tensor());
    }
    struct Release {
      void (*on_free)(int64_t);
      int64_t ctx;
      std::atomic<bool> armed{false};
    };
    auto release = std::make_shared<Release>();
    release->on_free = on_free;
    release->ctx = ctx;
    at::Tensor t = at::for_blob(data, shape)
                       .strides(stride)
                       .options(opts)
                       .deleter([release](void*) {
                         if (release->armed.load()) release->on_free(release->ctx);
                       })
                       .make_tensor();
    dt_tensor h = make(std::move(t));
    release->armed.store(true);
    return h;
  });
}

}  // extern "C"
