// Errors (thread-local last error, exception classification) and the shared argument helpers.
#include "internal.h"

#include <new>

namespace {
thread_local std::string last_message;
thread_local int32_t last_kind = DT_ERR_NONE;
}  // namespace

namespace dit4j {

std::atomic<int64_t> live_tensors{0};

void set_error(int32_t kind, const char* msg) noexcept {
  try {
    last_message = (msg != nullptr && *msg != '\0') ? msg : "unknown error";
  } catch (...) {
    last_message.clear();  // out of memory while copying the message; keep the kind at least
  }
  last_kind = kind;
}

void arg_error(const std::string& msg) {
  throw ArgumentError(msg);
}

void record_current_exception() noexcept {
  try {
    throw;
  } catch (const ArgumentError& e) {
    set_error(DT_ERR_ARGUMENT, e.what());
  } catch (const c10::IndexError& e) {
    set_error(DT_ERR_INDEX, e.what_without_backtrace());
  } catch (const c10::ValueError& e) {
    set_error(DT_ERR_VALUE, e.what_without_backtrace());
  } catch (const c10::TypeError& e) {
    set_error(DT_ERR_TYPE, e.what_without_backtrace());
  } catch (const c10::NotImplementedError& e) {
    set_error(DT_ERR_NOT_IMPLEMENTED, e.what_without_backtrace());
  } catch (const c10::OutOfMemoryError& e) {
    set_error(DT_ERR_OUT_OF_MEMORY, e.what_without_backtrace());
  } catch (const c10::Error& e) {
    set_error(DT_ERR_TORCH, e.what_without_backtrace());
  } catch (const std::bad_alloc& e) {
    set_error(DT_ERR_OUT_OF_MEMORY, e.what());
  } catch (const std::exception& e) {
    set_error(DT_ERR_STD, e.what());
  } catch (...) {
    set_error(DT_ERR_UNKNOWN, "unknown C++ exception in libtorch");
  }
}

dt_tensor make(at::Tensor t) {
  if (!t.defined()) throw std::logic_error("dit4j internal error: result tensor is undefined");
  auto* h = new dt_tensor_s{std::move(t)};
  live_tensors.fetch_add(1, std::memory_order_relaxed);
  return h;
}

void check_count(int64_t n, const char* name, int64_t max) {
  if (n < 0) arg_error(std::string("'") + name + "' must be >= 0, got " + std::to_string(n));
  if (n > max) arg_error(std::string("'") + name + "' is too large: " + std::to_string(n));
}

at::IntArrayRef int_array(const int64_t* p, int32_t n, const char* name) {
  if (n < 0 || n > 64) {
    arg_error(std::string("length of '") + name + "' must be in [0, 64], got " + std::to_string(n));
  }
  if (n == 0) return {};
  if (p == nullptr) arg_error(std::string("'") + name + "' is NULL but its length is " + std::to_string(n));
  return at::IntArrayRef(p, static_cast<size_t>(n));
}

at::IntArrayRef pair(const int64_t* p, const char* name) {
  if (p == nullptr) arg_error(std::string("'") + name + "' is NULL (two values (h, w) are required)");
  return at::IntArrayRef(p, 2);
}

at::IntArrayRef size_array(const int64_t* p, int32_t n, const char* name) {
  at::IntArrayRef sizes = int_array(p, n, name);
  for (size_t i = 0; i < sizes.size(); i++) {
    if (sizes[i] < 0) {
      arg_error(std::string("'") + name + "' has a negative size " + std::to_string(sizes[i]) + " at dimension " +
                std::to_string(i));
    }
  }
  return sizes;
}

std::vector<at::Tensor> tensor_list(const dt_tensor* hs, int32_t n, const char* name) {
  check_count(n, name, 1 << 24);
  std::vector<at::Tensor> out;
  if (n == 0) return out;
  if (hs == nullptr) arg_error(std::string("'") + name + "' is NULL but its length is " + std::to_string(n));
  out.reserve(static_cast<size_t>(n));
  for (int32_t i = 0; i < n; i++) {
    if (hs[i] == nullptr) arg_error(std::string("'") + name + "[" + std::to_string(i) + "]' is NULL");
    out.push_back(hs[i]->t);
  }
  return out;
}

at::ScalarType scalar_type(int32_t code) {
  if (code < 0 || code >= static_cast<int32_t>(at::ScalarType::NumOptions) ||
      code == static_cast<int32_t>(at::ScalarType::Undefined)) {
    arg_error("unknown dtype code " + std::to_string(code) +
              " (expected a c10::ScalarType value, e.g. 6 = float32, 15 = bfloat16)");
  }
  return static_cast<at::ScalarType>(code);
}

at::Device device(int32_t type, int32_t index) {
  if (index < -1 || index > 127) arg_error("device index must be -1 (default) or in [0, 127], got " + std::to_string(index));
  switch (type) {
    case DT_DEVICE_CPU:
      if (index > 0) arg_error("CPU device index must be -1 or 0, got " + std::to_string(index));
      return at::Device(at::kCPU);
    case DT_DEVICE_CUDA:
      return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(index));
    default:
      arg_error("unsupported device type " + std::to_string(type) + " (0 = CPU, 1 = CUDA)");
  }
}

at::TensorOptions options(int32_t dtype, int32_t device_type, int32_t device_index) {
  return at::TensorOptions().dtype(scalar_type(dtype)).device(device(device_type, device_index));
}

}  // namespace dit4j

extern "C" {

const char* dt_last_error(void) {
  return last_message.c_str();
}

int32_t dt_last_error_kind(void) {
  return last_kind;
}

void dt_clear_error(void) {
  last_message.clear();
  last_kind = DT_ERR_NONE;
}

int64_t dt_live_tensors(void) {
  return dit4j::live_tensors.load(std::memory_order_relaxed);
}

}  // extern "C"
