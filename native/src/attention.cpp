// Scaled dot-product attention with an explicit, reported kernel choice.
//
// This follows at::scaled_dot_product_attention (aten/src/ATen/native/transformers/attention.cpp)
// but lets the caller force a backend, and reports which one ran: AUTO asks libtorch's own
// selector (at::_fused_sdp_choice) and then runs that backend; a forced backend calls its
// kernel directly, so inputs it cannot handle fail with the kernel's own message instead of
// falling back. All the kernels called here have autograd formulas.
#include "internal.h"

#include <ATen/autocast_mode.h>

#include <cmath>
#include <limits>

using namespace dit4j;

namespace {

// at::SDPBackend (ATen/SDPBackend.h) values, as at::_fused_sdp_choice returns them.
enum : int64_t { kSdpError = -1, kSdpMath = 0, kSdpFlash = 1, kSdpEfficient = 2, kSdpCudnn = 3, kSdpOverrideable = 4 };
static_assert(int64_t(DT_SDPA_MATH) == kSdpMath && int64_t(DT_SDPA_FLASH) == kSdpFlash &&
                  int64_t(DT_SDPA_EFFICIENT) == kSdpEfficient && int64_t(DT_SDPA_CUDNN) == kSdpCudnn,
              "dt_sdpa_backend must match at::SDPBackend");

void validate(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const std::optional<at::Tensor>& mask) {
  TORCH_CHECK(q.dtype() == k.dtype() && q.dtype() == v.dtype(),
              "Expected query, key, and value to have the same dtype, but got query.dtype: ", q.dtype(),
              " key.dtype: ", k.dtype(), " and value.dtype: ", v.dtype(), " instead.");
  TORCH_CHECK(q.device() == k.device() && q.device() == v.device(),
              "Expected query, key, and value to have the same device type, but got query.device: ", q.device(),
              " key.device: ", k.device(), " and value.device: ", v.device(), " instead.");
  TORCH_CHECK(q.dim() >= 2 && k.dim() >= 2 && v.dim() >= 2,
              "Expected query, key, and value to all be at least 2 dimensional, but got query.dim: ", q.dim(),
              " key.dim: ", k.dim(), " and value.dim: ", v.dim(), " instead.");
  if (mask) {
    TORCH_CHECK(mask->dtype() == at::kBool || mask->dtype() == q.dtype(),
                "Expected attn_mask dtype to be bool or to match query dtype, but got attn_mask.dtype: ",
                mask->dtype(), " and query.dtype: ", q.dtype(), " instead.");
  }
}

// Inside an autocast region, torch.autocast runs scaled_dot_product_attention in its lower
// precision: every floating input but float64 is cast to the autocast dtype. The kernels here are
// called directly, past that dispatch, so the same cast is made here (else a float32 query from a
// norm meets a bfloat16 value from a linear layer).
at::Tensor autocast_input(const at::Tensor& t) {
  if (!t.defined() || !t.is_floating_point() || t.scalar_type() == at::kDouble) return t;
  const at::DeviceType type = t.device().type();
  if (!at::autocast::is_autocast_enabled(type)) return t;
  return t.to(at::autocast::get_autocast_dtype(type));
}

// Boolean masks (true = attend) become additive masks of the query's dtype.
std::optional<at::Tensor> additive_mask(const std::optional<at::Tensor>& mask, const at::Tensor& q, double neg) {
  if (!mask || mask->scalar_type() != at::kBool) return mask;
  return at::where(mask->logical_not(), neg, at::scalar_tensor(0.0, q.options().device(mask->device())));
}

bool needs_logsumexp(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
  return at::GradMode::is_enabled() && (q.requires_grad() || k.requires_grad() || v.requires_grad());
}

// The head dimension padded to a multiple of 8, as CUDA flash attention requires.
at::Tensor pad_last_dim8(const at::Tensor& t) {
  const int64_t last = t.size(-1);
  if (last % 8 == 0) return t;
  return at::constant_pad_nd(t, {0, 8 - last % 8}, 0);
}

// The efficient kernel wants a 4-d bias whose rows are 8-aligned.
at::Tensor efficient_mask(const at::Tensor& mask, const at::Tensor& q, const at::Tensor& k) {
  at::Tensor m = mask;
  bool aligned = m.stride(-1) == 1;
  for (int64_t i = 0; aligned && i < m.dim() - 1; i++) aligned = m.stride(i) % 8 == 0;
  if (!aligned) {
    const int64_t last = m.size(-1);
    m = at::constant_pad_nd(m, {0, 8 - last % 8}, 0).slice(-1, 0, last);
  }
  return m.expand({q.size(0), q.size(1), q.size(2), k.size(2)});
}

at::Tensor run(int64_t backend, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
               const std::optional<at::Tensor>& mask_in, double dropout, bool causal, std::optional<double> scale) {
  switch (backend) {
    case kSdpMath: {
      auto mask = additive_mask(mask_in, q, -std::numeric_limits<double>::infinity());
      return std::get<0>(at::_scaled_dot_product_attention_math(q, k, v, mask, dropout, causal, std::nullopt, scale));
    }
    case kSdpFlash: {
      auto mask = additive_mask(mask_in, q, -std::numeric_limits<double>::infinity());
      if (q.is_cpu()) {
        return std::get<0>(at::_scaled_dot_product_flash_attention_for_cpu(q, k, v, dropout, causal, mask, scale));
      }
      TORCH_CHECK_VALUE(!mask.has_value(), "the flash attention backend does not support an attention mask on ",
                        q.device(), " (use is_causal, or the efficient, cuDNN or math backend)");
      const int64_t head_dim = q.size(-1);
      const double og_scale = scale ? *scale : 1.0 / std::sqrt(static_cast<double>(head_dim));
      at::Tensor out = std::get<0>(at::_scaled_dot_product_flash_attention(
          pad_last_dim8(q), pad_last_dim8(k), pad_last_dim8(v), dropout, causal, /*return_debug_mask=*/false, og_scale));
      return out.size(-1) != head_dim ? out.slice(-1, 0, head_dim) : out;
    }
    case kSdpEfficient: {
      TORCH_CHECK_NOT_IMPLEMENTED(q.is_cuda(), "the efficient attention SDPA backend needs CUDA tensors, got ",
                                  q.device());
      auto mask = additive_mask(mask_in, q, -std::numeric_limits<double>::infinity());
      if (mask) mask = efficient_mask(*mask, q, k);
      return std::get<0>(at::_scaled_dot_product_efficient_attention(q, k, v, mask, needs_logsumexp(q, k, v), dropout,
                                                                      causal, scale));
    }
    case kSdpCudnn: {
      TORCH_CHECK_NOT_IMPLEMENTED(q.is_cuda(), "the cuDNN SDPA backend needs CUDA tensors, got ", q.device());
      // As libtorch does for cuDNN: a finite large negative instead of -inf.
      auto mask = additive_mask(mask_in, q, -65504.0);
      return std::get<0>(at::_scaled_dot_product_cudnn_attention(q, k, v, mask, needs_logsumexp(q, k, v), dropout,
                                                                  causal, /*return_debug_mask=*/false, scale));
    }
    case kSdpOverrideable:
      TORCH_CHECK_NOT_IMPLEMENTED(false, "libtorch chose the 'overrideable' SDPA backend, which dit4j does not support");
    default:
      TORCH_CHECK(false, "No viable backend for scaled_dot_product_attention was found.");
  }
}

}  // namespace

