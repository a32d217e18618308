// Reductions (sum, mean, var, max/min, norms, scans) and allclose.
#include "internal.h"

using namespace dit4j;

namespace {

// NULL/0 dims = every dim.
at::OptionalIntArrayRef dims_of(const int64_t* dims, int32_t ndims) {
  at::IntArrayRef d = int_array(dims, ndims, "dims");
  if (d.empty()) return std::nullopt;
  return d;
}

// Values and (optionally) indices of a max/min along dim. On failure no handle is left behind.
dt_tensor values_indices(std::tuple<at::Tensor, at::Tensor> r, dt_tensor* indices) {
  dt_tensor values = make(std::move(std::get<0>(r)));
  if (indices != nullptr) {
    try {
      *indices = make(std::move(std::get<1>(r)));
    } catch (...) {
      dt_tensor_free(values);
      throw;
    }
  }
  return values;
}

}  // namespace

extern "C" {

dt_tensor dt_sum(dt_tensor t, const int64_t* dims, int32_t ndims, int32_t keepdim) {
  return guard_t([&] { return make(at::sum(DT_ARG(t), dims_of(dims, ndims), keepdim != 0)); });
}

dt_tensor dt_mean(dt_tensor t, const int64_t* dims, int32_t ndims, int32_t keepdim) {
  return guard_t([&] { return make(at::mean(DT_ARG(t), dims_of(dims, ndims), keepdim != 0)); });
}

dt_tensor dt_var(dt_tensor t, const int64_t* dims, int32_t ndims, double correction, int32_t keepdim) {
  return guard_t([&] {
    return make(at::var(DT_ARG(t), dims_of(dims, ndims), at::Scalar(correction), keepdim != 0));
  });
}

dt_tensor dt_max_all(dt_tensor t) {
  return guard_t([&] { return make(at::max(DT_ARG(t))); });
}

dt_tensor dt_min_all(dt_tensor t) {
  return guard_t([&] { return make(at::min(DT_ARG(t))); });
}

// Returns the values; when indices != NULL, *indices receives a new handle (int64 indices)
// that the caller frees too.
dt_tensor dt_max_dim(dt_tensor t, int64_t dim, int32_t keepdim, dt_tensor* indices) {
  return guard_t([&] { return values_indices(at::max(DT_ARG(t), dim, keepdim != 0), indices); });
}

dt_tensor dt_min_dim(dt_tensor t, int64_t dim, int32_t keepdim, dt_tensor* indices) {
  return guard_t([&] { return values_indices(at::min(DT_ARG(t), dim, keepdim != 0), indices); });
}

dt_tensor dt_argmax(dt_tensor t, int64_t dim, int32_t keepdim) {
  return guard_t([&] { return make(at::argmax(DT_ARG(t), dim, keepdim != 0)); });
}

dt_tensor dt_topk(dt_tensor t, int64_t k, int64_t dim, int32_t largest, int32_t sorted, dt_tensor* indices) {
  return guard_t([&] { return values_indices(at::topk(DT_ARG(t), k, dim, largest != 0, sorted != 0), indices); });
}

dt_tensor dt_argsort(dt_tensor t, int64_t dim, int32_t descending, int32_t stable) {
  return guard_t([&] { return make(at::argsort(DT_ARG(t), stable != 0, dim, descending != 0)); });
}

// Vector p-norm (torch.linalg.vector_norm) over dims (NULL/0 = all); p may be +-inf.
dt_tensor dt_norm(dt_tensor t, double p, const int64_t* dims, int32_t ndims, int32_t keepdim) {
  return guard_t([&] { return make(at::linalg_vector_norm(DT_ARG(t), p, dims_of(dims, ndims), keepdim != 0)); });
}

dt_tensor dt_cumsum(dt_tensor t, int64_t dim) {
  return guard_t([&] { return make(at::cumsum(DT_ARG(t), dim)); });
}

dt_tensor dt_cumprod(dt_tensor t, int64_t dim) {
  return guard_t([&] { return make(at::cumprod(DT_ARG(t), dim)); });
}

// at::allclose semantics: a and b are broadcast together (shapes that cannot be broadcast are
// an error), NaNs are unequal. Returns 1 or 0, -1 on error.
int32_t dt_allclose(dt_tensor a, dt_tensor b, double rtol, double atol) {
  return guard_s([&] { return at::allclose(DT_ARG(a), DT_ARG(b), rtol, atol, /*equal_nan=*/false) ? 1 : 0; });
}

}  // extern "C"
