// Linear algebra and neural-network functions.
#include "internal.h"

#include <ATen/autocast_mode.h>

using namespace dit4j;

namespace {

// A (h, w) parameter; NULL gives the default.
std::vector<int64_t> pair_or(const int64_t* p, int64_t dflt) {
  if (p == nullptr) return {dflt, dflt};
  return {p[0], p[1]};
}

int64_t reduction(int32_t r) {
  switch (r) {
    case DT_REDUCE_NONE: return at::Reduction::None;
    case DT_REDUCE_MEAN: return at::Reduction::Mean;
    case DT_REDUCE_SUM: return at::Reduction::Sum;
    default: arg_error("unknown reduction " + std::to_string(r) + " (0 = none, 1 = mean, 2 = sum)");
  }
}

}  // namespace

extern "C" {

// ---- linear algebra ---------------------------------------------------------------------------

dt_tensor dt_matmul(dt_tensor a, dt_tensor b) {
  return guard_t([&] { return make(at::matmul(DT_ARG(a), DT_ARG(b))); });
}

dt_tensor dt_mm(dt_tensor a, dt_tensor b) {
  return guard_t([&] { return make(at::mm(DT_ARG(a), DT_ARG(b))); });
}

dt_tensor dt_bmm(dt_tensor a, dt_tensor b) {
  return guard_t([&] { return make(at::bmm(DT_ARG(a), DT_ARG(b))); });
}

dt_tensor dt_linear(dt_tensor x, dt_tensor w, dt_tensor b) {
  return guard_t([&] { return make(at::linear(DT_ARG(x), DT_ARG(w), opt(b))); });
}

// _addmm_activation's GELU is the tanh one on CUDA (cuBLASLt's epilogue, or gelu_(tanh) when
// cuBLASLt declines) but the exact one on the CPU, and it has no derivative: so it serves only
// CUDA inference outside autocast (which would cast linear's inputs but not its), else the composite.
dt_tensor dt_linear_gelu_tanh(dt_tensor x, dt_tensor w, dt_tensor b) {
  return guard_t([&] {
    const at::Tensor& in = DT_ARG(x);
    const at::Tensor& weight = DT_ARG(w);
    const bool differentiable =
        at::GradMode::is_enabled() && (in.requires_grad() || weight.requires_grad() || (b != nullptr && b->t.requires_grad()));
    const bool fused = b != nullptr && in.is_cuda() && in.dim() >= 2 && !differentiable &&
                       !at::autocast::is_autocast_enabled(at::kCUDA);
    if (!fused) return make(at::gelu(at::linear(in, weight, opt(b)), "tanh"));
    std::vector<int64_t> sizes = in.sizes().vec();
    const int64_t features = sizes.back();
    sizes.back() = weight.size(0);
    const at::Tensor out = at::_addmm_activation(b->t, in.reshape({-1, features}), weight.t(), 1, 1, /*use_gelu=*/true);
    return make(out.view(sizes));
  });
}

dt_tensor dt_addmm(dt_tensor input, dt_tensor a, dt_tensor b, double beta, double alpha) {
  return guard_t([&] { return make(at::addmm(DT_ARG(input), DT_ARG(a), DT_ARG(b), beta, alpha)); });
}

// ---- neural-network functions -------------------------------------------------------------

dt_tensor dt_softmax(dt_tensor t, int64_t dim) {
  return guard_t([&] { return make(at::softmax(DT_ARG(t), dim)); });
}

dt_tensor dt_log_softmax(dt_tensor t, int64_t dim) {
  return guard_t([&] { return make(at::log_softmax(DT_ARG(t), dim)); });
}

dt_tensor dt_layer_norm(dt_tensor x, const int64_t* normalized_shape, int32_t ndim, dt_tensor weight, dt_tensor bias,
                        double eps) {
  return guard_t([&] {
    return make(at::layer_norm(DT_ARG(x), int_array(normalized_shape, ndim, "normalized_shape"), opt(weight), opt(bias),
                               eps, /*cudnn_enable=*/true));
  });
}

dt_tensor dt_group_norm(dt_tensor x, int64_t groups, dt_tensor weight, dt_tensor bias, double eps) {
  return guard_t([&] {
    if (groups <= 0) arg_error("'groups' must be > 0, got " + std::to_string(groups));
    return make(at::group_norm(DT_ARG(x), groups, opt(weight), opt(bias), eps, /*cudnn_enabled=*/true));
  });
}

dt_tensor dt_embedding(dt_tensor weight, dt_tensor indices) {
  return guard_t([&] { return make(at::embedding(DT_ARG(weight), DT_ARG(indices))); });
}

dt_tensor dt_dropout(dt_tensor t, double p, int32_t train) {
  return guard_t([&] {
    if (!(p >= 0.0 && p <= 1.0)) arg_error("dropout probability must be in [0, 1], got " + std::to_string(p));
    return make(at::dropout(DT_ARG(t), p, train != 0));
  });
}

// stride/padding/dilation: (h, w) pairs; NULL = (1, 1) / (0, 0) / (1, 1). b may be NULL.
dt_tensor dt_conv2d(dt_tensor x, dt_tensor w, dt_tensor b, const int64_t* stride, const int64_t* padding,
                    const int64_t* dilation, int64_t groups) {
  return guard_t([&] {
    return make(at::conv2d(DT_ARG(x), DT_ARG(w), opt(b), pair_or(stride, 1), pair_or(padding, 0), pair_or(dilation, 1),
                           groups));
  });
}

dt_tensor dt_conv_transpose2d(dt_tensor x, dt_tensor w, dt_tensor b, const int64_t* stride, const int64_t* padding,
                              const int64_t* output_padding, const int64_t* dilation, int64_t groups) {
  return guard_t([&] {
    return make(at::conv_transpose2d(DT_ARG(x), DT_ARG(w), opt(b), pair_or(stride, 1), pair_or(padding, 0),
                                     pair_or(output_padding, 0), groups, pair_or(dilation, 1)));
  });
}

// stride NULL = kernel (as torch.nn.functional.avg_pool2d).
dt_tensor dt_avg_pool2d(dt_tensor x, const int64_t* kernel, const int64_t* stride) {
  return guard_t([&] {
    std::vector<int64_t> k = {pair(kernel, "kernel")[0], pair(kernel, "kernel")[1]};
    std::vector<int64_t> s = stride == nullptr ? k : pair_or(stride, 1);
    return make(at::avg_pool2d(DT_ARG(x), k, s));
  });
}

dt_tensor dt_pixel_shuffle(dt_tensor x, int64_t factor) {
  return guard_t([&] { return make(at::pixel_shuffle(DT_ARG(x), factor)); });
}

dt_tensor dt_pixel_unshuffle(dt_tensor x, int64_t factor) {
  return guard_t([&] { return make(at::pixel_unshuffle(DT_ARG(x), factor)); });
}

// Resizes [N, C, H, W] to (out_h, out_w). align_corners applies to bilinear/bicubic only.
dt_tensor dt_interpolate(dt_tensor x, int64_t out_h, int64_t out_w, int32_t mode, int32_t align_corners) {
  return guard_t([&] {
    const at::Tensor& in = DT_ARG(x);
    if (out_h <= 0 || out_w <= 0) {
      arg_error("output size must be positive, got (" + std::to_string(out_h) + ", " + std::to_string(out_w) + ")");
    }
    const std::vector<int64_t> size = {out_h, out_w};
    switch (mode) {
      case DT_INTERP_NEAREST:
        if (align_corners != 0) arg_error("align_corners can only be set with the bilinear and bicubic modes");
        return make(at::upsample_nearest2d(in, size, std::nullopt, std::nullopt));
      case DT_INTERP_BILINEAR:
        return make(at::upsample_bilinear2d(in, size, align_corners != 0, std::nullopt, std::nullopt));
      case DT_INTERP_BICUBIC:
        return make(at::upsample_bicubic2d(in, size, align_corners != 0, std::nullopt, std::nullopt));
      default:
        arg_error("unknown interpolation mode " + std::to_string(mode) + " (0 = nearest, 1 = bilinear, 2 = bicubic)");
    }
  });
}

dt_tensor dt_mse_loss(dt_tensor input, dt_tensor target, int32_t r) {
  return guard_t([&] { return make(at::mse_loss(DT_ARG(input), DT_ARG(target), reduction(r))); });
}

dt_tensor dt_cross_entropy(dt_tensor logits, dt_tensor target, int32_t r, double label_smoothing) {
  return guard_t([&] {
    if (!(label_smoothing >= 0.0 && label_smoothing <= 1.0)) {
      arg_error("label_smoothing must be in [0, 1], got " + std::to_string(label_smoothing));
    }
    return make(at::cross_entropy_loss(DT_ARG(logits), DT_ARG(target), std::nullopt, reduction(r),
                                       /*ignore_index=*/-100, label_smoothing));
  });
}

}  // extern "C"
