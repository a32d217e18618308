// Fused adaLN ops: LayerNorm + modulate and the gated residual of DiT-style blocks. The C entry
// points validate their arguments (shapes, dtypes, devices, named in the message), then run either
// the composite of ATen ops, whose autograd is ATen's own, or, on CUDA when the shim was built with
// them, the kernels of fused_kernels.cu.
#include "internal.h"

#include <ATen/autocast_mode.h>

#include <cmath>

#ifdef DIT4J_WITH_FUSED_KERNELS
#include "fused_kernels.h"
#endif

using namespace dit4j;

namespace {

std::string shape(const at::Tensor& t) {
  return c10::str(t.sizes());
}

void check_floating(const char* fn, const char* name, const at::Tensor& t) {
  if (!at::isFloatingType(t.scalar_type())) {
    arg_error(std::string(fn) + ": '" + name + "' must be a floating-point tensor (float32, bfloat16, float16 or float64), got " +
              c10::toString(t.scalar_type()));
  }
}

void check_same_device(const char* fn, const char* name, const at::Tensor& t, const at::Tensor& x) {
  if (t.device() != x.device()) {
    arg_error(std::string(fn) + ": '" + name + "' is on " + t.device().str() + " but 'x' is on " + x.device().str() +
              " (all inputs must be on one device)");
  }
}

// x [N, L, D]: the token tensors.
void check_tokens(const char* fn, const char* name, const at::Tensor& t) {
  check_floating(fn, name, t);
  if (t.dim() != 3) arg_error(std::string(fn) + ": '" + name + "' must be 3-d [N, L, D], got shape " + shape(t));
}

// The per-sample vectors [N, D] of x [N, L, D].
void check_vector(const char* fn, const char* name, const at::Tensor& t, const at::Tensor& x) {
  check_floating(fn, name, t);
  check_same_device(fn, name, t, x);
  if (t.dim() != 2 || t.size(0) != x.size(0) || t.size(1) != x.size(2)) {
    arg_error(std::string(fn) + ": '" + name + "' must be [N, D] = [" + std::to_string(x.size(0)) + ", " + std::to_string(x.size(2)) +
              "] for 'x' of shape " + shape(x) + ", got shape " + shape(t));
  }
}

// The composites: layer_norm, then the shim's addcmul (see internal.h), under autograd and
// autocast as those ops are.
at::Tensor ln_modulate_composite(const at::Tensor& x, const at::Tensor& shift, const at::Tensor& scale, double eps) {
  const at::Tensor normed = at::layer_norm(x, {x.size(2)}, std::nullopt, std::nullopt, eps);
  return dit4j::addcmul(shift.unsqueeze(1), normed, scale.unsqueeze(1) + 1);
}

at::Tensor gated_residual_composite(const at::Tensor& x, const at::Tensor& gate, const at::Tensor& y) {
  return dit4j::addcmul(x, gate.unsqueeze(1), y);
}

#ifdef DIT4J_WITH_FUSED_KERNELS
bool kernel_dtype(at::ScalarType t) {
  return t == at::kFloat || t == at::kBFloat16 || t == at::kHalf;
}

// The dtype layer_norm computes in: under autocast its policy is float32 (every floating input
// but float64 is cast); otherwise x's own.
at::ScalarType norm_dtype(const at::Tensor& x) {
  const at::ScalarType t = x.scalar_type();
  return at::autocast::is_autocast_enabled(x.device().type()) && t != at::kDouble ? at::kFloat : t;
}
#endif

}  // namespace

dt_tensor dt_ln_modulate(dt_tensor x, dt_tensor shift, dt_tensor scale, double eps) {
  return guard_t([&] {
    constexpr const char* fn = "dt_ln_modulate";
    const at::Tensor& in = DT_ARG(x);
    const at::Tensor& sh = DT_ARG(shift);
    const at::Tensor& sc = DT_ARG(scale);
    check_tokens(fn, "x", in);
    check_vector(fn, "shift", sh, in);
    check_vector(fn, "scale", sc, in);
    if (!std::isfinite(eps) || eps < 0) arg_error(std::string(fn) + ": 'eps' must be finite and >= 0, got " + std::to_string(eps));
#ifdef DIT4J_WITH_FUSED_KERNELS
    // The kernel runs in the dtype the composite's result would have (addcmul promotes the
    // normalized x with shift and scale); inputs of another dtype are cast to it first, through
    // differentiable casts, which is what the composite's own promotion amounts to.
    const at::ScalarType dtype = at::promote_types(at::promote_types(norm_dtype(in), sh.scalar_type()), sc.scalar_type());
    if (in.is_cuda() && kernel_dtype(dtype) && in.numel() > 0) {
      return make(fused::ln_modulate_cuda(in.to(dtype), sh.to(dtype), sc.to(dtype), eps));
    }
#endif
    return make(ln_modulate_composite(in, sh, sc, eps));
  });
}

dt_tensor dt_gated_residual(dt_tensor x, dt_tensor gate, dt_tensor y) {
  return guard_t([&] {
    constexpr const char* fn = "dt_gated_residual";
    const at::Tensor& in = DT_ARG(x);
    const at::Tensor& g = DT_ARG(gate);
    const at::Tensor& branch = DT_ARG(y);
    check_tokens(fn, "x", in);
    check_vector(fn, "gate", g, in);
    check_floating(fn, "y", branch);
    check_same_device(fn, "y", branch, in);
    if (!branch.sizes().equals(in.sizes())) {
      arg_error(std::string(fn) + ": 'y' must have the shape of 'x' " + shape(in) + ", got shape " + shape(branch));
    }
#ifdef DIT4J_WITH_FUSED_KERNELS
    // addcmul promotes all three, under autocast as without it.
    const at::ScalarType dtype = at::promote_types(at::promote_types(in.scalar_type(), g.scalar_type()), branch.scalar_type());
    if (in.is_cuda() && kernel_dtype(dtype) && in.numel() > 0) {
      return make(fused::gated_residual_cuda(in.to(dtype), g.to(dtype), branch.to(dtype)));
    }
#endif
    return make(gated_residual_composite(in, g, branch));
  });
}

int32_t dt_fused_kernels_built(void) {
#ifdef DIT4J_WITH_FUSED_KERNELS
  return 1;
#else
  return 0;
#endif
}
