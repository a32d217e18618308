// Tensor handles: release, metadata, gradients, element access, conversions and copies.
#include "internal.h"

#include <algorithm>

using namespace dit4j;

namespace {

int32_t copy_dims(at::IntArrayRef values, int64_t* out, int32_t cap) {
  if (cap < 0) arg_error("'cap' must be >= 0, got " + std::to_string(cap));
  if (cap > 0 && out == nullptr) arg_error("'out' is NULL but cap is " + std::to_string(cap));
  const int32_t n = static_cast<int32_t>(values.size());
  std::copy_n(values.begin(), std::min(n, cap), out);
  return n;
}

}  // namespace

extern "C" {

void dt_tensor_free(dt_tensor t) {
  if (t == nullptr) return;
  delete t;  // at::Tensor's destructor does not throw
  live_tensors.fetch_sub(1, std::memory_order_relaxed);
}

int32_t dt_tensor_dim(dt_tensor t) {
  return guard_s([&] { return static_cast<int32_t>(DT_ARG(t).dim()); });
}

int32_t dt_tensor_sizes(dt_tensor t, int64_t* out, int32_t cap) {
  return guard_s([&] { return copy_dims(DT_ARG(t).sizes(), out, cap); });
}

int32_t dt_tensor_strides(dt_tensor t, int64_t* out, int32_t cap) {
  return guard_s([&] { return copy_dims(DT_ARG(t).strides(), out, cap); });
}

int64_t dt_tensor_numel(dt_tensor t) {
  return guard<int64_t>(-1, [&] { return static_cast<int64_t>(DT_ARG(t).numel()); });
}

int32_t dt_tensor_dtype(dt_tensor t) {
  return guard_s([&] { return static_cast<int32_t>(DT_ARG(t).scalar_type()); });
}

int32_t dt_tensor_device_type(dt_tensor t) {
  return guard_s([&] { return static_cast<int32_t>(DT_ARG(t).device().type()); });
}

// -1 for CPU tensors (they have no index), the device ordinal for CUDA ones.
int32_t dt_tensor_device_index(dt_tensor t) {
  return guard_s([&] { return static_cast<int32_t>(DT_ARG(t).device().index()); });
}

int32_t dt_tensor_is_contiguous(dt_tensor t) {
  return guard_s([&] { return DT_ARG(t).is_contiguous() ? 1 : 0; });
}

int32_t dt_tensor_element_size(dt_tensor t) {
  return guard_s([&] { return static_cast<int32_t>(DT_ARG(t).element_size()); });
}

int64_t dt_tensor_storage_offset(dt_tensor t) {
  return guard<int64_t>(-1, [&] { return static_cast<int64_t>(DT_ARG(t).storage_offset()); });
}

// NULL (with an error set) for undefined tensors and for tensors without a data address
// (numel 0 tensors may have none).
void* dt_tensor_data_ptr(dt_tensor t) {
  return guard<void*>(nullptr, [&]() -> void* {
    const at::Tensor& x = DT_ARG(t);
    if (!x.defined()) arg_error("tensor is undefined: it has no data");
    void* p = x.data_ptr();
    if (p == nullptr) arg_error("tensor has no data address (it has " + std::to_string(x.numel()) + " elements)");
    return p;
  });
}

int32_t dt_tensor_requires_grad(dt_tensor t) {
  return guard_s([&] { return DT_ARG(t).requires_grad() ? 1 : 0; });
}

int32_t dt_tensor_set_requires_grad(dt_tensor t, int32_t requires_grad) {
  return guard_s([&] {
    DT_ARG(t).set_requires_grad(requires_grad != 0);
    return 0;
  });
}

int32_t dt_tensor_is_leaf(dt_tensor t) {
  return guard_s([&] { return DT_ARG(t).is_leaf() ? 1 : 0; });
}

int32_t dt_tensor_has_grad(dt_tensor t) {
  return guard_s([&] { return DT_ARG(t).grad().defined() ? 1 : 0; });
}

// A new handle to t.grad; NULL with DT_ERR_ARGUMENT when t has no grad (check dt_tensor_has_grad).
dt_tensor dt_tensor_grad(dt_tensor t) {
  return guard_t([&] {
    const at::Tensor& g = DT_ARG(t).grad();
    if (!g.defined()) arg_error("tensor has no grad (dt_tensor_has_grad is 0)");
    return make(g);
  });
}

int32_t dt_tensor_set_grad(dt_tensor t, dt_tensor grad) {
  return guard_s([&] {
    const at::Tensor& x = DT_ARG(t);
    if (grad == nullptr || !grad->t.defined()) {
      x.mutable_grad().reset();
      return 0;
    }
    const at::Tensor& g = grad->t;
    // The checks torch.Tensor.grad's setter makes.
    TORCH_CHECK_TYPE(g.scalar_type() == x.scalar_type(), "assigned grad has data of type ", g.scalar_type(),
                     " that differs from the tensor's ", x.scalar_type());
    TORCH_CHECK(g.device() == x.device(), "assigned grad is on ", g.device(), " but the tensor is on ", x.device());
    TORCH_CHECK_VALUE(g.sizes() == x.sizes(), "assigned grad has shape ", g.sizes(), " but the tensor has shape ",
                      x.sizes());
    x.mutable_grad() = g;
    return 0;
  });
}

dt_tensor dt_tensor_share(dt_tensor t) {
  return guard_t([&] { return make(DT_ARG(t)); });
}

int32_t dt_tensor_same(dt_tensor a, dt_tensor b) {
  return guard_s([&] { return DT_ARG(a).is_same(DT_ARG(b)) ? 1 : 0; });
}

int32_t dt_item_double(dt_tensor t, double* out) {
  return guard_s([&] {
    if (out == nullptr) arg_error("'out' is NULL");
    *out = DT_ARG(t).item<double>();
    return 0;
  });
}

int32_t dt_item_int64(dt_tensor t, int64_t* out) {
  return guard_s([&] {
    if (out == nullptr) arg_error("'out' is NULL");
    *out = DT_ARG(t).item<int64_t>();
    return 0;
  });
}

// ---- conversion and copies ------------------------------------------------------------------

// dtype -1 keeps the dtype, device_type -1 keeps the device. copy != 0 always copies.
dt_tensor dt_to(dt_tensor t, int32_t dtype, int32_t device_type, int32_t device_index, int32_t non_blocking,
                int32_t copy) {
  return guard_t([&] {
    const at::Tensor& x = DT_ARG(t);
    const at::ScalarType st = dtype == -1 ? x.scalar_type() : scalar_type(dtype);
    const at::Device dev = device_type == -1 ? x.device() : device(device_type, device_index);
    return make(x.to(dev, st, non_blocking != 0, copy != 0));
  });
}

dt_tensor dt_clone(dt_tensor t) {
  return guard_t([&] { return make(DT_ARG(t).clone()); });
}

dt_tensor dt_contiguous(dt_tensor t) {
  return guard_t([&] { return make(DT_ARG(t).contiguous()); });
}

dt_tensor dt_detach(dt_tensor t) {
  return guard_t([&] { return make(DT_ARG(t).detach()); });
}

dt_tensor dt_pin_memory(dt_tensor t) {
  return guard_t([&] { return make(DT_ARG(t).pin_memory()); });
}

int32_t dt_copy_(dt_tensor dst, dt_tensor src, int32_t non_blocking) {
  return guard_s([&] {
    DT_ARG(dst).copy_(DT_ARG(src), non_blocking != 0);
    return 0;
  });
}

int32_t dt_fill_(dt_tensor t, double value) {
  return guard_s([&] {
    DT_ARG(t).fill_(value);
    return 0;
  });
}

int32_t dt_zero_(dt_tensor t) {
  return guard_s([&] {
    DT_ARG(t).zero_();
    return 0;
  });
}

}  // extern "C"
