// Shape manipulation, joining and splitting, indexing.
#include "internal.h"

using namespace dit4j;

namespace {

// Writes the pieces as new handles: all of them when they fit in cap, none otherwise.
// Returns the number of pieces (so a caller whose buffer was too small can retry).
int32_t write_pieces(const std::vector<at::Tensor>& pieces, dt_tensor* out, int32_t cap) {
  if (cap < 0) arg_error("'cap' must be >= 0, got " + std::to_string(cap));
  if (pieces.size() > static_cast<size_t>(INT32_MAX)) arg_error("too many pieces");
  const int32_t n = static_cast<int32_t>(pieces.size());
  if (n > cap) return n;
  if (n > 0 && out == nullptr) arg_error("'out' is NULL");
  int32_t made = 0;
  try {
    for (; made < n; made++) out[made] = make(pieces[made]);
  } catch (...) {
    for (int32_t i = 0; i < made; i++) {
      dt_tensor_free(out[i]);
      out[i] = nullptr;
    }
    throw;
  }
  return n;
}

}  // namespace

extern "C" {

dt_tensor dt_reshape(dt_tensor t, const int64_t* sizes, int32_t ndim) {
  return guard_t([&] { return make(at::reshape(DT_ARG(t), int_array(sizes, ndim, "sizes"))); });
}

dt_tensor dt_view(dt_tensor t, const int64_t* sizes, int32_t ndim) {
  return guard_t([&] { return make(DT_ARG(t).view(int_array(sizes, ndim, "sizes"))); });
}

dt_tensor dt_permute(dt_tensor t, const int64_t* dims, int32_t ndim) {
  return guard_t([&] { return make(at::permute(DT_ARG(t), int_array(dims, ndim, "dims"))); });
}

dt_tensor dt_transpose(dt_tensor t, int64_t dim0, int64_t dim1) {
  return guard_t([&] { return make(at::transpose(DT_ARG(t), dim0, dim1)); });
}

dt_tensor dt_flatten(dt_tensor t, int64_t start_dim, int64_t end_dim) {
  return guard_t([&] { return make(at::flatten(DT_ARG(t), start_dim, end_dim)); });
}

dt_tensor dt_unsqueeze(dt_tensor t, int64_t dim) {
  return guard_t([&] { return make(at::unsqueeze(DT_ARG(t), dim)); });
}

dt_tensor dt_squeeze(dt_tensor t, int64_t dim) {
  return guard_t([&] { return make(at::squeeze(DT_ARG(t), dim)); });
}

dt_tensor dt_squeeze_all(dt_tensor t) {
  return guard_t([&] { return make(at::squeeze(DT_ARG(t))); });
}

dt_tensor dt_expand(dt_tensor t, const int64_t* sizes, int32_t ndim) {
  return guard_t([&] { return make(DT_ARG(t).expand(int_array(sizes, ndim, "sizes"))); });
}

dt_tensor dt_repeat(dt_tensor t, const int64_t* repeats, int32_t ndim) {
  return guard_t([&] { return make(DT_ARG(t).repeat(int_array(repeats, ndim, "repeats"))); });
}

dt_tensor dt_flip(dt_tensor t, const int64_t* dims, int32_t ndims) {
  return guard_t([&] { return make(at::flip(DT_ARG(t), int_array(dims, ndims, "dims"))); });
}

dt_tensor dt_narrow(dt_tensor t, int64_t dim, int64_t start, int64_t length) {
  return guard_t([&] { return make(at::narrow(DT_ARG(t), dim, start, length)); });
}

dt_tensor dt_slice(dt_tensor t, int64_t dim, int64_t start, int64_t end, int64_t step) {
  return guard_t([&] { return make(at::slice(DT_ARG(t), dim, start, end, step)); });
}

dt_tensor dt_select(dt_tensor t, int64_t dim, int64_t index) {
  return guard_t([&] { return make(at::select(DT_ARG(t), dim, index)); });
}

dt_tensor dt_cat(const dt_tensor* ts, int32_t n, int64_t dim) {
  return guard_t([&] { return make(at::cat(tensor_list(ts, n, "ts"), dim)); });
}

dt_tensor dt_stack(const dt_tensor* ts, int32_t n, int64_t dim) {
  return guard_t([&] { return make(at::stack(tensor_list(ts, n, "ts"), dim)); });
}

// Both return the number of pieces n. When n <= cap, out[0..n) receive new handles (the caller
// frees each); when n > cap nothing is written (no handle is created) and the caller retries
// with a buffer of n.
int32_t dt_chunk(dt_tensor t, int64_t chunks, int64_t dim, dt_tensor* out, int32_t cap) {
  return guard_s([&] {
    if (chunks <= 0) arg_error("'chunks' must be > 0, got " + std::to_string(chunks));
    return write_pieces(at::chunk(DT_ARG(t), chunks, dim), out, cap);
  });
}

int32_t dt_split(dt_tensor t, int64_t split_size, int64_t dim, dt_tensor* out, int32_t cap) {
  return guard_s([&] {
    if (split_size <= 0) arg_error("'split_size' must be > 0, got " + std::to_string(split_size));
    return write_pieces(at::split(DT_ARG(t), split_size, dim), out, cap);
  });
}

dt_tensor dt_index_select(dt_tensor t, int64_t dim, dt_tensor index) {
  return guard_t([&] { return make(at::index_select(DT_ARG(t), dim, DT_ARG(index))); });
}

dt_tensor dt_gather(dt_tensor t, int64_t dim, dt_tensor index) {
  return guard_t([&] { return make(at::gather(DT_ARG(t), dim, DT_ARG(index))); });
}

dt_tensor dt_scatter(dt_tensor t, int64_t dim, dt_tensor index, dt_tensor src) {
  return guard_t([&] { return make(at::scatter(DT_ARG(t), dim, DT_ARG(index), DT_ARG(src))); });
}

dt_tensor dt_scatter_add(dt_tensor t, int64_t dim, dt_tensor index, dt_tensor src) {
  return guard_t([&] { return make(at::scatter_add(DT_ARG(t), dim, DT_ARG(index), DT_ARG(src))); });
}

// num_classes -1 = max(t) + 1.
dt_tensor dt_one_hot(dt_tensor t, int64_t num_classes) {
  return guard_t([&] { return make(at::one_hot(DT_ARG(t), num_classes)); });
}

dt_tensor dt_tril(dt_tensor t, int64_t diagonal) {
  return guard_t([&] { return make(at::tril(DT_ARG(t), diagonal)); });
}

}  // extern "C"