extern "C" {

dt_tensor dt_sdpa(dt_tensor q, dt_tensor k, dt_tensor v, dt_tensor attn_mask, double dropout_p, int32_t is_causal,
                  double scale, int32_t backend, int32_t* backend_used) {
  return guard_t([&] {
    const at::Tensor query = autocast_input(DT_ARG(q));
    const at::Tensor key = autocast_input(DT_ARG(k));
    const at::Tensor value = autocast_input(DT_ARG(v));
    std::optional<at::Tensor> mask = opt(attn_mask);
    if (mask) mask = autocast_input(*mask);
    if (!(dropout_p >= 0.0 && dropout_p < 1.0)) arg_error("dropout_p must be in [0, 1), got " + std::to_string(dropout_p));
    const std::optional<double> sc = scale > 0 ? std::optional<double>(scale) : std::nullopt;
    const bool causal = is_causal != 0;
    validate(query, key, value, mask);

    int64_t chosen;
    switch (backend) {
      case DT_SDPA_AUTO:
        chosen = at::_fused_sdp_choice(query, key, value, mask, dropout_p, causal, sc, /*enable_gqa=*/false);
        break;
      case DT_SDPA_MATH:
      case DT_SDPA_FLASH:
      case DT_SDPA_EFFICIENT:
      case DT_SDPA_CUDNN:
        chosen = backend;
        break;
      default:
        arg_error("unknown SDPA backend " + std::to_string(backend) +
                  " (-1 = auto, 0 = math, 1 = flash, 2 = efficient, 3 = cudnn)");
    }
    dt_tensor out = make(run(chosen, query, key, value, mask, dropout_p, causal, sc));
    if (backend_used != nullptr) *backend_used = static_cast<int32_t>(chosen);
    return out;
  });
}

}  // extern "C"
