// Shared internals of the dit4j shim: the handle types, argument checking, and the guard that
// keeps every C++ exception on this side of the C boundary.
#pragma once

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <c10/core/impl/DeviceGuardImplInterface.h>

#include <atomic>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

// The shim is compiled with -fvisibility=hidden; only the dt_* API declared here is exported.
#pragma GCC visibility push(default)
#include "dit4j.h"
#pragma GCC visibility pop

// A tensor handle: one heap-allocated at::Tensor (a reference to a TensorImpl). Several handles
// may refer to the same tensor (dt_tensor_share); each is freed exactly once.
struct dt_tensor_s {
  at::Tensor t;
};

struct dt_generator_s {
  at::Generator g;
};

namespace dit4j {

// Live dt_tensor handles (created by make, released by dt_tensor_free).
extern std::atomic<int64_t> live_tensors;

// Whether the loaded libtorch has CUDA: libtorch_cuda registers its device guard when it is
// loaded (before the shim, by dit4j's loader). Asked at run time so that one shim serves the CPU
// and the CUDA build of a libtorch version.
inline bool has_cuda_libs() {
  return c10::impl::hasDeviceGuardImpl(c10::DeviceType::CUDA);
}

// A CUDA device index for the CUDA calls: -1 = libtorch's current device; others must exist.
// Fails when libtorch has no CUDA or no such device.
c10::DeviceIndex cuda_device(int32_t device);

// Bad arguments detected by the shim itself (NULL handles, negative counts, unknown codes).
struct ArgumentError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
[[noreturn]] void arg_error(const std::string& msg);

// Records the exception being handled (call only inside a catch block) as this thread's last
// error, with its dt_error_kind. Never throws.
void record_current_exception() noexcept;
void set_error(int32_t kind, const char* msg) noexcept;

// Runs f, turning any exception into (recorded error, `fail`). Every entry point's body runs
// inside one of these.
template <class R, class F>
inline R guard(R fail, F&& f) noexcept {
  try {
    return f();
  } catch (...) {
    record_current_exception();
    return fail;
  }
}
// Handle-returning entry points: NULL on failure.
template <class F>
inline dt_tensor guard_t(F&& f) noexcept {
  return guard<dt_tensor>(nullptr, std::forward<F>(f));
}
// Status-returning entry points: -1 on failure.
template <class F>
inline int32_t guard_s(F&& f) noexcept {
  return guard<int32_t>(-1, std::forward<F>(f));
}

// A new handle owning a reference to t (t must be defined).
dt_tensor make(at::Tensor t);

// The tensor behind a required handle; NULL gives DT_ERR_ARGUMENT naming the argument.
inline const at::Tensor& arg(dt_tensor h, const char* name) {
  if (h == nullptr) arg_error(std::string("argument '") + name + "' is NULL (a tensor is required)");
  return h->t;
}
// An optional tensor argument: NULL = none.
inline std::optional<at::Tensor> opt(dt_tensor h) {
  if (h == nullptr || !h->t.defined()) return std::nullopt;
  return h->t;
}
// n handles from an array; all must be non-NULL.
std::vector<at::Tensor> tensor_list(const dt_tensor* hs, int32_t n, const char* name);

// Validated int64 array (sizes, dims, ...): n in [0, 64], p non-NULL when n > 0.
at::IntArrayRef int_array(const int64_t* p, int32_t n, const char* name);
// Exactly two values (h, w) for conv/pool parameters.
at::IntArrayRef pair(const int64_t* p, const char* name);
// Sizes for creation: like int_array, and every size >= 0.
at::IntArrayRef size_array(const int64_t* p, int32_t n, const char* name);
// 0 <= n <= max, else DT_ERR_ARGUMENT.
void check_count(int64_t n, const char* name, int64_t max = (int64_t(1) << 30));

at::ScalarType scalar_type(int32_t code);
at::Device device(int32_t type, int32_t index);
at::TensorOptions options(int32_t dtype, int32_t device_type, int32_t device_index);

// The generator to use: g's, or std::nullopt (the device's default) for NULL.
inline std::optional<at::Generator> gen(dt_generator g) {
  if (g == nullptr) return std::nullopt;
  return g->g;
}

// A Scalar for combining with t: an integer Scalar when t is integral (or bool) and v is a
// whole number, so that int_tensor + 1 stays integral as in Python; a double otherwise.
at::Scalar scalar_for(const at::Tensor& t, double v);

// self + value * a * b (ops_elementwise.cpp), differentiable with the backward of that unfused
// form: one multiplication per operand, where ATen's own addcmul backward takes two.
at::Tensor addcmul(const at::Tensor& self, const at::Tensor& a, const at::Tensor& b, double value = 1.0);

}  // namespace dit4j

#define DT_ARG(h) ::dit4j::arg(h, #h)
